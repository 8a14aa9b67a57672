/**
 * Prometheus metrics (prom-client) on a registry per gateway, so several gateways in one process
 * (tests, embedding) never collide. Per-request series are plain accumulators (`hot_metrics.ts`)
 * looked up by route, method and status: the kind of per-request cost that made Kong's metrics
 * plugin notorious stays off the hot path.
 */
import { Counter, Gauge, Registry } from "prom-client";
import type { NormalizedConfig } from "../config/normalized.ts";
import { ConfigScope } from "./config_scope.ts";
import { EventLoopLag, registerEventLoopLag } from "./event_loop_lag.ts";
import { registerProcessMetrics } from "./process_metrics.ts";
import {
  type CounterSeries,
  type HistogramSeries,
  HotCounter,
  HotHistogram,
} from "./hot_metrics.ts";

/** A route's per-request series, found once per request by route name. */
export interface RouteSeries {
  duration: HistogramSeries;
  /** Request and response body bytes. */
  bytesIn: CounterSeries;
  bytesOut: CounterSeries;
  /** By method label, then by exact status (both bounded), looked up without building strings. */
  byKey: Map<string, Map<number, CounterSeries>>;
}

/** What `#prune` uses of a prom-client metric (`labelNames` is untyped there). */
interface PromFamily {
  labelNames?: readonly string[];
  collect?: unknown;
  get(): Promise<{ values: { labels: Record<string, string | number> }[] }>;
  remove(labels: Record<string, string | number>): void;
}

/** Buckets for a proxy: sub-millisecond up to a minute. */
export const DURATION_BUCKETS = [
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
];

const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** `method` label values are bounded: anything unusual is `OTHER`. */
export function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : "OTHER";
}

/** `2xx`, `4xx`... */
export function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}

/**
 * prom-client reads process memory from `/proc/self/status`, which Deno only allows with
 * `--allow-all`; without it those gauges read 0. Deno knows its own memory without any
 * permission, so the resident-size and heap gauges take their values from it instead.
 */
function useDenoMemoryFigures(registry: Registry): void {
  type Collected = Gauge & { collect?: () => void };
  // The resident gauge's own collect is the one that reads `/proc/self/status` and also fills
  // the virtual-memory gauge: it still runs where that gauge was kept (the file is readable).
  const virtualKept = registry.getSingleMetric("ferry_process_virtual_memory_bytes") !== undefined;
  const figures: [string, () => number][] = [
    ["ferry_process_resident_memory_bytes", () => Deno.memoryUsage().rss],
    ["ferry_process_heap_bytes", () => Deno.memoryUsage().heapTotal],
  ];
  for (const [name, read] of figures) {
    const gauge = registry.getSingleMetric(name) as Collected | undefined;
    if (!gauge) continue;
    const fromProc = virtualKept ? gauge.collect : undefined;
    gauge.collect = function (this: Gauge) {
      fromProc?.call(this);
      this.set(read());
    };
  }
}

/** The gateway's metrics and their registry. */
export class GatewayMetrics {
  readonly registry: Registry = new Registry();
  readonly requests: HotCounter;
  readonly duration: HotHistogram;
  readonly upstreamDuration: HotHistogram;
  readonly bytes: HotCounter;
  readonly inflight: Gauge;
  readonly reloads: Counter<"result">;
  readonly configInfo: Gauge<"version" | "hash">;
  /** Per route: its duration series and its request series by method and status class. */
  readonly #routes = new Map<string, RouteSeries>();
  /** What the served config names; unset until the first one is applied. */
  #scope: ConfigScope | undefined;
  readonly #eventLoopLag = new EventLoopLag();

