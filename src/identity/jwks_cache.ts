/**
 * The JWKS cache of one issuer, shared by every route and kept across reloads. It is built to
 * avoid the failure modes other gateways are known for:
 *
 * - keys are fetched once, in the background, and refreshed before they expire: requests never
 *   wait for the identity provider while usable keys exist;
 * - every fetch is single-flight: concurrent callers (routes at start-up, requests) share one;
 * - a token naming an unknown `kid` triggers a refetch (key rotation), at most once per
 *   cooldown, so a flood of bogus kids cannot storm the provider;
 * - when the provider is down, the last good keys are served for up to `maxStale` past their
 *   refresh time; failed refreshes retry with jittered exponential backoff;
 * - nothing here throws into a request except {@link JwksUnavailableError}.
 */
import type { Logger } from "../observe/logger.ts";
import { IdpFetchCancelled, IdpFetchError } from "./bounded_fetch.ts";
import { fetchJwks, type JwksAnswer } from "./jwks_fetch.ts";
import type { KeySet } from "./jwks_key_set.ts";
import { DiscoveryError, type JwksLocator } from "./jwks_locator.ts";
import { timerDelay } from "../config/timer_limit.ts";

/** Timings in milliseconds (see `JwksCacheOptions` in `src/policies/jwt.ts`). */
export interface JwksCacheTiming {
  refreshIntervalMs: number;
  unknownKidCooldownMs: number;
  maxStaleMs: number;
  fetchTimeoutMs: number;
}

export const DEFAULT_JWKS_TIMING: JwksCacheTiming = {
  refreshIntervalMs: 5 * 60_000,
  unknownKidCooldownMs: 30_000,
  maxStaleMs: 24 * 3_600_000,
  fetchTimeoutMs: 5_000,
};

/** How one fetch ended: the `result` label of `ferry_jwks_fetch_total`. */
export type JwksFetchResult =
  | "success"
  | "not_modified"
  | "error"
  | "timeout"
  | "invalid"
  | "discovery_error";

export interface JwksCacheHooks {
  onFetch?(result: JwksFetchResult): void;
  /** The cache was closed: what it reported (metrics) may go. */
  onClose?(): void;
  logger?: Logger;
  /** Monotonic clock in ms; tests pass their own to step over expiry without waiting. */
  now?(): number;
}

/** No usable keys: never fetched successfully, or the last good ones are past `maxStale`. */
export class JwksUnavailableError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = "JwksUnavailableError";
  }
}

/** A `Cache-Control: max-age` is honoured within these bounds (the floor is min(refresh, 1m)). */
const MAX_AGE_FLOOR_MS = 60_000;
const MAX_AGE_CEILING_MS = 24 * 3_600_000;
const FIRST_RETRY_MS = 1_000;

interface Loaded {
  keys: KeySet;
  /** When the keys were last confirmed by the provider (200 or 304). */
  confirmedAt: number;
  /** Freshness granted at that time. */
  lifetimeMs: number;
  etag?: string;
}

export class JwksCache {
  readonly #locator: JwksLocator;
  readonly #hooks: JwksCacheHooks;
  readonly #now: () => number;
  readonly #cancel = new AbortController();
  #timing: JwksCacheTiming;
  #loaded?: Loaded;
  #inflight?: Promise<void>;
  #timer?: ReturnType<typeof setTimeout>;
  #failures = 0;
  #lastError?: string;
  /** When a request last triggered a fetch (unknown kid, or no usable keys). */
  #lastTriggered = -Infinity;
  #started = false;
  #closed = false;

  constructor(
    readonly issuer: string,
    locator: JwksLocator,
    timing: JwksCacheTiming,
    hooks: JwksCacheHooks = {},
  ) {
    this.#locator = locator;
    this.#timing = timing;
    this.#hooks = hooks;
    this.#now = hooks.now ?? (() => performance.now());
  }

  /** New timings (a reload changed them); they apply from the next scheduling on. */
  configure(timing: JwksCacheTiming): void {
    this.#timing = timing;
  }

