/**
 * Mirroring state that outlives config snapshots, one entry per route name: the exact-share
 * counter, mirrors in flight (so a reload cannot double the concurrency bound), the counters
 * shown on admin `/mirror`, and the last mismatches. Owned by the gateway core; snapshots only
 * look entries up.
 */
import type { Registry } from "prom-client";
import type { Logger } from "../observe/logger.ts";
import {
  type DiffResult,
  MirrorMetrics,
  type MirrorResult,
  type RouteMirrorSeries,
} from "../observe/mirror_metrics.ts";
import type { CounterSeries } from "../observe/hot_metrics.ts";
import type { Difference } from "./response_diff.ts";
import { ExactShare } from "./exact_share.ts";
import type { MirrorLifetime } from "./mirror_lifetime.ts";

/** One mismatch, as kept for admin `/mirror` and logged. */
export interface MismatchRecord {
  at: string;
  /** The client's request (the primary). */
  requestId: string;
  /** The copy sent to the shadow (its `x-request-id`). */
  mirrorRequestId: string;
  method: string;
  path: string;
  differences: Difference[];
}

/** The last shadow failure, for admin `/mirror`. */
export interface MirrorErrorRecord {
  at: string;
  requestId: string;
  /** Absent when no copy was sent (no healthy shadow target, or its circuit open). */
  mirrorRequestId?: string;
  message: string;
}

/** How many mismatches each route keeps for admin `/mirror`. */
export const RECENT_MISMATCHES = 20;
/**
 * Mismatch log lines per route per second. A shadow that differs on every request must not
 * flood the log; the count left out is reported on the next line that is written.
 */
const LOG_LINES_PER_SECOND = 20;

/** One route's long-lived mirroring state. */
export class MirrorRouteState {
  /** Mirrors not finished: the shadow's answer (and, when comparing, the primary's) unread. */
  inFlight = 0;
  /** Newest last, at most {@link RECENT_MISMATCHES}. */
  readonly recentMismatches: MismatchRecord[] = [];
  readonly share: ExactShare = new ExactShare();
  #diff: Record<DiffResult, CounterSeries> | undefined;
  /** Kept raw (time as a number): with the shadow down this is written on every request. */
  #lastError:
    | { atMs: number; message: string; requestId: string; mirrorRequestId?: string }
    | undefined;
  #logWindow = 0;
  #logged = 0;
  #suppressed = 0;

  constructor(
    readonly route: string,
    private readonly series: RouteMirrorSeries,
    private readonly diffSeries: () => Record<DiffResult, CounterSeries>,
    private readonly logger: Logger,
  ) {}

  /** Takes a mirror slot, or refuses when `max` are in flight (the caller counts a drop). */
  tryAcquire(max: number): boolean {
    if (this.inFlight >= max) return false;
    this.inFlight++;
    return true;
  }

  release(): void {
    this.inFlight--;
  }

  count(result: MirrorResult): void {
    this.series.requests[result].value++;
    if (result === "dropped") this.series.dropped.value++;
  }

  /** A mirror that failed: counted as an error, and kept as the last one. */
  failed(message: string, requestId: string, mirrorRequestId: string | undefined): void {
    this.series.requests.error.value++;
    this.noteError(message, requestId, mirrorRequestId);
  }

  /** Keeps the last failure for admin `/mirror` (without counting it). */
  noteError(message: string, requestId: string, mirrorRequestId: string | undefined): void {
    this.#lastError = { atMs: Date.now(), message, requestId, mirrorRequestId };
  }

  get lastError(): MirrorErrorRecord | undefined {
    const e = this.#lastError;
    if (!e) return undefined;
    return {
      at: new Date(e.atMs).toISOString(),
      requestId: e.requestId,
      ...(e.mirrorRequestId ? { mirrorRequestId: e.mirrorRequestId } : {}),
      message: e.message,
    };
  }

