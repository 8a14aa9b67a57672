/**
 * How the `jwt` policy validates its options and builds its middleware. Validation refuses
 * what would make verification unsafe (no audience, `none` or HS* algorithms, private keys in
 * the config, headers a client could forge) with the exact path of the offending option; the
 * request path lives in `src/identity/jwt_guard.ts`.
 */
import { z } from "zod";
import { parseDuration } from "../config/duration.ts";
import { authFailures } from "../identity/auth_failure.ts";
import { DEFAULT_JWKS_TIMING, type JwksCacheTiming } from "../identity/jwks_cache.ts";
import { keySetFrom } from "../identity/jwks_key_set.ts";
import { jwtGuard } from "../identity/jwt_guard.ts";
import { staticKeys } from "../identity/jwt_verifier.ts";
import { sharedJwksCache } from "../identity/shared_jwks.ts";
import { sharedVerifiedTokens } from "../identity/verified_tokens.ts";
import type { JwksCacheOptions, JwtOptions } from "./jwt.ts";
import type { PolicyDefinition, PolicyEnv } from "./policy.ts";
import { MAX_TIMER_MS } from "../config/timer_limit.ts";

const ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
];
const DEFAULT_ALGORITHMS = ["RS256", "ES256"];
const DEFAULT_CLOCK_TOLERANCE_MS = 30_000;
const MAX_CLOCK_TOLERANCE_MS = 3_600_000;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// RFC 6749 §3.3 scope-token.
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
/**
 * Headers a claim may not be copied to: the token itself, framing and routing headers the
 * gateway owns, and hop-by-hop headers that never reach the upstream anyway.
 */
const RESERVED_HEADERS = new Set([
  "authorization",
  "proxy-authorization",
  "cookie",
  "host",
  "content-length",
  "content-type",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "te",
  "trailer",
  "upgrade",
  "proxy-connection",
  "x-request-id",
]);
/** RFC 7518 §6 private members: a verifier's config must never hold them. */
const PRIVATE_JWK_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

// Messages start with "must": validation puts the value found in front of them.
function duration(what: string, minMs: number, maxMs: number) {
  return z.string().refine((text) => {
    const ms = parseDuration(text);
    return ms !== undefined && ms >= minMs && ms <= maxMs;
  }, `must be ${what}`);
}

const nonEmpty = z.string().refine((s) => s.trim() !== "", "must not be empty");

const httpUrl = z.string().refine((text) => {
  if (!URL.canParse(text)) return false;
  const { protocol } = new URL(text);
  return protocol === "https:" || protocol === "http:";
}, "must be an http(s) URL");

const algorithm = z.string().superRefine((alg, ctx) => {
  if (ALGORITHMS.includes(alg)) return;
  const message = alg === "none"
    ? "must not be used: it accepts unsigned tokens"
    : /^HS\d+$/.test(alg)
    ? "must not be used: HMAC needs a shared secret while JWKS keys are public, and " +
      "accepting it alongside them invites HS/RS key confusion"
    : `must be one of ${ALGORITHMS.join(", ")}`;
  ctx.addIssue({ code: "custom", message, input: alg });
});

const jwk = z.looseObject({
  kty: z.enum(["RSA", "EC", "OKP"]),
  kid: z.string().optional(),
  alg: z.string().optional(),
  use: z.literal("sig").optional(),
}).superRefine((key, ctx) => {
  const members = key as Record<string, unknown>;
  const privateMembers = PRIVATE_JWK_MEMBERS.filter((m) => m in members);
  if (privateMembers.length > 0) {
    ctx.addIssue({
      code: "custom",
      message: `must be a public key: remove its private members (${privateMembers.join(", ")})`,
      input: key,
    });
  }
  const needed = key.kty === "RSA" ? ["n", "e"] : key.kty === "EC" ? ["crv", "x", "y"] : [
    "crv",
    "x",
  ];
  for (const member of needed) {
    if (typeof members[member] !== "string") {
      ctx.addIssue({
        code: "custom",
        path: [member],
        message: `missing: an ${key.kty} key needs "${member}" (a string)`,
        input: members[member],
      });
    }
  }
});

const claimPath = z.string().refine(
  (path) => path !== "" && path.trim() === path,
  'must be a claim name or dotted path like "tenant" or "org.id"',
);

