import t from 'tap';
import { compactVerify } from 'jose';
import { GATEWAYS, harness, PUBLIC_KEY, VARS, world, X5U } from './harness.js';
import { DIAL_STRING_RE } from '../../src/routing/dial-values.js';

const CLI = '12125550100';
const DEST = '14155550123';
const LEG_NAMES = new Set(['leg_progress_timeout', 'origination_caller_id_number', 'origination_caller_id_name', 'sip_cid_type']);

t.test('hostile replica rows never reach the dial string', async (t) => {
  const evil = 'x]sofia/gateway/evil/1|[a=b,c';
  const h = await harness(t, {
    gateways: { ...GATEWAYS, carrier_ok: GATEWAYS.carrier_a! },
    config: { bridge: { caller_id_name: 'lead_list' } },
    spec: world({
      carriers: [
        { id: 'c_evil', name: 'gw,evil=1]' },
        { id: 'c_evil2', name: 'gw\nsendmsg' },
        { id: 'c_badcfg', name: 'carrier_badcfg', addPrefix: '1,x=2' },
        { id: 'c_hdr', name: 'carrier_ok', attestationHeader: 'X-A,sip_h_Evil=1', identityMode: 'header{x}' },
      ],
      routes: [
        { id: 'r1', prefix: '1', carrierId: 'c_evil', priority: 1 },
        { id: 'r2', prefix: '1', carrierId: 'c_evil2', priority: 2 },
        { id: 'r3', prefix: '1', carrierId: 'c_badcfg', priority: 3 },
        { id: 'r4', prefix: '1', carrierId: 'c_hdr', priority: 4, stripPrefix: ']' },
        { id: 'r5', prefix: '1', carrierId: 'c_hdr', priority: 5 },
      ],
      campaigns: [{ id: 'camp1', name: evil, stirShakenAttestation: 'A', metadata: '{"carrier_id":"c_evil"}' }],
      leadLists: [{ id: 'list1', name: `List ${evil}`, callerId: '+12125550100' }],
    }),
  });
  const rec = await h.fs.call({ variables: VARS });
  await h.settled();
  t.same(rec.attemptedGateways, ['carrier_ok']);
  t.equal(rec.bridges.length, 1);
  const dialString = rec.bridges[0]!.dialString;
  t.equal(
    dialString,
    `{originate_timeout=45}[sip_h_P-Attestation-Indicator=A,leg_progress_timeout=6,origination_caller_id_number=${CLI},` +
      `origination_caller_id_name=${CLI},sip_cid_type=pid]sofia/gateway/carrier_ok/${DEST}`,
  );
  const leg = rec.bridges[0]!.parsed.groups[0]![0]!;
  t.match(leg.endpoint, DIAL_STRING_RE);
  t.same(Object.keys(rec.bridges[0]!.parsed.globals), ['originate_timeout']);
  t.same(Object.keys(leg.vars).filter((k) => !LEG_NAMES.has(k)), ['sip_h_P-Attestation-Indicator']);
  t.notOk(rec.frames.some((f) => /evil/.test(f.raw ?? '')), 'no hostile text in any frame');
  t.notOk(rec.moduleUnloadAttempt);
  const warnings = h.logs.filter((l) => l['level'] === 'warn').map((l) => l['msg']);
  t.ok(warnings.includes('caller ID name not usable; the number is shown'));
  t.ok(warnings.includes('carrier identity column unusable; default used'));
  t.ok(warnings.includes('forced carrier not used; fell back to routes'));
  t.match(h.summaries()[0], { outcome: 'answered', forced_carrier: { outcome: 'carrier_invalid_name' } });
});

t.test('a clean lead list name is shown when configured', async (t) => {
  const h = await harness(t, { gateways: GATEWAYS, config: { bridge: { caller_id_name: 'lead_list', sip_cid_type: 'rpid' } }, spec: world({ routes: [{ id: 'r', prefix: '1', carrierId: 'c_a' }] }) });
  const rec = await h.fs.call({ variables: VARS });
  const vars = rec.bridges[0]!.legs[0]!.vars;
  t.equal(vars['origination_caller_id_name'], 'List One');
  t.equal(vars['sip_cid_type'], 'rpid');
});

