/**
 * The peer dropping the TCP connection — or the caller hanging up — at every step of the session (before the
 * connect reply, after it, during linger/filter/event, during the A-leg multiset, during the bridge, while
 * answered, at the daemon's hangup, while lingering, at exit), with a carrier that answers and one that is busy:
 *
 * - in process (createEslServer + createCallHandler, as the app wires them) with injected timers that count
 *   what is still armed and the accepted sockets captured: after each session 0 live timers, 0 data/close/error
 *   listeners on the socket, the socket destroyed, 0 sessions, one summary line;
 * - against the BUILT daemon, with both the scripted peer and the fake FreeSWITCH's own dropAt/hangupAt: 0 active
 *   sessions, descriptors back to the baseline, one summary line per session, and a normal call afterwards.
 */
import t from 'tap';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { createCallHandler } from '../../src/call/session.js';
import { createCallPlanner } from '../../src/call/planner.js';
import { ConfigSchema } from '../../src/config/schema.js';
import type { EslTimers } from '../../src/esl/connection.js';
import { createEslServer } from '../../src/esl/server.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { createReplicaStore } from '../../src/replica/store.js';
import { callPlanOptionsFromConfig } from '../../src/routing/call-plan.js';
import { buildRouteIndex, type RouteIndex } from '../../src/routing/route-index.js';
import { KEYS } from '../call/harness.js';
import { buildReplica } from '../fixtures/replica.js';
import { FakeFreeSwitch, type CallStep } from '../fake-freeswitch/fake-freeswitch.js';
import { startDaemon } from '../support/daemon-process.js';
import { CALL_VARS, figures, HOSTILE_ESL, hostileConfig, hostileWorld, waitForIdle } from './support/hostile-daemon.js';
import { PEER_STEPS, runPeer, type CarrierBehaviour, type PeerScript } from './support/scripted-peer.js';

/** Timers that count what is still armed (and how many were ever armed). */
function countingTimers(): EslTimers & { active: () => number; total: () => number } {
  const live = new Set<unknown>();
  let total = 0;
  return {
    setTimeout(fn, ms) {
      total++;
      const h = setTimeout(() => {
        live.delete(h);
        fn();
      }, ms);
      live.add(h);
      return h;
    },
    clearTimeout(h) {
      live.delete(h);
      clearTimeout(h as ReturnType<typeof setTimeout>);
    },
    active: () => live.size,
    total: () => total,
  };
}

interface Case {
  name: string;
  script: PeerScript;
}

function cases(prefix: string): Case[] {
  const out: Case[] = [];
  for (const step of PEER_STEPS) {
    for (const how of ['drop', 'hangup'] as const) {
      for (const carrier of ['answer', 'busy'] as const satisfies readonly CarrierBehaviour[]) {
        const uuid = `${prefix}-${how}-${step}-${carrier}`;
        out.push({
          name: `${how} at ${step} (carrier ${carrier})`,
          script: {
            uuid, variables: CALL_VARS, carriers: { carrier_a: carrier, carrier_b: carrier }, talkMs: 50, deadlineMs: 10_000,
            ...(how === 'drop' ? { dropAt: step } : { hangupAt: step }),
          },
        });
      }
    }
  }
  return out;
}

