import t from 'tap';
import { register as globalRegistry } from 'prom-client';
import { createMetrics, CALL_OUTCOMES } from '../../src/observability/metrics.js';
import { CALL_ERROR_CODES, CARRIER_REJECT_REASONS } from '../../src/errors.js';

/** The contract: name → [type, label names]. */
export const CONTRACT: Record<string, [string, string[]]> = {
  callrouter_calls_total: ['counter', ['outcome']],
  callrouter_route_decisions_total: ['counter', ['source']],
  callrouter_forced_carrier_fallbacks_total: ['counter', ['reason']],
  callrouter_bridge_attempts_total: ['counter', ['carrier', 'result']],
  callrouter_failovers_total: ['counter', ['from_carrier']],
  callrouter_call_errors_total: ['counter', ['code']],
  callrouter_active_sessions: ['gauge', []],
  callrouter_sessions_refused_total: ['counter', ['reason']],
  callrouter_decision_duration_seconds: ['histogram', []],
  callrouter_setup_duration_seconds: ['histogram', []],
  callrouter_answer_delay_seconds: ['histogram', ['carrier']],
  callrouter_replica_info: ['gauge', ['schema_version']],
  callrouter_replica_age_seconds: ['gauge', ['source']],
  callrouter_replica_reloads_total: ['counter', ['result']],
  callrouter_route_index_routes: ['gauge', []],
  callrouter_attestations_total: ['counter', ['level', 'mode', 'downgraded']],
};

