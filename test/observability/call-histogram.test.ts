import t from 'tap';
import { Histogram, Registry } from 'prom-client';
import { CallHistogram } from '../../src/observability/call-histogram.js';

const BUCKETS = [0.00001, 0.000025, 0.001, 0.5, 1, 5];

/** The same observations through prom-client's Histogram and through CallHistogram: the same exposition text. */
t.test('CallHistogram exports exactly what prom-client\'s Histogram would', async (t) => {
  const rows: Array<[string, string[], Array<[Record<string, string>, number]>]> = [
    ['unlabelled, nothing observed', [], []],
    ['unlabelled, values on, between, below and above the bounds', [], [[{}, 0], [{}, 0.00001], [{}, 0.0000100001], [{}, 0.7], [{}, 1], [{}, 5], [{}, 5.0001], [{}, 1e9]]],
    ['labelled, nothing observed', ['carrier'], []],
    ['labelled, two series in first-use order', ['carrier'], [[{ carrier: 'b' }, 0.3], [{ carrier: 'a' }, 2], [{ carrier: 'b' }, 7], [{ carrier: 'a' }, 0.00002]]],
    ['two labels, a value that needs escaping', ['carrier', 'result'], [[{ carrier: 'x"y\\z', result: 'ok' }, 0.1], [{ carrier: 'x"y\\z', result: 'ok' }, 0.1]]],
  ];
  for (const [name, labelNames, observations] of rows) {
    const theirs = new Registry();
    const h = new Histogram({ name: 'h_seconds', help: 'help text', buckets: BUCKETS, labelNames, registers: [theirs] });
    const ours = new Registry();
    const c = new CallHistogram({ name: 'h_seconds', help: 'help text', buckets: BUCKETS, labelNames, registers: [ours] });
    for (const [labels, v] of observations) {
      h.observe(labels, v);
      c.series(labels).observe(v);
    }
    t.equal(await ours.metrics(), await theirs.metrics(), name);
    const json = (await ours.getMetricsAsJSON())[0]!;
    t.equal(json.type, 'histogram', `${name}: JSON type`);
  }
  t.throws(() => new CallHistogram({ name: 'bad', help: 'h', buckets: [1, 1], registers: [] }), /ascending/);
});

t.test('a registry reset empties CallHistogram series as it does prom-client\'s', async (t) => {
  const r = new Registry();
  const c = new CallHistogram({ name: 'h_seconds', help: 'h', buckets: BUCKETS, labelNames: ['carrier'], registers: [r] });
  c.series({ carrier: 'a' }).observe(1);
  r.resetMetrics();
  t.equal((await r.getMetricsAsJSON())[0]!.values.length, 0);
});
