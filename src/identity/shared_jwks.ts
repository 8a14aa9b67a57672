/**
 * The JWKS cache a `jwt` policy uses: one per key location for the whole gateway, obtained
 * through `env.shared`, so every route of an issuer and every reload share one cache and the
 * provider sees one fetch at start-up, not one per route. `SharedState` closes it (timers,
 * fetch in flight) when the gateway closes.
 */
import type { PolicyEnv } from "../policies/policy.ts";
import { JwksCache, type JwksCacheTiming } from "./jwks_cache.ts";
import { discoveredJwksUri, fixedJwksUri } from "./jwks_locator.ts";
import { jwksMetrics } from "./jwks_metrics.ts";

/** Where an issuer's keys are: a configured URL, or OIDC discovery when absent. */
export interface JwksSource {
  issuer: string;
  jwksUri?: string;
}

/**
 * The shared cache for `source`, started. The latest caller's `timing` applies (a reload that
 * changes it takes effect); routes sharing a source in one config therefore share timings too.
 */
export function sharedJwksCache(
  env: PolicyEnv,
  source: JwksSource,
  timing: JwksCacheTiming,
): JwksCache {
  const metrics = jwksMetrics(env);
  const cache = env.shared(`jwks:${source.jwksUri ?? source.issuer}`, () => {
    const locator = source.jwksUri
      ? fixedJwksUri(source.jwksUri)
      : discoveredJwksUri(source.issuer);
    const created: JwksCache = new JwksCache(source.issuer, locator, timing, {
      onFetch: (result) => metrics.fetched(created, result),
      onClose: () => metrics.closing(created),
      logger: env.logger,
    });
    metrics.watch(created);
    return created;
  });
  cache.configure(timing);
  cache.start();
  return cache;
}
