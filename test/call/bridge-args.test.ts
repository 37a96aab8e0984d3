import t from 'tap';
import { buildBridgeArgs, type BridgeArgsInput } from '../../src/call/bridge-args.js';
import { DIAL_STRING_RE } from '../../src/routing/dial-values.js';

const base: BridgeArgsInput = {
  gateway: 'carrier_a',
  number: '+15551234567',
  callerId: '+15550001111',
  identity: [],
  ringTimeoutSeconds: 45,
  progressTimeoutSeconds: 6,
  sipCidType: 'pid',
  callerIdName: 'number',
  names: { campaign: 'Campaign One', leadList: 'List 7' },
  extraLegVariables: {},
};

t.test('the exact shape: ring timeout global, the rest per leg, identity first', async (t) => {
  const r = buildBridgeArgs({
    ...base,
    identity: [['sip_h_Identity', 'aaa.bbb.ccc;info=<https://x.example/c.pem>;alg=ES256;ppt=shaken'], ['exclude_outgoing_extra_header', '^sip_h_Identity$']],
    extraLegVariables: { absolute_codec_string: 'PCMU' },
  });
  t.equal(r.ok, true);
  if (!r.ok) return;
  t.equal(
    r.arg,
    '{originate_timeout=45}[sip_h_Identity=aaa.bbb.ccc;info=<https://x.example/c.pem>;alg=ES256;ppt=shaken,' +
      'exclude_outgoing_extra_header=^sip_h_Identity$,leg_progress_timeout=6,origination_caller_id_number=+15550001111,' +
      'origination_caller_id_name=+15550001111,sip_cid_type=pid,absolute_codec_string=PCMU]sofia/gateway/carrier_a/+15551234567',
  );
  t.match(r.endpoint, DIAL_STRING_RE);
  t.equal(r.callerIdNameFallback, null);
});

const nameRows: Array<[string, Partial<BridgeArgsInput>, string, string | null]> = [
  ['number mode shows the number', { callerIdName: 'number' }, '+15550001111', null],
  ['campaign name', { callerIdName: 'campaign' }, 'Campaign One', null],
  ['lead list name', { callerIdName: 'lead_list' }, 'List 7', null],
  ['missing name falls back', { callerIdName: 'campaign', names: { campaign: null, leadList: null } }, '+15550001111', 'name_missing'],
  ['empty name falls back', { callerIdName: 'campaign', names: { campaign: '', leadList: null } }, '+15550001111', 'name_missing'],
  ['comma would split the block', { callerIdName: 'campaign', names: { campaign: 'A,b=c', leadList: null } }, '+15550001111', 'name_unsafe'],
  ['closing bracket', { callerIdName: 'campaign', names: { campaign: 'x]sofia/gateway/evil/1', leadList: null } }, '+15550001111', 'name_unsafe'],
  ['newline', { callerIdName: 'lead_list', names: { campaign: null, leadList: 'a\napi x' } }, '+15550001111', 'name_unsafe'],
  ['@ and : are cut by mod_sofia', { callerIdName: 'lead_list', names: { campaign: null, leadList: 'a@b:c' } }, '+15550001111', 'name_unsafe'],
  ['quote', { callerIdName: 'lead_list', names: { campaign: null, leadList: "O'Brien" } }, '+15550001111', 'name_unsafe'],
  ['over 40 characters', { callerIdName: 'lead_list', names: { campaign: null, leadList: 'x'.repeat(41) } }, '+15550001111', 'name_unsafe'],
  ['exactly 40 characters', { callerIdName: 'lead_list', names: { campaign: null, leadList: 'x'.repeat(40) } }, 'x'.repeat(40), null],
  ['leading space', { callerIdName: 'lead_list', names: { campaign: null, leadList: ' x' } }, '+15550001111', 'name_unsafe'],
  ['non-ASCII', { callerIdName: 'lead_list', names: { campaign: null, leadList: 'Zoë' } }, '+15550001111', 'name_unsafe'],
  ['unload mod_event_socket', { callerIdName: 'lead_list', names: { campaign: null, leadList: 'unload mod_event_socket' } }, '+15550001111', 'name_unsafe'],
];
for (const [name, patch, shown, fallback] of nameRows) {
  t.test(`caller ID name: ${name}`, async (t) => {
    const r = buildBridgeArgs({ ...base, ...patch });
    if (!r.ok) return t.fail(r.message);
    t.equal(r.callerIdName, shown);
    t.equal(r.callerIdNameFallback, fallback);
    t.ok(r.arg.includes(`origination_caller_id_name=${shown},`));
  });
}

const unsafeRows: Array<[string, Partial<BridgeArgsInput>, string]> = [
  ['gateway with a slash', { gateway: 'a/b' }, 'gateway'],
  ['gateway with a comma', { gateway: 'a,b' }, 'gateway'],
  ['number with letters', { number: '+1555x' }, 'number'],
  ['number with a pipe', { number: '1555|sofia/gateway/x/1' }, 'number'],
  ['caller ID with a bracket', { callerId: '1]' }, 'caller_id'],
  ['ring timeout zero', { ringTimeoutSeconds: 0 }, 'originate_timeout'],
  ['progress timeout fractional', { progressTimeoutSeconds: 1.5 }, 'leg_progress_timeout'],
  ['sip_cid_type outside the enum', { sipCidType: 'pid,x=1' as 'pid' }, 'sip_cid_type'],
  ['identity value with a comma', { identity: [['sip_h_X', 'a,b']] }, 'sip_h_X'],
  ['identity value with a newline', { identity: [['sip_h_X', 'a\nb']] }, 'sip_h_X'],
  ['identity name with a space', { identity: [['sip h', 'a']] }, 'identity'],
  ['extra value with a comma', { extraLegVariables: { foo: 'a,b' } }, 'foo'],
  ['extra name upper-case', { extraLegVariables: { Foo: 'a' } }, 'extra_leg_variables'],
];
for (const [name, patch, field] of unsafeRows) {
  t.test(`unsafe: ${name}`, async (t) => {
    t.match(buildBridgeArgs({ ...base, ...patch }), { ok: false, code: 'unsafe_dial_value', field });
  });
}

t.test('an extra leg variable cannot override what this module sets', async (t) => {
  const r = buildBridgeArgs({ ...base, extraLegVariables: { origination_caller_id_number: '999', sip_cid_type: 'none', x_ok: '1' } });
  if (!r.ok) return t.fail();
  t.same(r.droppedExtras, ['origination_caller_id_number', 'sip_cid_type']);
  t.notOk(r.arg.includes('999'));
  t.ok(r.arg.includes(',x_ok=1]'));
});
