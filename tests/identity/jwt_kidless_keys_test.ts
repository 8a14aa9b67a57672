/**
 * Tokens without a `kid`, verified against a key set holding several keys of their algorithm:
 * jose cannot pick the key, so every candidate is tried and the one whose signature verifies
 * wins. Run through the real gateway, with the keys served by a real JWKS endpoint and given as
 * static `jwks`. A published key that jose imports but refuses to use (an RSA modulus under
 * 2048 bits, still found in older issuers' sets) used to end the search with `bad_signature`,
 * so a valid token signed by a later key was refused.
 */
import assert from "node:assert/strict";
import { exportJWK, generateKeyPair, type JWK } from "jose";
import { readProblem } from "../helpers/gateway.ts";
import { signWith } from "./forged_tokens.ts";
import { startJwksServer } from "./jwks_server.ts";
import { AUDIENCE, ISSUER, withJwtGateway } from "./jwt_fixture.ts";

const BASE = { issuer: ISSUER, audience: AUDIENCE };

interface Signer {
  privateKey: CryptoKey;
  alg: string;
  /** The public key as published, without `kid`. */
  jwk: JWK;
}

async function signer(alg: "RS256" | "ES256"): Promise<Signer> {
  const { publicKey, privateKey } = await generateKeyPair(alg);
  return { privateKey, alg, jwk: { ...await exportJWK(publicKey), alg, use: "sig" } };
}

/** An RSA key jose imports but will not verify with: its modulus is 1024 bits. */
async function shortRsaJwk(): Promise<JWK> {
  const pair = await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 1024,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign", "verify"],
  );
  return { ...await exportJWK(pair.publicKey), alg: "RS256", use: "sig" };
}

const rsa = await Promise.all([signer("RS256"), signer("RS256"), signer("RS256")]);
const ec = await signer("ES256");
const stranger = await signer("RS256");
const short = await shortRsaJwk();

/** Kid-less tokens of `signers`, each sent to a gateway that trusts `keys`. */
async function statuses(
  keys: JWK[],
  from: "jwksUri" | "static",
  signers: Signer[],
): Promise<{ status: number; detail?: string }[]> {
  const jwksServer = startJwksServer({ keys });
  try {
    const where = from === "jwksUri" ? { jwksUri: `${jwksServer.url}/keys` } : { jwks: { keys } };
    return await withJwtGateway(
      { algorithms: ["RS256", "ES256"], ...where },
      async (gatewayUrl) => {
        const out = [];
        for (const s of signers) {
          const token = await signWith({ privateKey: s.privateKey, alg: s.alg }, BASE);
          const res = await fetch(`${gatewayUrl}/x`, {
            headers: { authorization: `Bearer ${token}` },
          });
          if (res.status === 200) {
            await res.body?.cancel();
            out.push({ status: 200 });
          } else {
            out.push({ status: res.status, detail: (await readProblem(res)).detail });
          }
        }
        return out;
      },
    );
  } finally {
    await jwksServer.close();
  }
}

const OK = { status: 200 };
const BAD_SIGNATURE = { status: 401, detail: "the token's signature is invalid" };

for (const from of ["jwksUri", "static"] as const) {
  Deno.test(`jwt (${from}): a kid-less token verifies with whichever of 3 RS256 keys signed it`, async () => {
    assert.deepEqual(
      await statuses(rsa.map((s) => s.jwk), from, [rsa[0], rsa[1], rsa[2], stranger]),
      [OK, OK, OK, BAD_SIGNATURE],
    );
  });

  Deno.test(`jwt (${from}): a key jose will not use does not stop the search for the signer`, async () => {
    // The short key is tried first (set order): it must be skipped, not end the search.
    assert.deepEqual(
      await statuses([short, ...rsa.map((s) => s.jwk)], from, [rsa[1], rsa[2], stranger]),
      [OK, OK, BAD_SIGNATURE],
    );
  });

  Deno.test(`jwt (${from}): RSA and EC keys in one set each verify their own kid-less tokens`, async () => {
    const keys = [ec.jwk, rsa[0].jwk, short, rsa[1].jwk];
    assert.deepEqual(
      await statuses(keys, from, [ec, rsa[1], rsa[0], stranger]),
      [OK, OK, OK, BAD_SIGNATURE],
    );
  });
}

Deno.test("jwt (jwksUri): a set with a key that cannot be imported still verifies with the others", async () => {
  // Not a point on P-256: importing it fails, and jose leaves it out of the candidates.
  const offCurve = { ...ec.jwk, x: ec.jwk.y };
  const keys = [offCurve, ec.jwk, rsa[0].jwk, rsa[1].jwk];
  assert.deepEqual(
    await statuses(keys, "jwksUri", [ec, rsa[1], stranger]),
    [OK, OK, BAD_SIGNATURE],
  );
});