t.test('STIR/SHAKEN header mode: exactly one header variable per leg, A only with ownership', async (t) => {
  const rows: Array<[string, Record<string, unknown>, unknown[], string, Record<string, string>]> = [
    ['not owned: A downgraded to B', {}, [], 'sip_h_P-Attestation-Indicator', { 'sip_h_P-Attestation-Indicator': 'B' }],
    ['owned: A', {}, [{ id: 'p1', number: '+12125550100' }], 'sip_h_P-Attestation-Indicator', { 'sip_h_P-Attestation-Indicator': 'A' }],
    ['header Identity adds the exclude', { attestationHeader: 'Identity' }, [{ id: 'p1', number: '+12125550100' }], 'sip_h_Identity',
      { sip_h_Identity: 'A', exclude_outgoing_extra_header: '^sip_h_Identity$' }],
  ];
  for (const [name, carrierPatch, phoneNumbers, header, want] of rows) {
    const h = await harness(t, {
      gateways: GATEWAYS,
      config: { identity: { verify_caller_id_ownership: true } },
      spec: world({
        carriers: [{ id: 'c_dead', name: 'carrier_dead', ...carrierPatch }, { id: 'c_a', name: 'carrier_a', ...carrierPatch }],
        campaigns: [{ id: 'camp1', stirShakenAttestation: 'A' }],
        phoneNumbers: phoneNumbers as never,
      }),
    });
    const rec = await h.fs.call({ variables: VARS });
    await h.settled();
    t.equal(rec.bridges.length, 2, name);
    for (const b of rec.bridges) {
      const leg = b.parsed.groups[0]![0]!;
      const extra = Object.fromEntries(Object.entries(leg.vars).filter(([k]) => !LEG_NAMES.has(k)));
      t.same(extra, want, `${name}: leg block`);
      t.equal(Object.keys(leg.vars)[0], header, `${name}: identity first`);
      t.same(b.parsed.globals, { originate_timeout: '45' });
    }
  }
});

t.test('STIR/SHAKEN passport mode: one signed Identity per leg plus the exclude, verifiable', async (t) => {
  const h = await harness(t, {
    gateways: GATEWAYS,
    spec: world({
      carriers: [{ id: 'c_dead', name: 'carrier_dead', identityMode: 'passport' }, { id: 'c_a', name: 'carrier_a', identityMode: 'passport' }],
      campaigns: [{ id: 'camp1', stirShakenAttestation: 'B' }],
    }),
  });
  const rec = await h.fs.call({ variables: VARS });
  await h.settled();
  t.equal(rec.bridges.length, 2);
  for (const b of rec.bridges) {
    const vars = b.parsed.groups[0]![0]!.vars;
    t.same(Object.keys(vars).filter((k) => !LEG_NAMES.has(k)), ['sip_h_Identity', 'exclude_outgoing_extra_header']);
    t.equal(vars['exclude_outgoing_extra_header'], '^sip_h_Identity$');
    const value = vars['sip_h_Identity']!;
    t.match(value, new RegExp(`^[\\w-]+\\.[\\w-]+\\.[\\w-]+;info=<${X5U.replace(/\./g, '\\.')}>;alg=ES256;ppt=shaken$`));
    const { payload } = await compactVerify(value.split(';')[0]!, PUBLIC_KEY);
    t.match(JSON.parse(new TextDecoder().decode(payload)), { attest: 'B', orig: { tn: CLI }, dest: { tn: [DEST] } });
  }
  t.equal(await h.counter('callrouter_attestations_total', { level: 'B', mode: 'passport', downgraded: 'false' }), 2);
  t.match(h.summaries()[0], { identity_mode: 'passport', attestation: 'B' });
});

t.test('passport mode without a key for the tenant: the candidate is skipped; none left → identity_unavailable', async (t) => {
  const h = await harness(t, {
    gateways: GATEWAYS,
    spec: world({
      tenant: 't2',
      carriers: [{ id: 'c_dead', name: 'carrier_dead', identityMode: 'passport' }, { id: 'c_a', name: 'carrier_a', identityMode: 'header' }],
      campaigns: [{ id: 'camp1', stirShakenAttestation: 'A' }],
    }),
  });
  const rec = await h.fs.call({ variables: VARS });
  await h.settled();
  t.same(rec.attemptedGateways, ['carrier_a'], 'the passport carrier was skipped, the header carrier used');
  t.match(h.summaries()[0], { outcome: 'answered', skipped_candidates: [{ carrier: 'carrier_dead', code: 'identity_unavailable' }] });

  const h2 = await harness(t, {
    gateways: GATEWAYS,
    spec: world({
      tenant: 't2',
      carriers: [{ id: 'c_dead', name: 'carrier_dead', identityMode: 'passport' }, { id: 'c_a', name: 'carrier_a', identityMode: 'passport' }],
      campaigns: [{ id: 'camp1', stirShakenAttestation: 'A' }],
    }),
  });
  const rec2 = await h2.fs.call({ variables: VARS });
  await h2.settled();
  t.same(rec2.executes, []);
  t.equal(rec2.hangupCause, 'SERVICE_UNAVAILABLE');
  t.match(h2.summaries()[0], { outcome: 'error', code: 'identity_unavailable' });
});
