/**
 * How the `jwt` policy's shared JWKS cache behaves when the identity provider changes or fails,
 * against a real oidc-provider: key rotation is picked up without a restart, a flood of bogus
 * kids costs the provider almost nothing, an outage is ridden out on stale keys up to
 * `maxStale` and then refused with a clear reason, and reloads reuse the cache.
 */
import assert from "node:assert/strict";
import { readProblem } from "../helpers/gateway.ts";
import { pollFor } from "../helpers/reload.ts";
import { rogueKey, signWith } from "./forged_tokens.ts";
import { gatewayConfig, startJwtStack } from "./jwt_stack.ts";

Deno.test("jwt: key rotation at the provider is picked up without a restart", async () => {
  const stack = await startJwtStack((idp) => [
    // Default timings: the next background refresh is minutes away, so only the unknown-kid
    // refetch can explain the new key being accepted.
    { name: "rs", prefix: "/rs", options: { issuer: idp.issuer, audiences: [idp.rsAudience] } },
  ]);
  const { idp, call } = stack;
  try {
    const before = await idp.token();
    const first = await call("/rs/x", before);
    assert.equal(first.status, 200);
    await first.body?.cancel();
    assert.equal(idp.hits("/jwks"), 1);
    const oldKid = idp.keys.rsa.kid;

    await idp.rotateKeys();
    assert.notEqual(idp.keys.rsa.kid, oldKid);
    const after = await idp.token();

    const rotated = await call("/rs/x", after);
    assert.equal(rotated.status, 200, await rotated.clone().text());
    await rotated.body?.cancel();
    assert.equal(idp.hits("/jwks"), 2, "the unknown kid triggered exactly one refetch");

    // The retired key is gone from the JWKS: tokens it signed are now unknown.
    const retired = await call("/rs/x", before);
    assert.equal(retired.status, 401);
    assert.match((await readProblem(retired)).detail, /key its issuer does not publish/);
    assert.equal(
      await stack.metric(`ferry_auth_failures_total{policy="jwt",reason="unknown_kid"}`),
      1,
    );
  } finally {
    await stack.close();
  }
});

Deno.test("jwt: 1,000 tokens with random unknown kids cost the provider one JWKS fetch", async () => {
  const stack = await startJwtStack((idp) => [
    { name: "rs", prefix: "/rs", options: { issuer: idp.issuer, audiences: [idp.rsAudience] } },
  ]);
  const { idp, call } = stack;
  try {
    const warm = await call("/rs/x", await idp.token());
    assert.equal(warm.status, 200);
    await warm.body?.cancel();
    const fetchesBefore = idp.hits("/jwks");

    const base = { issuer: idp.issuer, audience: idp.rsAudience };
    const attacker = await rogueKey("ES256", "unused");
    const statuses = new Map<number, number>();
    // 1,000 requests, 50 at a time, each naming a kid never seen before.
    for (let batch = 0; batch < 20; batch++) {
      const tokens = await Promise.all(
        Array.from({ length: 50 }, () => signWith({ ...attacker, kid: crypto.randomUUID() }, base)),
      );
      const answers = await Promise.all(tokens.map(async (token) => {
        const res = await call("/rs/x", token);
        await res.body?.cancel();
        return res.status;
      }));
      for (const status of answers) statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
    assert.deepEqual([...statuses], [[401, 1000]]);
    const refetches = idp.hits("/jwks") - fetchesBefore;
    assert.ok(refetches <= 1, `${refetches} JWKS fetches for 1,000 unknown kids`);
    assert.equal(
      await stack.metric(`ferry_auth_failures_total{policy="jwt",reason="unknown_kid"}`),
      1000,
    );

    const still = await call("/rs/x", await idp.token());
    assert.equal(still.status, 200, "valid tokens are unaffected");
    await still.body?.cancel();
  } finally {
    await stack.close();
  }
});

Deno.test("jwt: provider down → stale keys serve until maxStale, then a clear 401", async () => {
  const stack = await startJwtStack((idp) => [{
    name: "rs",
    prefix: "/rs",
    options: {
      issuer: idp.issuer,
      audiences: [idp.rsAudience],
      // Keys go stale after 100ms and may be used 2s past that.
      jwksCache: { refreshInterval: "100ms", maxStale: "2s", fetchTimeout: "1s" },
    },
  }]);
  const { idp, call } = stack;
  const issuer = `issuer="${idp.issuer}"`;
  try {
    const token = await idp.token();
    const ok = await call("/rs/x", token);
    assert.equal(ok.status, 200);
    await ok.body?.cancel();

    await idp.stop();
    // A background refresh has failed: from here on, only cached keys can admit the token.
    await pollFor("a failed JWKS refresh", async () => {
      const errors = await stack.metric(`ferry_jwks_fetch_total{${issuer},result="error"}`);
      return errors > 0 ? errors : undefined;
    });
    const stale = await call("/rs/x", token);
    assert.equal(stale.status, 200, "served from stale keys while the provider is down");
    await stale.body?.cancel();

    const refused = await pollFor("keys past maxStale", async () => {
      const res = await call("/rs/x", token);
      if (res.status === 200) {
        await res.body?.cancel();
        return undefined;
      }
      return res;
    }, { timeoutMs: 10_000, intervalMs: 50 });
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get("www-authenticate") ?? "", /error="invalid_token"/);
    const { detail } = await readProblem(refused);
    assert.match(detail, /signing keys are [\d.]+s old, past the 2\.1s they may serve/);
    assert.equal(
      await stack.metric(`ferry_auth_failures_total{policy="jwt",reason="jwks_unavailable"}`),
      1,
    );
    assert.ok(await stack.metric(`ferry_jwks_age_seconds{${issuer}}`) > 2.1);
    const warned = stack.gw.logger.lines.filter((l) => l.message === "JWKS fetch failed");
    assert.ok(warned.length > 0 && warned.every((l) => l.level === "warn"));
  } finally {
    await stack.close();
  }
});

Deno.test("jwt: the JWKS cache is shared across reloads (no refetch)", async () => {
  const stack = await startJwtStack((idp) => [
    { name: "rs", prefix: "/rs", options: { issuer: idp.issuer, audiences: [idp.rsAudience] } },
  ]);
  const { idp, call } = stack;
  try {
    const token = await idp.token();
    const first = await call("/rs/x", token);
    assert.equal(first.status, 200);
    await first.body?.cancel();

    const options = { issuer: idp.issuer, audiences: [idp.rsAudience], forwardToken: false };
    await stack.gw.reload(gatewayConfig(stack.upstream.url, [
      { name: "rs", prefix: "/rs", options },
      { name: "more", prefix: "/more", options },
    ]));
    for (const path of ["/rs/x", "/more/x"]) {
      const res = await call(path, token);
      assert.equal(res.status, 200);
      assert.equal((await res.json()).headers.authorization, undefined, "the new config applies");
    }
    assert.equal(idp.hits("/jwks"), 1, "one fetch for the issuer, before and after the reload");
    assert.equal(idp.hits("/.well-known/openid-configuration"), 1);
  } finally {
    await stack.close();
  }
});
