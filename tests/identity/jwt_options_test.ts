/**
 * Validation of `jwt` options through the config, as a user meets it: each unsafe or broken
 * option is reported at its exact path with a message that says what to change.
 */
import assert from "node:assert/strict";
import { validateConfig } from "../../src/config/validate.ts";

const BASE = { issuer: "https://login.example.com", audiences: ["api"] };

/** Validates a config whose one route uses `jwt` with `options`; returns path → message. */
function problems(options: Record<string, unknown>): Map<string, string> {
  const result = validateConfig({
    upstreams: { api: { targets: ["http://127.0.0.1:9"] } },
    routes: [{ upstream: "api", use: [{ kind: "jwt", options }] }],
  });
  const out = new Map<string, string>();
  if (!result.ok) {
    for (const e of result.errors) {
      out.set(e.path.replace("routes[0].use[0].options.", ""), e.message);
    }
  }
  return out;
}

function assertProblem(options: Record<string, unknown>, path: string, message: RegExp) {
  const found = problems(options);
  const at = found.get(path);
  assert.ok(at !== undefined, `no problem at ${path}: ${JSON.stringify([...found])}`);
  assert.match(at, message);
}

Deno.test("jwt options: the minimal discovery config is valid", () => {
  assert.deepEqual([...problems(BASE)], []);
});

Deno.test("jwt options: 'none' and HS* algorithms are refused, by position", () => {
  assertProblem(
    { ...BASE, algorithms: ["RS256", "none"] },
    "algorithms[1]",
    /^"none" must not be used: it accepts unsigned tokens/,
  );
  assertProblem({ ...BASE, algorithms: ["HS256"] }, "algorithms[0]", /HS\/RS key confusion/);
  assertProblem({ ...BASE, algorithms: ["RS257"] }, "algorithms[0]", /must be one of RS256/);
  assertProblem({ ...BASE, algorithms: [] }, "algorithms", /must not be empty/);
});

Deno.test("jwt options: an audience is required", () => {
  assertProblem({ issuer: BASE.issuer }, "audiences", /missing/);
  assertProblem({ ...BASE, audiences: [] }, "audiences", /at least one audience/);
});

Deno.test("jwt options: where keys come from", () => {
  assertProblem({ ...BASE, issuer: "login" }, "issuer", /http\(s\) URL for OIDC discovery/);
  assert.deepEqual([...problems({ ...BASE, issuer: "login", jwksUri: "https://x/keys" })], []);
  assertProblem({ ...BASE, jwksUri: "ftp://x/keys" }, "jwksUri", /must be an http\(s\) URL/);
  const jwk = { kty: "EC", crv: "P-256", x: "AAAA", y: "BBBB" };
  assertProblem(
    { ...BASE, jwksUri: "https://x/keys", jwks: { keys: [jwk] } },
    "jwks",
    /cannot be used with "jwksUri"/,
  );
  assertProblem(
    { ...BASE, jwks: { keys: [{ ...jwk, d: "CCCC" }] } },
    "jwks.keys[0]",
    /must be a public key: remove its private members \(d\)/,
  );
  assertProblem(
    { ...BASE, jwks: { keys: [{ kty: "RSA", e: "AQAB" }] } },
    "jwks.keys[0].n",
    /an RSA key needs "n"/,
  );
  assertProblem(
    { ...BASE, jwks: { keys: [{ kty: "oct", k: "c2VjcmV0" }] } },
    "jwks.keys[0].kty",
    /expected "RSA" or "EC" or "OKP"/,
  );
});

Deno.test("jwt options: claim headers cannot be ones the gateway or the token owns", () => {
  assertProblem(
    { ...BASE, claimsToHeaders: { sub: "Authorization" } },
    "claimsToHeaders.sub",
    /must not be a header the gateway or the token owns/,
  );
  assertProblem(
    { ...BASE, claimsToHeaders: { sub: "x user" } },
    "claimsToHeaders.sub",
    /valid HTTP header name/,
  );
  assertProblem(
    { ...BASE, claimsToHeaders: { sub: "x-user", client_id: "X-User" } },
    "claimsToHeaders.client_id",
    /must differ from the header of claim "sub"/,
  );
});

Deno.test("jwt options: durations, scopes and token sources", () => {
  assertProblem({ ...BASE, clockTolerance: "2h" }, "clockTolerance", /from "0s" to "1h"/);
  assertProblem(
    { ...BASE, jwksCache: { refreshInterval: "soon" } },
    "jwksCache.refreshInterval",
    /duration/,
  );
  assertProblem(
    { ...BASE, jwksCache: { maxstale: "1h" } },
    "jwksCache.maxstale",
    /did you mean "maxStale"/,
  );
  assertProblem({ ...BASE, scopes: ["read write"] }, "scopes[0]", /must be a scope name/);
  assertProblem({ ...BASE, tokenFrom: { cookie: "a b" } }, "tokenFrom.cookie", /cookie name/);
});
