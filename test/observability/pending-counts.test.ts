import t from 'tap';
import { Counter, Registry } from 'prom-client';
import { PendingCounts } from '../../src/observability/pending-counts.js';

t.test('PendingCounts: what was added is exported once, by the counter\'s own collect', async (t) => {
  const theirs = new Registry();
  const direct = new Counter({ name: 'c_total', help: 'h', labelNames: ['outcome', 'carrier'], registers: [theirs] });
  const ours = new Registry();
  const pending = new PendingCounts({ name: 'c_total', help: 'h', labelNames: ['outcome', 'carrier'], registers: [ours] });
  const { counter } = pending;
  const adds: Array<[Record<string, string>, number]> = [[{ outcome: 'answered', carrier: 'a' }, 1], [{ outcome: 'busy', carrier: 'a' }, 1], [{ outcome: 'answered', carrier: 'a' }, 3]];
  for (const [labels, n] of adds) {
    direct.inc(labels, n);
    pending.add(labels, n);
  }
  t.equal(await ours.metrics(), await theirs.metrics(), 'same text after the first scrape');
  t.equal(await ours.metrics(), await theirs.metrics(), 'a second scrape adds nothing twice');
  pending.add({ outcome: 'busy', carrier: 'a' });
  direct.inc({ outcome: 'busy', carrier: 'a' });
  t.same((await counter.get()).values, (await direct.get()).values, 'get() (the stats line reads it) flushes too');
});
