import type { Balancer, PickContext } from "./balancer.ts";
import type { Target } from "../target.ts";

/**
 * Smooth weighted round-robin, as nginx does it. Every pick, each eligible target's `current`
 * grows by its weight; the target with the largest `current` wins and gives back the sum of the
 * eligible weights. With integer weights the sequence repeats every `sum(weights)` picks and each
 * target appears exactly `weight` times per period, spread out instead of in bursts (weights
 * 5/1/1 give `a a b a c a a`). Equal weights give plain round-robin.
 *
 * Unhealthy (and excluded) targets sit out: their `current` is frozen until they come back, so
 * the others keep their exact shares among themselves. Ties go to the earlier target, which keeps
 * the sequence deterministic. One O(n) pass per pick, no allocation.
 */
export class RoundRobinBalancer implements Balancer {
  readonly #targets: readonly Target[];
  /** `current` per target, indexed like `#targets`: the balancer's only state. */
  readonly #current: Float64Array;

  constructor(targets: readonly Target[]) {
    this.#targets = targets;
    this.#current = new Float64Array(targets.length);
  }

  pick(_ctx: PickContext, exclude?: ReadonlySet<Target>): Target | undefined {
    if (exclude !== undefined && exclude.size > 0) {
      const index = this.#select(exclude);
      if (index >= 0) return this.#targets[index];
      // Every healthy target is excluded: the interface prefers a repeat over no target.
    }
    const index = this.#select(undefined);
    return index >= 0 ? this.#targets[index] : undefined;
  }

  /** One smooth-WRR step over the eligible targets; the winner's index, or -1 when none. */
  #select(exclude: ReadonlySet<Target> | undefined): number {
    const targets = this.#targets;
    const current = this.#current;
    let total = 0;
    let best = -1;
    let bestCurrent = 0;
    for (let i = 0; i < targets.length; i++) {
      const target = targets[i];
      if (!target.healthy || (exclude !== undefined && exclude.has(target))) continue;
      const c = current[i] + target.weight;
      current[i] = c;
      total += target.weight;
      if (best < 0 || c > bestCurrent) {
        best = i;
        bestCurrent = c;
      }
    }
    if (best >= 0) current[best] -= total;
    return best;
  }
}
