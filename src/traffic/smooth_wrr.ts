/**
 * Smooth weighted round-robin over indexes: the selection step of nginx's algorithm, without
 * anything about targets or health, so that anything with fixed weights (a route's split across
 * upstreams) can use it. Every pick, each index's `current` grows by its weight; the largest wins
 * and gives back the sum of the weights. With integer weights the sequence repeats every
 * `sum(weights)` picks and index i appears exactly `weights[i]` times per period, spread out
 * rather than in a burst (95/5 sends one request in twenty to the second index, not five in a
 * row). Ties go to the lower index, so the sequence is deterministic.
 *
 * The state is one `current` per index; whoever owns this object owns the position in the
 * sequence, which is what lets a split carry on exactly across config reloads.
 */
export class SmoothWeightedRoundRobin {
  readonly #weights: Float64Array;
  readonly #total: number;
  readonly #current: Float64Array;

  /** `weights` must be positive and finite (validation guarantees it for config weights). */
  constructor(weights: readonly number[]) {
    if (weights.length === 0) throw new RangeError("smooth weighted round-robin needs an index");
    for (const w of weights) {
      if (!(w > 0 && Number.isFinite(w))) {
        throw new RangeError(`weight ${w} is not a positive finite number`);
      }
    }
    this.#weights = Float64Array.from(weights);
    this.#total = weights.reduce((sum, w) => sum + w, 0);
    this.#current = new Float64Array(weights.length);
  }

  /** The number of indexes. */
  get size(): number {
    return this.#weights.length;
  }

  /** The next index in the sequence. One O(n) pass, no allocation. */
  next(): number {
    const weights = this.#weights;
    const current = this.#current;
    let best = 0;
    let bestCurrent = current[0] += weights[0];
    for (let i = 1; i < weights.length; i++) {
      const c = current[i] += weights[i];
      if (c > bestCurrent) {
        best = i;
        bestCurrent = c;
      }
    }
    current[best] -= this.#total;
    return best;
  }
}