t.test('in process: a drop or hangup at every step leaves no timer, listener, socket or session behind', async (t) => {
  const path = buildReplica(t.testdir(), hostileWorld());
  const store = createReplicaStore<RouteIndex>({ path, busyTimeoutMs: 200, buildIndex: (rows) => buildRouteIndex(rows), now: Date.now });
  store.open();
  t.teardown(() => store.close());
  const config = ConfigSchema.parse({ esl: { ...HOSTILE_ESL, listen: '127.0.0.1:0' } });
  const logs: Array<Record<string, unknown>> = [];
  const timers = countingTimers();
  const handler = createCallHandler({
    config,
    plan: createCallPlanner(store, callPlanOptionsFromConfig(config)),
    keys: KEYS,
    metrics: createMetrics({}, { defaultMetrics: false }),
    logger: createLogger({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) }),
    now: Date.now,
    newUuid: () => '00000000-0000-4000-8000-000000000001',
    timers,
  });
  const errors: unknown[] = [];
  const server = createEslServer({
    listen: '127.0.0.1:0',
    allowFrom: ['127.0.0.0/8'],
    maxSessions: 100,
    maxFrameBytes: config.esl.max_frame_bytes,
    connectTimeoutMs: config.esl.connect_timeout_ms,
    commandTimeoutMs: config.esl.command_timeout_ms,
    timers,
    onSession: (conn) => handler(conn, { acceptedAt: Date.now() }),
    onError: (err) => errors.push(err),
  });
  const { port } = await server.listen();
  t.teardown(async () => {
    server.destroyAll();
    await server.close();
  });
  // Every socket the server accepts (published after its 'connection' handler ran).
  const accepted: Socket[] = [];
  const onSocket = (message: unknown): void => void accepted.push((message as { socket: Socket }).socket);
  subscribe('net.server.socket', onSocket);
  t.teardown(() => unsubscribe('net.server.socket', onSocket));

  const timeoutsBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  for (const c of cases('inproc')) {
    const before = { sockets: accepted.length, summaries: logs.filter((l) => l['msg'] === 'call').length, armed: timers.total() };
    const result = await runPeer(port, c.script);
    for (let i = 0; i < 200 && server.activeCount() > 0; i++) await new Promise((r) => setTimeout(r, 5));
    // The summary is written after the connection closed (the session's last step): let it land.
    for (let i = 0; i < 200 && logs.filter((l) => l['msg'] === 'call').length === before.summaries; i++) await new Promise((r) => setTimeout(r, 5));
    const socket = accepted[before.sockets];
    t.not(result.end, 'deadline', `${c.name}: the session ended (${result.end})`);
    t.equal(server.activeCount(), 0, `${c.name}: no session left`);
    t.equal(timers.active(), 0, `${c.name}: no timer left (${timers.total() - before.armed} armed during the call)`);
    t.ok(socket?.destroyed, `${c.name}: the socket is destroyed`);
    for (const ev of ['data', 'close', 'error'] as const) t.equal(socket?.listenerCount(ev), 0, `${c.name}: no '${ev}' listener left`);
    t.equal(logs.filter((l) => l['msg'] === 'call').length, before.summaries + 1, `${c.name}: one summary line`);
  }
  t.same(errors, [], 'no session threw');
  t.same(logs.filter((l) => l['level'] === 'error'), [], 'no error log line');
  const timeoutsAfter = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  t.ok(timeoutsAfter <= timeoutsBefore, `no process-level timer left (${timeoutsBefore} → ${timeoutsAfter})`);
  t.comment(`outcomes: ${JSON.stringify(countBy(logs.filter((l) => l['msg'] === 'call').map((l) => `${String(l['outcome'])}/${String(l['code'])}`)))}`);
});

t.test('built daemon: drops and hangups at every step, scripted peer and fake FreeSWITCH; nothing leaks', async (t) => {
  const dir = t.testdir();
  const replica = buildReplica(dir, hostileWorld());
  const d = await startDaemon({ dir, replica, config: hostileConfig() });
  t.teardown(() => d.stop());
  for (let i = 0; i < 20; i++) await runPeer(d.eslPort, { variables: CALL_VARS }); // warm-up
  t.equal(await waitForIdle(d), 0);
  const before = figures(d);
  const summariesBefore = d.logs.filter((l) => l.msg === 'call').length;

  // Every step, twice over, all concurrently.
  const scripted = [...cases('built-a'), ...cases('built-b')];
  const results = await Promise.all(scripted.map((c) => runPeer(d.eslPort, c.script)));
  for (const [i, r] of results.entries()) t.not(r.end, 'deadline', `${scripted[i]!.name}: ended (${r.end})`);

  // The fake FreeSWITCH's own steps ('set' is not listed: the daemon sends `multiset`, which the fake's step
  // hook does not see; the scripted peer's `multiset` step covers it).
  const fakeSteps: CallStep[] = ['connect', 'connected', 'bridge', 'answered', 'linger'];
  const fs = new FakeFreeSwitch({ daemonPort: d.eslPort, timeScale: 0.01, gateways: { carrier_a: { type: 'answer', afterMs: 50, hangupAfterMs: 500 } } });
  t.teardown(() => fs.close());
  const fakeCalls = fakeSteps.flatMap((step) => [fs.call({ variables: CALL_VARS, dropAt: step }), fs.call({ variables: CALL_VARS, hangupAt: step })]);
  const records = await Promise.all(fakeCalls);
  t.equal(records.length, fakeSteps.length * 2);

  t.equal(await waitForIdle(d), 0, 'callrouter_active_sessions back to 0');
  const sessions = scripted.length + fakeCalls.length;
  await d.waitForLog(() => d.logs.filter((l) => l.msg === 'call').length >= summariesBefore + sessions, 5000);
  t.equal(d.logs.filter((l) => l.msg === 'call').length, summariesBefore + sessions, `one summary line per session (${sessions})`);
  const after = figures(d);
  t.comment(`daemon before: ${JSON.stringify(before)}; after ${sessions} dropped/hung-up sessions: ${JSON.stringify(after)}`);
  t.ok(after.fds <= before.fds + 2, `descriptors back to the baseline (${before.fds} → ${after.fds})`);
  t.equal(d.child.exitCode, null, 'the daemon is still running');
  t.same(d.logs.filter((l) => l.level === 'error' || l.level === 'fatal'), [], 'no error log line');

  const normal = await runPeer(d.eslPort, { uuid: 'after-drops', variables: CALL_VARS });
  t.equal(normal.end, 'exit', 'a normal call afterwards completes');
  t.match(await d.waitForLog((l) => l.msg === 'call' && l['call_uuid'] === 'after-drops'), { outcome: 'answered' });
});

function countBy(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

