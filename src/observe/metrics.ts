/**
 * Prometheus metrics (prom-client) on a registry per gateway, so several gateways in one process
 * (tests, embedding) never collide. Per-request series are plain accumulators (`hot_metrics.ts`)
 * looked up by route, method and status: the kind of per-request cost that made Kong's metrics
 * plugin notorious stays off the hot path.
 */
import { Counter, Gauge, Registry } from "prom-client";
import {
  type CounterSeries,
  type HistogramSeries,
  HotCounter,
  HotHistogram,
} from "./hot_metrics.ts";

interface RouteSeries {
  duration: HistogramSeries;
  /** By method label, then by exact status (both bounded), looked up without building strings. */
  byKey: Map<string, Map<number, CounterSeries>>;
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

/** The gateway's metrics and their registry. */
export class GatewayMetrics {
  readonly registry: Registry = new Registry();
  readonly requests: HotCounter;
  readonly duration: HotHistogram;
  readonly inflight: Gauge;
  readonly reloads: Counter<"result">;
  readonly configInfo: Gauge<"version" | "hash">;
  /** Per route: its duration series and its request series by method and status class. */
  readonly #routes = new Map<string, RouteSeries>();

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

  /** Records one finished request. */
  observe(route: string, method: string, status: number, seconds: number): void {
    let r = this.#routes.get(route);
    if (!r) {
      this.#routes.set(route, r = { duration: this.duration.series(route), byKey: new Map() });
    }
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
}