const schema = z.strictObject({
  issuer: nonEmpty,
  audiences: z.array(nonEmpty).refine(
    (list) => list.length > 0,
    "must name at least one audience: without one, tokens minted for any other API of the " +
      "issuer would be accepted",
  ),
  jwksUri: httpUrl.optional(),
  jwks: z.strictObject({
    keys: z.array(jwk).refine((keys) => keys.length > 0, "must hold at least one key"),
  }).optional(),
  algorithms: z.array(algorithm).refine((list) => list.length > 0, "must not be empty")
    .optional(),
  clockTolerance: duration('a duration from "0s" to "1h"', 0, MAX_CLOCK_TOLERANCE_MS).optional(),
  requiredClaims: z.array(claimPath).optional(),
  scopes: z.array(
    z.string().regex(SCOPE_TOKEN, "must be a scope name (no spaces or quotes)"),
  ).optional(),
  claimsToHeaders: z.record(
    claimPath,
    z.string().regex(TOKEN, "must be a valid HTTP header name").refine(
      (name) => !RESERVED_HEADERS.has(name.toLowerCase()),
      "must not be a header the gateway or the token owns (authorization, cookie, host, " +
        "framing and hop-by-hop headers, x-request-id)",
    ),
  ).optional(),
  forwardToken: z.boolean().optional(),
  tokenFrom: z.strictObject({
    cookie: z.string().regex(TOKEN, "must be a valid cookie name").optional(),
    query: nonEmpty.optional(),
  }).optional(),
  jwksCache: z.strictObject({
    refreshInterval: duration('a duration from "1ms" to "24d"', 1, MAX_TIMER_MS).optional(),
    unknownKidCooldown: duration('a duration up to "24d"', 0, MAX_TIMER_MS).optional(),
    maxStale: duration("a duration", 0, Number.MAX_SAFE_INTEGER).optional(),
    fetchTimeout: duration('a duration from "1ms" to "5m"', 1, 300_000).optional(),
  }).optional(),
}).superRefine((options, ctx) => {
  // Checks across keys, reported along with the per-key issues (see `when` below).
  if (options.jwks !== undefined && options.jwksUri !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["jwks"],
      message: 'cannot be used with "jwksUri": keys come from one place',
      input: options.jwks,
    });
  }
  if (
    options.jwks === undefined && options.jwksUri === undefined &&
    typeof options.issuer === "string" && !httpUrl.safeParse(options.issuer).success
  ) {
    ctx.addIssue({
      code: "custom",
      path: ["issuer"],
      message: 'must be an http(s) URL for OIDC discovery, or set "jwksUri" or "jwks"',
      input: options.issuer,
    });
  }
  const seen = new Map<string, string>();
  for (const [claim, header] of Object.entries(options.claimsToHeaders ?? {})) {
    if (typeof header !== "string") continue;
    const other = seen.get(header.toLowerCase());
    if (other !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["claimsToHeaders", claim],
        message: `must differ from the header of claim "${other}": one header, one claim`,
        input: header,
      });
    }
    seen.set(header.toLowerCase(), claim);
  }
}, {
  when: ({ value }) => typeof value === "object" && value !== null && !Array.isArray(value),
});

function ms(text: string | undefined, fallback: number): number {
  return text === undefined ? fallback : parseDuration(text)!;
}

/** The cache timings of validated options, with defaults. */
export function jwksTiming(options: JwksCacheOptions = {}): JwksCacheTiming {
  return {
    refreshIntervalMs: ms(options.refreshInterval, DEFAULT_JWKS_TIMING.refreshIntervalMs),
    unknownKidCooldownMs: ms(options.unknownKidCooldown, DEFAULT_JWKS_TIMING.unknownKidCooldownMs),
    maxStaleMs: ms(options.maxStale, DEFAULT_JWKS_TIMING.maxStaleMs),
    fetchTimeoutMs: ms(options.fetchTimeout, DEFAULT_JWKS_TIMING.fetchTimeoutMs),
  };
}

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === "localhost" || host === "[::1]" || host.startsWith("127.");
}

/**
 * Static keys, one set per distinct `jwks` for every route and reload. The verified-token memo
 * is shared by routes that verify alike and reuses a token only against the very key set
 * object it was verified with: routes each building their own set from the same `jwks` would
 * make every request through another route (or after a reload) verify the signature again.
 * `close()` lets a reload that drops these keys retire the set (see `SharedState`).
 */
function sharedStaticKeys(jwks: NonNullable<JwtOptions["jwks"]>, env: PolicyEnv) {
  return env.shared(`jwt-static-keys:${JSON.stringify(jwks)}`, () => ({
    source: staticKeys(keySetFrom(jwks)),
    close() {},
  })).source;
}

function keySource(options: JwtOptions, env: PolicyEnv) {
  if (options.jwks) return sharedStaticKeys(options.jwks, env);
  const keysAt = options.jwksUri ?? options.issuer;
  if (new URL(keysAt).protocol === "http:" && !isLoopback(keysAt)) {
    env.logger.log("warn", "jwt policy fetches signing keys over plain http", {
      issuer: options.issuer,
      url: keysAt,
      risk: "anyone on the network path can substitute keys and forge tokens; use https",
    });
  }
  return sharedJwksCache(
    env,
    { issuer: options.issuer, jwksUri: options.jwksUri },
    jwksTiming(options.jwksCache),
  );
}

/** Definition of the `jwt` policy. */
export const jwtPolicy: PolicyDefinition<"jwt", JwtOptions> = {
  kind: "jwt",
  // The schema checks durations at run time; their template-literal type only exists in TS.
  schema: schema as unknown as z.ZodType<JwtOptions>,
  create: (options, env) => {
    const checks = {
      issuer: options.issuer,
      audiences: options.audiences,
      algorithms: options.algorithms ?? DEFAULT_ALGORITHMS,
      clockToleranceSeconds: ms(options.clockTolerance, DEFAULT_CLOCK_TOLERANCE_MS) / 1000,
    };
    const source = options.jwks ?? options.jwksUri ?? `discovery:${options.issuer}`;
    return jwtGuard({
      checks,
      keys: keySource(options, env),
      requiredClaims: options.requiredClaims ?? [],
      scopes: options.scopes ?? [],
      claimsToHeaders: Object.entries(options.claimsToHeaders ?? {}).map((
        [claim, header],
      ) => [claim, header.toLowerCase()] as const),
      forwardToken: options.forwardToken ?? true,
      tokenFrom: options.tokenFrom ?? {},
      // Routes that verify alike share what they verified: same checks, same keys.
      verified: sharedVerifiedTokens(env, JSON.stringify({ checks, source })),
    }, authFailures(env));
  },
};
