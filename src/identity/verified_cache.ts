/**
 * Remembers, for a short while, which user name and password pairs were just verified, so a
 * client sending Basic credentials on every request pays for scrypt once per TTL instead of on
 * each request (tens to hundreds of milliseconds and 32 MiB of memory each).
 *
 * Only successes are remembered; failures always cost a full check, so guessing is not made
 * cheaper. Pairs are keyed by HMAC-SHA256 under a random key made per cache, never stored as
 * text, and a fast digest of a password without that key never sits in memory. A cache serves
 * one set of users (and TTL), kept across reloads that leave them alone: a reload that changes
 * users starts an empty one, so a removed user or a changed password takes effect at once,
 * whatever the TTL.
 */
import { createHmac, randomBytes } from "node:crypto";

/** A bounded, least-recently-used set of verified pairs that expire after `ttlMs`. */
export class VerifiedCache {
  readonly #secret = randomBytes(32);
  /** Key → expiry time. A Map iterates in insertion order: the first entry is the oldest. */
  readonly #entries = new Map<string, number>();

  constructor(
    readonly ttlMs: number,
    readonly maxEntries: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Entries held, expired ones included until they are next looked up or evicted. */
  get size(): number {
    return this.#entries.size;
  }

  /** The cache key of a pair. The user name's length keeps `a` + `b:c` apart from `a:b` + `c`. */
  key(user: string, password: string): string {
    return createHmac("sha256", this.#secret)
      .update(`${user.length}:${user}:${password}`, "utf8")
      .digest("base64");
  }

  /** Whether `key` was verified less than `ttlMs` ago; a hit becomes the most recent entry. */
  has(key: string): boolean {
    const expires = this.#entries.get(key);
    if (expires === undefined) return false;
    this.#entries.delete(key);
    if (expires <= this.now()) return false;
    this.#entries.set(key, expires);
    return true;
  }

  /** Forgets every pair: its users are no longer configured (see `SharedState`). */
  close(): void {
    this.#entries.clear();
  }

  /** Records a successful verification, evicting the least recently used entry when full. */
  add(key: string): void {
    if (this.ttlMs <= 0 || this.maxEntries <= 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, this.now() + this.ttlMs);
    if (this.#entries.size > this.maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
  }
}
