/**
 * Metrics of the JWKS caches, created once per gateway (through `env.shared`):
 * `ferry_jwks_fetch_total{issuer,result}` counts every discovery/JWKS fetch by outcome, and
 * `ferry_jwks_age_seconds{issuer}` is read from the caches at scrape time, so a provider that
 * stopped answering shows as a growing age long before keys go past `maxStale`.
 *
 * Both follow the rule of the other families labelled by config objects (`config_scope.ts`): an
 * issuer's series go once no cache serves it any more (a reload dropped it, and its cache was
 * closed after the grace period), or a config regenerated per tenant would grow `/metrics`
 * without bound. An issuer still served keeps its series, even when its JWKS moved.
 */
import { Counter, Gauge } from "prom-client";
import type { PolicyEnv } from "../policies/policy.ts";
import type { JwksFetchResult } from "./jwks_cache.ts";

/** What a cache reports to the metrics. */
export interface AgedCache {
  readonly issuer: string;
  readonly ageMs: number | undefined;
  /** A closed cache (retired by a reload) is no longer reported, and no longer held. */
  readonly closed: boolean;
}

/** Every `result` label value, so that an issuer's series can all be removed. */
const FETCH_RESULTS = Object.keys(
  {
    success: true,
    not_modified: true,
    error: true,
    timeout: true,
    invalid: true,
    discovery_error: true,
  } satisfies Record<JwksFetchResult, true>,
);

export class JwksMetrics {
  readonly #fetches: Counter<"issuer" | "result">;
  readonly #caches = new Set<AgedCache>();

  constructor(env: PolicyEnv) {
    const caches = this.#caches;
    this.#fetches = new Counter({
      name: "ferry_jwks_fetch_total",
      help: "JWKS and OIDC discovery fetches, by issuer and result.",
      labelNames: ["issuer", "result"],
      registers: [env.metrics],
    });
    new Gauge({
      name: "ferry_jwks_age_seconds",
      help: "Seconds since the issuer's signing keys were last confirmed by its JWKS endpoint.",
      labelNames: ["issuer"],
      registers: [env.metrics],
      collect() {
        this.reset();
        for (const cache of caches) {
          const age = cache.ageMs;
          if (!cache.closed && age !== undefined) this.labels(cache.issuer).set(age / 1000);
        }
      },
    });
  }

  /** Counts a fetch of `cache`; one ending after the cache closed counts no more. */
  fetched(cache: AgedCache, result: JwksFetchResult): void {
    if (cache.closed) return;
    this.#fetches.labels(cache.issuer, result).inc();
  }

  /** Reports `cache`'s age from now on, until it is closed. */
  watch(cache: AgedCache): void {
    this.#caches.add(cache);
  }

  /**
   * `cache` is closing: it is no longer reported, and its issuer's fetch series go unless
   * another cache still serves that issuer (a reload moved its JWKS).
   */
  closing(cache: AgedCache): void {
    this.#caches.delete(cache);
    for (const other of this.#caches) {
      if (other.issuer === cache.issuer && !other.closed) return;
    }
    for (const result of FETCH_RESULTS) this.#fetches.remove(cache.issuer, result);
  }
}

/** The gateway's JWKS metrics. */
export function jwksMetrics(env: PolicyEnv): JwksMetrics {
  return env.shared("metric:ferry_jwks", () => new JwksMetrics(env));
}
