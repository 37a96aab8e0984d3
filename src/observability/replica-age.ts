/**
 * How old the replica's data is, for `callrouter_replica_age_seconds{source}`, readiness and the stale
 * warning. The replica age job feeds it samples of the store's status; the gauge and the probe compute the
 * age at read time from the injected clock, so they stay current between job ticks.
 *
 * The age runs from the NEWER of the newest row `updated_at` and the file mtime: carriers and routes can go
 * unchanged for weeks on a healthy system, so `updated_at` alone would call a well-synced replica stale; the
 * mtime alone misses rows written with older stamps. `source` says which of the two was newer.
 */
import type { ReplicaAgeSource } from './metrics.js';
import type { ProbeResult } from './probes.js';

/** The fields of the replica store's `status()` that date the data. */
export interface ReplicaTimeSample {
  /** Greatest `updated_at` as stored (ISO 8601 or SQLite `YYYY-MM-DD HH:MM:SS`, UTC when no zone), or null. */
  newestUpdatedAt: string | null;
  /** The file's mtime in epoch ms, null when the file is missing. */
  fileMtimeMs: number | null;
}

export type AgeTransition = 'became_stale' | 'recovered' | null;

export interface ReplicaAgeTracker {
  /** Record a new sample; returns the stale/fresh transition it caused (for a log line once per change). */
  update(sample: ReplicaTimeSample | null): AgeTransition;
  /** Current age (seconds, ≥ 0) and its source; null when nothing dates the data. Metrics provider. */
  age(): { seconds: number; source: ReplicaAgeSource } | null;
  /** Readiness: fails when `maxAgeSeconds` > 0 and the age is above it or unknown. */
  probe(): ProbeResult;
}

const SQLITE_TS = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d(?::\d\d(?:\.\d+)?)?)(Z|[+-]\d\d:?\d\d)?$/;

/** Parse a stored `updated_at` to epoch ms; NaN-free: undefined when unparseable. Numbers are epoch s or ms. */
export function parseUpdatedAt(text: string): number | undefined {
  const s = text.trim();
  if (/^\d{9,13}$/.test(s)) return s.length > 11 ? Number(s) : Number(s) * 1000;
  const m = SQLITE_TS.exec(s);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}T${m[2]}${m[3] ?? 'Z'}`);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * @param maxAgeSeconds config `replica.max_age_seconds` (0 = no bound: never stale, probe always ok).
 * @param now clock, epoch ms.
 */
export function createReplicaAgeTracker(opts: { maxAgeSeconds: number; now: () => number }): ReplicaAgeTracker {
  let dataTime: { ms: number; source: ReplicaAgeSource } | null = null;
  let stale = false;

  const age = (): { seconds: number; source: ReplicaAgeSource } | null =>
    dataTime === null ? null : { seconds: Math.max(0, (opts.now() - dataTime.ms) / 1000), source: dataTime.source };

  const isStale = (): boolean => {
    if (opts.maxAgeSeconds <= 0) return false;
    const a = age();
    return a === null || a.seconds > opts.maxAgeSeconds;
  };

  return {
    update(sample) {
      const u = sample?.newestUpdatedAt == null ? undefined : parseUpdatedAt(sample.newestUpdatedAt);
      const m = sample?.fileMtimeMs ?? undefined;
      if (u !== undefined && (m === undefined || u >= m)) dataTime = { ms: u, source: 'updated_at' };
      else if (m !== undefined) dataTime = { ms: m, source: 'mtime' };
      else dataTime = null;
      const now = isStale();
      const t: AgeTransition = now === stale ? null : now ? 'became_stale' : 'recovered';
      stale = now;
      return t;
    },
    age,
    probe() {
      if (!isStale()) return { ok: true };
      const a = age();
      return a === null
        ? { ok: false, reason: 'replica age unknown (no updated_at and no file)' }
        : {
            ok: false,
            reason: `replica is ${Math.round(a.seconds)} s old (${a.source}), over replica.max_age_seconds ${opts.maxAgeSeconds}`,
            detail: { age_seconds: Math.round(a.seconds), source: a.source },
          };
    },
  };
}
