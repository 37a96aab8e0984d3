/**
 * Issue 3 at the process level: the BUILT daemon (dist/main.js serve) with a fixture replica, calls placed over
 * TCP by the fake FreeSWITCH. Each scenario asserts the exact dial string and leg variables the fake recorded,
 * the A-leg hangup cause, the summary log line, the counters that moved (exactly) and that no session is left.
 * One daemon serves every scenario (faster); counters are compared as deltas per scenario.
 */
import t from 'tap';
import type { Test } from 'tap';
import { buildReplica } from '../fixtures/replica.js';
import { FakeFreeSwitch, type CallOptions, type CallRecord, type GatewayScript } from '../fake-freeswitch/fake-freeswitch.js';
import { startDaemon, type DaemonProcess, type LogLine } from '../support/daemon-process.js';
import { counterDeltas, onPush, summaryOf, until } from './peer.js';

const CLI = '12125550100';
const DEST = '14155550123';
/** The leg block the daemon builds for this replica (attestation B from the campaigns, header mode). */
const dial = (gw: string, attest = 'B'): string =>
  `{originate_timeout=45}[sip_h_P-Attestation-Indicator=${attest},leg_progress_timeout=6,origination_caller_id_number=${CLI},` +
  `origination_caller_id_name=${CLI},sip_cid_type=pid]sofia/gateway/${gw}/${DEST}`;
const LEG_VARS = {
  'sip_h_P-Attestation-Indicator': 'B', leg_progress_timeout: '6', origination_caller_id_number: CLI,
  origination_caller_id_name: CLI, sip_cid_type: 'pid',
};

const GATEWAYS: Record<string, GatewayScript> = {
  carrier_dead: { type: 'fail', status: 503, afterMs: 20 },
  carrier_a: { type: 'answer', afterMs: 100, progress: 180, progressAfterMs: 20, hangupAfterMs: 200 },
  carrier_b: { type: 'answer', afterMs: 50, hangupAfterMs: 100 },
  carrier_busy: { type: 'fail', status: 486 },
  carrier_ring: { type: 'ring', progress: 180 },
};

const lists = ['t1', 't2', 't3', 't4'].map((tenant) => ({ id: `list_${tenant}`, tenantId: tenant, callerId: '+12125550100' }));
const lead = (id: string, tenant: string) => ({ id, tenantId: tenant, leadListId: `list_${tenant}`, primaryPhone: '+1 415 555 0123' });
const camp = (id: string, tenant: string, metadata: Record<string, unknown> | null = null) =>
  ({ id, tenantId: tenant, stirShakenAttestation: 'B' as const, metadata });

async function daemon(t: Test): Promise<{ d: DaemonProcess; call: (opts: CallOptions) => Promise<Scenario>; place: FakeFreeSwitch }> {
  const dir = t.testdir();
  const replica = buildReplica(dir, {
    carriers: [
      { id: 'c_dead', name: 'carrier_dead' }, { id: 'c_a', name: 'carrier_a' }, { id: 'c_b', name: 'carrier_b' },
      { id: 'c_busy', name: 'carrier_busy' }, { id: 'c_ring', name: 'carrier_ring' },
    ],
    routes: [
      // t1: 503 then answer; t2: busy first; t3: no routes at all; t4: a carrier that rings until cancelled.
      { id: 'r1_dead', tenantId: 't1', prefix: '1', carrierId: 'c_dead', priority: 1 },
      { id: 'r1_a', tenantId: 't1', prefix: '1', carrierId: 'c_a', priority: 2 },
      { id: 'r2_busy', tenantId: 't2', prefix: '1', carrierId: 'c_busy', priority: 1 },
      { id: 'r2_a', tenantId: 't2', prefix: '1', carrierId: 'c_a', priority: 2 },
      { id: 'r4_ring', tenantId: 't4', prefix: '1', carrierId: 'c_ring', priority: 1 },
    ],
    campaigns: [
      camp('camp_routes', 't1'), camp('camp_forced', 't1', { carrier_id: 'c_b' }), camp('camp_forced_gone', 't1', { carrier_id: 'c_gone' }),
      camp('camp_busy', 't2'), camp('camp_noroute', 't3'), camp('camp_ring', 't4'),
    ],
    leadLists: lists,
    leads: [lead('lead1', 't1'), lead('lead2', 't2'), lead('lead3', 't3'), lead('lead4', 't4')],
  });
  const d = await startDaemon({
    dir, replica,
    // An override for one code only: the others keep their default causes.
    config: { routing: { hangup_causes: { campaign_not_found: 'UNALLOCATED_NUMBER' } }, esl: { hangup_complete_wait_ms: 500 } },
  });
  t.teardown(() => d.stop());
  const place = new FakeFreeSwitch({ daemonPort: d.eslPort, timeScale: 0.01, gateways: GATEWAYS });
  t.teardown(() => place.close());
  return { d, place, call: (opts) => scenario(d, place, opts) };
}

