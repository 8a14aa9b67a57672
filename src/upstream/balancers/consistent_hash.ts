import type { Balancer, PickContext } from "./balancer.ts";
import type { Target } from "../target.ts";
import type { HashKeyConfig } from "../../config/types.ts";
import { hashString } from "./hash.ts";
import { RoundRobinBalancer } from "./round_robin.ts";

/** Virtual nodes per unit of weight: enough for an even spread (a few % off) at small n. */
export const VNODES_PER_WEIGHT = 160;
/** Ring size cap: huge weights are scaled down together so a ring never gets absurdly big. */
const MAX_RING_SIZE = 1 << 20;
/** Ring entries are packed as `position * RANK_SPACE + rank` into one exactly-sortable double. */
const RANK_SPACE = 2 ** 21;

/**
 * Consistent hashing on a ring of virtual nodes. Each target owns `160 × weight` points, placed
 * by hashing `url#i`, so a target's points depend on nothing but its own url and weight: adding
 * or removing one target, or changing its weight, moves only the keys that land on its points
 * (about 1/n of them), and the order of targets in the config does not matter.
 *
 * A request's key (header, cookie or client IP) is hashed to a point; the owner of the first
 * virtual node clockwise from it takes the request. An unhealthy or excluded owner is skipped by
 * walking on to the next virtual node, which hands its keys out across the other targets exactly
 * as if it had been removed, and gives them back when it recovers.
 *
 * A request without the key (or with an empty one) goes to a smooth weighted round-robin over
 * the same targets: requests with nothing to stick to are spread by weight instead of piling
 * onto the one target that an empty key would hash to.
 */
export class ConsistentHashBalancer implements Balancer {
  readonly #targets: readonly Target[];
  readonly #readKey: (ctx: PickContext) => string | null | undefined;
  readonly #keyless: RoundRobinBalancer;
  /** Sorted ring positions of the virtual nodes. */
  readonly #positions: Uint32Array;
  /** Index into `#targets` of the owner of the virtual node at the same index. */
  readonly #owners: Uint32Array;

  constructor(targets: readonly Target[], key: HashKeyConfig) {
    this.#targets = targets;
    this.#readKey = keyReader(key);
    this.#keyless = new RoundRobinBalancer(targets);
    const ring = buildRing(targets);
    this.#positions = ring.positions;
    this.#owners = ring.owners;
  }

  pick(ctx: PickContext, exclude?: ReadonlySet<Target>): Target | undefined {
    const key = this.#readKey(ctx);
    if (key === null || key === undefined || key === "") return this.#keyless.pick(ctx, exclude);
    if (this.#positions.length === 0) return undefined;
    const skip = exclude !== undefined && exclude.size > 0 ? exclude : undefined;
    return this.#walk(this.#firstAtOrAfter(hashString(key)), skip);
  }

  /** Index of the first virtual node at or after `point`, wrapping around to 0. */
  #firstAtOrAfter(point: number): number {
    const positions = this.#positions;
    let low = 0;
    let high = positions.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (positions[mid] < point) low = mid + 1;
      else high = mid;
    }
    return low === positions.length ? 0 : low;
  }

  /** The first eligible owner clockwise from virtual node `start`. */
  #walk(start: number, skip: ReadonlySet<Target> | undefined): Target | undefined {
    const targets = this.#targets;
    const owners = this.#owners;
    const size = owners.length;
    let i = start;
    for (let step = 0; step < size; step++) {
      if (step === targets.length) {
        // Usually the first owner or two is eligible. A walk this long suggests that most
        // targets are down, so check in O(n) that it can end before walking the whole ring.
        const state = this.#eligibility(skip);
        if (state === Eligibility.None) return undefined;
        if (state === Eligibility.OnlyExcluded) return this.#walk(start, undefined);
      }
      const target = targets[owners[i]];
      if (target.healthy && (skip === undefined || !skip.has(target))) return target;
      if (++i === size) i = 0;
    }
    // The whole ring was walked: every target was seen. When only excluded targets are healthy,
    // the interface prefers a repeat over no target.
    return skip !== undefined ? this.#walk(start, undefined) : undefined;
  }

  #eligibility(skip: ReadonlySet<Target> | undefined): Eligibility {
    let state: Eligibility = Eligibility.None;
    for (const target of this.#targets) {
      if (!target.healthy) continue;
      if (skip === undefined || !skip.has(target)) return Eligibility.Some;
      state = Eligibility.OnlyExcluded;
    }
    return state;
  }
}

/** What `#eligibility` found: no healthy target, only excluded ones, or some other one. */
const Eligibility = { None: 0, OnlyExcluded: 1, Some: 2 } as const;
type Eligibility = typeof Eligibility[keyof typeof Eligibility];

function keyReader(key: HashKeyConfig): (ctx: PickContext) => string | null | undefined {
  if ("header" in key) {
    const name = key.header;
    return (ctx) => ctx.header(name);
  }
  if ("cookie" in key) {
    const name = key.cookie;
    return (ctx) => ctx.cookie(name);
  }
  return (ctx) => ctx.clientIp;
}

/** Builds the sorted ring. Runs once per config snapshot, so it may allocate freely. */
function buildRing(targets: readonly Target[]): { positions: Uint32Array; owners: Uint32Array } {
  if (targets.length >= RANK_SPACE) {
    throw new RangeError(`consistent_hash supports at most ${RANK_SPACE - 1} targets`);
  }
  // Two virtual nodes can hash to the same point. Breaking such ties by url (not by config
  // order) keeps the ring independent of how the targets are listed.
  const byUrl = targets.map((_, index) => index).sort((a, b) =>
    targets[a].url < targets[b].url ? -1 : targets[a].url > targets[b].url ? 1 : a - b
  );
  const wanted = targets.reduce((sum, t) => sum + VNODES_PER_WEIGHT * t.weight, 0);
  const scale = wanted > MAX_RING_SIZE ? MAX_RING_SIZE / wanted : 1;
  const counts = byUrl.map((index) =>
    Math.max(1, Math.round(VNODES_PER_WEIGHT * targets[index].weight * scale))
  );

  const packed = new Float64Array(counts.reduce((sum, n) => sum + n, 0));
  let k = 0;
  for (let rank = 0; rank < byUrl.length; rank++) {
    const url = targets[byUrl[rank]].url;
    for (let v = 0; v < counts[rank]; v++) {
      packed[k++] = hashString(`${url}#${v}`) * RANK_SPACE + rank;
    }
  }
  packed.sort();

  const positions = new Uint32Array(packed.length);
  const owners = new Uint32Array(packed.length);
  for (let i = 0; i < packed.length; i++) {
    const rank = packed[i] % RANK_SPACE;
    positions[i] = (packed[i] - rank) / RANK_SPACE;
    owners[i] = byUrl[rank];
  }
  return { positions, owners };
}
