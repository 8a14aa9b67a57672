/**
 * The `jwt` policy's factory (config side: plain data, no dependencies). It admits requests
 * carrying a valid JWT access token from a trusted issuer, whose keys come from a JWKS that is
 * fetched once per issuer and shared by every route and every reload.
 */
import type { Duration, PolicyDescriptor } from "../config/types.ts";
import { descriptor } from "./policy.ts";

/**
 * Signature algorithms a route may accept. Only asymmetric ones: keys come from a public JWKS,
 * so `none` and the shared-secret HS* family are refused by validation (an HS256 token "signed"
 * with an RSA public key is the classic key-confusion attack).
 */
export type JwtAlgorithm =
  | "RS256"
  | "RS384"
  | "RS512"
  | "PS256"
  | "PS384"
  | "PS512"
  | "ES256"
  | "ES384"
  | "ES512"
  | "EdDSA"
  | "Ed25519";

/** A public JSON Web Key as published in a JWKS (RFC 7517). */
export interface PublicJwk {
  kty: "RSA" | "EC" | "OKP";
  kid?: string;
  alg?: string;
  use?: string;
  key_ops?: string[];
  /** RSA modulus and exponent. */
  n?: string;
  e?: string;
  /** EC / OKP curve and coordinates. */
  crv?: string;
  x?: string;
  y?: string;
}

/** How long the shared JWKS cache keeps, refreshes and falls back on keys. */
export interface JwksCacheOptions {
  /**
   * How often keys are refreshed in the background, before they expire. A `Cache-Control:
   * max-age` from the identity provider takes precedence, bounded to [min(this, 1m), 24h].
   * Default `"5m"`.
   */
  refreshInterval?: Duration;
  /**
   * At most one refetch per this period is triggered by tokens naming an unknown `kid` (or
   * arriving while no keys are usable), so a flood of bogus tokens cannot storm the identity
   * provider. Default `"30s"`.
   */
  unknownKidCooldown?: Duration;
  /**
   * How long past their refresh time the last good keys are still used while the identity
   * provider cannot be reached. After that, requests fail with reason `jwks_unavailable`.
   * Default `"24h"`.
   */
  maxStale?: Duration;
  /** Timeout of one discovery or JWKS fetch. Default `"5s"`. */
  fetchTimeout?: Duration;
}

/** Where else a token may be read from; `Authorization: Bearer` is always tried first. */
export interface JwtTokenSource {
  /** A cookie carrying the raw token (browser sessions). */
  cookie?: string;
  /**
   * A query parameter carrying the raw token. Discouraged (RFC 6750 §2.3): URLs end up in
   * logs and histories. Use it for clients that cannot set headers, such as WebSocket in
   * browsers.
   */
  query?: string;
}

/** Options of {@link jwt}. */
export interface JwtOptions {
  /** The `iss` every accepted token must carry, exactly. Also the base of OIDC discovery. */
  issuer: string;
  /**
   * The token's `aud` must contain at least one of these. Required: without an audience
   * check, a token minted for any other API of the same issuer would be accepted here.
   */
  audiences: string[];
  /**
   * Where the keys are. Default: the `jwks_uri` of `<issuer>/.well-known/openid-configuration`
   * (OIDC discovery). Exclusive with `jwks`.
   */
  jwksUri?: string;
  /** Static public keys, for issuers without a JWKS endpoint. Exclusive with `jwksUri`. */
  jwks?: { keys: PublicJwk[] };
  /** Accepted signature algorithms. Default `["RS256", "ES256"]`. */
  algorithms?: JwtAlgorithm[];
  /** Leeway for `exp`, `nbf` and `iat` against clock skew, at most `"1h"`. Default `"30s"`. */
  clockTolerance?: Duration;
  /**
   * Claims every token must carry (non-null), by path: `"tenant"`, or `"org.id"` for a
   * nested claim. `exp` is always required: a token that never expires is refused.
   */
  requiredClaims?: string[];
  /** Scopes every token must grant, from `scope` (space-separated) or `scp` (a list). */
  scopes?: string[];
  /**
   * Claims copied to request headers sent upstream: claim path → header name, such as
   * `{ sub: "x-user-id", tenant: "x-tenant-id" }`. Incoming headers of those names are always
   * removed first, so a client cannot forge them. Lists are joined with `,`, objects are sent
   * as JSON, and values outside printable ASCII are percent-encoded (UTF-8).
   */
  claimsToHeaders?: Record<string, string>;
  /** Whether the upstream receives the token too. Default `true`. */
  forwardToken?: boolean;
  /** Other places a token may come from. */
  tokenFrom?: JwtTokenSource;
  /** Timings of the shared JWKS cache (the same cache serves every route of an issuer). */
  jwksCache?: JwksCacheOptions;
}

/**
 * Admits requests that carry a valid JWT access token and refuses the rest: 401 with
 * `WWW-Authenticate: Bearer error="invalid_token"` (a `Bearer realm` challenge when no token
 * was sent), or 403 with `error="insufficient_scope"` when scopes are missing. Refusals are
 * problem+json bodies, never echo the token, and are counted in
 * `ferry_auth_failures_total{policy="jwt",reason}`.
 *
 * Keys come from the issuer's JWKS, cached once per issuer for every route and across reloads:
 * refreshed in the background, refetched (once per cooldown) when a token names an unknown
 * `kid`, and served stale for up to `maxStale` while the identity provider is down. A token
 * already verified with the same settings is not verified again while the keys are unchanged
 * and it has not expired (up to 10,000 remembered per issuer and audience settings); claims and
 * scopes are checked on every request. The token's `sub` becomes the request's subject in the
 * access log and traces.
 *
 * @example
 * ```ts
 * // Discovery through https://login.example.com/.well-known/openid-configuration.
 * jwt({
 *   issuer: "https://login.example.com",
 *   audiences: ["https://api.example.com"],
 *   scopes: ["orders:read"],
 *   claimsToHeaders: { sub: "x-user-id", tenant: "x-tenant-id" },
 * })
 * // Explicit JWKS, ES256 only, token kept away from the upstream.
 * jwt({
 *   issuer: "https://issuer.example.com",
 *   audiences: ["orders"],
 *   jwksUri: "https://issuer.example.com/keys",
 *   algorithms: ["ES256"],
 *   forwardToken: false,
 *   jwksCache: { maxStale: "1h" },
 * })
 * ```
 */
export function jwt(options: JwtOptions): PolicyDescriptor<"jwt", JwtOptions> {
  return descriptor("jwt", options);
}
