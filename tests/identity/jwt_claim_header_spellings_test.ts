/**
 * Headers `claimsToHeaders` fills are vouched for by the token: a client's own copy must not
 * reach the upstream under any spelling the upstream reads as the same header (`x_user_role`
 * is `HTTP_X_USER_ROLE` to CGI, PHP, Rack and nginx's fastcgi, as `x-user-role` is).
 */
import assert from "node:assert/strict";
import { exportJWK, generateKeyPair } from "jose";
import { signWith } from "./forged_tokens.ts";
import { AUDIENCE, ISSUER, withJwtGateway } from "./jwt_fixture.ts";
import type { Echo } from "./jwt_stack.ts";

Deno.test("jwt: underscore spellings of claim headers sent by the client are removed", async () => {
  const { publicKey, privateKey } = await generateKeyPair("ES256");
  const jwk = { ...await exportJWK(publicKey), kid: "k1", alg: "ES256", use: "sig" };
  await withJwtGateway({
    jwks: { keys: [jwk] },
    algorithms: ["ES256"],
    claimsToHeaders: { role: "x-user-role", tenant: "x-tenant" },
  }, async (gatewayUrl) => {
    // The token has a role but no tenant: the client's tenant must go too.
    const token = await signWith({ privateKey, kid: "k1", alg: "ES256" }, {
      issuer: ISSUER,
      audience: AUDIENCE,
    }, { sub: "ana", role: "reader" });
    const res = await fetch(`${gatewayUrl}/x`, {
      headers: {
        authorization: `Bearer ${token}`,
        "x_user_role": "admin",
        "X_Tenant": "other-tenant",
        "x_unrelated": "kept",
      },
    });
    assert.equal(res.status, 200, await res.clone().text());
    const { headers } = await res.json() as Echo;
    assert.equal(headers["x-user-role"], "reader");
    assert.equal(headers["x_user_role"], undefined, "read upstream as X-User-Role: admin");
    assert.equal(headers["x_tenant"], undefined, "read upstream as X-Tenant: other-tenant");
    assert.equal(headers["x-tenant"], undefined);
    assert.equal(headers["x_unrelated"], "kept");
  });
});
