/**
 * The BUILT daemon against a hostile FreeSWITCH: ≥ 10,000 malformed or random frames (seeded, reproducible with
 * HOSTILE_SEED=<n>) injected at every step of real sessions — before, instead of or after the switch's own reply
 * — coalesced, one per segment, byte by byte or split at random points; then the peer carries on, goes silent
 * or closes. The daemon must not crash, must close every session a fatal frame broke (never leave it for the
 * peer to close), must finish the harmless ones normally, and must end with 0 active sessions, its descriptors
 * back to the baseline and RSS bounded. A normal call afterwards still completes end to end.
 */
import t from 'tap';
import { buildReplica } from '../fixtures/replica.js';
import { FakeFreeSwitch } from '../fake-freeswitch/fake-freeswitch.js';
import { startDaemon } from '../support/daemon-process.js';
import {
  cutForDelivery, FATAL_KINDS, FUZZ_KINDS, fuzzBatch, HARMLESS_KINDS, STALL_KINDS, type Delivery, type FuzzKind,
} from './support/frame-fuzz.js';
import { CALL_VARS, figures, HOSTILE_ESL, hostileConfig, hostileWorld, LEAK_SENSITIVE_NODE_FLAGS, metricSamples, waitForIdle } from './support/hostile-daemon.js';
import { createRng, seedFrom } from './support/prng.js';
import { PEER_STEPS, runPeer, type CarrierBehaviour, type Injection, type PeerEnd, type PeerStep } from './support/scripted-peer.js';

const SEED = seedFrom(process.env, 20250101);
const TARGET_FRAMES = 10_000;
const CONCURRENCY = 128;
/**
 * Bounds: the daemon's stall (connect_timeout_ms) and command timeouts sit well below the peer's patience after
 * going silent (SILENT_HOLD_MS), which sits below the deadline; each at least 2x apart so a loaded machine does
 * not turn "the daemon cut it" into "the peer gave up". The attempt bound (ring + progress + 10 s = 12 s) is the
 * longest legitimate wait (a bridge accepted, then nothing), hence the 15 s deadline.
 */
const ESL = { connect_timeout_ms: 800, command_timeout_ms: 1500 };
const SILENT_HOLD_MS = 3000;
const DEADLINE_MS = 15_000;
/** Steps where the switch answers a command (an injection `instead` of the reply leaves the command unanswered). */
const COMMAND_STEPS: ReadonlySet<PeerStep> = new Set<PeerStep>(['connect', 'linger', 'filter', 'event', 'multiset', 'bridge', 'hangup', 'exit']);

interface SessionPlan {
  injection: Injection;
  kinds: FuzzKind[];
  frames: number;
  delivery: Delivery;
  carriers: Record<string, CarrierBehaviour>;
}

