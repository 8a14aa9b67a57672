/**
 * `clockTolerance` is documented as leeway for `exp`, `nbf` and `iat`, but jose looks at `iat`
 * only when a maximum token age is set, so a token issued an hour in the future was admitted.
 * Through a real gateway with static keys (no identity provider needed: the keys are the
 * test's own) and a real echo upstream.
 */
import assert from "node:assert/strict";
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { readRefusal, startIdentityGateway } from "../policies/identity_harness.ts";

const ISSUER = "https://idp.ferry.test";
const AUDIENCE = "orders";

Deno.test("jwt: a token issued beyond the clock tolerance in the future is not_yet_valid", async () => {
  const { publicKey, privateKey } = await generateKeyPair("ES256");
  const publicJwk = { ...await exportJWK(publicKey), kid: "k1", alg: "ES256", use: "sig" };
  const now = Math.floor(Date.now() / 1000);
  const sign = (claims: JWTPayload) =>
    new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: "ana", exp: now + 7200, ...claims })
      .setProtectedHeader({ alg: "ES256", kid: "k1" })
      .sign(privateKey);
  const gw = await startIdentityGateway({
    kind: "jwt",
    options: {
      issuer: ISSUER,
      audiences: [AUDIENCE],
      jwks: { keys: [publicJwk] },
      algorithms: ["ES256"],
      clockTolerance: "30s",
    },
  });
  const call = (token: string) =>
    fetch(`${gw.url}/orders`, { headers: { authorization: `Bearer ${token}` } });
  try {
    const future = await sign({ iat: now + 3600 });
    // Twice: a refusal must not be remembered as a success by the verified-token memo.
    for (let i = 0; i < 2; i++) {
      const refusal = await readRefusal(await call(future));
      assert.equal(refusal.status, 401);
      assert.equal(refusal.detail, "the token is not valid yet");
      assert.match(refusal.challenge ?? "", /error="invalid_token"/);
    }
    assert.equal(await gw.failures("jwt", "not_yet_valid"), 2);
    assert.equal(gw.upstreamCalls, 0);

    // Within the tolerance (issuer clock a little ahead), and without `iat` at all: admitted.
    for (const token of [await sign({ iat: now + 10 }), await sign({})]) {
      const res = await call(token);
      assert.equal(res.status, 200, await res.clone().text());
      await res.body?.cancel();
    }
    assert.equal(gw.upstreamCalls, 2);
  } finally {
    await gw.close();
  }
});
