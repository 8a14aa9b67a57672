/**
 * Sticky assignment for splits: the same key always lands on the same upstream, by weighted
 * rendezvous hashing ("highest random weight").
 *
 * For a key, every upstream i gets a pseudo-random `u_i` in (0, 1) from hashing the key with the
 * upstream's name, and the score `-ln(u_i) / weight_i`; the lowest score wins. `-ln(u)` is
 * exponentially distributed, and the smallest of independent exponentials with rates w_i is
 * the i-th with probability `w_i / Σw`: each upstream gets its weight's share of keys.
 *
 * Why rendezvous rather than cutting [0, 1) into bands by cumulative weight: both move exactly
 * the keys that must move when one weight of a two-way split changes (5% → 10% moves ~5%,
 * all toward the side that grew). But bands depend on the order of the list, and with three or
 * more upstreams a change in one weight shifts the bands after it, moving keys between
 * upstreams whose weights did not change. With rendezvous, a key's score for one upstream
 * depends on nothing but that upstream's name and weight: raising a weight only pulls keys to
 * that upstream, adding one only takes keys to it, removing one only hands out its own keys,
 * and reordering the list moves nothing. The cost is one hash mix and one `log` per upstream
 * per request, for the few upstreams a split has.
 */
import type { StickyKeyConfig } from "../config/types.ts";
import { hashString } from "../upstream/balancers/hash.ts";
import { claimOf, type TrafficInput } from "./traffic_input.ts";

/** Reads a sticky key from a request; `undefined` when the request has none. */
export type StickyKeyReader = (input: TrafficInput) => string | undefined;

/** The reader for a key config. Empty values count as no key. */
export function stickyKeyReader(key: StickyKeyConfig): StickyKeyReader {
  if ("header" in key) {
    const name = key.header;
    return (input) => input.header(name) || undefined;
  }
  if ("cookie" in key) {
    const name = key.cookie;
    return (input) => input.cookie(name) || undefined;
  }
  if ("claim" in key) {
    const name = key.claim;
    return (input) => {
      const value = claimOf(input, name);
      // Only scalar claims identify a user; a list or object has no single stable text.
      if (typeof value === "string") return value || undefined;
      if (typeof value === "number" && Number.isFinite(value)) return String(value);
      return undefined;
    };
  }
  return (input) => input.clientIp || undefined;
}

/** `header x-user-id`, `cookie uid`, `claim sub`, `client IP`. */
export function describeStickyKey(key: StickyKeyConfig): string {
  if ("header" in key) return `header ${key.header}`;
  if ("cookie" in key) return `cookie ${key.cookie}`;
  if ("claim" in key) return `claim ${key.claim}`;
  return "client IP";
}

/** Weighted rendezvous hashing over a fixed list of named, weighted sides. */
export class RendezvousHash {
  readonly #seeds: Uint32Array;
  readonly #weights: Float64Array;

  /** `names` identify the sides (upstream names): a side's keys depend only on its name. */
  constructor(names: readonly string[], weights: readonly number[]) {
    this.#seeds = Uint32Array.from(names, (name) => hashString(name));
    this.#weights = Float64Array.from(weights);
  }

  /** The index of the side `key` belongs to. Allocates nothing. */
  pick(key: string): number {
    const keyHash = hashString(key);
    const seeds = this.#seeds;
    const weights = this.#weights;
    let best = 0;
    let bestScore = Infinity;
    for (let i = 0; i < seeds.length; i++) {
      // (h + 0.5) / 2^32 lies strictly inside (0, 1), so the log is finite and negative.
      const u = (mix(keyHash ^ seeds[i]) + 0.5) / 4294967296;
      const score = -Math.log(u) / weights[i];
      if (score < bestScore) {
        best = i;
        bestScore = score;
      }
    }
    return best;
  }
}

/**
 * A 32-bit integer mixer (Chris Wellons' "lowbias32"): every input bit affects every output bit,
 * so one key hash combined with different sides' seeds gives unrelated draws.
 */
function mix(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}