interface Scenario {
  rec: CallRecord;
  summary: LogLine;
  /** Counter samples that moved during the call. */
  counters: Record<string, number>;
  /** Every log line of this call (they carry its call_uuid). */
  lines: LogLine[];
}

/** Places one call (or runs `act` on its handle) and collects everything the scenario asserts on. */
async function scenario(d: DaemonProcess, fs: FakeFreeSwitch, opts: CallOptions, act?: (h: ReturnType<FakeFreeSwitch['startCall']>) => void): Promise<Scenario> {
  const before = await d.scrape();
  const handle = fs.startCall(opts);
  act?.(handle);
  const rec = await handle.done;
  const summary = await summaryOf(d, rec.uuid);
  await d.waitForMetric('callrouter_active_sessions', 0);
  const counters = counterDeltas(before, await d.scrape());
  return { rec, summary, counters, lines: d.logs.filter((l) => l['call_uuid'] === rec.uuid) };
}

const VARS = (campaign: string, leadId: string, extra: Record<string, string> = {}) =>
  ({ variables: { g2d_campaign_id: campaign, g2d_lead_id: leadId, ...extra } });

t.test('routing scenarios through the built daemon', async (t) => {
  const { d, call, place } = await daemon(t);

  t.test('forced carrier used', async (t) => {
    const { rec, summary, counters, lines } = await call(VARS('camp_forced', 'lead1'));
    t.same(rec.bridges.map((b) => b.dialString), [dial('carrier_b')]);
    t.same(rec.bridges[0]!.legs[0]!.vars, { originate_timeout: '45', ...LEG_VARS }, 'effective leg variables: {} and [] merged');
    t.equal(rec.hangupCause, 'NORMAL_CLEARING');
    t.match(summary, {
      outcome: 'answered', code: null, decision_source: 'forced', forced_carrier: { carrier_id: 'c_b', outcome: 'used' },
      candidates: ['carrier_b'], attempts: [{ carrier: 'carrier_b', result: 'answered', route_id: null }],
    });
    t.same(counters, {
      'callrouter_calls_total{outcome="answered"}': 1,
      'callrouter_route_decisions_total{source="forced"}': 1,
      'callrouter_bridge_attempts_total{carrier="carrier_b",result="answered"}': 1,
      'callrouter_attestations_total{level="B",mode="header",downgraded="false"}': 1,
    });
    t.equal(lines.length, 1, 'one line for a clean call: the summary');
  });

  t.test('forced carrier lookup fails: fallback to routes, reason logged and counted', async (t) => {
    const { rec, summary, counters, lines } = await call(VARS('camp_forced_gone', 'lead1'));
    t.same(rec.bridges.map((b) => b.dialString), [dial('carrier_dead'), dial('carrier_a')]);
    t.match(summary, { outcome: 'answered', decision_source: 'route', forced_carrier: { carrier_id: 'c_gone', outcome: 'carrier_not_found' } });
    const warn = lines.find((l) => l.level === 'warn');
    t.match(warn, { msg: 'forced carrier not used; fell back to routes', forced_carrier: { carrier_id: 'c_gone', outcome: 'carrier_not_found' } });
    t.equal(counters['callrouter_forced_carrier_fallbacks_total{reason="carrier_not_found"}'], 1);
    t.equal(counters['callrouter_route_decisions_total{source="route"}'], 1);
  });

  t.test('two routes: the first fails 503, the second answers', async (t) => {
    const { rec, summary, counters } = await call(VARS('camp_routes', 'lead1'));
    t.same(rec.bridges.map((b) => b.dialString), [dial('carrier_dead'), dial('carrier_a')]);
    t.same(rec.bridges.map((b) => [b.legs[0]!.sipStatus ?? null, b.outcome]), [[503, 'failed'], [null, 'answered']]);
    t.same(rec.executes.map((e) => e.app), ['multiset', 'bridge', 'multiset', 'bridge']);
    t.equal(rec.hangupCause, 'NORMAL_CLEARING');
    t.equal(rec.exitReceived, true);
    t.notOk(rec.moduleUnloadAttempt);
    t.match(summary, {
      outcome: 'answered', code: null, hangup_cause: null, decision_source: 'route', candidates: ['carrier_dead', 'carrier_a'],
      attempts: [
        { carrier: 'carrier_dead', route_id: 'r1_dead', sip_status: 503, cause: 'NORMAL_TEMPORARY_FAILURE', result: 'unavailable' },
        { carrier: 'carrier_a', route_id: 'r1_a', cause: 'SUCCESS', result: 'answered' },
      ],
    });
    t.same(counters, {
      'callrouter_calls_total{outcome="answered"}': 1,
      'callrouter_route_decisions_total{source="route"}': 1,
      'callrouter_bridge_attempts_total{carrier="carrier_dead",result="unavailable"}': 1,
      'callrouter_bridge_attempts_total{carrier="carrier_a",result="answered"}': 1,
      'callrouter_failovers_total{from_carrier="carrier_dead"}': 1,
      'callrouter_attestations_total{level="B",mode="header",downgraded="false"}': 2,
    });
  });

  t.test('the first carrier answers 486: no second attempt, the A-leg gets USER_BUSY', async (t) => {
    const { rec, summary, counters } = await call(VARS('camp_busy', 'lead2'));
    t.same(rec.bridges.map((b) => b.dialString), [dial('carrier_busy')]);
    t.same(rec.attemptedGateways, ['carrier_busy']);
    t.equal(rec.hangupCause, 'USER_BUSY');
    t.match(summary, { outcome: 'busy', hangup_cause: 'USER_BUSY', attempts: [{ carrier: 'carrier_busy', sip_status: 486, result: 'busy' }] });
    t.equal(summary['attempts'] instanceof Array && summary['attempts'].length, 1);
    t.same(counters, {
      'callrouter_calls_total{outcome="busy"}': 1,
      'callrouter_route_decisions_total{source="route"}': 1,
      'callrouter_bridge_attempts_total{carrier="carrier_busy",result="busy"}': 1,
      'callrouter_attestations_total{level="B",mode="header",downgraded="false"}': 1,
    });
  });

  const errors: Array<[string, CallOptions, string, string, string]> = [
    ['no route', VARS('camp_noroute', 'lead3'), 'NO_ROUTE_DESTINATION', 'no_route', 'no_route'],
    ['lead missing', VARS('camp_routes', 'lead_gone'), 'CALL_REJECTED', 'invalid', 'lead_not_found'],
    ['g2d_tenant_id mismatch', VARS('camp_routes', 'lead1', { g2d_tenant_id: 't2' }), 'CALL_REJECTED', 'invalid', 'tenant_mismatch'],
    ['campaign missing (routing.hangup_causes override)', VARS('camp_gone', 'lead1'), 'UNALLOCATED_NUMBER', 'invalid', 'campaign_not_found'],
  ];
  for (const [name, opts, cause, outcome, code] of errors) {
    t.test(`${name}: hangup ${cause}, no bridge`, async (t) => {
      const { rec, summary, counters } = await call(opts);
      t.same(rec.executes, [], 'no dialplan app ran');
      t.same(rec.bridges, []);
      t.equal(rec.hangupCause, cause);
      t.equal(rec.exitReceived, true);
      t.match(summary, { outcome, code, hangup_cause: cause });
      t.same(counters, { [`callrouter_calls_total{outcome="${outcome}"}`]: 1, [`callrouter_call_errors_total{code="${code}"}`]: 1 });
    });
  }

  t.test('the caller hangs up while the setup is on its way: the queued bridge never runs, no attempt', async (t) => {
    // The daemon decides on the connect reply and writes subscription, multiset and bridge at once; the caller
    // hangs up as the switch reads them (right after the `event json` line): the apps are queued, never run.
    const { rec, summary, counters } = await scenario(d, place, VARS('camp_routes', 'lead1'), (h) =>
      onPush(h.record.commands, (c) => c.startsWith('event json'), () => h.hangup('ORIGINATOR_CANCEL')));
    t.same(rec.executes.map((e) => e.app), ['multiset', 'bridge'], 'setup and bridge were sent in one write');
    t.same(rec.bridges, [], 'the bridge never ran');
    t.same(summary['attempts'], [], 'no phantom attempt');
    t.same(rec.attemptedGateways, []);
    t.equal(rec.hangupCause, 'ORIGINATOR_CANCEL');
    t.match(summary, { outcome: 'caller_hangup', code: null, caller_hangup: true });
    t.equal(counters['callrouter_calls_total{outcome="caller_hangup"}'], 1);
    t.notOk(Object.keys(counters).some((k) => k.startsWith('callrouter_bridge_attempts_total')));
  });

  t.test('the caller hangs up while the bridge rings: no second attempt', async (t) => {
    const { rec, summary, counters } = await scenario(d, place, VARS('camp_ring', 'lead4'), (h) =>
      onPush(h.record.attemptedGateways, () => true, () => setImmediate(() => h.hangup('ORIGINATOR_CANCEL'))));
    t.same(rec.bridges.map((b) => [b.dialString, b.outcome]), [[dial('carrier_ring'), 'aborted']]);
    t.equal(rec.hangupCause, 'ORIGINATOR_CANCEL');
    t.match(summary, { outcome: 'caller_hangup', caller_hangup: true, attempts: [{ carrier: 'carrier_ring', cause: 'ORIGINATOR_CANCEL' }] });
    t.equal(counters['callrouter_calls_total{outcome="caller_hangup"}'], 1);
    t.equal(counters['callrouter_failovers_total{from_carrier="carrier_ring"}'], undefined);
  });

  const drops: Array<[string, (h: ReturnType<FakeFreeSwitch['startCall']>) => void, CallOptions, number]> = [
    ['after connect', () => {}, { ...VARS('camp_routes', 'lead1'), dropAt: 'connected' }, 0],
    ['during set (the multiset frame)', (h) => onPush(h.record.executes, (e) => e.app === 'multiset', () => h.drop()), VARS('camp_routes', 'lead1'), 0],
    ['during the bridge', () => {}, { ...VARS('camp_ring', 'lead4'), dropAt: 'bridge' }, 1],
  ];
  for (const [name, act, opts, bridges] of drops) {
    t.test(`the peer drops TCP ${name}: esl_failure, session closed`, async (t) => {
      const { rec, summary, counters } = await scenario(d, place, opts, act);
      t.equal(rec.closedBy, 'fs');
      t.equal(rec.bridges.length, bridges);
      t.match(summary, { outcome: 'error', code: 'esl_failure' });
      t.equal(counters['callrouter_call_errors_total{code="esl_failure"}'], 1);
      t.equal(counters['callrouter_calls_total{outcome="error"}'], 1);
    });
  }

  t.test('after every scenario: no session open', async (t) => {
    await until(() => place.activeCalls === 0, 'the fake to finish its calls');
    t.equal(await d.metric('callrouter_active_sessions'), 0);
    t.equal(d.logs.filter((l) => l.level === 'error' || l.level === 'fatal').length, 0, 'no error lines');
  });
});

