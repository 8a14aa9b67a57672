/**
 * Remembers tokens a route has already verified, so a client that sends the same access token
 * on every request pays for the signature check once (like Envoy's `jwt_cache_config`). A
 * signature check costs far more than proxying a small request; without this, `jwt` on a busy
 * route would cut its throughput several times over.
 *
 * A remembered token is only reused while it is provably as good as when it was checked:
 * - the exact same text: entries are keyed by the token itself. Not by a hash: a fast hash
 *   could be made to collide with a remembered token, and SHA-256 costs more per request than
 *   everything else here together. Only tokens that passed verification are kept, within the
 *   size bound, which is no more than the gateway already holds for requests in flight;
 * - the same key set is still current and usable: a refresh that changed the keys (rotation,
 *   a revoked key) replaces the set object and so forgets every entry, and keys past
 *   `maxStale` fail before the lookup;
 * - `exp` (with the clock tolerance) has not passed since.
 * One instance serves one combination of issuer, audiences, algorithms, tolerance and key
 * source (see `sharedVerifiedTokens`). Claims and scopes are still checked on every request by
 * the caller. Failures are never stored: they always go through full verification.
 */
import type { JWTPayload } from "jose";
import type { PolicyEnv } from "../policies/policy.ts";
import type { KeySet } from "./jwks_key_set.ts";

interface Entry {
  payload: JWTPayload;
  keys: KeySet;
  exp: number;
  /** Used since it was (re)inserted: spared once by eviction (second chance). */
  used: boolean;
}

/** Default bound: at ~1–2 KiB per entry (token and claims), at most 10–20 MiB. */
export const DEFAULT_VERIFIED_TOKENS = 10_000;

/**
 * Eviction is CLOCK (second chance), an approximation of LRU: a hit only sets a flag, where a
 * true LRU would delete and re-insert the entry, rehashing a ~1 KB token on every request.
 */
export class VerifiedTokens {
  /** Map iteration is insertion order: the oldest entries come first. */
  readonly #entries = new Map<string, Entry>();

  constructor(readonly maxEntries: number = DEFAULT_VERIFIED_TOKENS) {}

  /** The payload of `token` if it was verified against `keys` and has not expired since. */
  get(
    token: string,
    keys: KeySet,
    nowSeconds: number,
    toleranceSeconds: number,
  ): JWTPayload | undefined {
    const entry = this.#entries.get(token);
    if (!entry) return undefined;
    if (entry.keys !== keys || entry.exp <= nowSeconds - toleranceSeconds) {
      this.#entries.delete(token);
      return undefined;
    }
    entry.used = true;
    return entry.payload;
  }

  /** Remembers a token that just passed full verification against `keys`. */
  remember(token: string, payload: JWTPayload, keys: KeySet): void {
    if (this.maxEntries <= 0 || typeof payload.exp !== "number") return;
    const entries = this.#entries;
    entries.delete(token);
    // Ends: every entry spared once has its flag cleared, so it goes on the next pass.
    while (entries.size >= this.maxEntries) {
      const [oldest, entry] = entries.entries().next().value!;
      entries.delete(oldest);
      if (entry.used) {
        entry.used = false;
        entries.set(oldest, entry);
      }
    }
    entries.set(token, { payload: Object.freeze(payload), keys, exp: payload.exp, used: false });
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Forgets every token: a reload retired the routes that verified alike (see SharedState). */
  close(): void {
    this.#entries.clear();
  }
}

/**
 * The memo of routes that verify alike (same `scope`: issuer, audiences, algorithms, tolerance
 * and key source), shared through `env.shared` so routes and reloads do not each hold their
 * own copy of the same tokens.
 */
export function sharedVerifiedTokens(env: PolicyEnv, scope: string): VerifiedTokens {
  return env.shared(`jwt-verified:${scope}`, () => new VerifiedTokens());
}
