/**
 * A histogram the per-call path can afford, exported through prom-client's registry like its own.
 *
 * prom-client's `Histogram#observe` converts, validates and hashes its labels on every observation; with its
 * `Counter#inc`, the three observations and four increments a call makes cost 4.5-7% of the daemon's CPU per call
 * (this module and pending-counts.ts against prom-client's own: `npx tsx scripts/bench-esl.ts --against DIR`,
 * 0.932-0.955; README "Performance"). Here a series is looked up once per label set and an observation is a bucket search and three adds.
 * The exposition is prom-client's: `get()` returns the values its Registry formats for a histogram (cumulative
 * `_bucket` series with `le` first, `+Inf`, `_sum`, `_count`), so the text is the same as before.
 */
import type { Metric, Registry } from 'prom-client';

export interface HistogramSeries {
  /** Records one value; non-finite values are the caller's to filter (the metrics facade does). */
  observe(value: number): void;
}

interface Series extends HistogramSeries {
  readonly labels: Readonly<Record<string, string>>;
  /** Per bucket (not cumulative); the last slot counts values above every bound. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

export interface CallHistogramOptions {
  readonly name: string;
  readonly help: string;
  /** Upper bounds, ascending. */
  readonly buckets: readonly number[];
  readonly labelNames?: readonly string[];
  readonly registers: readonly Registry[];
}

interface ExportedValue {
  value: number;
  labels: Record<string, string | number>;
  metricName: string;
}

export class CallHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #bounds: readonly number[];
  /** As on prom-client's metrics (read by tests and tooling). */
  readonly labelNames: readonly string[];
  readonly #series = new Map<string, Series>();

  constructor(opts: CallHistogramOptions) {
    this.name = opts.name;
    this.help = opts.help;
    this.#bounds = [...opts.buckets];
    for (let i = 1; i < this.#bounds.length; i++) {
      if (!(this.#bounds[i]! > this.#bounds[i - 1]!)) throw new Error(`${opts.name}: buckets must be ascending`);
    }
    this.labelNames = [...(opts.labelNames ?? [])];
    // As prom-client does: an unlabelled histogram is exported (all zero) before its first observation.
    if (this.labelNames.length === 0) this.series();
    // The registry only reads name, help, type, aggregator, get() and reset() (prom-client's registry.js).
    for (const registry of opts.registers) registry.registerMetric(this as unknown as Metric);
  }

  /** The series of `labels` (exactly the label names given at construction), made on first use. */
  series(labels: Readonly<Record<string, string>> = {}): HistogramSeries {
    const key = this.labelNames.map((n) => labels[n] ?? '').join('\u0000');
    let series = this.#series.get(key);
    if (series === undefined) {
      const own: Record<string, string> = {};
      for (const n of this.labelNames) own[n] = labels[n] ?? '';
      const bounds = this.#bounds;
      const made: Series = {
        labels: own,
        counts: new Float64Array(bounds.length + 1),
        sum: 0,
        count: 0,
        observe(value: number): void {
          let i = 0;
          while (i < bounds.length && value > bounds[i]!) i++;
          made.counts[i]! += 1;
          made.sum += value;
          made.count += 1;
        },
      };
      series = made;
      this.#series.set(key, series);
    }
    return series;
  }

  /** What prom-client's registry formats (the shape of its Histogram's `get()`). */
  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: ExportedValue[] }> {
    const values: ExportedValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.#series.values()) {
      let cumulative = 0;
      this.#bounds.forEach((bound, i) => {
        cumulative += s.counts[i]!;
        values.push({ value: cumulative, labels: { le: bound, ...s.labels }, metricName: bucket });
      });
      values.push({ value: s.count, labels: { le: '+Inf', ...s.labels }, metricName: bucket });
      values.push({ value: s.sum, labels: { ...s.labels }, metricName: `${this.name}_sum` });
      values.push({ value: s.count, labels: { ...s.labels }, metricName: `${this.name}_count` });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  reset(): void {
    this.#series.clear();
  }
}
