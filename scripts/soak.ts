/**
 * Soak: the BUILT daemon (spawned from dist/ like systemd runs it) under mixed traffic with random faults for a
 * bounded time, on loopback only, then a drain and a report. Stops by itself.
 *
 *   npm run soak -- [--minutes 10] [--sessions N] [--concurrency 100] [--fake-share 0.2] [--seed 1]
 *
 * Traffic: the scripted hostile peer (answered, 503 failover, 486, every carrier failing, silent carrier, caller
 * hangups and TCP drops at random steps, garbage frames — test/hostile/support/mixed-traffic.ts) plus a share of
 * calls through the full fake FreeSWITCH (real dial-string semantics, scaled timers) with random hangupAt/dropAt.
 * Every 10 s a progress line; at the end: calls, daemon outcomes, peer ends, sessions leaked
 * (callrouter_active_sessions after the drain must be 0), RSS start/end/max, max event-loop lag (the maximum of
 * nodejs_eventloop_lag_max_seconds over the scrapes; prom-client resets it at each scrape), fds start/end.
 * Exit code 1 when a session leaked, a session was never closed, the daemon died or logged an error.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildReplica } from '../test/fixtures/replica.js';
import { FakeFreeSwitch, type CallStep, type GatewayScript } from '../test/fake-freeswitch/fake-freeswitch.js';
import { startDaemon } from '../test/support/daemon-process.js';
import { CALL_VARS, figures, HOSTILE_ESL, hostileConfig, hostileWorld, LEAK_SENSITIVE_NODE_FLAGS, metricSamples, waitForIdle } from '../test/hostile/support/hostile-daemon.js';
import { runMixedTraffic, type TrafficTally } from '../test/hostile/support/mixed-traffic.js';
import { createRng } from '../test/hostile/support/prng.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    sessions: { type: 'string' },
    concurrency: { type: 'string', default: '100' },
    'fake-share': { type: 'string', default: '0.2' },
    seed: { type: 'string', default: String(Date.now() % 1e9) },
  },
});
const minutes = Number(values.minutes);
const sessionLimit = values.sessions === undefined ? undefined : Number(values.sessions);
const concurrency = Number(values.concurrency);
const fakeShare = Number(values['fake-share']);
const seed = Number(values.seed);
for (const [name, v] of Object.entries({ minutes, concurrency, fakeShare, seed })) {
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} must be a non-negative number`);
}

const dir = mkdtempSync(join(tmpdir(), 'callrouter-soak-'));
const replica = buildReplica(dir, hostileWorld());
// V8's own heap limits, as the RSS-bounded tests run it: the production floor would let garbage stand as RSS.
const d = await startDaemon({ dir, replica, nodeFlags: LEAK_SENSITIVE_NODE_FLAGS, config: hostileConfig() });
const start = figures(d);
const startedAt = Date.now();
const until = startedAt + minutes * 60_000;
console.log(`soak: daemon pid ${d.pid}, esl 127.0.0.1:${d.eslPort}, ${minutes} min${sessionLimit ? ` or ${sessionLimit} sessions` : ''}, concurrency ${concurrency}, fake share ${fakeShare}, seed ${seed}`);

// --- sampling ------------------------------------------------------------------------------------------------
let maxLagSeconds = 0;
let maxRssMb = start.rssMb;
let maxFds = start.fds;
let maxActive = 0;
let errorLines = 0;
let lastErrors: unknown[] = [];
const sample = async (): Promise<void> => {
  const text = (await d.http('/metrics')).body;
  const lag = Number(/^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text)?.[1] ?? 0);
  maxLagSeconds = Math.max(maxLagSeconds, lag);
  maxActive = Math.max(maxActive, Number(/^callrouter_active_sessions (\S+)$/m.exec(text)?.[1] ?? 0));
  const f = figures(d);
  maxRssMb = Math.max(maxRssMb, f.rssMb);
  maxFds = Math.max(maxFds, f.fds);
  // The test-support process keeps every log line; count the errors and let the rest go.
  const errors = d.logs.filter((l) => l.level === 'error' || l.level === 'fatal');
  errorLines += errors.length;
  if (errors.length > 0) lastErrors = errors.slice(-3);
  d.logs.length = 0;
};
let sampling = Promise.resolve();
const sampler = setInterval(() => {
  sampling = sampling.then(sample).catch(() => {});
}, 1000);
let peerSessions = 0;
let fakeSessions = 0;
const progress = setInterval(() => {
  const f = figures(d);
  console.log(`  ${Math.round((Date.now() - startedAt) / 1000)} s: ${peerSessions + fakeSessions} sessions, rss ${f.rssMb} MB, fds ${f.fds}, max lag ${Math.round(maxLagSeconds * 1000)} ms`);
}, 10_000);

// --- traffic -------------------------------------------------------------------------------------------------
const rng = createRng(seed);
const peerConcurrency = Math.max(1, Math.round(concurrency * (1 - fakeShare)));
const fakeConcurrency = Math.max(fakeShare > 0 ? 1 : 0, concurrency - peerConcurrency);
const peerLimit = sessionLimit === undefined ? undefined : Math.round(sessionLimit * (1 - fakeShare));
const fakeLimit = sessionLimit === undefined ? undefined : sessionLimit - (peerLimit ?? 0);

const peerRun: Promise<TrafficTally> = runMixedTraffic({
  port: d.eslPort, rng, variables: CALL_VARS, maxFrameBytes: HOSTILE_ESL.max_frame_bytes, concurrency: peerConcurrency,
  ...(peerLimit !== undefined ? { sessions: peerLimit } : {}), until,
  onSession: () => void peerSessions++,
});

/** The full fake FreeSWITCH: one switch per carrier situation, random caller hangups and drops. */
const scenarios: Array<Record<string, GatewayScript>> = [
  { carrier_a: { type: 'answer', afterMs: 300, progress: 180, progressAfterMs: 100, hangupAfterMs: 500 } },
  { carrier_a: { type: 'fail', status: 503, afterMs: 100 }, carrier_b: { type: 'answer', afterMs: 200, hangupAfterMs: 300 } },
  { carrier_a: { type: 'fail', status: 486, afterMs: 200 } },
  { carrier_a: { type: 'silent', timerBMs: 3000 }, carrier_b: { type: 'answer', afterMs: 100, hangupAfterMs: 100 } },
];
const fakes = scenarios.map((gateways) => new FakeFreeSwitch({ daemonPort: d.eslPort, timeScale: 0.01, gateways, recordRaw: false }));
const fakeOutcomes: Record<string, number> = {};
const steps: CallStep[] = ['connect', 'connected', 'bridge', 'answered', 'linger'];
const fakeRng = createRng(seed + 1);
let fakeStarted = 0;
const fakeWorker = async (): Promise<void> => {
  while (Date.now() < until && (fakeLimit === undefined || fakeStarted < fakeLimit)) {
    fakeStarted++;
    const fault = fakeRng.weighted({ none: 7, hangup: 2, drop: 1 });
    const step = fakeRng.pick(steps);
    const record = await fakeRng.pick(fakes).call({
      variables: CALL_VARS,
      ...(fault === 'hangup' ? { hangupAt: step } : fault === 'drop' ? { dropAt: step } : {}),
    });
    const key = `${record.bridges.at(-1)?.outcome ?? 'no_bridge'}/${record.closedBy ?? 'open'}`;
    fakeOutcomes[key] = (fakeOutcomes[key] ?? 0) + 1;
    fakeSessions++;
  }
};
await Promise.all([peerRun, ...Array.from({ length: fakeConcurrency }, fakeWorker)]);
const tally = await peerRun;
const trafficMs = Date.now() - startedAt;

