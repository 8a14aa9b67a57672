/** Remembered verifications: reused only for the same bytes, keys and an unexpired token. */
import assert from "node:assert/strict";
import { exportJWK, generateKeyPair, type JWTVerifyGetKey, SignJWT } from "jose";
import { type KeySet, keySetFrom } from "../../src/identity/jwks_key_set.ts";
import {
  type KeySource,
  rememberedPayload,
  staticKeys,
  verifyJwt,
} from "../../src/identity/jwt_verifier.ts";
import { VerifiedTokens } from "../../src/identity/verified_tokens.ts";

const CHECKS = {
  issuer: "https://issuer.test",
  audiences: ["api"],
  algorithms: ["ES256"],
  clockToleranceSeconds: 30,
};

async function fixture() {
  const { publicKey, privateKey } = await generateKeyPair("ES256");
  const jwk = { ...await exportJWK(publicKey), kid: "k", alg: "ES256" };
  const set = keySetFrom({ keys: [jwk] });
  let lookups = 0;
  // The same keys, counting how often a signature check needed a key.
  const counted: KeySet = {
    ...set,
    resolve: ((header, token) => {
      lookups++;
      return set.resolve(header, token);
    }) as JWTVerifyGetKey,
  };
  const sign = (sub: string) =>
    new SignJWT({ sub }).setProtectedHeader({ alg: "ES256", kid: "k" })
      .setIssuer(CHECKS.issuer).setAudience("api").setExpirationTime("5m").sign(privateKey);
  return { keys: counted, sign, lookups: () => lookups };
}

Deno.test("verified tokens: a repeated token is verified once", async () => {
  const { keys, sign, lookups } = await fixture();
  const memo = new VerifiedTokens();
  const token = await sign("u1");
  for (let i = 0; i < 5; i++) {
    assert.equal((await verifyJwt(token, staticKeys(keys), CHECKS, memo)).sub, "u1");
  }
  assert.equal(lookups(), 1);
  // A different token (even one character) is checked in full.
  const other = await sign("u2");
  await verifyJwt(other, staticKeys(keys), CHECKS, memo);
  assert.equal(lookups(), 2);
  // Without a memo, every call checks the signature.
  await verifyJwt(token, staticKeys(keys), CHECKS);
  assert.equal(lookups(), 3);
});

Deno.test("verified tokens: other keys, expiry and the size bound all forget", async () => {
  const { keys } = await fixture();
  const memo = new VerifiedTokens(2);
  const payload = { sub: "u", exp: 1_000 };
  memo.remember("a", { ...payload }, keys);
  assert.equal(memo.get("a", keys, 900, 30)?.sub, "u");
  const rotated = { ...keys };
  assert.equal(memo.get("a", rotated, 900, 30), undefined, "another key set: forgotten");
  assert.equal(memo.get("a", keys, 900, 30), undefined, "and gone for good");

  memo.remember("b", { ...payload }, keys);
  assert.equal(memo.get("b", keys, 1_029, 30)?.sub, "u", "within the tolerance");
  assert.equal(memo.get("b", keys, 1_030, 30), undefined, "expired");

  memo.remember("c", { ...payload }, keys);
  memo.remember("d", { ...payload }, keys);
  memo.get("c", keys, 0, 0); // c is now the most recently used
  memo.remember("e", { ...payload }, keys);
  assert.equal(memo.size, 2);
  assert.ok(memo.get("c", keys, 0, 0) && memo.get("e", keys, 0, 0), "d was evicted");
  memo.remember("f", { sub: "no-exp" }, keys);
  assert.equal(memo.get("f", keys, 0, 0), undefined, "tokens without exp are never kept");
});

Deno.test("verified tokens: the synchronous lookup answers only for keys at hand", async () => {
  const { keys, sign } = await fixture();
  const memo = new VerifiedTokens();
  const token = await sign("u1");
  const source = staticKeys(keys);
  assert.equal(rememberedPayload(token, source, CHECKS, memo), undefined, "not verified yet");
  await verifyJwt(token, source, CHECKS, memo);
  assert.equal(rememberedPayload(token, source, CHECKS, memo)?.sub, "u1");
  // Keys that would need a fetch first (none cached, or past maxStale): no answer without it.
  const fetching: KeySource = { ...source, usableKeys: () => undefined };
  assert.equal(rememberedPayload(token, fetching, CHECKS, memo), undefined);
  // Rotated keys: the token was checked against the old set, so it is checked again.
  const rotated: KeySource = { ...source, usableKeys: () => ({ ...keys }) };
  assert.equal(rememberedPayload(token, rotated, CHECKS, memo), undefined);
});