  constructor() {
    const registers = [this.registry];
    this.requests = new HotCounter(
      "ferry_requests_total",
      "Requests handled, by route name, method and status class.",
      ["route", "method", "status_class"],
      this.registry,
    );
    this.duration = new HotHistogram(
      "ferry_request_duration_seconds",
      "Time from request arrival to response headers, by route.",
      ["route"],
      DURATION_BUCKETS,
      this.registry,
    );
    this.upstreamDuration = new HotHistogram(
      "ferry_upstream_duration_seconds",
      "Time from sending an attempt upstream to its response headers, by upstream and target.",
      ["upstream", "target"],
      DURATION_BUCKETS,
      this.registry,
    );
    this.bytes = new HotCounter(
      "ferry_body_bytes_total",
      "Body bytes by route and direction (in: from clients, out: to clients).",
      ["route", "direction"],
      this.registry,
    );
    try {
      registerProcessMetrics(this.registry, "ferry_");
      useDenoMemoryFigures(this.registry);
    } catch {
      // A runtime without some process facts: the proxy metrics matter more than these.
    }
    registerEventLoopLag(this.registry, "ferry_", this.#eventLoopLag);
    this.#eventLoopLag.start();
    this.inflight = new Gauge({
      name: "ferry_requests_in_flight",
      help: "Requests currently being handled.",
      registers,
    });
    this.reloads = new Counter({
      name: "ferry_config_reloads_total",
      help: "Config loads by result (success, error).",
      labelNames: ["result"],
      registers,
    });
    this.configInfo = new Gauge({
      name: "ferry_config_info",
      help: "The config being served (value 1), by version and hash.",
      labelNames: ["version", "hash"],
      registers,
    });
  }

  /**
   * A route's series (created on first use). For a route the served config no longer has (a
   * request that began before a reload removed it), series that no scrape reads, not cached.
   */
  route(route: string): RouteSeries {
    let r = this.#routes.get(route);
    if (!r) {
      r = {
        duration: this.duration.series(route),
        bytesIn: this.bytes.series(route, "in"),
        bytesOut: this.bytes.series(route, "out"),
        byKey: new Map(),
      };
      if (!this.#scope || this.#scope.hasRoute(route)) this.#routes.set(route, r);
    }
    return r;
  }

  /**
   * After `config` was swapped in: removes every series naming a route, upstream or target it
   * no longer has (their counters end, which `rate()` reads as a series that stopped), and
   * keeps the others counting on. Requests still finishing on the old config count such names
   * on series no scrape reads, so what a reload removed stays removed.
   */
  retainConfig(config: NormalizedConfig): void {
    const scope = this.#scope = new ConfigScope(config);
    for (const name of this.#routes.keys()) {
      if (!scope.hasRoute(name)) this.#routes.delete(name);
    }
    const own = new Set<unknown>([this.requests, this.duration, this.bytes, this.upstreamDuration]);
    for (const metric of this.registry.getMetricsAsArray() as unknown[]) {
      if (own.has(metric)) {
        const family = metric as HotCounter | HotHistogram;
        family.restrictTo(scope.forLabels(family.labelNames)!);
      } else if (metric instanceof HotCounter || metric instanceof HotHistogram) {
        // Mirror counters: created at zero while a config is built, before it is swapped in,
        // so only removed, never refused.
        const keep = scope.forLabels(metric.labelNames);
        if (keep) metric.retain(keep);
      } else {
        this.#prune(metric as PromFamily);
      }
    }
  }

  /**
   * Removes a prom-client family's series outside the served config (upstream retries,
   * ejections...). Families with a `collect` rebuild their series from live state on each
   * scrape, and need nothing.
   */
  #prune(family: PromFamily): void {
    const names = family.labelNames ?? [];
    if (family.collect || !this.#scope?.forLabels(names)) return;
    void family.get().then(({ values }) => {
      // Read now, not when called: a later reload may have brought a name back meanwhile.
      const keep = this.#scope?.forLabels(names);
      for (const { labels } of values) {
        if (keep && !keep(names.map((n) => String(labels[n])))) family.remove(labels);
      }
    });
  }

  /** Gauges of open WebSockets and streamed bodies, read from `live` at scrape time. */
  watchLive(live: { count(kind: "websocket" | "stream"): number }): void {
    new Gauge({
      name: "ferry_open_streams",
      help: "Open bridged WebSockets and streamed response bodies.",
      labelNames: ["kind"],
      registers: [this.registry],
      collect() {
        this.labels("websocket").set(live.count("websocket"));
        this.labels("stream").set(live.count("stream"));
      },
    });
  }

  /**
   * Exposes what Ferry's trace exporter did with ended spans, read from its counters on each
   * scrape: a queue that overflows drops spans, and that must be visible somewhere.
   */
  watchTraceExport(
    exporter: { exported: number; dropped: number; failedSpans: number },
  ): void {
    new Counter({
      name: "ferry_trace_spans_total",
      help: "Ended spans by what Ferry's OTLP exporter did with them: exported, dropped " +
        "(queue full) or failed (the collector refused or could not be reached).",
      labelNames: ["result"],
      registers: [this.registry],
      collect() {
        this.reset();
        this.labels("exported").inc(exporter.exported);
        this.labels("dropped").inc(exporter.dropped);
        this.labels("failed").inc(exporter.failedSpans);
      },
    });
  }

  /** Records one finished request. */
  observe(route: string, method: string, status: number, seconds: number): RouteSeries {
    const r = this.route(route);
    // Keyed by the bounded method label, never the raw method: clients choose methods freely.
    const m = methodLabel(method);
    let byStatus = r.byKey.get(m);
    if (!byStatus) r.byKey.set(m, byStatus = new Map());
    let series = byStatus.get(status);
    if (!series) {
      series = this.requests.series(route, m, statusClass(status));
      byStatus.set(status, series);
    }
    series.value++;
    r.duration.observe(seconds);
    return r;
  }
  /** Marks `version`/`hash` as the config being served. */
  setConfig(version: number, hash: string): void {
    this.configInfo.reset();
    this.configInfo.labels(String(version), hash).set(1);
  }

  /** The exposition text for `/metrics`. */
  async text(): Promise<string> {
    return await this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Stops the event-loop-lag sampler (the gateway is closing). */
  close(): void {
    this.#eventLoopLag.stop();
  }
}
