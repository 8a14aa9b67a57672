/**
 * Split state that outlives a snapshot: each route's position in its weighted round-robin. A
 * reload that leaves a route's split as it was hands the next snapshot the same sequence, so
 * 95/5 stays exactly 95/5 across reloads instead of restarting the period each time (frequent
 * reloads would otherwise keep sending the first picks of every period to the larger side).
 * A changed split starts a new sequence.
 */
import type { NormalizedSplit } from "../config/normalized.ts";
import { SmoothWeightedRoundRobin } from "./smooth_wrr.ts";

/** Round-robin state by route name and split definition. Owned by the gateway. */
export class TrafficRegistry {
  readonly #live = new Map<string, { key: string; roundRobin: SmoothWeightedRoundRobin }>();

  /** The sequence for `route`'s `split`: the existing one when the split is unchanged. */
  roundRobin(route: string, split: NormalizedSplit): SmoothWeightedRoundRobin {
    // The sticky key is part of the identity too: it changes which requests take turns.
    const key = JSON.stringify(split);
    const existing = this.#live.get(route);
    if (existing?.key === key) return existing.roundRobin;
    const roundRobin = new SmoothWeightedRoundRobin(split.targets.map((t) => t.weight));
    this.#live.set(route, { key, roundRobin });
    return roundRobin;
  }

  /** Forgets the state of routes not in `routes` (removed, or no longer split). */
  retainOnly(routes: ReadonlySet<string>): void {
    for (const name of this.#live.keys()) if (!routes.has(name)) this.#live.delete(name);
  }

  /** Routes with state (for tests and diagnostics). */
  get size(): number {
    return this.#live.size;
  }
}
