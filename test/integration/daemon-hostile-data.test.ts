/**
 * Issue 3, "every value in the dial string comes from validated data", at the process level: a replica whose
 * rows hold ESL/dial-string injection attempts (CR/LF, `\n\napi originate`, `unload mod_event_socket`,
 * dial-string metacharacters, 10,000-character strings) in every field that feeds a dial string, served by the
 * BUILT daemon to the fake FreeSWITCH, concurrently with clean calls. Each hostile call must end with a typed
 * code; no frame the fake received may carry any of those bytes; the clean calls must still succeed.
 */
import t from 'tap';
import { DIAL_STRING_RE } from '../../src/routing/dial-values.js';
import { buildReplica, type ReplicaSpec } from '../fixtures/replica.js';
import { FakeFreeSwitch, type CallRecord } from '../fake-freeswitch/fake-freeswitch.js';
import { startDaemon } from '../support/daemon-process.js';
import { counterDeltas, summaryOf } from './peer.js';

const HOSTILE = [
  'gw\r\nsendmsg\r\ncall-command: hangup',
  '\n\napi originate sofia/gateway/x/1 &park\n\n',
  'unload mod_event_socket',
  `,|{}[]^'"<>`,
  'x'.repeat(10_000),
];
const GOOD_PHONE = '+14155550123';
const GOOD_CLI = '+12125550100';

interface Case {
  name: string;
  vars: Record<string, string>;
  /** Expected summary fields (code, outcome, hangup_cause...). */
  want: Record<string, unknown>;
}

const spec: Required<Pick<ReplicaSpec, 'carriers' | 'routes' | 'campaigns' | 'leadLists' | 'leads'>> = {
  carriers: [{ id: 'c_good', name: 'carrier_good' }],
  routes: [{ id: 'r_good', tenantId: 'tg', prefix: '1', carrierId: 'c_good', priority: 1 }],
  campaigns: [{ id: 'camp_good', tenantId: 'tg', name: 'Good Campaign', stirShakenAttestation: 'B' }],
  leadLists: [{ id: 'list_good', tenantId: 'tg', callerId: GOOD_CLI }],
  leads: [{ id: 'lead_good', tenantId: 'tg', leadListId: 'list_good', primaryPhone: GOOD_PHONE }],
};
const cases: Case[] = [];
const vars = (campaign: string, lead: string): Record<string, string> => ({ g2d_campaign_id: campaign, g2d_lead_id: lead });
const noRoute = { outcome: 'no_route', code: 'no_route', hangup_cause: 'NO_ROUTE_DESTINATION' };

/** A tenant of its own whose only route reaches the carrier `carrier` through route fields `route`. */
function isolatedTenant(tag: string, carrier: Record<string, unknown>, route: Record<string, unknown> = {}): Record<string, string> {
  const tenant = `t_${tag}`;
  spec.carriers.push({ id: `c_${tag}`, name: `carrier_${tag}`, ...carrier });
  spec.routes.push({ id: `r_${tag}`, tenantId: tenant, prefix: '1', carrierId: `c_${tag}`, ...route });
  spec.campaigns.push({ id: `camp_${tag}`, tenantId: tenant });
  spec.leadLists.push({ id: `list_${tag}`, tenantId: tenant, callerId: GOOD_CLI });
  spec.leads.push({ id: `lead_${tag}`, tenantId: tenant, leadListId: `list_${tag}`, primaryPhone: GOOD_PHONE });
  return vars(`camp_${tag}`, `lead_${tag}`);
}

