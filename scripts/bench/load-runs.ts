/**
 * The three load shapes of bench:esl, over a {@link LoadPeer}: closed loop at a fixed number of calls in flight
 * (saturation), open loop at a fixed rate (setup latency), and N calls brought to bridged-and-held (memory).
 */
import { performance } from 'node:perf_hooks';
import type { LoadPeer, PeerCall, PeerCallResult } from './load-peer.js';

/** Variables and source address of call number `i`. */
export type CallFactory = (i: number) => { variables: Record<string, string>; localAddress?: string };

export interface ClosedLoopResult {
  readonly callsPerSecond: number;
  readonly completed: number;
  readonly failed: number;
  readonly seconds: number;
  /** Every call that ended ok, warm-up and tail included (for CPU per call). */
  readonly totalOk: number;
}

/**
 * Keeps `concurrency` calls in flight for `warmupS + seconds`; counts calls that ENDED inside the measured window
 * (completed = bridged and exited). Waits for the stragglers before resolving.
 */
export async function closedLoop(peer: LoadPeer, make: CallFactory, opts: { concurrency: number; warmupS: number; seconds: number }): Promise<ClosedLoopResult> {
  const t0 = performance.now();
  const from = t0 + opts.warmupS * 1000;
  const to = from + opts.seconds * 1000;
  let i = 0;
  let completed = 0;
  let failed = 0;
  let inflight = 0;
  let totalOk = 0;
  return new Promise((resolve) => {
    const launch = (): void => {
      inflight++;
      void peer.call(make(i++)).done.then(onDone);
    };
    const onDone = (r: PeerCallResult): void => {
      inflight--;
      if (r.ok) totalOk++;
      if (r.endedAt >= from && r.endedAt < to) {
        if (r.ok) completed++;
        else failed++;
      }
      if (performance.now() < to) launch();
      else if (inflight === 0) resolve({ callsPerSecond: completed / opts.seconds, completed, failed, seconds: opts.seconds, totalOk });
    };
    for (let k = 0; k < opts.concurrency; k++) launch();
  });
}

export interface OpenLoopResult {
  readonly rate: number;
  readonly launched: number;
  readonly failed: number;
  /**
   * Daemon-added setup, ms: connect() → bridge command parsed by the peer, minus the peer's own turnaround
   * (`connect` parsed → connect reply handed to the socket), which is the switch's time, not the daemon's.
   */
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** How late the generator launched calls against the schedule (p99, ms): large values mean a busy generator. */
  readonly lagP99: number;
  /** Each measured call's TCP-connect time (epoch ms) and daemon-added setup (ms), in completion order. */
  readonly calls: ReadonlyArray<{ readonly at: number; readonly ms: number }>;
}

/** Launches calls at `rate`/s for `seconds` (after `warmupS` at the same rate, not measured). */
export async function openLoop(peer: LoadPeer, make: CallFactory, opts: { rate: number; warmupS: number; seconds: number }): Promise<OpenLoopResult> {
  const total = Math.round(opts.rate * (opts.warmupS + opts.seconds));
  const warm = Math.round(opts.rate * opts.warmupS);
  const latencies: number[] = [];
  const calls: Array<{ at: number; ms: number }> = [];
  const lags: number[] = [];
  const pending: Promise<unknown>[] = [];
  let failed = 0;
  let i = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - t0) * opts.rate) / 1000) + 1);
      while (i < due) {
        const n = i++;
        const intended = t0 + (n * 1000) / opts.rate;
        const call = peer.call(make(n));
        if (n >= warm) {
          lags.push(performance.now() - intended);
          pending.push(call.done.then((r) => {
            if (r.ok && r.bridgeAt !== undefined) {
              const ms = daemonAddedMs(r);
              latencies.push(ms);
              calls.push({ at: performance.timeOrigin + r.startedAt, ms });
            }
            else failed++;
          }));
        } else {
          pending.push(call.done);
        }
      }
      if (i >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  await Promise.all(pending);
  latencies.sort((a, b) => a - b);
  lags.sort((a, b) => a - b);
  return {
    rate: opts.rate,
    launched: total - warm,
    failed,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    max: latencies.at(-1) ?? NaN,
    lagP99: quantile(lags, 0.99),
    calls,
  };
}

/** Connect → bridge received, less the peer's connect-reply turnaround (when the peer saw the `connect`). */
export function daemonAddedMs(r: PeerCallResult): number {
  const turnaround = r.connectAt !== undefined && r.connectReplyAt !== undefined ? r.connectReplyAt - r.connectAt : 0;
  return r.bridgeAt! - r.startedAt - turnaround;
}

export interface HeldCalls {
  readonly calls: PeerCall[];
  readonly bridged: number;
  readonly setupSeconds: number;
  /** Hangs every held call up (paced) and waits for all to end; resolves with how many ended ok. */
  release(perTick?: number): Promise<number>;
}

/** Brings `count` calls to bridged-and-held, at most `setupConcurrency` in setup at a time; bounded by `timeoutMs`. */
export async function holdCalls(peer: LoadPeer, make: CallFactory, opts: { count: number; setupConcurrency: number; timeoutMs: number }): Promise<HeldCalls> {
  const calls: PeerCall[] = [];
  let bridged = 0;
  let inSetup = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, opts.timeoutMs);
    const launch = (): void => {
      if (calls.length >= opts.count) return;
      inSetup++;
      let settled = false;
      const settle = (): void => {
        if (settled) return;
        settled = true;
        inSetup--;
        launch();
      };
      const call = peer.call({
        ...make(calls.length),
        hold: true,
        onBridged: () => {
          bridged++;
          settle();
          if (bridged >= opts.count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
      void call.done.then(settle);
      calls.push(call);
    };
    for (let k = 0; k < opts.setupConcurrency; k++) launch();
  });
  const setupSeconds = (performance.now() - t0) / 1000;
  return {
    calls,
    bridged,
    setupSeconds,
    async release(perTick = 500) {
      const results: Promise<PeerCallResult>[] = [];
      for (let k = 0; k < calls.length; k += perTick) {
        for (const c of calls.slice(k, k + perTick)) {
          c.release();
          results.push(c.done);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      const all = await Promise.all(results);
      return all.filter((r) => r.ok).length;
    },
  };
}

/** Nearest-rank quantile of a sorted array (NaN when empty). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
