/**
 * A retry budget in the style of Finagle and Linkerd: over the last 10 seconds, retries may be
 * at most `percent`% of requests, plus `minPerSecond` per second so that a quiet upstream can
 * still retry at all. Under a fully failing upstream the extra load retries add is therefore
 * bounded by that fraction instead of multiplying by `maxRetries`: retries never become a storm.
 */
import { SlidingWindow } from "./sliding_window.ts";

const WINDOW_MS = 10_000;

export class RetryBudget {
  readonly #window = new SlidingWindow(WINDOW_MS);
  readonly #floor: number;

  constructor(private readonly percent: number, minPerSecond: number) {
    this.#floor = minPerSecond * (WINDOW_MS / 1000);
  }

  /** Counts one client request (not attempt). */
  request(now: number): void {
    this.#window.add(now, 1, 0);
  }

  /** Takes one retry from the budget; `false` when it is spent. */
  tryRetry(now: number): boolean {
    const allowed = (this.#window.total(now) * this.percent) / 100 + this.#floor;
    if (this.#window.marked(now) + 1 > allowed) return false;
    this.#window.add(now, 0, 1);
    return true;
  }
}
