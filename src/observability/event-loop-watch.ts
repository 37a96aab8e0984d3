/**
 * Liveness signal: the longest event-loop block seen recently (perf_hooks.monitorEventLoopDelay). A loop
 * blocked for seconds cannot serve FreeSWITCH's events (FreeSWITCH kills a listener that falls 500 events
 * behind), so /healthz turns 503 and the supervisor can restart us.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { ProbeResult } from './probes.js';

export interface EventLoopWatch {
  /** Longest loop delay in ms over the current and the previous window. */
  maxDelayMs(): number;
  /** Stop sampling (idempotent). */
  stop(): void;
}

export interface EventLoopWatchOptions {
  /** Length of one window (default 10,000 ms); a stall is remembered for one to two windows. */
  windowMs?: number;
  /** Sampling resolution (default 20 ms). */
  resolutionMs?: number;
}

/** Start watching the event loop. The rotation timer is unref'd: it never keeps the process alive. */
export function createEventLoopWatch(opts: EventLoopWatchOptions = {}): EventLoopWatch {
  const h: IntervalHistogram = monitorEventLoopDelay({ resolution: opts.resolutionMs ?? 20 });
  h.enable();
  let previousMaxNs = 0;
  const timer = setInterval(() => {
    previousMaxNs = h.max;
    h.reset();
  }, opts.windowMs ?? 10_000);
  timer.unref();
  let stopped = false;
  return {
    maxDelayMs: () => Math.max(previousMaxNs, h.count > 0 ? h.max : 0) / 1e6,
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      h.disable();
    },
  };
}

/** A liveness probe failing when the loop was blocked longer than `stallMs` (config `metrics.stall_ms`). */
export function eventLoopProbe(watch: Pick<EventLoopWatch, 'maxDelayMs'>, stallMs: number): () => ProbeResult {
  return () => {
    const ms = Math.round(watch.maxDelayMs());
    return ms > stallMs
      ? { ok: false, reason: `event loop blocked ${ms} ms (limit ${stallMs} ms)`, detail: { event_loop_max_delay_ms: ms } }
      : { ok: true, detail: { event_loop_max_delay_ms: ms } };
  };
}
