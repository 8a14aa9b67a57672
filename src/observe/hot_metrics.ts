/**
 * Counters and histograms for the request hot path. prom-client hashes the label set on every
 * `inc()`/`observe()` (even through a child from `labels()`), about 1.5 µs a request when
 * measured; these keep plain numbers per label set and hand prom-client a snapshot at scrape
 * time, through the registry's ordinary metric interface. The exposition is prom-client's.
 */
import type { Registry } from "prom-client";

type Labels = Record<string, string | number>;

/** What prom-client's registry reads from a metric at scrape time. */
export interface MetricSnapshot {
  name: string;
  help: string;
  type: "counter" | "histogram";
  aggregator: "sum";
  values: { metricName?: string; labels: Labels; value: number }[];
}

/** One counter series: increment `value`. */
export interface CounterSeries {
  value: number;
}

/** A counter family with a fixed label set, registered on `registry`. */
export class HotCounter {
  readonly type = "counter" as const;
  readonly aggregator = "sum" as const;
  readonly #series = new Map<string, { labels: Labels; s: CounterSeries }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  /** The series for `values` (in `labelNames` order); cache it where the labels are fixed. */
  series(...values: string[]): CounterSeries {
    const key = values.join("\0");
    let entry = this.#series.get(key);
    if (!entry) {
      const labels: Labels = {};
      this.labelNames.forEach((n, i) => labels[n] = values[i]);
      entry = { labels, s: { value: 0 } };
      this.#series.set(key, entry);
    }
    return entry.s;
  }

  get(): Promise<MetricSnapshot> {
    const values = [...this.#series.values()].map((e) => ({ labels: e.labels, value: e.s.value }));
    const { name, help, type, aggregator } = this;
    return Promise.resolve({ name, help, type, aggregator, values });
  }

  reset(): void {
    this.#series.clear();
  }
}

/** One histogram series. */
export class HistogramSeries {
  /** Per-bucket (non-cumulative) counts; the last slot is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(v: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]) i++;
    this.counts[i]++;
    this.sum += v;
    this.count++;
  }
}

/** A histogram family with fixed buckets and labels, registered on `registry`. */
export class HotHistogram {
  readonly type = "histogram" as const;
  readonly aggregator = "sum" as const;
  readonly #series = new Map<string, { labels: Labels; s: HistogramSeries }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    readonly buckets: readonly number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  series(...values: string[]): HistogramSeries {
    const key = values.join("\0");
    let entry = this.#series.get(key);
    if (!entry) {
      const labels: Labels = {};
      this.labelNames.forEach((n, i) => labels[n] = values[i]);
      entry = { labels, s: new HistogramSeries(this.buckets) };
      this.#series.set(key, entry);
    }
    return entry.s;
  }

  get(): Promise<MetricSnapshot> {
    const values: MetricSnapshot["values"] = [];
    const bucket = `${this.name}_bucket`;
    for (const { labels, s } of this.#series.values()) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += s.counts[i];
        values.push({ metricName: bucket, labels: { ...labels, le }, value: cumulative });
      });
      values.push({ metricName: bucket, labels: { ...labels, le: "+Inf" }, value: s.count });
      values.push({ metricName: `${this.name}_sum`, labels, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels, value: s.count });
    }
    const { name, help, type, aggregator } = this;
    return Promise.resolve({ name, help, type, aggregator, values });
  }

  reset(): void {
    this.#series.clear();
  }
}
