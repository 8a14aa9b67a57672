/**
 * A failure-rate circuit breaker for one upstream.
 *
 * - Closed: every attempt goes through; outcomes are counted over a sliding window. When at
 *   least `minRequests` attempts in the window failed at `failurePercent`% or more, it opens.
 * - Open: attempts are refused (the caller answers 503 with `Retry-After`) until `openUntil`.
 * - Half-open: up to `halfOpenProbes` attempts go through. If that many succeed, it closes with
 *   a fresh window; if one fails, it opens again for twice as long as last time, up to
 *   `maxOpenForMs`.
 *
 * Time comes from the caller (`now`, epoch ms), so tests step it exactly and the hot path reads
 * the clock once per request for every module that needs it.
 */
import type { NormalizedCircuitBreaker } from "../../config/normalized.ts";
import type { CircuitState } from "./events.ts";
import { SlidingWindow } from "./sliding_window.ts";

/**
 * How `admit` let an attempt through, which `record` needs: refused, admitted while closed, or
 * a probe of half-open round n (`PROBE + n`), so a late probe of an earlier round is told apart
 * from the probes of the current one.
 */
export type Admission = number;
/** The circuit is open: do not send. */
export const REFUSED = 0;
/** Closed: send, and count the outcome in the window. */
export const ADMITTED = 1;
/** Half-open: send as one of the limited probes (values from here up name the round). */
export const PROBE = 2;

/** Whether an admission is a half-open probe. */
export function isProbe(admission: Admission): boolean {
  return admission >= PROBE;
}

export class CircuitBreaker {
  state: CircuitState = "closed";
  /** While open: when half-open begins (epoch ms). */
  openUntil = 0;
  /** Trips in a row without closing in between; each one doubles the open time. */
  trips = 0;
  /** While open: when it opened (epoch ms), to notice the wall clock stepping back. */
  #openedAt = 0;
  readonly #window: SlidingWindow;
  #probesInFlight = 0;
  #probeSuccesses = 0;
  /** Half-open rounds so far; a probe's admission carries its round. */
  #round = 0;

  constructor(
    readonly config: NormalizedCircuitBreaker,
    private readonly onChange: (from: CircuitState, to: CircuitState, reason: string) => void,
  ) {
    this.#window = new SlidingWindow(config.windowMs);
  }

  /** Whether an attempt may go now, and as what. */
  admit(now: number): Admission {
    if (this.state === "closed") return ADMITTED;
    if (this.state === "open") {
      this.#followClockStepBack(now);
      if (now < this.openUntil) return REFUSED;
      this.#round++;
      this.#probesInFlight = 0;
      this.#probeSuccesses = 0;
      this.#move("half_open", "open time elapsed");
    }
    if (this.#probesInFlight + this.#probeSuccesses >= this.config.halfOpenProbes) {
      return REFUSED;
    }
    this.#probesInFlight++;
    return PROBE + this.#round;
  }

  /**
   * The state as of `now`, for readers off the request path (admin `/upstreams`, the metrics
   * gauge). The move from open to half-open is made lazily by the first `admit` after
   * `openUntil`; a scrape in between would otherwise still say "open" long after the open time
   * ended. Reading changes nothing: that next `admit` makes the move and reports it, as before.
   */
  stateAt(now: number): CircuitState {
    return this.state === "open" && now >= this.openUntil ? "half_open" : this.state;
  }

  /** Records an admitted attempt's outcome. */
  record(now: number, admission: Admission, failed: boolean): void {
    if (isProbe(admission)) {
      // A probe of an earlier round, or one finishing after a sibling decided, is history.
      if (admission !== PROBE + this.#round) return;
      this.#probesInFlight--;
      if (this.state !== "half_open") return;
      if (failed) this.#trip(now, "a half-open probe failed");
      else if (++this.#probeSuccesses >= this.config.halfOpenProbes) {
        this.trips = 0;
        this.#window.reset();
        this.#move("closed", `${this.config.halfOpenProbes} half-open probes succeeded`);
      }
      return;
    }
    // Attempts admitted while closed that finish after a trip say nothing about the present.
    if (this.state !== "closed") return;
    this.#window.add(now, 1, failed ? 1 : 0);
    if (!failed) return;
    const total = this.#window.total(now);
    if (total < this.config.minRequests) return;
    const failures = this.#window.marked(now);
    if (failures * 100 >= this.config.failurePercent * total) {
      this.#trip(
        now,
        `${failures} of ${total} attempts failed in the last ${this.config.windowMs} ms`,
      );
    }
  }

  /** Gives back an admission whose attempt ended without an outcome (the client went away). */
  release(admission: Admission): void {
    if (admission === PROBE + this.#round && this.state === "half_open") this.#probesInFlight--;
  }

  /** Seconds a refused client should wait: until half-open, at least 1. */
  retryAfterSeconds(now: number): number {
    if (this.state === "open") this.#followClockStepBack(now);
    return Math.max(1, Math.ceil((this.openUntil - now) / 1000));
  }

  /**
   * `now` before the moment it opened means the wall clock stepped back (NTP, a resumed VM).
   * Left alone, the circuit would stay open for the whole step, an hour for an hour's step:
   * instead the open time runs again from `now`, so it lasts at most its length once more.
   */
  #followClockStepBack(now: number): void {
    if (now >= this.#openedAt) return;
    this.openUntil = now + (this.openUntil - this.#openedAt);
    this.#openedAt = now;
  }

  #trip(now: number, reason: string): void {
    const { openForMs, maxOpenForMs } = this.config;
    this.#openedAt = now;
    this.openUntil = now + Math.min(maxOpenForMs, openForMs * 2 ** this.trips);
    this.trips++;
    this.#move("open", reason);
  }

  #move(to: CircuitState, reason: string): void {
    const from = this.state;
    this.state = to;
    this.onChange(from, to, reason);
  }
}
