/**
 * Metrics of the JWKS caches, created once per gateway (through `env.shared`):
 * `ferry_jwks_fetch_total{issuer,result}` counts every discovery/JWKS fetch by outcome, and
 * `ferry_jwks_age_seconds{issuer}` is read from the caches at scrape time, so a provider that
 * stopped answering shows as a growing age long before keys go past `maxStale`.
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
          if (cache.closed) {
            caches.delete(cache);
            continue;
          }
          const age = cache.ageMs;
          if (age !== undefined) this.labels(cache.issuer).set(age / 1000);
        }
      },
    });
  }

  fetched(issuer: string, result: JwksFetchResult): void {
    this.#fetches.labels(issuer, result).inc();
  }

  /** Reports `cache`'s age from now on, until it is closed. */
  watch(cache: AgedCache): void {
    this.#caches.add(cache);
  }
}

/** The gateway's JWKS metrics. */
export function jwksMetrics(env: PolicyEnv): JwksMetrics {
  return env.shared("metric:ferry_jwks", () => new JwksMetrics(env));
}