// --- drain and report ------------------------------------------------------------------------------------------
const leaked = await waitForIdle(d, 30_000);
clearInterval(progress);
clearInterval(sampler);
await sampling;
await sample();
const end = figures(d);
const metrics = (await d.http('/metrics')).body;
const alive = d.child.exitCode === null && (await d.http('/healthz')).status === 200;
await Promise.all(fakes.map((f) => f.close()));
d.kill('SIGTERM');
const exit = await d.exited;
rmSync(dir, { recursive: true, force: true });

const calls = peerSessions + fakeSessions;
const outcomes = Object.fromEntries(Object.entries(metricSamples(metrics, 'callrouter_calls_total')).map(([k, v]) => [k.replace(/^outcome="(.*)"$/, '$1'), v]).filter(([, v]) => Number(v) > 0));
console.log('');
console.log(`calls:            ${calls} in ${Math.round(trafficMs / 1000)} s (${Math.round((calls / trafficMs) * 1000)}/s); scripted peer ${peerSessions}, fake FreeSWITCH ${fakeSessions}`);
console.log(`outcomes:         ${JSON.stringify(outcomes)}`);
console.log(`peer traffic:     ${JSON.stringify(tally.byKind)}`);
console.log(`peer ends:        ${JSON.stringify(tally.byEnd)} (deadline = never closed)`);
console.log(`fake calls:       ${JSON.stringify(fakeOutcomes)}`);
console.log(`sessions leaked:  ${leaked} (callrouter_active_sessions after drain; max during run ${maxActive})`);
console.log(`RSS MB:           start ${start.rssMb}, end ${end.rssMb}, max ${maxRssMb}`);
console.log(`event loop lag:   max ${Math.round(maxLagSeconds * 1000)} ms (nodejs_eventloop_lag_max_seconds, scraped every 1 s)`);
console.log(`fds:              start ${start.fds}, end ${end.fds}, max ${maxFds}`);
console.log(`error log lines:  ${errorLines}${lastErrors.length > 0 ? ` e.g. ${JSON.stringify(lastErrors)}` : ''}`);
console.log(`daemon:           ${alive ? 'alive and healthy at the end' : 'NOT healthy at the end'}; SIGTERM exit ${JSON.stringify(exit)}`);
const ok = leaked === 0 && tally.deadlines === 0 && alive && errorLines === 0 && exit.code === 0;
console.log(ok ? 'soak: OK' : 'soak: FAILED');
process.exitCode = ok ? 0 : 1;
