import t from 'tap';
import { runReplicaAgeCheck } from '../../src/jobs/replica-age.js';
import { createReplicaAgeTracker, type ReplicaTimeSample } from '../../src/observability/replica-age.js';
import { memoryLogger } from './memory-logger.js';

const T0 = Date.parse('2025-06-01T12:00:00Z');

t.test('age job: warns once when stale, once when fresh again', async (t) => {
  let now = T0;
  const { logger, entries } = memoryLogger();
  const tracker = createReplicaAgeTracker({ maxAgeSeconds: 60, now: () => now });
  let sample: ReplicaTimeSample | null = { newestUpdatedAt: '2025-06-01 11:59:50', fileMtimeMs: null };
  const tick = () => runReplicaAgeCheck({ status: () => sample, tracker, maxAgeSeconds: 60, logger });
  tick();
  t.same(entries(), []);
  now += 100_000;
  tick();
  tick();
  tick();
  t.equal(entries().length, 1);
  t.match(entries()[0], { level: 'warn', msg: 'replica data is older than replica.max_age_seconds', age_seconds: 110, source: 'updated_at', max_age_seconds: 60 });
  sample = { newestUpdatedAt: null, fileMtimeMs: now - 1000 };
  tick();
  tick();
  t.equal(entries().length, 2);
  t.match(entries()[1], { level: 'info', msg: 'replica data is fresh again', age_seconds: 1, source: 'mtime' });
});

t.test('age job: a throwing status means unknown age (stale when bounded)', async (t) => {
  const { logger, entries } = memoryLogger();
  const tracker = createReplicaAgeTracker({ maxAgeSeconds: 60, now: () => T0 });
  runReplicaAgeCheck({ status: () => { throw new Error('closed'); }, tracker, maxAgeSeconds: 60, logger });
  t.match(entries(), [{ level: 'warn', age_seconds: null, source: null }]);
  const unbounded = createReplicaAgeTracker({ maxAgeSeconds: 0, now: () => T0 });
  runReplicaAgeCheck({ status: () => null, tracker: unbounded, maxAgeSeconds: 0, logger });
  t.equal(entries().length, 1, 'no bound, no warning');
});
