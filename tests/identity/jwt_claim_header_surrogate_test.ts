/**
 * A claim copied to a request header (`claimsToHeaders`) whose string holds a lone UTF-16
 * surrogate: JSON allows `"\ud83d"`, and an issuer that cuts a display name at a fixed number
 * of UTF-16 units can split an emoji so. Percent-encoding such a string threw `URIError`, and
 * every request of that user answered 500. Through the real gateway, with static keys.
 */
import assert from "node:assert/strict";
import { exportJWK, generateKeyPair } from "jose";
import { claimHeaderValue } from "../../src/identity/jwt_claims.ts";
import { signWith } from "./forged_tokens.ts";
import { AUDIENCE, ISSUER, withJwtGateway } from "./jwt_fixture.ts";
import type { Echo } from "./jwt_stack.ts";

Deno.test("jwt: a claim with a lone surrogate reaches its header as U+FFFD, not a 500", async () => {
  const { publicKey, privateKey } = await generateKeyPair("ES256");
  const jwk = { ...await exportJWK(publicKey), kid: "k1", alg: "ES256", use: "sig" };
  await withJwtGateway({
    jwks: { keys: [jwk] },
    algorithms: ["ES256"],
    claimsToHeaders: { name: "x-user-name", groups: "x-groups" },
  }, async (gatewayUrl) => {
    // "Ana 😀" cut after the emoji's first UTF-16 unit, and a list holding a lone low half.
    const claims = { sub: "ana\ud83d", name: "Ana \ud83d", groups: ["ops", "\ude00x"] };
    const token = await signWith({ privateKey, kid: "k1", alg: "ES256" }, {
      issuer: ISSUER,
      audience: AUDIENCE,
    }, claims);
    const res = await fetch(`${gatewayUrl}/x`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200, await res.clone().text());
    const echo = await res.json() as Echo;
    assert.equal(echo.headers["x-user-name"], "Ana%20%EF%BF%BD");
    assert.equal(echo.headers["x-groups"], "ops%2C%EF%BF%BDx");
  });
});

Deno.test("claimHeaderValue: lone surrogates become U+FFFD; well-formed text is unchanged", () => {
  assert.equal(claimHeaderValue("\udc00"), "%EF%BF%BD");
  assert.equal(claimHeaderValue("Zoë 😀"), "Zo%C3%AB%20%F0%9F%98%80");
  assert.equal(claimHeaderValue("plain text"), "plain text");
  // JSON.stringify escapes lone surrogates itself: an object stays printable ASCII.
  assert.equal(claimHeaderValue({ n: "\ud83d" }), '{"n":"\\ud83d"}');
});
