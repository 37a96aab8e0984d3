/**
 * Memory and descriptors stay flat over a long bounded run of mixed sessions against the BUILT daemon (answered,
 * 503 failover, busy, all carriers failing, silent carrier, caller hangups and TCP drops at random steps, garbage
 * frames). RSS is sampled after a warm-up and at each quarter of the run; the bound is generous (+150 MB) and the
 * figures are printed. The count is the 100,000 (about 100 s at ~1,000 sessions/s on the 2-core
 * machine; HOSTILE_SESSIONS=<n> to change it for a quick local run).
 */
import t from 'tap';
import { buildReplica } from '../fixtures/replica.js';
import { startDaemon } from '../support/daemon-process.js';
import { CALL_VARS, figures, HOSTILE_ESL, hostileConfig, hostileWorld, LEAK_SENSITIVE_NODE_FLAGS, metricSamples, waitForIdle, type ProcessFigures } from './support/hostile-daemon.js';
import { runMixedTraffic } from './support/mixed-traffic.js';
import { createRng, seedFrom } from './support/prng.js';
import { runPeer } from './support/scripted-peer.js';

const SESSIONS = Number(process.env['HOSTILE_SESSIONS'] ?? 100_000);
const SEED = seedFrom(process.env, 424242);

t.test(`${SESSIONS} mixed sessions: RSS and descriptors flat, 0 sessions left (seed ${SEED})`, async (t) => {
  const dir = t.testdir();
  const replica = buildReplica(dir, hostileWorld());
  const d = await startDaemon({ dir, replica, nodeFlags: LEAK_SENSITIVE_NODE_FLAGS, config: hostileConfig() });
  t.teardown(() => d.stop());
  const traffic = { port: d.eslPort, variables: CALL_VARS, maxFrameBytes: HOSTILE_ESL.max_frame_bytes, concurrency: 100 };

  await runMixedTraffic({ ...traffic, rng: createRng(SEED + 1), sessions: 1000 }); // warm-up
  t.equal(await waitForIdle(d), 0, 'idle after warm-up');
  d.logs.length = 0; // the test keeps every log line; only errors matter from here
  const baseline = figures(d);
  const samples: ProcessFigures[] = [];
  let errorLines = 0;
  const tally = await runMixedTraffic({
    ...traffic,
    rng: createRng(SEED),
    sessions: SESSIONS,
    onSession: (done) => {
      if (done % Math.ceil(SESSIONS / 4) === 0) samples.push(figures(d));
      if (done % 1000 === 0) {
        errorLines += d.logs.filter((l) => l.level === 'error' || l.level === 'fatal').length;
        d.logs.length = 0;
      }
    },
  });
  errorLines += d.logs.filter((l) => l.level === 'error' || l.level === 'fatal').length;
  const idle = await waitForIdle(d, 15_000);
  const end = figures(d);
  const calls = metricSamples((await d.http('/metrics')).body, 'callrouter_calls_total');

  const rate = Math.round((tally.sessions / tally.elapsedMs) * 1000);
  t.comment(`${tally.sessions} sessions in ${Math.round(tally.elapsedMs / 100) / 10} s (${rate}/s, concurrency ${traffic.concurrency}); kinds ${JSON.stringify(tally.byKind)}; ends ${JSON.stringify(tally.byEnd)}`);
  t.comment(`daemon outcomes ${JSON.stringify(calls)}`);
  t.comment(`RSS MB: after warm-up ${baseline.rssMb}, quarters ${samples.map((s) => s.rssMb).join(' / ')}, after drain ${end.rssMb}; fds: ${baseline.fds} → ${samples.map((s) => s.fds).join(' / ')} → ${end.fds}`);

  t.equal(tally.sessions, SESSIONS);
  t.equal(tally.deadlines, 0, 'every session ended (none left open until the peer deadline)');
  t.equal(idle, 0, 'callrouter_active_sessions back to 0');
  t.equal(d.child.exitCode, null, 'the daemon is still running');
  t.equal((await d.http('/healthz')).status, 200);
  t.equal(errorLines, 0, 'no error or fatal log line');
  t.ok(end.rssMb < baseline.rssMb + 150, `RSS bounded: ${baseline.rssMb} → ${end.rssMb} MB (bound +150 MB)`);
  t.ok(end.fds <= baseline.fds + 4, `descriptors back near baseline: ${baseline.fds} → ${end.fds}`);
  const total = Object.values(calls).reduce((a, b) => a + b, 0);
  t.ok(total >= SESSIONS, `one outcome counted per session (${total} incl. warm-up)`);
  // Every call of this traffic has a route: a drop or garbage must end as error/caller_hangup, never as a
  // routing outcome (a connection closed before the first bridge once did).
  t.equal(calls['outcome="no_route"'] ?? 0, 0, 'no session misreported as no_route');
  t.equal(calls['outcome="invalid"'] ?? 0, 0, 'no session misreported as invalid');
  const normal = await runPeer(d.eslPort, { uuid: 'after-the-run', variables: CALL_VARS });
  t.equal(normal.end, 'exit', 'a normal call afterwards completes');
  t.match(await d.waitForLog((l) => l.msg === 'call' && l['call_uuid'] === 'after-the-run'), { outcome: 'answered' });
});
