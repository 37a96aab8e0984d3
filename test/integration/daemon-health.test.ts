/**
 * /healthz, /readyz and /metrics of the BUILT daemon: it starts not-ready when the replica is missing (calls get
 * a temporary failure), becomes ready once the file appears (the watch job runs every second), and /metrics
 * exposes every contract metric plus the process/node defaults.
 */
import t from 'tap';
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { buildReplica } from '../fixtures/replica.js';
import { FakeFreeSwitch } from '../fake-freeswitch/fake-freeswitch.js';
import { startDaemon } from '../support/daemon-process.js';
import { summaryOf, until } from './peer.js';

/** The metric contract (issue 4): name → type. */
const CONTRACT: Record<string, string> = {
  callrouter_calls_total: 'counter',
  callrouter_route_decisions_total: 'counter',
  callrouter_forced_carrier_fallbacks_total: 'counter',
  callrouter_bridge_attempts_total: 'counter',
  callrouter_failovers_total: 'counter',
  callrouter_call_errors_total: 'counter',
  callrouter_sessions_refused_total: 'counter',
  callrouter_replica_reloads_total: 'counter',
  callrouter_attestations_total: 'counter',
  callrouter_decision_duration_seconds: 'histogram',
  callrouter_setup_duration_seconds: 'histogram',
  callrouter_answer_delay_seconds: 'histogram',
  callrouter_active_sessions: 'gauge',
  callrouter_replica_info: 'gauge',
  callrouter_route_index_routes: 'gauge',
  callrouter_replica_age_seconds: 'gauge',
  callrouter_replica_max_age_seconds: 'gauge',
  callrouter_ready: 'gauge',
  callrouter_build_info: 'gauge',
  // prom-client defaults
  nodejs_eventloop_lag_seconds: 'gauge',
  process_cpu_user_seconds_total: 'counter',
  process_resident_memory_bytes: 'gauge',
  process_open_fds: 'gauge',
  nodejs_heap_size_used_bytes: 'gauge',
};

t.test('missing replica at start: not ready (503 with a reason), ready once the file appears', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'replica.db');
  const d = await startDaemon({ dir, replica: path });
  t.teardown(() => d.stop());
  const fs = new FakeFreeSwitch({ daemonPort: d.eslPort, timeScale: 0.01, gateways: { carrier_a: { type: 'answer', afterMs: 10, hangupAfterMs: 10 } } });
  t.teardown(() => fs.close());
  const vars = { variables: { g2d_campaign_id: 'camp1', g2d_lead_id: 'lead1' } };

  t.match(d.logs.find((l) => l.msg === 'callrouter ready'), { ready: false });
  t.ok(d.logs.some((l) => l.level === 'error' && /replica unavailable at start-up/.test(l.msg)));
  const health = await d.http('/healthz');
  t.equal(health.status, 200, 'alive');
  t.match(JSON.parse(health.body), { status: 'ok' });
  const notReady = await d.http('/readyz');
  t.equal(notReady.status, 503);
  t.match(JSON.parse(notReady.body), { status: 'not_ready', reasons: [/^replica: replica_missing/], checks: { replica: { ok: false }, esl: { ok: true } } });
  t.equal(await d.metric('callrouter_ready'), 0);

  const early = await fs.call(vars);
  t.equal(early.hangupCause, 'NORMAL_TEMPORARY_FAILURE', 'calls fail fast while there is no data');
  t.match(await summaryOf(d, early.uuid), { outcome: 'error', code: 'replica_unavailable' });

  // The file appears atomically (built aside, renamed in), as a replica sync would do.
  const aside = buildReplica(dir, {
    carriers: [{ id: 'c_a', name: 'carrier_a' }],
    routes: [{ id: 'r1', prefix: '1', carrierId: 'c_a' }],
    campaigns: [{ id: 'camp1' }],
    leadLists: [{ id: 'list1', callerId: '+12125550100' }],
    leads: [{ id: 'lead1', primaryPhone: '+14155550123' }],
  }, { file: 'incoming.db' });
  renameSync(aside, path);
  const deadline = Date.now() + 15_000;
  let ready = await d.http('/readyz');
  while (ready.status !== 200 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    ready = await d.http('/readyz');
  }
  t.equal(ready.status, 200, 'ready once the watch job opened the file');
  t.match(JSON.parse(ready.body), { status: 'ready', checks: { replica: { ok: true, detail: { routes: 1 } } } });
  t.equal(await d.metric('callrouter_ready'), 1);
  t.equal(await d.metric('callrouter_route_index_routes'), 1);

  const later = await fs.call(vars);
  t.same(later.attemptedGateways, ['carrier_a']);
  t.match(await summaryOf(d, later.uuid), { outcome: 'answered' });
  await until(() => fs.activeCalls === 0, 'calls over');
  await d.waitForMetric('callrouter_active_sessions', 0);
});