t.test('over esl.max_sessions: the next connection is closed before connect and counted', async (t) => {
  const dir = t.testdir();
  const replica = buildReplica(dir, {
    carriers: [{ id: 'c_hold', name: 'carrier_hold' }],
    routes: [{ id: 'r', prefix: '1', carrierId: 'c_hold' }],
    campaigns: [{ id: 'camp1' }],
    leadLists: [{ id: 'list1', callerId: '+12125550100' }],
    leads: [{ id: 'lead1', primaryPhone: '+14155550123' }],
  });
  const d = await startDaemon({ dir, replica, config: { esl: { max_sessions: 2 } } });
  t.teardown(() => d.stop());
  // Answered and held until the test hangs them up.
  const fs = new FakeFreeSwitch({ daemonPort: d.eslPort, timeScale: 0.01, gateways: { carrier_hold: { type: 'answer', afterMs: 10 } } });
  t.teardown(() => fs.close());
  const vars = { variables: { g2d_campaign_id: 'camp1', g2d_lead_id: 'lead1' } };
  const held = [fs.startCall(vars), fs.startCall(vars)];
  await until(() => held.every((h) => h.record.bridges[0]?.outcome === 'answered'), 'both calls answered');
  t.equal(await d.metric('callrouter_active_sessions'), 2);

  const refused = await fs.call(vars);
  t.equal(refused.connectReceived, false, 'closed before connect');
  t.equal(refused.closedBy, 'daemon');
  t.equal(refused.dialplanContinued, true, "FreeSWITCH's socket app returns and the dialplan continues");
  t.same(refused.commands, []);
  t.equal(await d.metric('callrouter_sessions_refused_total{reason="max_sessions"}'), 1);
  t.equal(await d.metric('callrouter_calls_total{outcome="answered"}'), 0, 'the held calls are still up');

  for (const h of held) h.hangup('NORMAL_CLEARING');
  const recs = await Promise.all(held.map((h) => h.done));
  t.same(recs.map((r) => r.exitReceived), [true, true]);
  await d.waitForMetric('callrouter_active_sessions', 0);
  t.equal(await d.metric('callrouter_calls_total{outcome="answered"}'), 2);

  // Capacity is back: a new call is handled.
  const again = fs.startCall(vars);
  await until(() => again.record.bridges[0]?.outcome === 'answered', 'the next call answered');
  again.hangup();
  await again.done;
  await d.waitForMetric('callrouter_active_sessions', 0);
  t.equal(await d.metric('callrouter_sessions_refused_total{reason="max_sessions"}'), 1);
});