/** Parse exposition text into `name{labels} value` samples. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

t.test('every contracted metric exists with its type and label names', async (t) => {
  const m = createMetrics({}, { defaultMetrics: false });
  const json = await m.registry.getMetricsAsJSON();
  for (const [name, [type, labels]] of Object.entries(CONTRACT)) {
    const metric = json.find((j) => j.name === name);
    t.equal(metric?.type, type, `${name} type`);
    const have = (m.registry.getSingleMetric(name) as unknown as { labelNames: string[] }).labelNames;
    t.same(have, labels, `${name} labels`);
  }
});

t.test('process and Node default metrics are on our registry (event-loop lag included), not the global one', async (t) => {
  const before = (await globalRegistry.getMetricsAsJSON()).length;
  const m = createMetrics();
  const text = await m.render();
  t.match(text, /^nodejs_eventloop_lag_seconds /m);
  t.match(text, /^process_cpu_seconds_total /m);
  t.equal((await globalRegistry.getMetricsAsJSON()).length, before);
  t.equal(m.contentType.split(';')[0], 'text/plain');
});

t.test('bounded series start at zero', async (t) => {
  const s = samples(await createMetrics({}, { defaultMetrics: false }).render());
  for (const o of CALL_OUTCOMES) t.equal(s.get(`callrouter_calls_total{outcome="${o}"}`), 0, o);
  for (const c of Object.keys(CALL_ERROR_CODES)) t.equal(s.get(`callrouter_call_errors_total{code="${c}"}`), 0, c);
  for (const r of Object.keys(CARRIER_REJECT_REASONS)) t.equal(s.get(`callrouter_forced_carrier_fallbacks_total{reason="${r}"}`), 0, r);
  t.equal(s.get('callrouter_sessions_refused_total{reason="shutting_down"}'), 0);
  t.equal(s.get('callrouter_replica_reloads_total{result="failed"}'), 0);
  t.equal(s.get('callrouter_route_decisions_total{source="forced"}'), 0);
});

t.test('recording methods count under the right labels', async (t) => {
  const m = createMetrics({}, { defaultMetrics: false });
  m.callOutcome('answered');
  m.routeDecision('forced');
  m.forcedCarrierFallback('carrier_disabled');
  m.bridgeAttempt('carrier_a', 'unavailable');
  m.bridgeAttempt('carrier_b', 'answered');
  m.failover('carrier_a');
  m.callError('no_route');
  m.sessionRefused('max_sessions');
  m.replicaReload('reloaded');
  m.attestation('A', 'passport', false);
  m.attestation('B', 'header', true);
  m.observeDecision(0.00003);
  m.observeSetup(0.02);
  m.observeAnswerDelay('carrier_b', 4);
  const s = samples(await m.render());
  t.equal(s.get('callrouter_calls_total{outcome="answered"}'), 1);
  t.equal(s.get('callrouter_route_decisions_total{source="forced"}'), 1);
  t.equal(s.get('callrouter_forced_carrier_fallbacks_total{reason="carrier_disabled"}'), 1);
  t.equal(s.get('callrouter_bridge_attempts_total{carrier="carrier_a",result="unavailable"}'), 1);
  t.equal(s.get('callrouter_failovers_total{from_carrier="carrier_a"}'), 1);
  t.equal(s.get('callrouter_call_errors_total{code="no_route"}'), 1);
  t.equal(s.get('callrouter_sessions_refused_total{reason="max_sessions"}'), 1);
  t.equal(s.get('callrouter_replica_reloads_total{result="reloaded"}'), 1);
  t.equal(s.get('callrouter_attestations_total{level="A",mode="passport",downgraded="false"}'), 1);
  t.equal(s.get('callrouter_attestations_total{level="B",mode="header",downgraded="true"}'), 1);
  t.equal(s.get('callrouter_decision_duration_seconds_bucket{le="0.00005"}'), 1);
  t.equal(s.get('callrouter_decision_duration_seconds_bucket{le="0.000025"}'), 0);
  t.equal(s.get('callrouter_setup_duration_seconds_count'), 1);
  t.equal(s.get('callrouter_answer_delay_seconds_bucket{le="5",carrier="carrier_b"}'), 1);
  t.same(await m.totals(), {
    calls: { answered: 1, busy: 0, no_answer: 0, rejected: 0, failed: 0, no_route: 0, invalid: 0, caller_hangup: 0, error: 0 },
    attempts: { answered: 1, busy: 0, no_answer: 0, rejected: 0, timeout: 0, unavailable: 1, other: 0 },
    failovers: 1,
    refused: { max_sessions: 1, not_allowed: 0, shutting_down: 0 },
  });
});

t.test('label values stay bounded whatever the caller passes', async (t) => {
  const m = createMetrics({}, { defaultMetrics: false, carrierLabelLimit: 2 });
  const loose = m as unknown as Record<string, (...a: unknown[]) => void>;
  loose.callOutcome!('6b1f7c1e-0000-4000-8000-000000000000');
  loose.callError!('+15551234567');
  loose.attestation!('Z', 'weird', false);
  m.bridgeAttempt('c1', 'busy');
  m.bridgeAttempt('c2', 'busy');
  m.bridgeAttempt('c3', 'busy'); // over the cap
  m.bridgeAttempt('bad name with spaces', 'busy');
  m.bridgeAttempt('c1', 'busy'); // already admitted
  m.observeDecision(Number.NaN);
  m.observeSetup(-1);
  const s = samples(await m.render());
  t.equal(s.get('callrouter_calls_total{outcome="other"}'), 1);
  t.equal(s.get('callrouter_call_errors_total{code="other"}'), 1);
  t.equal(s.get('callrouter_attestations_total{level="other",mode="other",downgraded="false"}'), 1);
  t.equal(s.get('callrouter_bridge_attempts_total{carrier="c1",result="busy"}'), 2);
  t.equal(s.get('callrouter_bridge_attempts_total{carrier="c2",result="busy"}'), 1);
  t.equal(s.get('callrouter_bridge_attempts_total{carrier="other",result="busy"}'), 2);
  t.equal(s.get('callrouter_decision_duration_seconds_count'), 0);
  t.equal(s.get('callrouter_setup_duration_seconds_count'), 0);
  const text = await m.render();
  t.notMatch(text, /6b1f7c1e|15551234567/);
});

t.test('point-in-time gauges read the providers at scrape time', async (t) => {
  let active = 3;
  let info: { schemaVersion: number; routes: number } | null = { schemaVersion: 1, routes: 12 };
  let age: { seconds: number; source: 'updated_at' | 'mtime' } | null = { seconds: 42, source: 'updated_at' };
  let ready = true;
  const m = createMetrics(
    { activeSessions: () => active, replicaInfo: () => info, replicaAge: () => age, ready: () => ready },
    { defaultMetrics: false, replicaMaxAgeSeconds: 900, version: '0.1.0' },
  );
  let s = samples(await m.render());
  t.equal(s.get('callrouter_active_sessions'), 3);
  t.equal(s.get('callrouter_replica_info{schema_version="1"}'), 1);
  t.equal(s.get('callrouter_route_index_routes'), 12);
  t.equal(s.get('callrouter_replica_age_seconds{source="updated_at"}'), 42);
  t.equal(s.get('callrouter_replica_max_age_seconds'), 900);
  t.equal(s.get('callrouter_ready'), 1);
  t.equal(s.get('callrouter_build_info{version="0.1.0"}'), 1);

  active = 0;
  info = { schemaVersion: 2, routes: 0 };
  age = { seconds: 7, source: 'mtime' };
  ready = false;
  s = samples(await m.render());
  t.equal(s.get('callrouter_active_sessions'), 0);
  t.equal(s.get('callrouter_replica_info{schema_version="1"}'), undefined, 'old version series dropped');
  t.equal(s.get('callrouter_replica_info{schema_version="2"}'), 1);
  t.equal(s.get('callrouter_replica_age_seconds{source="updated_at"}'), undefined, 'old source series dropped');
  t.equal(s.get('callrouter_replica_age_seconds{source="mtime"}'), 7);
  t.equal(s.get('callrouter_ready'), 0);

  info = null;
  age = null;
  s = samples(await m.render());
  t.equal([...s.keys()].some((k) => k.startsWith('callrouter_replica_info{')), false);
  t.equal([...s.keys()].some((k) => k.startsWith('callrouter_replica_age_seconds{')), false);
});

t.test('a throwing provider does not break the scrape', async (t) => {
  const boom = (): never => {
    throw new Error('boom');
  };
  const m = createMetrics({ activeSessions: boom, replicaInfo: boom, replicaAge: boom, ready: boom }, { defaultMetrics: false });
  const s = samples(await m.render());
  t.equal(s.get('callrouter_active_sessions'), 0);
  t.equal(s.get('callrouter_ready'), 0);
});

t.test('instances are independent', async (t) => {
  const a = createMetrics({}, { defaultMetrics: false });
  const b = createMetrics({}, { defaultMetrics: false });
  a.callOutcome('busy');
  t.equal(samples(await b.render()).get('callrouter_calls_total{outcome="busy"}'), 0);
});
