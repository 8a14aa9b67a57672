/**
 * A key rotation racing a background refresh. The refresh asked the provider just before it
 * rotated, so it brings back the old keys; a token signed with the new key arrives meanwhile.
 * The cache used to wait for that refresh, see no new keys and refuse the kid, without asking
 * again although the unknown-kid cooldown had not been used. Against a real local JWKS server
 * whose answers the test holds and releases; the cooldown clock is injected (no waiting).
 */
import assert from "node:assert/strict";
import { exportJWK, generateKeyPair, type JWK } from "jose";
import { JwksCache } from "../../src/identity/jwks_cache.ts";
import { fixedJwksUri } from "../../src/identity/jwks_locator.ts";

async function publicKeyWithKid(kid: string): Promise<JWK> {
  const { publicKey } = await generateKeyPair("ES256");
  return { ...await exportJWK(publicKey), kid, alg: "ES256", use: "sig" };
}

Deno.test("jwks cache: a refresh that raced a rotation is followed by a refetch for the new kid", async () => {
  let published = { keys: [await publicKeyWithKid("old")] };
  const rotated = { keys: [await publicKeyWithKid("new")] };
  let requests = 0;
  let secondArrived!: () => void;
  const arrived = new Promise<void>((resolve) => secondArrived = resolve);
  let releaseSecond!: () => void;
  const released = new Promise<void>((resolve) => releaseSecond = resolve);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async () => {
    // What the provider publishes when the request reaches it, sent when the test says so.
    const body = JSON.stringify(published);
    if (++requests === 2) {
      secondArrived();
      await released;
    }
    return new Response(body, { headers: { "content-type": "application/jwk-set+json" } });
  });
  const cache = new JwksCache(
    "https://idp.ferry.test",
    fixedJwksUri(`http://127.0.0.1:${server.addr.port}/keys`),
    // Refreshed again at once (real 1 ms timer): the second request is a background refresh.
    {
      refreshIntervalMs: 1,
      unknownKidCooldownMs: 30_000,
      maxStaleMs: 3_600_000,
      fetchTimeoutMs: 5_000,
    },
    { now: () => 0 },
  );
  try {
    cache.start();
    const before = await cache.keys();
    assert.deepEqual(before.kids, ["old"]);
    await arrived; // the background refresh has reached the provider, with the old keys...
    published = rotated; // ...and the provider rotates while its answer is on the way.
    const lookup = cache.keysAfterUnknownKid(before);
    releaseSecond();
    const after = await lookup;
    assert.deepEqual(after?.kids, ["new"], "the new kid is fetched, the cooldown allowing it");
  } finally {
    await cache.close();
    await server.shutdown();
  }
});