t.test(`${TARGET_FRAMES}+ hostile frames at every session step (seed ${SEED})`, async (t) => {
  const dir = t.testdir();
  const replica = buildReplica(dir, hostileWorld());
  const d = await startDaemon({ dir, replica, nodeFlags: LEAK_SENSITIVE_NODE_FLAGS, config: hostileConfig({ esl: ESL, routing: { ring_timeout_seconds: 3, progress_timeout_seconds: 1 } }) });
  t.teardown(() => d.stop());

  // Warm up (JIT, SQLite page cache, pools) before the baseline, so growth means retention, not first use.
  for (let i = 0; i < 200; i += 50) await Promise.all(Array.from({ length: 50 }, () => runPeer(d.eslPort, { variables: CALL_VARS })));
  t.equal(await waitForIdle(d), 0, 'idle after warm-up');
  const before = figures(d);

  const rng = createRng(SEED);
  const plan = (uuid: string): SessionPlan => {
    const carriers: Record<string, CarrierBehaviour> = {
      carrier_a: rng.pick(['answer', 'unavailable', 'busy', 'answer'] as const),
      carrier_b: rng.pick(['answer', 'unavailable'] as const),
    };
    const frames = fuzzBatch(rng, rng.int(1, 8), { uuid, maxFrameBytes: HOSTILE_ESL.max_frame_bytes });
    const delivery = rng.weighted<Delivery>({ coalesced: 4, separate: 3, random_split: 2, byte_by_byte: 1 });
    const at = rng.pick(PEER_STEPS);
    const where = COMMAND_STEPS.has(at) ? rng.pick(['before', 'instead', 'after'] as const) : rng.pick(['before', 'after'] as const);
    const then = rng.weighted({ continue: 6, silent: 3, close: 1 });
    const cut = cutForDelivery(rng, frames, delivery);
    return {
      injection: { at, where, then, chunks: cut.chunks, spaced: cut.spaced },
      kinds: frames.map((f) => f.kind),
      frames: frames.reduce((n, f) => n + f.frames, 0),
      delivery,
      carriers,
    };
  };

  let injectedFrames = 0; // one per crafted frame (a coalesced_noise burst counts once)
  let injectedFramesAll = 0; // every frame on the wire, bursts counted frame by frame
  let inFlight = 0;
  let sessions = 0;
  const ends: Record<PeerEnd, number> = { exit: 0, daemon_closed: 0, peer_closed: 0, switch_hung_up: 0, deadline: 0 };
  const kindsSeen = new Set<FuzzKind>();
  const deliveries: Record<string, number> = {};
  const steps: Record<string, number> = {};
  const violations: string[] = [];
  let checkedFatal = 0;
  let checkedStall = 0;
  let checkedHarmless = 0;
  const started = Date.now();

  const worker = async (): Promise<void> => {
    while (injectedFrames + inFlight < TARGET_FRAMES) {
      // Everything for session k is drawn here in one go, so session k is the same on every run of a seed.
      const uuid = `fuzz-${sessions}-${rng.int(0, 1e9)}`;
      const p = plan(uuid);
      const talkMs = rng.int(0, 50);
      sessions++;
      inFlight += p.kinds.length;
      const result = await runPeer(d.eslPort, {
        uuid, variables: CALL_VARS, carriers: p.carriers, inject: p.injection, talkMs, silentHoldMs: SILENT_HOLD_MS, deadlineMs: DEADLINE_MS,
      });
      inFlight -= p.kinds.length;
      ends[result.end]++;
      if (result.end === 'deadline') violations.push(`deadline: session ${uuid} at ${p.injection.at}/${p.injection.where}/${p.injection.then} [${p.kinds.join(',')}] commands ${result.commands.join(' | ')}`);
      if (!result.injected) continue;
      injectedFrames += p.kinds.length;
      injectedFramesAll += p.frames;
      for (const k of p.kinds) kindsSeen.add(k);
      deliveries[p.delivery] = (deliveries[p.delivery] ?? 0) + 1;
      steps[p.injection.at] = (steps[p.injection.at] ?? 0) + 1;
      const tag = `session ${uuid} at ${p.injection.at}/${p.injection.where}/${p.injection.then} ${p.delivery} [${p.kinds.join(',')}] → ${result.end}`;
      // A fatal frame: the daemon closes the session itself (or had already said exit) — unless the switch, not
      // lingering, ended the call and closed first: the setup went out in one write, so the bridge ran anyway.
      if (p.kinds.some((k) => FATAL_KINDS.has(k)) && p.injection.then !== 'close') {
        checkedFatal++;
        if (result.end !== 'daemon_closed' && result.end !== 'exit' && result.end !== 'switch_hung_up') violations.push(`fatal not closed by the daemon: ${tag}`);
      }
      // A partial frame last, then silence: only the stall timer can end it.
      if (STALL_KINDS.has(p.kinds.at(-1)!) && p.injection.then === 'silent') {
        checkedStall++;
        if (result.end !== 'daemon_closed' && result.end !== 'exit') violations.push(`stalled frame not cut: ${tag}`);
      }
      // Only noise, the switch carries on and answered the command: the call finishes normally. (Not byte by byte:
      // a frame trickled over more than connect_timeout_ms is cut by design, and a loaded peer can be that slow.)
      if (p.kinds.every((k) => HARMLESS_KINDS.has(k)) && p.injection.then === 'continue' && p.delivery !== 'byte_by_byte') {
        checkedHarmless++;
        const unanswered = p.injection.where === 'instead' && COMMAND_STEPS.has(p.injection.at) && p.injection.at !== 'exit';
        const want: PeerEnd = unanswered ? 'daemon_closed' : 'exit';
        if (result.end !== want && result.end !== 'switch_hung_up') violations.push(`harmless frames changed the call (want ${want}): ${tag}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const elapsedMs = Date.now() - started;

  const idle = await waitForIdle(d, 15_000);
  const after = figures(d);
  const metrics = (await d.http('/metrics')).body;
  t.comment(
    `fuzz seed=${SEED}: ${injectedFrames} crafted frames (${injectedFramesAll} on the wire incl. noise bursts) in ${sessions} sessions, ` +
      `${Math.round(elapsedMs / 100) / 10} s; ends ${JSON.stringify(ends)}; checked fatal=${checkedFatal} stall=${checkedStall} harmless=${checkedHarmless}`,
  );
  t.comment(`deliveries ${JSON.stringify(deliveries)}; steps ${JSON.stringify(steps)}`);
  t.comment(`daemon before: rss ${before.rssMb} MB, fds ${before.fds}; after: rss ${after.rssMb} MB, fds ${after.fds}; calls ${JSON.stringify(metricSamples(metrics, 'callrouter_calls_total'))}`);

  for (const v of violations.slice(0, 20)) t.comment(`VIOLATION ${v}`);
  t.ok(injectedFrames >= TARGET_FRAMES, `at least ${TARGET_FRAMES} crafted frames injected (${injectedFrames})`);
  t.same([...FUZZ_KINDS].filter((k) => !kindsSeen.has(k)), [], 'every fuzz kind was injected');
  t.same(violations.slice(0, 20), [], `no session misjudged (${violations.length} violations)`);
  t.equal(ends.deadline, 0, 'no session outlived the peer deadline (none leaked open)');
  t.equal(d.child.exitCode, null, 'the daemon is still running');
  t.equal(idle, 0, 'callrouter_active_sessions back to 0');
  t.equal((await d.http('/healthz')).status, 200, '/healthz 200');
  t.ok(after.fds <= before.fds + 4, `descriptors back near baseline (${before.fds} → ${after.fds})`);
  t.ok(after.rssMb < before.rssMb + 200, `RSS bounded (${before.rssMb} → ${after.rssMb} MB, bound +200 MB)`);
  t.same(d.logs.filter((l) => l.level === 'error' || l.level === 'fatal').slice(0, 5), [], 'no error or fatal log line (no session threw)');
  t.equal(d.stderr(), '', 'nothing on stderr');

  // A normal call still works end to end, through the full fake FreeSWITCH.
  const fs = new FakeFreeSwitch({ daemonPort: d.eslPort, timeScale: 0.01, gateways: { carrier_a: { type: 'answer', afterMs: 50, hangupAfterMs: 50 } } });
  t.teardown(() => fs.close());
  const record = await fs.call({ variables: CALL_VARS });
  t.equal(record.bridges[0]?.outcome, 'answered', 'a normal call afterwards is answered');
  t.equal(record.exitReceived, true);
  t.equal(await waitForIdle(d), 0);
});