  /** Starts the first fetch, once; later calls do nothing. */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    void this.#refresh();
  }

  /** Milliseconds since the provider last confirmed the keys; `undefined` before that. */
  get ageMs(): number | undefined {
    return this.#loaded ? this.#now() - this.#loaded.confirmedAt : undefined;
  }

  /**
   * Keys for verifying a request's token: the cached ones while usable (fresh or within
   * `maxStale`), else the result of the fetch in flight or of a new one (at most one per
   * cooldown). Throws {@link JwksUnavailableError} when there are none.
   */
  async keys(): Promise<KeySet> {
    const usable = this.#usable();
    if (usable) return usable;
    this.start();
    if (!this.#inflight) this.#trigger();
    if (this.#inflight) await this.#inflight;
    return this.#usable() ?? this.#unavailable();
  }

  /**
   * A token named a key that `seen` does not have. Returns a newer key set when one is (or
   * becomes) available: already refreshed since, the fetch in flight, or a refetch if the
   * cooldown allows. `undefined` means "no other keys": the kid is unknown.
   */
  async keysAfterUnknownKid(seen: KeySet): Promise<KeySet | undefined> {
    const newer = () => {
      const keys = this.#usable();
      return keys && keys !== seen ? keys : undefined;
    };
    if (newer()) return newer();
    if (this.#inflight) {
      await this.#inflight;
      if (newer()) return newer();
      // That fetch may have reached the provider before it rotated (a background refresh, or
      // one another token triggered): ask again below, as the cooldown allows, rather than
      // refusing a kid that may be brand new.
    }
    if (!this.#trigger()) return undefined;
    await this.#inflight;
    return newer();
  }

  /** Whether `close()` was called (a reload retired the cache, or the gateway closed). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Stops the background refresh and cancels a fetch in flight. */
  async close(): Promise<void> {
    const first = !this.#closed;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#cancel.abort();
    if (first) this.#hooks.onClose?.();
    await this.#inflight;
  }

  /** The cached keys while usable (fresh or within `maxStale`), without fetching. */
  usableKeys(): KeySet | undefined {
    return this.#usable();
  }

  #usable(): KeySet | undefined {
    const loaded = this.#loaded;
    if (!loaded) return undefined;
    const age = this.#now() - loaded.confirmedAt;
    return age <= loaded.lifetimeMs + this.#timing.maxStaleMs ? loaded.keys : undefined;
  }

  #unavailable(): never {
    const age = this.ageMs;
    const detail = age === undefined
      ? "the issuer's signing keys could not be fetched"
      : `the issuer's signing keys are ${seconds(age)} old, past the ${
        seconds(this.#loaded!.lifetimeMs + this.#timing.maxStaleMs)
      } they may serve (refresh interval plus maxStale), and could not be refreshed`;
    throw new JwksUnavailableError(detail);
  }

  /** Starts a request-triggered fetch unless one ran within the cooldown. */
  #trigger(): boolean {
    const now = this.#now();
    if (this.#closed || now - this.#lastTriggered < this.#timing.unknownKidCooldownMs) return false;
    this.#lastTriggered = now;
    void this.#refresh();
    return true;
  }

  /** The fetch in flight, or a new one: never two at once. */
  #refresh(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    return this.#inflight ??= this.#attempt().finally(() => {
      this.#inflight = undefined;
      this.#scheduleNext();
    });
  }

  async #attempt(): Promise<void> {
    const init = { timeoutMs: this.#timing.fetchTimeoutMs, cancel: this.#cancel.signal };
    try {
      const url = await this.#locator.locate(init);
      this.#accept(await fetchJwks(url, { ...init, etag: this.#loaded?.etag }));
    } catch (e) {
      if (e instanceof IdpFetchCancelled) return;
      this.#reject(e);
    }
  }

  #accept(answer: JwksAnswer): void {
    const lifetimeMs = this.#lifetime(answer.maxAgeMs);
    const now = this.#now();
    if (answer.kind === "not_modified") {
      if (!this.#loaded) {
        throw new IdpFetchError("invalid", "304 Not Modified to an unconditional GET");
      }
      this.#loaded = { ...this.#loaded, confirmedAt: now, lifetimeMs };
      this.#hooks.onFetch?.("not_modified");
    } else {
      const previous = this.#loaded?.keys;
      // Unchanged keys keep their object, so jose's imported CryptoKeys stay cached and
      // `keysAfterUnknownKid` can tell a real change from a refetch of the same set.
      const keys = previous?.fingerprint === answer.keys.fingerprint ? previous : answer.keys;
      this.#loaded = { keys, confirmedAt: now, lifetimeMs, etag: answer.etag };
      this.#hooks.onFetch?.("success");
      if (keys !== previous) {
        this.#log("info", "JWKS loaded", { kids: keys.kids });
      }
    }
    if (this.#failures > 0) this.#log("info", "JWKS fetch recovered", { failures: this.#failures });
    this.#failures = 0;
    this.#lastError = undefined;
  }

  #reject(e: unknown): void {
    const result: JwksFetchResult = e instanceof DiscoveryError
      ? "discovery_error"
      : e instanceof IdpFetchError
      ? e.result
      : "error";
    // The JWKS URL itself failed: a discovered one is looked up again next time.
    if (!(e instanceof DiscoveryError)) this.#locator.failed();
    this.#failures++;
    this.#lastError = e instanceof Error ? e.message : String(e);
    this.#hooks.onFetch?.(result);
    const age = this.ageMs;
    this.#log("warn", "JWKS fetch failed", {
      result,
      error: this.#lastError,
      failures: this.#failures,
      servingCachedKeys: this.#usable() !== undefined,
      ...(age === undefined ? {} : { ageSeconds: Math.round(age / 1000) }),
    });
  }

  /** Freshness of a fetched set: the provider's max-age within bounds, else refreshInterval. */
  #lifetime(maxAgeMs: number | undefined): number {
    const interval = this.#timing.refreshIntervalMs;
    if (maxAgeMs === undefined) return interval;
    return Math.min(Math.max(maxAgeMs, Math.min(interval, MAX_AGE_FLOOR_MS)), MAX_AGE_CEILING_MS);
  }

  /**
   * After each attempt: refresh at ~90% of the lifetime when it succeeded (jittered so a fleet
   * of gateways does not refresh in lockstep), or retry with backoff when it failed. The timer
   * is unref'd: it must not keep a process alive that has nothing else to do.
   */
  #scheduleNext(): void {
    if (this.#closed) return;
    const delay = this.#failures === 0 && this.#loaded
      ? this.#loaded.lifetimeMs * (0.85 + 0.1 * Math.random())
      : this.#backoffMs();
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#refresh();
    }, timerDelay(delay));
    Deno.unrefTimer(this.#timer);
  }

  #backoffMs(): number {
    return retryDelayMs(this.#failures, this.#timing.refreshIntervalMs, Math.random());
  }

  #log(level: "info" | "warn", message: string, fields: Record<string, unknown>): void {
    this.#hooks.logger?.log(level, message, { issuer: this.issuer, ...fields });
  }
}

/**
 * Delay before retrying after `failures` failed fetches in a row: 1s, 2s, 4s… (starting from
 * the refresh interval instead when it is shorter), capped by the refresh interval, and
 * half-jittered by `random` in [0, 1) so that many gateways do not retry in step.
 */
export function retryDelayMs(failures: number, refreshIntervalMs: number, random: number): number {
  const first = Math.min(FIRST_RETRY_MS, refreshIntervalMs);
  const cap = Math.max(first, refreshIntervalMs);
  const exponential = Math.min(cap, first * 2 ** Math.min(Math.max(failures - 1, 0), 30));
  return exponential * (0.5 + 0.5 * random);
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 1000)}s`;
}
