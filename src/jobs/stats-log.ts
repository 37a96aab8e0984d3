/**
 * Job body: the periodic stats line (`jobs.stats_cron`, every minute by default) — totals since start, so an
 * operator reading the journal sees the node's activity without Prometheus.
 */
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.js';

export interface StatsLogDeps {
  metrics: Pick<Metrics, 'totals'>;
  activeSessions: () => number;
  logger: Logger;
}

/** One tick: one info line `stats` with calls by outcome, attempts by result, failovers, refusals, active sessions. */
export async function runStatsLog(deps: StatsLogDeps): Promise<void> {
  const totals = await deps.metrics.totals();
  const attempts = Object.values(totals.attempts).reduce((a, b) => a + b, 0);
  deps.logger.info(
    {
      active_sessions: deps.activeSessions(),
      calls: totals.calls,
      attempts,
      attempts_by_result: totals.attempts,
      failovers: totals.failovers,
      refused: totals.refused,
    },
    'stats',
  );
}