  /** Totals by result, for admin `/mirror`. */
  counts(): Record<MirrorResult, number> {
    const r = this.series.requests;
    return {
      sent: r.sent.value,
      dropped: r.dropped.value,
      skipped: r.skipped.value,
      error: r.error.value,
    };
  }

  /** Diff totals by result; zeros until the route's first comparison. */
  diffCounts(): Record<DiffResult, number> {
    const d = this.#diff;
    return {
      match: d?.match.value ?? 0,
      mismatch: d?.mismatch.value ?? 0,
      error: d?.error.value ?? 0,
    };
  }

  compared(result: DiffResult): void {
    (this.#diff ??= this.diffSeries())[result].value++;
  }

  /** Records and logs a mismatch (the log bounded per second). */
  mismatch(record: MismatchRecord): void {
    this.compared("mismatch");
    this.recentMismatches.push(record);
    if (this.recentMismatches.length > RECENT_MISMATCHES) this.recentMismatches.shift();
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.#logWindow) [this.#logWindow, this.#logged] = [second, 0];
    if (this.#logged >= LOG_LINES_PER_SECOND) {
      this.#suppressed++;
      return;
    }
    this.#logged++;
    const suppressed = this.#suppressed;
    this.#suppressed = 0;
    this.logger.log("warn", "mirrored response differs from the primary", {
      route: this.route,
      requestId: record.requestId,
      mirrorRequestId: record.mirrorRequestId,
      method: record.method,
      path: record.path,
      differences: record.differences,
      ...(suppressed > 0 ? { suppressedSinceLastLine: suppressed } : {}),
    });
  }
}

/** Every route's mirroring state, and the mirrors in flight (so closing can end them). */
export class MirrorRegistry {
  readonly #routes = new Map<string, MirrorRouteState>();
  readonly #metrics: MirrorMetrics;
  readonly #abort = new AbortController();
  readonly #running = new Map<Promise<unknown>, MirrorLifetime>();

  constructor(registry: Registry, private readonly logger: Logger) {
    this.#metrics = new MirrorMetrics(
      registry,
      () => [...this.#routes.values()].map((s): [string, number] => [s.route, s.inFlight]),
    );
  }

  /** The state of route `name`, created on first use and kept across reloads. */
  route(name: string): MirrorRouteState {
    let state = this.#routes.get(name);
    if (!state) {
      state = new MirrorRouteState(
        name,
        this.#metrics.forRoute(name),
        () => this.#metrics.diffOf(name),
        this.logger,
      );
      this.#routes.set(name, state);
    }
    return state;
  }

  /**
   * Forgets the state of routes not in `routes` (removed, or no longer mirroring), once no
   * mirror of theirs is in flight: their recent mismatches and last error go, their counters
   * stay (a route that comes back counts on from where it was, like every per-route metric).
   * A route with mirrors still in flight is looked at again on the next reload.
   */
  retainOnly(routes: ReadonlySet<string>): void {
    for (const [name, state] of this.#routes) {
      if (!routes.has(name) && state.inFlight === 0) this.#routes.delete(name);
    }
  }

  /** How many routes have state kept. */
  get size(): number {
    return this.#routes.size;
  }

  get closed(): boolean {
    return this.#abort.signal.aborted;
  }

  /**
   * Keeps `work` (a mirror exchange, which never rejects) so that `close` can abort it through
   * its `lifetime` and wait for it. One tracked after closing began is aborted at once.
   */
  track(work: Promise<unknown>, lifetime: MirrorLifetime): void {
    if (this.closed) lifetime.abort(this.#abort.signal.reason);
    this.#running.set(work, lifetime);
    work.finally(() => this.#running.delete(work));
  }

  /** Aborts the mirrors in flight and waits for them to end. */
  async close(): Promise<void> {
    this.#abort.abort();
    for (const lifetime of this.#running.values()) lifetime.abort(this.#abort.signal.reason);
    await Promise.allSettled([...this.#running.keys()]);
  }
}
