import t from 'tap';
import { runStatsLog } from '../../src/jobs/stats-log.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { memoryLogger } from './memory-logger.js';

t.test('one info line with totals since start and active sessions', async (t) => {
  const { logger, entries } = memoryLogger();
  const metrics = createMetrics({}, { defaultMetrics: false });
  metrics.callOutcome('answered');
  metrics.callOutcome('answered');
  metrics.callOutcome('no_route');
  metrics.bridgeAttempt('a', 'unavailable');
  metrics.bridgeAttempt('b', 'answered');
  metrics.bridgeAttempt('b', 'answered');
  metrics.failover('a');
  metrics.sessionRefused('shutting_down');
  await runStatsLog({ metrics, activeSessions: () => 7, logger });
  const [line] = entries();
  t.match(line, {
    level: 'info',
    msg: 'stats',
    active_sessions: 7,
    calls: { answered: 2, no_route: 1, busy: 0 },
    attempts: 3,
    attempts_by_result: { answered: 2, unavailable: 1 },
    failovers: 1,
    refused: { shutting_down: 1, max_sessions: 0 },
  });
  t.equal(entries().length, 1);
});
