import type { Balancer, PickContext } from "./balancer.ts";
import type { Target } from "../target.ts";

/**
 * Least request by the power of two choices: draw two distinct eligible targets at random,
 * weighted by weight, and send to the one with fewer requests in flight. Comparing two random
 * targets avoids the herd that "always the global minimum" causes when many picks see the same
 * stale counts, while still steering away from slow or overloaded targets.
 *
 * Load is compared relative to weight, `inflight / weight`: comparing raw counts equalises them,
 * so under concurrency a weight-9 and a weight-1 target each carried half the requests, and a
 * target in slow start (its weight lowered) took a full share at once. Relative to weight, the
 * in-flight counts settle in proportion to the weights.
 *
 * A tie goes to the first draw; since the first draw is weighted, an idle upstream (all counts
 * equal) receives traffic in exact proportion to the weights. Costs at most three O(n) passes per
 * pick and allocates nothing.
 */
export class LeastRequestBalancer implements Balancer {
  readonly #targets: readonly Target[];
  readonly #random: () => number;
  // Results of the last `#scan`, kept in fields so that a scan allocates no result object.
  #eligibleCount = 0;
  #eligibleWeight = 0;
  #lastEligible = -1;

  /** `random` returns a number in [0, 1); tests inject a seeded or scripted one. */
  constructor(targets: readonly Target[], random: () => number = Math.random) {
    this.#targets = targets;
    this.#random = random;
  }

  pick(_ctx: PickContext, exclude?: ReadonlySet<Target>): Target | undefined {
    let skip = exclude !== undefined && exclude.size > 0 ? exclude : undefined;
    this.#scan(skip);
    if (this.#eligibleCount === 0 && skip !== undefined) {
      // Every healthy target is excluded: the interface prefers a repeat over no target.
      skip = undefined;
      this.#scan(undefined);
    }
    if (this.#eligibleCount === 0) return undefined;
    const targets = this.#targets;
    if (this.#eligibleCount === 1) return targets[this.#lastEligible];

    const first = this.#draw(this.#random() * this.#eligibleWeight, skip, -1);
    const rest = this.#eligibleWeight - targets[first].weight;
    const second = this.#draw(this.#random() * rest, skip, first);
    return lessLoaded(targets[second], targets[first]) ? targets[second] : targets[first];
  }

  /** Counts the eligible targets and sums their weights. */
  #scan(skip: ReadonlySet<Target> | undefined): void {
    const targets = this.#targets;
    let count = 0;
    let weight = 0;
    let last = -1;
    for (let i = 0; i < targets.length; i++) {
      const target = targets[i];
      if (!target.healthy || (skip !== undefined && skip.has(target))) continue;
      count++;
      weight += target.weight;
      last = i;
    }
    this.#eligibleCount = count;
    this.#eligibleWeight = weight;
    this.#lastEligible = last;
  }

  /**
   * The eligible target (other than index `not`) whose slice of the cumulative weight holds
   * `point`. Falls back to the last candidate when rounding pushes `point` past the end.
   */
  #draw(point: number, skip: ReadonlySet<Target> | undefined, not: number): number {
    const targets = this.#targets;
    let remaining = point;
    let last = -1;
    for (let i = 0; i < targets.length; i++) {
      if (i === not) continue;
      const target = targets[i];
      if (!target.healthy || (skip !== undefined && skip.has(target))) continue;
      if (remaining < target.weight) return i;
      remaining -= target.weight;
      last = i;
    }
    return last;
  }
}

/**
 * Whether `a` is less loaded than `b` for its weight: `a.inflight / a.weight` below
 * `b.inflight / b.weight`, cross-multiplied (weights are positive) to avoid dividing.
 */
function lessLoaded(a: Target, b: Target): boolean {
  return a.inflight * b.weight < b.inflight * a.weight;
}
