/**
 * A route's weighted split across upstreams: a smooth weighted round-robin, and optionally a
 * sticky key hashed onto the same weights. Requests without the key take the round-robin, so
 * they are still spread exactly by weight.
 */
import type { NormalizedSplit } from "../config/normalized.ts";
import type { StickyKeyConfig } from "../config/types.ts";
import type { SmoothWeightedRoundRobin } from "./smooth_wrr.ts";
import { RendezvousHash, type StickyKeyReader, stickyKeyReader } from "./sticky.ts";
import type { TrafficInput } from "./traffic_input.ts";

/** A compiled split; indexes refer to `config.targets`. */
export class TrafficSplit {
  readonly sticky: StickyKeyConfig | null;
  readonly #roundRobin: SmoothWeightedRoundRobin;
  readonly #readKey: StickyKeyReader | undefined;
  readonly #hash: RendezvousHash | undefined;

  /** `roundRobin` carries the position in the sequence; it may outlive this snapshot. */
  constructor(readonly config: NormalizedSplit, roundRobin: SmoothWeightedRoundRobin) {
    if (roundRobin.size !== config.targets.length) {
      throw new RangeError(`a split of ${config.targets.length} needs as many round-robin weights`);
    }
    this.sticky = config.sticky;
    this.#roundRobin = roundRobin;
    if (config.sticky !== null) {
      this.#readKey = stickyKeyReader(config.sticky);
      this.#hash = new RendezvousHash(
        config.targets.map((t) => t.upstream),
        config.targets.map((t) => t.weight),
      );
    }
  }

  /** The next round-robin pick. */
  nextInTurn(): number {
    return this.#roundRobin.next();
  }

  /** The key a sticky split hashes for this request, or `undefined` (not sticky, or no key). */
  keyOf(input: TrafficInput): string | undefined {
    return this.#readKey?.(input);
  }

  /** The side a sticky key hashes to. Only for sticky splits. */
  sideOf(key: string): number {
    return this.#hash!.pick(key);
  }
}

/** `"v1" 95 / "v2" 5` */
export function describeWeights(split: NormalizedSplit): string {
  return split.targets.map((t) => `"${t.upstream}" ${t.weight}`).join(" / ");
}
