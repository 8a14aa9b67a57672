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

/** Whether a series may exist, by its label values (in `labelNames` order). */
export type SeriesScope = (values: readonly string[]) => boolean;

/** One counter series: increment `value`. */
export interface CounterSeries {
  value: number;
}

/**
 * A family's series by label values. Callers cache the series they get, so removing one
 * detaches it: whoever still holds it counts on a series no scrape reads.
 */
class SeriesTable<S> {
  readonly #series = new Map<string, { values: readonly string[]; labels: Labels; s: S }>();
  /** Set by {@link restrictTo}: a series outside it is never created. */
  #scope: SeriesScope | undefined;

  constructor(private readonly labelNames: readonly string[], private readonly make: () => S) {}

  get(values: string[]): S {
    const key = values.join("\0");
    const entry = this.#series.get(key);
    if (entry) return entry.s;
    // A name the config no longer has (a request started before a reload, ending after it):
    // counted on a series of its own that is never exposed, so a removed series stays removed.
    if (this.#scope && !this.#scope(values)) return this.make();
    const labels: Labels = {};
    this.labelNames.forEach((n, i) => labels[n] = values[i]);
    const s = this.make();
    this.#series.set(key, { values, labels, s });
    return s;
  }

  /** Removes the series outside `keep`; later ones outside it are still created. */
  retain(keep: SeriesScope): void {
    for (const [key, { values }] of this.#series) {
      if (!keep(values)) this.#series.delete(key);
    }
  }

  /** Removes the series outside `scope`, and from now on creates none outside it. */
  restrictTo(scope: SeriesScope): void {
    this.#scope = scope;
    this.retain(scope);
  }

  entries(): IterableIterator<{ labels: Labels; s: S }> {
    return this.#series.values();
  }

  clear(): void {
    this.#series.clear();
  }
}

/**
 * What every hot family shares: its series by label values, and their removal on reload. The
 * family's kind adds how a series is exposed ({@link HotCounter}, {@link HotHistogram}).
 */
abstract class HotFamily<S> {
  readonly aggregator = "sum" as const;
  protected readonly table: SeriesTable<S>;

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    make: () => S,
    registry: Registry,
  ) {
    this.table = new SeriesTable(labelNames, make);
    registry.registerMetric(this as never);
  }

  /** The series for `values` (in `labelNames` order); cache it where the labels are fixed. */
  series(...values: string[]): S {
    return this.table.get(values);
  }

  /** Removes the series outside `keep` (a reload removed what they name). */
  retain(keep: SeriesScope): void {
    this.table.retain(keep);
  }

  /** Removes the series outside `scope`; those asked for later outside it are never exposed. */
  restrictTo(scope: SeriesScope): void {
    this.table.restrictTo(scope);
  }

  reset(): void {
    this.table.clear();
  }
}

/** A counter family with a fixed label set, registered on `registry`. */
export class HotCounter extends HotFamily<CounterSeries> {
  readonly type = "counter" as const;

  constructor(name: string, help: string, labelNames: readonly string[], registry: Registry) {
    super(name, help, labelNames, () => ({ value: 0 }), registry);
  }

  get(): Promise<MetricSnapshot> {
    const values = [...this.table.entries()].map((e) => ({ labels: e.labels, value: e.s.value }));
    const { name, help, type, aggregator } = this;
    return Promise.resolve({ name, help, type, aggregator, values });
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
export class HotHistogram extends HotFamily<HistogramSeries> {
  readonly type = "histogram" as const;

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    readonly buckets: readonly number[],
    registry: Registry,
  ) {
    super(name, help, labelNames, () => new HistogramSeries(buckets), registry);
  }

  get(): Promise<MetricSnapshot> {
    const values: MetricSnapshot["values"] = [];
    const bucket = `${this.name}_bucket`;
    for (const { labels, s } of this.table.entries()) {
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
}
