/**
 * Job body: the replica change watch (`replica.watch_cron`, every second by default). Calls the store's
 * `refresh()`, counts `callrouter_replica_reloads_total{result}`, and logs only what an operator needs:
 * reloads, the first failure of a kind (repeats are counted, not logged), and the recovery.
 */
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.js';
import type { RefreshResult } from '../replica/store.js';

export interface ReplicaWatchDeps {
  /** The replica store's refresh (never throws by contract; a throw is still handled). */
  refresh: () => RefreshResult;
  metrics: Pick<Metrics, 'replicaReload'>;
  logger: Logger;
  /** Per-job memory between ticks; create with `newReplicaWatchState()`. */
  state: ReplicaWatchState;
}

export interface ReplicaWatchState {
  /** `code` of the fault being suppressed, null while healthy. */
  failing: string | null;
  /** Consecutive failed checks. */
  failures: number;
}

export const newReplicaWatchState = (): ReplicaWatchState => ({ failing: null, failures: 0 });

/** One tick. Returns the refresh result (tests assert on it). Never throws. */
export function runReplicaWatch(deps: ReplicaWatchDeps): RefreshResult {
  const { state, logger } = deps;
  let r: RefreshResult;
  try {
    r = deps.refresh();
  } catch (err) {
    r = { result: 'failed', error: { code: 'internal_error', message: `replica refresh threw: ${(err as Error)?.message ?? String(err)}` } };
  }
  deps.metrics.replicaReload(r.result);

  if (r.result === 'failed' || r.result === 'kept_last_good') {
    state.failures += 1;
    const code = r.error?.code ?? r.result;
    if (state.failing !== code) {
      logger.warn({ result: r.result, code, reason: r.error?.message }, r.result === 'failed' ? 'replica check failed; serving the last good data' : 'replica change rejected; keeping the last good data');
      state.failing = code;
    }
    return r;
  }
  if (state.failing !== null) {
    logger.info({ result: r.result, failed_checks: state.failures }, 'replica healthy again');
    state.failing = null;
    state.failures = 0;
  }
  if (r.result === 'reloaded' || r.result === 'reopened') logger.info({ result: r.result }, 'replica reloaded');
  return r;
}
