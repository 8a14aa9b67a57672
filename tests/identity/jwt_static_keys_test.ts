/**
 * Routes whose `jwt` options are the same share one verified-token memo, and the memo reuses a
 * token only against the very key set it was verified with. With static `jwks`, every route
 * (and every reload) used to build its own key set from the same keys, so a client going from
 * one route to another had its token's signature checked again on every request. The policy is
 * built as the gateway builds it (`jwtPolicy.create` with a `SharedState`-backed env) and run
 * through the real policy chain; the memo is counted where it is created.
 */
import assert from "node:assert/strict";
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { Registry } from "prom-client";
import { VerifiedTokens } from "../../src/identity/verified_tokens.ts";
import type { KeySet } from "../../src/identity/jwks_key_set.ts";
import { MemoryLogger } from "../../src/observe/logger.ts";
import { composeChain } from "../../src/policies/chain.ts";
import { jwtPolicy } from "../../src/policies/jwt_policy.ts";
import type { PolicyEnv } from "../../src/policies/policy.ts";
import { SharedState } from "../../src/policies/shared_state.ts";
import type { ProxyState } from "../../src/proxy/state.ts";

/** A memo that counts full verifications (each ends in `remember`). */
class CountingTokens extends VerifiedTokens {
  verifications = 0;
  override remember(token: string, payload: JWTPayload, keys: KeySet): void {
    this.verifications++;
    super.remember(token, payload, keys);
  }
}

function stateFor(path: string): ProxyState {
  return {
    requestId: `req-${path}`,
    clientIp: "127.0.0.1",
    match: {} as ProxyState["match"],
    authority: "gateway.test",
    forwarded: {
      clientIp: "127.0.0.1",
      forwardedFor: "127.0.0.1",
      forwardedProto: "http",
      forwardedHost: "gateway.test",
    },
    trustedPeer: false,
    upstreamPath: path,
  };
}

Deno.test("jwt: routes with the same static jwks reuse each other's verified tokens", async () => {
  const { publicKey, privateKey } = await generateKeyPair("ES256");
  const jwk = { ...await exportJWK(publicKey), kid: "k1", alg: "ES256", use: "sig" as const };
  const options = {
    issuer: "https://idp.ferry.test",
    audiences: ["orders"],
    jwks: { keys: [{ ...jwk, kty: "EC" as const }] },
    algorithms: ["ES256" as const],
  };
  const shared = new SharedState();
  const memos: CountingTokens[] = [];
  const env: PolicyEnv = {
    env: () => undefined,
    metrics: new Registry(),
    logger: new MemoryLogger(),
    shared: (key, create) =>
      shared.get(key, () => {
        if (!key.startsWith("jwt-verified:")) return create();
        const memo = new CountingTokens();
        memos.push(memo);
        return memo as ReturnType<typeof create>;
      }),
  };
  try {
    // Two routes, built from equal options as a config build does.
    const routes = [jwtPolicy.create(options, env), jwtPolicy.create(options, env)].map((m) =>
      composeChain([{ name: "jwt", middleware: m }], () => new Response("upstream"))
    );
    const token = await new SignJWT({ sub: "ana" })
      .setProtectedHeader({ alg: "ES256", kid: "k1" })
      .setIssuer(options.issuer).setAudience("orders").setExpirationTime("5m")
      .sign(privateKey);
    for (let i = 0; i < 4; i++) {
      const path = `/orders/${i}`;
      const req = new Request(`http://gateway.test${path}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const res = await routes[i % 2](req, {}, stateFor(path));
      assert.equal(res.status, 200, await res.clone().text());
      await res.body?.cancel();
    }
    assert.equal(memos.length, 1, "equal options share one memo");
    assert.equal(memos[0].verifications, 1, "the token's signature is checked once, not per route");
  } finally {
    await shared.close();
  }
});
