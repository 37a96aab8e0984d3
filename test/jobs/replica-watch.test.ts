import t from 'tap';
import { newReplicaWatchState, runReplicaWatch } from '../../src/jobs/replica-watch.js';
import type { RefreshResult } from '../../src/replica/store.js';
import { memoryLogger } from './memory-logger.js';

function harness() {
  const { logger, entries } = memoryLogger();
  const counted: string[] = [];
  const state = newReplicaWatchState();
  const tick = (r: RefreshResult | (() => RefreshResult)) =>
    runReplicaWatch({ refresh: typeof r === 'function' ? r : () => r, metrics: { replicaReload: (x) => counted.push(x) }, logger, state });
  const msgs = () => entries().map((e) => `${e.level as string}:${e.msg as string}`);
  return { tick, counted, msgs, entries, state };
}

const missing: RefreshResult = { result: 'failed', error: { code: 'replica_missing', message: 'replica /r.db does not exist' } };
const corrupt: RefreshResult = { result: 'failed', error: { code: 'replica_open_failed', message: 'SQLITE_CORRUPT' } };

t.test('unchanged ticks are counted, never logged', async (t) => {
  const h = harness();
  for (let i = 0; i < 3; i++) h.tick({ result: 'unchanged' });
  t.same(h.counted, ['unchanged', 'unchanged', 'unchanged']);
  t.same(h.msgs(), []);
});

t.test('reloads and reopens are logged', async (t) => {
  const h = harness();
  h.tick({ result: 'reloaded' });
  h.tick({ result: 'reopened' });
  t.same(h.msgs(), ['info:replica reloaded', 'info:replica reloaded']);
  t.match(h.entries()[1], { result: 'reopened' });
});

t.test('a failure is logged once per kind, repeats are counted, recovery is logged', async (t) => {
  const h = harness();
  h.tick(missing);
  h.tick(missing);
  h.tick(missing);
  h.tick(corrupt);
  h.tick(corrupt);
  h.tick({ result: 'unchanged' });
  h.tick({ result: 'unchanged' });
  t.same(h.counted, ['failed', 'failed', 'failed', 'failed', 'failed', 'unchanged', 'unchanged']);
  t.same(h.msgs(), [
    'warn:replica check failed; serving the last good data',
    'warn:replica check failed; serving the last good data',
    'info:replica healthy again',
  ]);
  t.match(h.entries()[0], { code: 'replica_missing', reason: 'replica /r.db does not exist' });
  t.match(h.entries()[1], { code: 'replica_open_failed' });
  t.match(h.entries()[2], { failed_checks: 5 });
  t.same(h.state, { failing: null, failures: 0 });
});

t.test('kept_last_good is warned once, then recovery on reload', async (t) => {
  const h = harness();
  const kept: RefreshResult = { result: 'kept_last_good', error: { code: 'replica_routes_emptied', message: 'routes emptied' } } as RefreshResult;
  h.tick(kept);
  h.tick(kept);
  h.tick({ result: 'reloaded' });
  t.same(h.msgs(), ['warn:replica change rejected; keeping the last good data', 'info:replica healthy again', 'info:replica reloaded']);
  t.same(h.counted, ['kept_last_good', 'kept_last_good', 'reloaded']);
});

t.test('a throwing refresh counts as failed with internal_error', async (t) => {
  const h = harness();
  const r = h.tick(() => {
    throw new Error('bug');
  });
  t.same(r, { result: 'failed', error: { code: 'internal_error', message: 'replica refresh threw: bug' } });
  t.same(h.counted, ['failed']);
  t.match(h.entries()[0], { level: 'warn', code: 'internal_error' });
});
