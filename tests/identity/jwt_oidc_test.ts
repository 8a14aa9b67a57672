/**
 * The `jwt` policy against a real OpenID Connect provider (npm `oidc-provider`) issuing access
 * tokens by client credentials: what is admitted, what reaches the upstream, and every way a
 * token is refused (401 `invalid_token`, 403 `insufficient_scope`), with the challenge, the
 * problem body and the failure counter each refusal must produce.
 */
import assert from "node:assert/strict";
import { readProblem } from "../helpers/gateway.ts";
import { EXTRA_CLAIMS } from "../helpers/oidc_provider.ts";
import { hmacWithPublicKey, rogueKey, signWith, tampered, unsignedToken } from "./forged_tokens.ts";
import { type Echo, type JwtStack, startJwtStack } from "./jwt_stack.ts";

const CLAIM_HEADERS = {
  sub: "x-user-id",
  tenant: "x-tenant-id",
  "org.id": "x-org-id",
  "org.name": "x-org-name",
};

function rsRoute(idp: JwtStack["idp"], extra: Record<string, unknown> = {}) {
  return {
    issuer: idp.issuer,
    audiences: [idp.rsAudience],
    scopes: ["read"],
    claimsToHeaders: CLAIM_HEADERS,
    ...extra,
  };
}

Deno.test("jwt: tokens from the provider are admitted, with claim headers upstream", async (t) => {
  const stack = await startJwtStack((idp) => [
    // Two routes of the same issuer (discovery), one cache: one fetch at start-up.
    { name: "rs", prefix: "/rs", options: rsRoute(idp) },
    { name: "es", prefix: "/es", options: { issuer: idp.issuer, audiences: [idp.esAudience] } },
    {
      name: "private",
      prefix: "/private",
      options: rsRoute(idp, { forwardToken: false, requiredClaims: ["tenant", "org.id"] }),
    },
  ]);
  const { idp, call } = stack;
  try {
    await t.step(
      "an RS256 access token: 200, claims as headers, forged copies removed",
      async () => {
        const token = await idp.token({ scope: "read" });
        const res = await call("/rs/orders", token, {
          "x-user-id": "admin",
          "X-Tenant-Id": "someone-else",
        });
        assert.equal(res.status, 200, await res.clone().text());
        const echo: Echo = await res.json();
        assert.equal(echo.headers["x-user-id"], "ferry-tests", "sub of a client-credentials token");
        assert.equal(echo.headers["x-tenant-id"], EXTRA_CLAIMS.tenant);
        assert.equal(echo.headers["x-org-id"], EXTRA_CLAIMS.org.id);
        // Non-ASCII claim values are percent-encoded (UTF-8), never sent as raw bytes.
        assert.equal(echo.headers["x-org-name"], encodeURIComponent(EXTRA_CLAIMS.org.name));
        assert.equal(echo.headers["authorization"], `Bearer ${token}`, "forwarded by default");
      },
    );

    await t.step("an ES256 access token on a route of the ES256 audience: 200", async () => {
      const token = await idp.token({ audience: idp.esAudience });
      const res = await call("/es/x", token);
      assert.equal(res.status, 200, await res.clone().text());
      await res.body?.cancel();
    });

    await t.step("forwardToken: false keeps the token away from the upstream", async () => {
      const res = await call("/private/x", await idp.token());
      assert.equal(res.status, 200);
      const echo: Echo = await res.json();
      assert.equal(echo.headers["authorization"], undefined);
      assert.equal(echo.headers["x-user-id"], "ferry-tests");
    });

    await t.step("one discovery and one JWKS fetch served all three routes", async () => {
      assert.equal(idp.hits("/.well-known/openid-configuration"), 1);
      assert.equal(idp.hits("/jwks"), 1);
      const issuer = `issuer="${idp.issuer}"`;
      assert.equal(await stack.metric(`ferry_jwks_fetch_total{${issuer},result="success"}`), 1);
      const age = await stack.metric(`ferry_jwks_age_seconds{${issuer}}`);
      assert.ok(age >= 0 && age < 60, `age ${age}`);
    });
  } finally {
    await stack.close();
  }
});