t.test('/metrics exposes every contract metric and the process/node defaults', async (t) => {
  const dir = t.testdir();
  const replica = buildReplica(dir, {
    carriers: [{ id: 'c_a', name: 'carrier_a' }],
    routes: [{ id: 'r1', prefix: '1', carrierId: 'c_a' }],
    campaigns: [{ id: 'camp1', stirShakenAttestation: 'A' }],
    leadLists: [{ id: 'list1', callerId: '+12125550100' }],
    leads: [{ id: 'lead1', primaryPhone: '+14155550123' }],
  });
  const d = await startDaemon({ dir, replica, config: { replica: { max_age_seconds: 3600 } } });
  t.teardown(() => d.stop());
  // One answered call so the per-carrier series exist too.
  const fs = new FakeFreeSwitch({ daemonPort: d.eslPort, timeScale: 0.01, gateways: { carrier_a: { type: 'answer', afterMs: 10, hangupAfterMs: 10 } } });
  t.teardown(() => fs.close());
  const rec = await fs.call({ variables: { g2d_campaign_id: 'camp1', g2d_lead_id: 'lead1' } });
  await summaryOf(d, rec.uuid);

  const { status, body } = await d.http('/metrics');
  t.equal(status, 200);
  const types = new Map([...body.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
  const missing = Object.entries(CONTRACT).filter(([name, type]) => types.get(name) !== type).map(([n, ty]) => `${n} (${ty}, got ${types.get(n)})`);
  t.same(missing, [], 'every contract metric with its type');
  const ours = [...types.keys()].filter((n) => n.startsWith('callrouter_')).sort();
  t.same(ours, Object.keys(CONTRACT).filter((n) => n.startsWith('callrouter_')).sort(), 'no callrouter_ metric outside the contract');
  const samples = await d.scrape();
  t.equal(samples.get('callrouter_replica_info{schema_version="1"}'), 1);
  t.equal(samples.get('callrouter_replica_max_age_seconds'), 3600);
  // The newer of the rows' updated_at and the file's mtime dates the data; here they are milliseconds apart.
  const ages = [...samples].filter(([k]) => k.startsWith('callrouter_replica_age_seconds{'));
  t.equal(ages.length, 1, 'one replica age series');
  t.match(ages[0], [/^callrouter_replica_age_seconds\{source="(updated_at|mtime)"\}$/, Number]);
  t.ok(ages[0]![1] >= 0 && ages[0]![1] < 3600, 'a fresh replica');
  t.equal(samples.get('callrouter_bridge_attempts_total{carrier="carrier_a",result="answered"}'), 1);
  t.equal(samples.get('callrouter_answer_delay_seconds_count{carrier="carrier_a"}'), 1);
  t.equal(samples.get('callrouter_decision_duration_seconds_count'), 1);
  t.ok((samples.get('nodejs_eventloop_lag_seconds') ?? -1) >= 0);
  t.ok((samples.get('process_resident_memory_bytes') ?? 0) > 0);
  const ready = await d.http('/readyz');
  t.equal(ready.status, 200);
});
