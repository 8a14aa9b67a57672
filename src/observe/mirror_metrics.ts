/**
 * Metrics of traffic mirroring, registered on the gateway's registry. Counters are plain
 * accumulators (`hot_metrics.ts`) whose series each route caches, so a mirrored request costs
 * an increment, not a label lookup.
 */
import { Gauge, type Registry } from "prom-client";
import { type CounterSeries, HotCounter } from "./hot_metrics.ts";

/** What became of a request chosen for mirroring. */
export type MirrorResult = "sent" | "dropped" | "skipped" | "error";
/** How a mirrored response compared with the primary one. */
export type DiffResult = "match" | "mismatch" | "error";

export const MIRROR_RESULTS: readonly MirrorResult[] = ["sent", "dropped", "skipped", "error"];
export const DIFF_RESULTS: readonly DiffResult[] = ["match", "mismatch", "error"];

/** One route's request series, looked up once. */
export interface RouteMirrorSeries {
  requests: Record<MirrorResult, CounterSeries>;
  dropped: CounterSeries;
}

export class MirrorMetrics {
  readonly #requests: HotCounter;
  readonly #dropped: HotCounter;
  readonly #diff: HotCounter;

  /** `inFlight` reads each route's mirrors in flight at scrape time. */
  constructor(registry: Registry, inFlight: () => Iterable<[route: string, count: number]>) {
    this.#requests = new HotCounter(
      "ferry_mirror_requests_total",
      "Requests chosen for mirroring, by route and result: sent (the shadow answered), " +
        "dropped (mirror concurrency bound hit), skipped (body too large or of unknown " +
        "length), error (the shadow failed or timed out).",
      ["route", "result"],
      registry,
    );
    this.#dropped = new HotCounter(
      "ferry_mirror_dropped_total",
      "Mirrors not sent because the route's maxConcurrent mirrors were already in flight.",
      ["route"],
      registry,
    );
    this.#diff = new HotCounter(
      "ferry_mirror_diff_total",
      "Mirrored responses compared with the primary's, by route and result (match, mismatch, " +
        "error when either side failed).",
      ["route", "result"],
      registry,
    );
    new Gauge({
      name: "ferry_mirror_in_flight",
      help: "Mirrored requests in flight, by route.",
      labelNames: ["route"],
      registers: [registry],
      collect() {
        this.reset();
        for (const [route, count] of inFlight()) this.labels(route).set(count);
      },
    });
  }

  /** The series of `route`, created at zero so dashboards see them before the first event. */
  forRoute(route: string): RouteMirrorSeries {
    const requests = {} as Record<MirrorResult, CounterSeries>;
    for (const r of MIRROR_RESULTS) requests[r] = this.#requests.series(route, r);
    return { requests, dropped: this.#dropped.series(route) };
  }

  /** The diff series of `route`, created at zero on a route's first comparison. */
  diffOf(route: string): Record<DiffResult, CounterSeries> {
    const diff = {} as Record<DiffResult, CounterSeries>;
    for (const r of DIFF_RESULTS) diff[r] = this.#diff.series(route, r);
    return diff;
  }
}