Deno.test("jwt: bad tokens are refused with 401 invalid_token and a reason", async (t) => {
  const stack = await startJwtStack((idp) => [
    { name: "rs", prefix: "/rs", options: rsRoute(idp, { requiredClaims: ["tenant"] }) },
    { name: "admin", prefix: "/admin", options: rsRoute(idp, { scopes: ["read", "admin"] }) },
  ]);
  const { idp, call } = stack;
  const base = { issuer: idp.issuer, audience: idp.rsAudience };
  const now = Math.floor(Date.now() / 1000);
  const idpKey = () => idp.keys.rsa;

  /** Sends `token`, checks the refusal, and returns its problem detail. */
  const refused = async (
    token: string | undefined,
    reason: string,
    { status = 401, path = "/rs/x" } = {},
  ) => {
    const before = await stack.metric(`ferry_auth_failures_total{policy="jwt",reason="${reason}"}`);
    const res = await call(path, token);
    assert.equal(res.status, status);
    assert.equal(res.headers.get("cache-control"), "no-store");
    const challenge = res.headers.get("www-authenticate") ?? "";
    const problem = await readProblem(res);
    if (token) assert.ok(!problem.detail.includes(token), "the detail never echoes the token");
    if (token) assert.ok(!challenge.includes(token), "the challenge never echoes the token");
    const after = await stack.metric(`ferry_auth_failures_total{policy="jwt",reason="${reason}"}`);
    assert.equal(after, before + 1, `counted under reason ${reason}: ${problem.detail}`);
    assert.equal(stack.upstream.received.length, 0, "nothing refused reaches the upstream");
    return { challenge, detail: problem.detail };
  };

  try {
    await t.step("no token: 401 with a bare Bearer challenge (RFC 6750 §3.1)", async () => {
      const { challenge } = await refused(undefined, "missing_token");
      assert.equal(challenge, 'Bearer realm="ferry"');
    });

    await t.step("a Basic credential is not a bearer token", async () => {
      const res = await call("/rs/x", undefined, { authorization: "Basic dXNlcjpwYXNz" });
      assert.equal(res.status, 401);
      assert.equal(res.headers.get("www-authenticate"), 'Bearer realm="ferry"');
      await res.body?.cancel();
    });

    await t.step("garbage: malformed", async () => {
      const { challenge } = await refused("not.a.jwt", "malformed");
      assert.match(challenge, /^Bearer realm="ferry", error="invalid_token", error_description="/);
    });

    await t.step("expired (beyond the 30s tolerance): expired", async () => {
      const token = await signWith(idpKey(), base, { iat: now - 900, exp: now - 120 });
      const { challenge, detail } = await refused(token, "expired");
      assert.match(challenge, /error="invalid_token", error_description="the token has expired"/);
      assert.match(detail, /expired/);
    });

    await t.step("not yet valid: not_yet_valid", async () => {
      await refused(await signWith(idpKey(), base, { nbf: now + 600 }), "not_yet_valid");
    });

    await t.step("another issuer, signed with the trusted key: bad_issuer", async () => {
      const token = await signWith(idpKey(), { ...base, issuer: "https://evil.example" });
      await refused(token, "bad_issuer");
    });

    await t.step("another audience: bad_audience", async () => {
      const token = await signWith(idpKey(), { ...base, audience: "https://other.api" });
      await refused(token, "bad_audience");
    });

    await t.step("a real token for the provider's other audience: bad_audience", async () => {
      await refused(await idp.token({ audience: idp.esAudience }), "bad_audience");
    });

    await t.step("alg none: alg_not_allowed", async () => {
      await refused(unsignedToken(base), "alg_not_allowed");
    });

    await t.step(
      "HS256 keyed with the RSA public key (HS/RS confusion): alg_not_allowed",
      async () => {
        await refused(await hmacWithPublicKey(idpKey(), base), "alg_not_allowed");
      },
    );

    await t.step("a real token with its payload edited: bad_signature", async () => {
      const token = tampered(await idp.token(), (p) => ({ ...p, sub: "admin" }));
      await refused(token, "bad_signature");
    });

    await t.step("signed by another key under a published kid: bad_signature", async () => {
      const impostor = await rogueKey("RS256", idpKey().kid);
      await refused(await signWith(impostor, base), "bad_signature");
    });

    await t.step("a kid the provider does not publish: unknown_kid", async () => {
      const rogue = await rogueKey("RS256", "rogue-kid");
      const { detail } = await refused(await signWith(rogue, base), "unknown_kid");
      assert.match(detail, /key its issuer does not publish/);
    });

    await t.step("no exp: missing_claim", async () => {
      await refused(await signWith(idpKey(), base, { exp: undefined }), "missing_claim");
    });

    await t.step("a required claim absent: missing_claim, naming it", async () => {
      const token = await signWith(idpKey(), base, {});
      const { detail } = await refused(token, "missing_claim");
      assert.equal(detail, "the token has no 'tenant' claim");
    });

    await t.step("a scope missing: 403 insufficient_scope with the scopes needed", async () => {
      const token = await idp.token({ scope: "read" });
      const { challenge, detail } = await refused(token, "insufficient_scope", {
        status: 403,
        path: "/admin/x",
      });
      assert.match(
        challenge,
        /^Bearer realm="ferry", error="insufficient_scope", scope="read admin"/,
      );
      assert.match(detail, /admin/);
    });

    await t.step("the same route admits a token granting the scope", async () => {
      const res = await call("/admin/x", await idp.token({ scope: "read admin" }));
      assert.equal(res.status, 200, await res.clone().text());
      await res.body?.cancel();
    });
  } finally {
    await stack.close();
  }
});

Deno.test("jwt: tokens from a cookie or the query; the subject reaches the access log", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ferry-jwt-" });
  const logFile = `${dir}/access.log`;
  const stack = await startJwtStack((idp) => [{
    name: "web",
    prefix: "/web",
    options: {
      issuer: idp.issuer,
      audiences: [idp.rsAudience],
      tokenFrom: { cookie: "session", query: "access_token" },
      forwardToken: false,
    },
  }], { accessLog: { to: { file: logFile } } });
  const { idp, call } = stack;
  try {
    const token = await idp.token();
    const byCookie = await call("/web/a", undefined, { cookie: `theme=dark; session=${token}` });
    assert.equal(byCookie.status, 200, await byCookie.clone().text());
    const cookieEcho: Echo = await byCookie.json();
    assert.equal(cookieEcho.headers["cookie"], "theme=dark", "the token cookie is not forwarded");

    const byQuery = await call(`/web/b?x=1&access_token=${token}&y=%20`);
    assert.equal(byQuery.status, 200, await byQuery.clone().text());
    const queryEcho: Echo = await byQuery.json();
    assert.equal(queryEcho.query, "?x=1&y=%20", "the token parameter is not forwarded");

    const missing = await call("/web/c", undefined, { cookie: "theme=dark" });
    assert.equal(missing.status, 401);
    await missing.body?.cancel();
  } finally {
    await stack.close();
  }
  try {
    const lines = (await Deno.readTextFile(logFile)).trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => [l.path, l.status, l.subject]), [
      ["/web/a", 200, "ferry-tests"],
      ["/web/b", 200, "ferry-tests"],
      ["/web/c", 401, undefined],
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
