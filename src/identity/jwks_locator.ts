/**
 * Where a JWKS cache fetches from: a configured `jwksUri`, or the `jwks_uri` found by OIDC
 * discovery. A discovered location is remembered, and forgotten when fetching from it fails, so
 * a provider that moved its keys is rediscovered on the next attempt rather than never.
 */
import { IdpFetchError } from "./bounded_fetch.ts";
import { discoverJwksUri } from "./oidc_discovery.ts";

export interface JwksLocator {
  /** The JWKS URL; may fetch (discovery), throwing {@link DiscoveryError} when that fails. */
  locate(init: { timeoutMs: number; cancel: AbortSignal }): Promise<URL>;
  /** Fetching from the located URL failed. */
  failed(): void;
}

/** A configured JWKS URL. */
export function fixedJwksUri(url: string): JwksLocator {
  const parsed = new URL(url);
  return { locate: () => Promise.resolve(parsed), failed() {} };
}

/** Failure of the discovery step, reported as its own fetch result. */
export class DiscoveryError extends Error {
  constructor(readonly failure: IdpFetchError) {
    super(`OIDC discovery failed: ${failure.message}`);
    this.name = "DiscoveryError";
  }
}

/** The `jwks_uri` of `issuer`'s discovery document. */
export function discoveredJwksUri(issuer: string): JwksLocator {
  let known: URL | undefined;
  return {
    async locate(init) {
      if (known) return known;
      try {
        known = await discoverJwksUri(issuer, init);
      } catch (e) {
        throw e instanceof IdpFetchError ? new DiscoveryError(e) : e;
      }
      return known;
    },
    failed() {
      known = undefined;
    },
  };
}
