/**
 * Key rotation for tokens without a `kid`. Some issuers (and many internal token minters) omit
 * `kid`; when they rotate, the new key's tokens match the cached keys by algorithm, fail their
 * signature checks, and used to be refused as `bad_signature` until the next background refresh
 * (minutes away). Such a token now asks for newer keys once, under the same cooldown as an
 * unknown kid, and is checked against the keys the rotation added only. Against a real JWKS
 * server on 127.0.0.1 (`startJwksServer`) whose keys the test changes, through the gateway.
 */
import assert from "node:assert/strict";
import { exportJWK, generateKeyPair, type JWK } from "jose";
import { JwksCache } from "../../src/identity/jwks_cache.ts";
import { fixedJwksUri } from "../../src/identity/jwks_locator.ts";
import { verifyJwt } from "../../src/identity/jwt_verifier.ts";
import { readProblem, startEchoUpstream, startTestGateway } from "../helpers/gateway.ts";
import { rogueKey, signWith } from "./forged_tokens.ts";
import { type JwksServer, startJwksServer } from "./jwks_server.ts";

const ISSUER = "https://idp.ferry.test";
const AUDIENCE = "orders";
const BASE = { issuer: ISSUER, audience: AUDIENCE };

interface Signer {
  privateKey: CryptoKey;
  alg: "RS256";
  /** The public key as published: no `kid`. */
  jwk: JWK;
}

async function kidlessSigner(): Promise<Signer> {
  const { publicKey, privateKey } = await generateKeyPair("RS256");
  return { privateKey, alg: "RS256", jwk: { ...await exportJWK(publicKey), alg: "RS256" } };
}

const [first, second, rotatedIn, stranger] = await Promise.all(
  Array.from({ length: 4 }, kidlessSigner),
);

/** A gateway whose `jwt` route trusts the keys `jwks` serves; the cooldown outlasts any test. */
async function withGateway(
  jwks: JwksServer,
  fn: (call: (token: string) => Promise<{ status: number; detail?: string }>) => Promise<void>,
) {
  const upstream = startEchoUpstream();
  const gw = await startTestGateway({
    upstreams: { api: { targets: [upstream.url] } },
    routes: [{
      name: "guarded",
      upstream: "api",
      use: [{
        kind: "jwt",
        options: {
          issuer: ISSUER,
          audiences: [AUDIENCE],
          jwksUri: `${jwks.url}/keys`,
          jwksCache: { unknownKidCooldown: "1h" },
        },
      }],
    }],
  }, { admin: false });
  const call = async (token: string) => {
    const res = await fetch(`${gw.url}/x`, { headers: { authorization: `Bearer ${token}` } });
    if (res.status === 200) {
      await res.body?.cancel();
      return { status: 200 };
    }
    return { status: res.status, detail: (await readProblem(res)).detail };
  };
  try {
    await fn(call);
  } finally {
    await gw.close();
    await upstream.close();
  }
}

const OK = { status: 200 };
const BAD_SIGNATURE = { status: 401, detail: "the token's signature is invalid" };
const UNKNOWN_KID = {
  status: 401,
  detail: "the token was signed with a key its issuer does not publish",
};

Deno.test("jwt: a kid-less token signed by a key rotated in is admitted after one JWKS refetch", async () => {
  const jwks = startJwksServer({ keys: [first.jwk] });
  try {
    await withGateway(jwks, async (call) => {
      assert.deepEqual(await call(await signWith(first, BASE)), OK);
      assert.equal(jwks.requests.length, 1);

      jwks.keys = { keys: [first.jwk, rotatedIn.jwk] }; // the issuer rotates a key in
      assert.deepEqual(await call(await signWith(rotatedIn, BASE)), OK);
      assert.equal(jwks.requests.length, 2, "exactly one refetch");

      assert.deepEqual(await call(await signWith(rotatedIn, BASE)), OK);
      assert.deepEqual(await call(await signWith(first, BASE)), OK);
      assert.equal(jwks.requests.length, 2, "the new keys are kept: no further fetch");
    });
  } finally {
    await jwks.close();
  }
});

Deno.test("jwt: 500 kid-less tokens no key verifies cost the provider one JWKS fetch per cooldown", async () => {
  const jwks = startJwksServer({ keys: [first.jwk, second.jwk] });
  try {
    await withGateway(jwks, async (call) => {
      assert.deepEqual(await call(await signWith(first, BASE)), OK);
      assert.equal(jwks.requests.length, 1);

      const answers = new Map<string, number>();
      for (let batch = 0; batch < 10; batch++) {
        const tokens = await Promise.all(
          Array.from({ length: 50 }, () => signWith(stranger, BASE, { jti: crypto.randomUUID() })),
        );
        for (const answer of await Promise.all(tokens.map(call))) {
          const key = JSON.stringify(answer);
          answers.set(key, (answers.get(key) ?? 0) + 1);
        }
      }
      assert.deepEqual([...answers], [[JSON.stringify(BAD_SIGNATURE), 500]]);
      assert.equal(jwks.requests.length, 2, "one refetch, then the cooldown holds");

      // The cooldown is the one unknown kids use: they do not get a fetch of their own either.
      const rogue = await rogueKey("RS256", "rogue-kid");
      assert.deepEqual(await call(await signWith(rogue, BASE)), UNKNOWN_KID);
      assert.equal(jwks.requests.length, 2);
    });
  } finally {
    await jwks.close();
  }
});

Deno.test("jwt: after a rotation, a kid-less token is checked against the added keys only", async () => {
  const jwks = startJwksServer({ keys: [first.jwk, second.jwk] });
  const cache = new JwksCache(ISSUER, fixedJwksUri(`${jwks.url}/keys`), {
    refreshIntervalMs: 3_600_000,
    unknownKidCooldownMs: 3_600_000,
    maxStaleMs: 3_600_000,
    fetchTimeoutMs: 5_000,
  });
  const checks = {
    issuer: ISSUER,
    audiences: [AUDIENCE],
    algorithms: ["RS256"],
    clockToleranceSeconds: 30,
  };
  // Every signature check jose makes goes through SubtleCrypto.verify: count them.
  const subtle = crypto.subtle;
  const verify = subtle.verify;
  let signatureChecks = 0;
  subtle.verify = function (...args: Parameters<SubtleCrypto["verify"]>) {
    signatureChecks++;
    return verify.apply(subtle, args);
  };
  try {
    await verifyJwt(await signWith(second, BASE), cache, checks);
    jwks.keys = { keys: [first.jwk, second.jwk, rotatedIn.jwk] };
    signatureChecks = 0;

    const payload = await verifyJwt(await signWith(rotatedIn, BASE), cache, checks);
    assert.equal(payload.iss, ISSUER);
    assert.equal(jwks.requests.length, 2, "one refetch");
    assert.equal(signatureChecks, 3, "the 2 cached keys once each, then only the added key");
  } finally {
    subtle.verify = verify;
    await cache.close();
    await jwks.close();
  }
});
