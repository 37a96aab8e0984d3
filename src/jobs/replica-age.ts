/**
 * Job body: the replica age check (`jobs.replica_age_cron`). Feeds the store's status to the age tracker
 * (which backs the age gauge and readiness) and logs ONE warning when the age passes
 * `replica.max_age_seconds` and one info line when it recovers.
 */
import type { Logger } from 'pino';
import type { ReplicaAgeTracker, ReplicaTimeSample } from '../observability/replica-age.js';

export interface ReplicaAgeDeps {
  /** The dating fields of the store's status (`store.status()` fits); null when no replica is open. */
  status: () => ReplicaTimeSample | null;
  tracker: ReplicaAgeTracker;
  /** `replica.max_age_seconds`, for the log line. */
  maxAgeSeconds: number;
  logger: Logger;
}

/** One tick; never throws (a failing status() counts as "nothing dates the data"). */
export function runReplicaAgeCheck(deps: ReplicaAgeDeps): void {
  let sample: ReplicaTimeSample | null;
  try {
    sample = deps.status();
  } catch {
    sample = null;
  }
  const transition = deps.tracker.update(sample);
  const age = deps.tracker.age();
  const fields = { age_seconds: age === null ? null : Math.round(age.seconds), source: age?.source ?? null, max_age_seconds: deps.maxAgeSeconds };
  if (transition === 'became_stale') deps.logger.warn(fields, 'replica data is older than replica.max_age_seconds');
  else if (transition === 'recovered') deps.logger.info(fields, 'replica data is fresh again');
}
