/**
 * Event-loop lag, measured by a timer that should fire every {@link RESOLUTION_MS}: how late it
 * fires is how long the loop was busy. Exported under prom-client's names
 * (`nodejs_eventloop_lag_*`), so dashboards built for prom-client's defaults keep working.
 *
 * Why not prom-client's own collector: it enables `perf_hooks.monitorEventLoopDelay`, and under
 * Deno 2.9.6 that makes a native buffer on the main thread grow with the process's activity,
 * never given back (measured with an allocation probe: 2 → 7 → 14 MiB over 30 s of proxy load,
 * doubling from there while nothing scrapes; about 7 MB of the RSS a gateway gained over 1,000
 * hot reloads). This one keeps a fixed ring of samples.
 */
import { Gauge, type Registry } from "prom-client";

/** How often the probe timer is due. Node's and prom-client's default resolution. */
export const RESOLUTION_MS = 10;
/** Samples kept between two scrapes; older ones are overwritten (about 40 s at 10 ms). */
export const MAX_SAMPLES = 4096;

/** Statistics over the samples since the last {@link EventLoopLag.take}, in seconds. */
export interface LagStats {
  count: number;
  latest: number;
  min: number;
  max: number;
  mean: number;
  stddev: number;
  p50: number;
  p90: number;
  p99: number;
}

/** The sampler: a fixed ring of lags, read and emptied at each scrape. */
export class EventLoopLag {
  readonly #samples = new Float64Array(MAX_SAMPLES);
  /** Samples recorded since the last take (may exceed the ring's size). */
  #recorded = 0;
  #latest = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #expected = 0;

  /** Starts sampling; the timer never keeps the process alive. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#expected = performance.now() + RESOLUTION_MS;
    this.#timer = setInterval(() => {
      const now = performance.now();
      this.record((now - this.#expected) / 1000);
      this.#expected = now + RESOLUTION_MS;
    }, RESOLUTION_MS);
    Deno.unrefTimer(this.#timer);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Records one lag in seconds (negative readings, a timer early, count as 0). */
  record(seconds: number): void {
    const lag = seconds > 0 ? seconds : 0;
    this.#samples[this.#recorded % MAX_SAMPLES] = lag;
    this.#recorded++;
    this.#latest = lag;
  }

  /** The statistics of the samples since the last take (the latest {@link MAX_SAMPLES}), then
   * starts a new period. All zero when nothing was recorded. */
  take(): LagStats {
    const count = Math.min(this.#recorded, MAX_SAMPLES);
    this.#recorded = 0;
    if (count === 0) {
      return {
        count,
        latest: this.#latest,
        min: 0,
        max: 0,
        mean: 0,
        stddev: 0,
        p50: 0,
        p90: 0,
        p99: 0,
      };
    }
    const sorted = this.#samples.slice(0, count).sort();
    let sum = 0;
    for (const v of sorted) sum += v;
    const mean = sum / count;
    let squares = 0;
    for (const v of sorted) squares += (v - mean) ** 2;
    const at = (q: number) => sorted[Math.min(count - 1, Math.ceil(q * count) - 1)];
    return {
      count,
      latest: this.#latest,
      min: sorted[0],
      max: sorted[count - 1],
      mean,
      stddev: Math.sqrt(squares / count),
      p50: at(0.5),
      p90: at(0.9),
      p99: at(0.99),
    };
  }
}

/**
 * Registers the `nodejs_eventloop_lag_*` gauges on `registry`, fed by `lag`. The first one's
 * collect takes the period's statistics and sets them all, as prom-client's collector does.
 *
 * It must be registered before the others: a scrape reads the metrics in registration order, and
 * a gauge without a collect has its value read at once, so one registered ahead of the collecting
 * gauge would show the previous scrape's figures.
 */
export function registerEventLoopLag(registry: Registry, prefix: string, lag: EventLoopLag): void {
  const registers = [registry];
  const stats: Record<Exclude<keyof LagStats, "count" | "latest">, Gauge | undefined> = {
    min: undefined,
    max: undefined,
    mean: undefined,
    stddev: undefined,
    p50: undefined,
    p90: undefined,
    p99: undefined,
  };
  new Gauge({
    name: `${prefix}nodejs_eventloop_lag_seconds`,
    help: "Lag of event loop in seconds.",
    registers,
    collect() {
      const s = lag.take();
      this.set(s.latest);
      for (const key of Object.keys(stats) as (keyof typeof stats)[]) stats[key]?.set(s[key]);
    },
  });
  const gauge = (suffix: string, help: string) =>
    new Gauge({ name: `${prefix}nodejs_eventloop_lag${suffix}`, help, registers });
  stats.min = gauge("_min_seconds", "The minimum recorded event loop delay.");
  stats.max = gauge("_max_seconds", "The maximum recorded event loop delay.");
  stats.mean = gauge("_mean_seconds", "The mean of the recorded event loop delays.");
  stats.stddev = gauge(
    "_stddev_seconds",
    "The standard deviation of the recorded event loop delays.",
  );
  stats.p50 = gauge("_p50_seconds", "The 50th percentile of the recorded event loop delays.");
  stats.p90 = gauge("_p90_seconds", "The 90th percentile of the recorded event loop delays.");
  stats.p99 = gauge("_p99_seconds", "The 99th percentile of the recorded event loop delays.");
}
