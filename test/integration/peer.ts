/**
 * Helpers for process-level tests: act on the fake peer at an exact protocol step (without changing the fake),
 * and read counter deltas from the daemon's /metrics. No tap import.
 */
import type { CallHandle } from '../fake-freeswitch/fake-freeswitch.js';
import type { DaemonProcess, LogLine } from '../support/daemon-process.js';

/**
 * Runs `fn` the first time an item matching `pred` is pushed onto `list` (one of a CallRecord's arrays).
 * `fn` runs synchronously inside the push, i.e. before the fake replies to that frame — so a `drop()` there
 * happens "during" the command, and a `setImmediate` there happens right after the fake's reply went out.
 */
export function onPush<T>(list: readonly T[], pred: (item: T) => boolean, fn: () => void): void {
  const arr = list as T[];
  const push = arr.push.bind(arr);
  let fired = false;
  Object.defineProperty(arr, 'push', {
    configurable: true,
    value: (...items: T[]): number => {
      const n = push(...items);
      if (!fired && items.some(pred)) {
        fired = true;
        fn();
      }
      return n;
    },
  });
}

/** Resolves once `cond()` holds, checking every few ms; rejects after `timeoutMs`. For fake-peer state only. */
export async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Waits until the handle's first bridge was answered (the call is up and held). */
export function answered(handle: CallHandle): Promise<void> {
  return until(() => handle.record.bridges.some((b) => b.outcome === 'answered'), `call ${handle.uuid} answered`);
}

/** The per-call summary line of `uuid`. */
export function summaryOf(d: DaemonProcess, uuid: string, timeoutMs?: number): Promise<LogLine> {
  return d.waitForLog((l) => l.msg === 'call' && l['call_uuid'] === uuid, timeoutMs);
}

/**
 * `callrouter_*_total` samples that changed between two scrapes, with their increase. The replica watch job's
 * counter is left out: it ticks every second whatever the calls do.
 */
export function counterDeltas(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of after) {
    if (!/^callrouter_\w+_total[{ ]/.test(`${k} `) || k.startsWith('callrouter_replica_reloads_total')) continue;
    const d = v - (before.get(k) ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}
