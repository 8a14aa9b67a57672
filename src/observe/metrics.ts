/**
 * Prometheus metrics (prom-client) on a registry per gateway, so several gateways in one process
 * (tests, embedding) never collide. Label children are cached per label set: prom-client hashes
 * labels on every `labels()` call, which is the kind of per-request cost that made Kong's metrics
 * plugin notorious, so the hot path does one Map lookup instead.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";

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

interface RequestSeries {
  inc(): void;
}
interface DurationSeries {
  observe(v: number): void;
}

/** The gateway's metrics and their registry. */
export class GatewayMetrics {
  readonly registry: Registry = new Registry();
  readonly requests: Counter<"route" | "method" | "status_class">;
  readonly duration: Histogram<"route">;
  readonly inflight: Gauge;
  readonly reloads: Counter<"result">;
  readonly configInfo: Gauge<"version" | "hash">;
  readonly #requestSeries = new Map<string, RequestSeries>();
  readonly #durationSeries = new Map<string, DurationSeries>();

  constructor() {
    const registers = [this.registry];
    this.requests = new Counter({
      name: "ferry_requests_total",
      help: "Requests handled, by route name, method and status class.",
      labelNames: ["route", "method", "status_class"],
      registers,
    });
    this.duration = new Histogram({
      name: "ferry_request_duration_seconds",
      help: "Time from request arrival to response headers, by route.",
      labelNames: ["route"],
      buckets: DURATION_BUCKETS,
      registers,
    });
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
    const m = methodLabel(method);
    const cls = statusClass(status);
    const key = `${route}\0${m}\0${cls}`;
    let series = this.#requestSeries.get(key);
    if (!series) {
      series = this.requests.labels(route, m, cls);
      this.#requestSeries.set(key, series);
    }
    series.inc();
    let dur = this.#durationSeries.get(route);
    if (!dur) {
      dur = this.duration.labels(route);
      this.#durationSeries.set(route, dur);
    }
    dur.observe(seconds);
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