HOSTILE.forEach((h, i) => {
  cases.push({ name: `gateway name #${i}`, vars: isolatedTenant(`gw${i}`, { name: h }), want: noRoute });
  cases.push({ name: `carrier strip_prefix #${i}`, vars: isolatedTenant(`cs${i}`, { stripPrefix: h }), want: noRoute });
  cases.push({ name: `carrier add_prefix #${i}`, vars: isolatedTenant(`ca${i}`, { addPrefix: h }), want: noRoute });
  cases.push({ name: `route strip_prefix #${i}`, vars: isolatedTenant(`rs${i}`, {}, { stripPrefix: h }), want: noRoute });
  cases.push({ name: `route add_prefix #${i}`, vars: isolatedTenant(`ra${i}`, {}, { addPrefix: h }), want: noRoute });
  for (const [tag, phone] of [[`ph${i}`, h], [`pt${i}`, `${GOOD_PHONE}${h}`]] as const) {
    spec.leads.push({ id: `lead_${tag}`, tenantId: 'tg', leadListId: 'list_good', primaryPhone: phone });
    cases.push({ name: `primary_phone ${tag}`, vars: vars('camp_good', `lead_${tag}`), want: { outcome: 'invalid', code: 'invalid_destination', hangup_cause: 'INVALID_NUMBER_FORMAT' } });
  }
  for (const [tag, cli] of [[`cid${i}`, h], [`cit${i}`, `${GOOD_CLI}${h}`]] as const) {
    spec.leadLists.push({ id: `list_${tag}`, tenantId: 'tg', callerId: cli });
    spec.leads.push({ id: `lead_${tag}`, tenantId: 'tg', leadListId: `list_${tag}`, primaryPhone: GOOD_PHONE });
    cases.push({ name: `caller_id ${tag}`, vars: vars('camp_good', `lead_${tag}`), want: { outcome: 'invalid', code: 'invalid_caller_id', hangup_cause: 'CALL_REJECTED' } });
  }
  // Campaign metadata: raw text, and a JSON object whose carrier_id is hostile. The tenant `t_md` has no route,
  // so the fallback ends in no_route with the forced-carrier reason recorded.
  spec.campaigns.push({ id: `camp_md${i}`, tenantId: 't_md', metadata: h });
  spec.campaigns.push({ id: `camp_mc${i}`, tenantId: 't_md', metadata: { carrier_id: h } });
  cases.push({ name: `metadata text #${i}`, vars: vars(`camp_md${i}`, 'lead_md'), want: { ...noRoute, forced_carrier: { outcome: 'metadata_invalid' } } });
  cases.push({ name: `metadata carrier_id #${i}`, vars: vars(`camp_mc${i}`, 'lead_md'), want: { ...noRoute, forced_carrier: { outcome: 'carrier_not_found' } } });
  // Campaign name (bridge.caller_id_name = campaign): the number is shown instead and the call goes through.
  spec.campaigns.push({ id: `camp_nm${i}`, tenantId: 'tg', name: h, stirShakenAttestation: 'B' });
  cases.push({ name: `campaign name #${i}`, vars: vars(`camp_nm${i}`, 'lead_good'), want: { outcome: 'answered', code: null } });
  // The channel variables themselves.
  cases.push({ name: `g2d_lead_id #${i}`, vars: vars('camp_good', h), want: { outcome: 'invalid', code: 'invalid_channel_variable', hangup_cause: 'INVALID_IE_CONTENTS' } });
});
spec.leadLists.push({ id: 'list_md', tenantId: 't_md', callerId: GOOD_CLI });
spec.leads.push({ id: 'lead_md', tenantId: 't_md', leadListId: 'list_md', primaryPhone: GOOD_PHONE });

const GOOD_DIAL =
  '{originate_timeout=45}[sip_h_P-Attestation-Indicator=B,leg_progress_timeout=6,origination_caller_id_number=12125550100,' +
  'origination_caller_id_name=Good Campaign,sip_cid_type=pid]sofia/gateway/carrier_good/14155550123';

