/**
 * Two counts over a sliding time window, kept in a ring of buckets: the circuit breaker counts
 * attempts and failures, the retry budget counts requests and retries. Adding is O(1) and
 * allocation-free; expired buckets are cleared lazily when time moves into them.
 */
export class SlidingWindow {
  readonly #bucketMs: number;
  readonly #totals: Float64Array;
  readonly #marked: Float64Array;
  /** The absolute bucket number (time / bucketMs) each slot last held. */
  readonly #epochs: Float64Array;

  constructor(readonly windowMs: number, buckets = 10) {
    this.#bucketMs = Math.max(1, windowMs / buckets);
    this.#totals = new Float64Array(buckets);
    this.#marked = new Float64Array(buckets);
    this.#epochs = new Float64Array(buckets).fill(-1);
  }

  /** Adds `total` to the plain count and `marked` to the marked count (failures, retries). */
  add(now: number, total: number, marked: number): void {
    const epoch = Math.floor(now / this.#bucketMs);
    const slot = epoch % this.#totals.length;
    if (this.#epochs[slot] !== epoch) {
      this.#epochs[slot] = epoch;
      this.#totals[slot] = 0;
      this.#marked[slot] = 0;
    }
    this.#totals[slot] += total;
    this.#marked[slot] += marked;
  }

  /** Sum of the plain counts inside the window ending at `now`. */
  total(now: number): number {
    return this.#sum(now, this.#totals);
  }

  /** Sum of the marked counts inside the window ending at `now`. */
  marked(now: number): number {
    return this.#sum(now, this.#marked);
  }

  /** Forgets everything (the circuit closing starts a fresh window). */
  reset(): void {
    this.#epochs.fill(-1);
  }

  #sum(now: number, counts: Float64Array): number {
    const current = Math.floor(now / this.#bucketMs);
    const oldest = current - counts.length + 1;
    const epochs = this.#epochs;
    let sum = 0;
    for (let i = 0; i < counts.length; i++) {
      const epoch = epochs[i];
      if (epoch >= oldest && epoch <= current) sum += counts[i];
      else if (epoch > current + counts.length) {
        // Stamped over a window after `now`: the wall clock stepped back (NTP, a resumed VM).
        // Those counts describe no time this window covers; kept, they would come back when
        // the clock catches up. (Slightly later stamps are only left out: callers reading the
        // clock a moment apart may record out of order.)
        epochs[i] = -1;
      }
    }
    return sum;
  }
}
