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
    const oldest = Math.floor(now / this.#bucketMs) - counts.length + 1;
    let sum = 0;
    for (let i = 0; i < counts.length; i++) {
      if (this.#epochs[i] >= oldest) sum += counts[i];
    }
    return sum;
  }
}
