import t from 'tap';
import cron from 'node-cron';
import { callrouterJobs, createScheduler } from '../../src/jobs/scheduler.js';
import { loadConfig } from '../../src/config/load-config.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { createReplicaAgeTracker } from '../../src/observability/replica-age.js';
import { memoryLogger } from './memory-logger.js';

const taskNamed = (name: string) => [...cron.getTasks().values()].find((x) => x.name === name);

t.test('tasks are created stopped, started by start(), destroyed by stop()', async (t) => {
  const { logger } = memoryLogger();
  const s = createScheduler([{ name: 'sched-test-a', schedule: '0 0 1 1 *', run: () => undefined }], logger);
  t.teardown(() => s.stop());
  t.same(s.names, ['sched-test-a']);
  t.equal(taskNamed('sched-test-a')?.getStatus(), 'stopped');
  s.start();
  s.start();
  t.not(taskNamed('sched-test-a')?.getStatus(), 'stopped');
  await s.stop();
  await s.stop();
  t.equal(taskNamed('sched-test-a'), undefined, 'destroyed tasks leave node-cron');
  s.start();
  t.equal(taskNamed('sched-test-a'), undefined, 'start after stop does nothing');
});

t.test('a throwing job body is logged with the job name, not thrown', async (t) => {
  const { logger, entries } = memoryLogger();
  const s = createScheduler(
    [{ name: 'sched-test-boom', schedule: '0 0 1 1 *', run: () => Promise.reject(new Error('kaput')) }],
    logger,
  );
  t.teardown(() => s.stop());
  await taskNamed('sched-test-boom')?.execute();
  t.match(entries(), [{ level: 'error', msg: 'job failed', job: 'sched-test-boom', err: { message: 'kaput' } }]);
});

t.test('invalid schedules and duplicate names are start-up errors', async (t) => {
  const { logger } = memoryLogger();
  t.throws(() => createScheduler([{ name: 'x', schedule: 'nope', run: () => 0 }], logger), /job x: invalid cron expression "nope"/);
  t.throws(
    () => createScheduler([{ name: 'd', schedule: '* * * * *', run: () => 0 }, { name: 'd', schedule: '* * * * *', run: () => 0 }], logger),
    /duplicate job names/,
  );
});

t.test('callrouterJobs: names and schedules from config; bodies reach their deps', async (t) => {
  const config = loadConfig({ overrides: { 'replica.watch_cron': '*/5 * * * * *', 'replica.max_age_seconds': 60 } });
  const { logger, entries } = memoryLogger();
  const metrics = createMetrics({}, { defaultMetrics: false });
  let refreshed = 0;
  const tracker = createReplicaAgeTracker({ maxAgeSeconds: 60, now: () => 1_000_000 });
  const jobs = callrouterJobs(config, {
    refresh: () => {
      refreshed += 1;
      return { result: 'reloaded' };
    },
    replicaStatus: () => ({ newestUpdatedAt: null, fileMtimeMs: 990_000 }),
    ageTracker: tracker,
    metrics,
    activeSessions: () => 4,
    logger,
  });
  t.same(jobs.map((j) => [j.name, j.schedule]), [
    ['replica-watch', '*/5 * * * * *'],
    ['replica-age', '*/15 * * * * *'],
    ['stats', '0 * * * * *'],
  ]);
  for (const j of jobs) await j.run();
  t.equal(refreshed, 1);
  t.same(tracker.age(), { seconds: 10, source: 'mtime' });
  t.match(entries().map((e) => e.msg), ['replica reloaded', 'stats']);
  t.match((await metrics.totals()).calls, { answered: 0 });
  const s = createScheduler(jobs, logger);
  t.teardown(() => s.stop());
  t.same(s.names, ['replica-watch', 'replica-age', 'stats']);
});
