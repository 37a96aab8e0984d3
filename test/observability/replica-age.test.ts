import t from 'tap';
import { createReplicaAgeTracker, parseUpdatedAt } from '../../src/observability/replica-age.js';

const T0 = Date.parse('2025-06-01T12:00:00Z');

t.test('parseUpdatedAt', async (t) => {
  const rows: [string, number | undefined][] = [
    ['2025-06-01T12:00:00Z', T0],
    ['2025-06-01 12:00:00', T0],
    ['2025-06-01T12:00:00.500Z', T0 + 500],
    ['2025-06-01T14:00:00+02:00', T0],
    ['2025-06-01 12:00', T0],
    [String(T0 / 1000), T0],
    [String(T0), T0],
    ['  2025-06-01 12:00:00  ', T0],
    ['yesterday', undefined],
    ['', undefined],
    ['2025-13-45 99:99:99', undefined],
  ];
  for (const [text, want] of rows) t.equal(parseUpdatedAt(text), want, JSON.stringify(text));
});

t.test('tracker: newer of updated_at and mtime wins, age computed at read time', async (t) => {
  let now = T0;
  const tr = createReplicaAgeTracker({ maxAgeSeconds: 0, now: () => now });
  t.equal(tr.age(), null);
  tr.update({ newestUpdatedAt: '2025-06-01 11:59:00', fileMtimeMs: T0 - 10_000 });
  t.same(tr.age(), { seconds: 10, source: 'mtime' });
  tr.update({ newestUpdatedAt: '2025-06-01 11:59:55', fileMtimeMs: T0 - 10_000 });
  t.same(tr.age(), { seconds: 5, source: 'updated_at' });
  now += 20_000;
  t.same(tr.age(), { seconds: 25, source: 'updated_at' });
  tr.update({ newestUpdatedAt: null, fileMtimeMs: T0 });
  t.same(tr.age(), { seconds: 20, source: 'mtime' });
  tr.update({ newestUpdatedAt: 'garbage', fileMtimeMs: null });
  t.equal(tr.age(), null);
  tr.update({ newestUpdatedAt: '2030-01-01 00:00:00', fileMtimeMs: null });
  t.same(tr.age(), { seconds: 0, source: 'updated_at' }, 'a future stamp is age 0, not negative');
  t.same(tr.probe(), { ok: true }, 'no bound: always ready');
});

t.test('tracker probe with a bound', async (t) => {
  let now = T0;
  const tr = createReplicaAgeTracker({ maxAgeSeconds: 60, now: () => now });
  t.match(tr.probe(), { ok: false, reason: /unknown/ });
  tr.update({ newestUpdatedAt: null, fileMtimeMs: T0 });
  t.same(tr.probe(), { ok: true });
  now = T0 + 61_000;
  t.same(tr.probe(), {
    ok: false,
    reason: 'replica is 61 s old (mtime), over replica.max_age_seconds 60',
    detail: { age_seconds: 61, source: 'mtime' },
  });
});
