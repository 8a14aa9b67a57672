/**
 * JWT verification cost per request, with keys already cached (the steady state of the `jwt`
 * policy: the JWKS was fetched at start-up and jose keeps the imported CryptoKeys). Ferry's
 * path (`verifyJwt`: header pre-check, key lookup by kid, signature, claims) is measured next
 * to a bare jose `jwtVerify` with the key in hand, so the overhead of the policy shows, and
 * next to the policy's steady state for a client repeating its token (a remembered
 * verification: SHA-256 of the token and a map lookup instead of a signature check).
 *
 *   deno bench --allow-net --allow-read --allow-env bench/jwt_bench.ts
 */
import { exportJWK, generateKeyPair, jwtVerify, SignJWT } from "jose";
import { keySetFrom } from "../src/identity/jwks_key_set.ts";
import { type JwtChecks, staticKeys, verifyJwt } from "../src/identity/jwt_verifier.ts";
import { VerifiedTokens } from "../src/identity/verified_tokens.ts";
import { composeChain } from "../src/policies/chain.ts";
import { jwtPolicy } from "../src/policies/jwt_policy.ts";
import type { PolicyEnv } from "../src/policies/policy.ts";
import type { PublicJwk } from "../src/policies/jwt.ts";
import type { ProxyState } from "../src/proxy/state.ts";
import { MemoryLogger } from "../src/observe/logger.ts";
import { Registry } from "prom-client";

const ISSUER = "https://issuer.bench.test";
const AUDIENCE = "bench-api";

async function fixture(alg: "RS256" | "ES256") {
  const { publicKey, privateKey } = await generateKeyPair(alg);
  // Two more keys in the set, so the lookup by kid has something to skip.
  const others = await Promise.all(
    ["other-1", "other-2"].map(async (kid) => ({
      ...await exportJWK((await generateKeyPair(alg)).publicKey),
      kid,
      alg,
      use: "sig",
    })),
  );
  const jwk = { ...await exportJWK(publicKey), kid: `${alg}-bench`, alg, use: "sig" };
  const keys = staticKeys(keySetFrom({ keys: [...others, jwk] }));
  const token = await new SignJWT({ scope: "read write", tenant: "acme" })
    .setProtectedHeader({ alg, kid: jwk.kid, typ: "at+jwt" })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject("user-1")
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(privateKey);
  const checks: JwtChecks = {
    issuer: ISSUER,
    audiences: [AUDIENCE],
    algorithms: ["RS256", "ES256"],
    clockToleranceSeconds: 30,
  };
  await verifyJwt(token, keys, checks); // imports and caches the CryptoKey
  return { token, keys, checks, publicKey, jwk };
}

const rs = await fixture("RS256");
const es = await fixture("ES256");
const memo = new VerifiedTokens();
await verifyJwt(rs.token, rs.keys, rs.checks, memo);
await verifyJwt(es.token, es.keys, es.checks, memo);

Deno.bench(
  "RS256 verifyJwt (ferry, cached JWKS key)",
  { group: "RS256", baseline: true },
  async () => {
    await verifyJwt(rs.token, rs.keys, rs.checks);
  },
);

Deno.bench("RS256 verifyJwt, repeated token (remembered)", { group: "RS256" }, async () => {
  await verifyJwt(rs.token, rs.keys, rs.checks, memo);
});

Deno.bench("RS256 jose jwtVerify (key in hand)", { group: "RS256" }, async () => {
  await jwtVerify(rs.token, rs.publicKey, { issuer: ISSUER, audience: AUDIENCE });
});

Deno.bench(
  "ES256 verifyJwt (ferry, cached JWKS key)",
  { group: "ES256", baseline: true },
  async () => {
    await verifyJwt(es.token, es.keys, es.checks);
  },
);

Deno.bench("ES256 jose jwtVerify (key in hand)", { group: "ES256" }, async () => {
  await jwtVerify(es.token, es.publicKey, { issuer: ISSUER, audience: AUDIENCE });
});

Deno.bench("ES256 verifyJwt, repeated token (remembered)", { group: "ES256" }, async () => {
  await verifyJwt(es.token, es.keys, es.checks, memo);
});

// The whole policy middleware per request (token lookup, remembered verification, scope check,
// subject, one claim header), as a route runs it: what `jwt` adds to a proxied request.
const policyEnv: PolicyEnv = {
  env: () => undefined,
  shared: (_key, create) => create(),
  metrics: new Registry(),
  logger: new MemoryLogger(),
};
const middleware = jwtPolicy.create({
  issuer: ISSUER,
  audiences: [AUDIENCE],
  jwks: { keys: [rs.jwk as PublicJwk] },
  scopes: ["read"],
  claimsToHeaders: { sub: "x-user-id" },
}, policyEnv);
const request = new Request("http://gateway.test/orders/7", {
  headers: { authorization: `Bearer ${rs.token}`, accept: "application/json" },
});
// The real chain (Hono Context and all), ending in an empty 200 instead of forwarding.
const chain = composeChain([{ name: "jwt", middleware }], () => new Response(null));

Deno.bench("jwt policy in a route chain, RS256, repeated token", { group: "policy" }, async () => {
  const proxy = { upstreamPath: "/orders/7" } as ProxyState;
  const res = await chain(request, undefined, proxy);
  if (res.status !== 200 || proxy.subject !== "user-1") throw new Error("not admitted");
});