/** Bytes none of the hostile values may smuggle into any frame (none occurs in a legitimate frame here). */
const FORBIDDEN: Array<[string, RegExp]> = [
  ['CR', /\r/], ['pipe', /\|/], ['caret', /\^/], ['quote', /['"]/], ['angle', /[<>]/], ['api', /\bapi\b/],
  ['originate sofia', /originate sofia/], ['mod_event_socket', /mod_event_socket/], ['&park', /&park/],
  ['long run', /x{100}/], ['hangup header', /call-command: hangup\n.*call-command/s],
];

t.test('hostile replica rows: typed codes, no hostile byte on the wire, clean calls unaffected', async (t) => {
  const dir = t.testdir();
  const replica = buildReplica(dir, spec);
  const d = await startDaemon({ dir, replica, config: { bridge: { caller_id_name: 'campaign' } } });
  t.teardown(() => d.stop());
  const fs = new FakeFreeSwitch({ daemonPort: d.eslPort, timeScale: 0.01, gateways: { carrier_good: { type: 'answer', afterMs: 20, hangupAfterMs: 20 } } });
  t.teardown(() => fs.close());

  const before = await d.scrape();
  const good = Array.from({ length: 10 }, () => fs.call({ variables: vars('camp_good', 'lead_good') }));
  const hostile = cases.map((c) => fs.call({ variables: c.vars }));
  const [goodRecs, hostileRecs] = await Promise.all([Promise.all(good), Promise.all(hostile)]);
  await d.waitForMetric('callrouter_active_sessions', 0);

  for (const rec of goodRecs) {
    t.same(rec.bridges.map((b) => [b.dialString, b.outcome]), [[GOOD_DIAL, 'answered']], 'clean call answered');
    t.match(await summaryOf(d, rec.uuid), { outcome: 'answered', code: null });
  }
  for (const [i, c] of cases.entries()) {
    const rec = hostileRecs[i]!;
    const summary = await summaryOf(d, rec.uuid);
    t.match(summary, c.want, c.name);
    if (c.want['outcome'] === 'answered') {
      // The hostile campaign name is replaced by the number; the leg is otherwise the clean one.
      t.same(rec.bridges.map((b) => b.dialString), [GOOD_DIAL.replace('=Good Campaign,', '=12125550100,')], `${c.name}: dial string`);
    } else {
      t.same(rec.executes, [], `${c.name}: no dialplan app ran`);
      t.equal(rec.hangupCause, summary['hangup_cause'], `${c.name}: the A-leg got the mapped cause`);
    }
  }

  const all: CallRecord[] = [...goodRecs, ...hostileRecs];
  const leaks: string[] = [];
  for (const rec of all) {
    if (rec.moduleUnloadAttempt) leaks.push(`${rec.uuid}: moduleUnloadAttempt`);
    for (const f of rec.frames) {
      for (const [what, re] of FORBIDDEN) if (re.test(f.raw ?? '')) leaks.push(`${rec.uuid}: ${what} in ${JSON.stringify(f.raw?.slice(0, 200))}`);
    }
    for (const b of rec.bridges) for (const leg of b.legs) if (!DIAL_STRING_RE.test(leg.endpoint)) leaks.push(`endpoint ${leg.endpoint}`);
    const verbs = new Set(rec.commands.map((c) => c.split(' ')[0]));
    for (const v of verbs) if (!['connect', 'linger', 'filter', 'event', 'sendmsg', 'exit'].includes(v ?? '')) leaks.push(`verb ${v}`);
  }
  t.same(leaks, [], 'no hostile byte in any frame, no unload, only the expected command verbs');

  const counters = counterDeltas(before, await d.scrape());
  const answered = 10 + cases.filter((c) => c.want['outcome'] === 'answered').length;
  t.equal(counters['callrouter_calls_total{outcome="answered"}'], answered);
  t.equal(counters['callrouter_calls_total{outcome="error"}'], undefined, 'no call ended in error');
  t.equal(d.logs.filter((l) => l.level === 'error' || l.level === 'fatal').length, 0, 'no error lines');
  t.equal(d.logs.filter((l) => l.msg === 'call').length, all.length, 'one summary line per call');
  // Hostile text may be logged (JSON-escaped) for diagnosis, but bounded: 10,000 characters never reach a line.
  t.same(d.logs.filter((l) => JSON.stringify(l).length > 4096).map((l) => l.msg), [], 'no log line over 4 KiB');
});
