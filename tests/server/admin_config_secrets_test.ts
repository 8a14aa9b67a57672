/**
 * Admin `/config` shows the normalized config, and a config holds plaintext secrets wherever an
 * operator has to write one: a header policy that sends upstream credentials
 * (`authorization`, `x-api-key`), a custom policy's `token` option. `/config` needs no token,
 * so those values are described (type and length), never shown. Hashes, environment variable
 * names and everything else stay as they are: they are what an operator reads `/config` for.
 */
import assert from "node:assert/strict";
import { apiKey, headers } from "../../mod.ts";
import { hashApiKey } from "../../src/identity/secret_hash.ts";
import { startEchoUpstream, startTestGateway } from "../helpers/gateway.ts";

const UPSTREAM_TOKEN = "Bearer upstream-s3cr3t-token";
const API_KEY = "sk_live_0123456789abcdef";

Deno.test("admin /config does not show secret header values, and keeps the rest", async () => {
  const upstream = startEchoUpstream();
  const keyHash = hashApiKey("client-key-1");
  const gw = await startTestGateway({
    admin: { tokenEnv: "FERRY_ADMIN_TOKEN" },
    upstreams: { api: { targets: [upstream.url] } },
    policies: { keys: apiKey({ keys: [{ name: "mobile", hash: keyHash }] }) },
    routes: [{
      name: "a",
      upstream: "api",
      use: [
        "keys",
        headers({
          request: {
            set: { authorization: UPSTREAM_TOKEN, "x-api-key": API_KEY, "x-tenant": "acme" },
          },
        }),
      ],
    }],
  }, { env: { FERRY_ADMIN_TOKEN: "admin-token-value" } });
  try {
    const res = await fetch(`${gw.adminUrl}/config`);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.ok(!text.includes("upstream-s3cr3t-token"), text);
    assert.ok(!text.includes(API_KEY), text);

    const body = JSON.parse(text);
    const set = body.config.routes[0].use[1].descriptor.options.request.set;
    assert.equal(
      set.authorization,
      `a string of ${UPSTREAM_TOKEN.length} characters (not shown: it may be a secret)`,
    );
    assert.equal(
      set["x-api-key"],
      `a string of ${API_KEY.length} characters (not shown: it may be a secret)`,
    );
    assert.equal(set["x-tenant"], "acme");
    assert.equal(body.config.policies.keys.options.keys[0].hash, keyHash);
    assert.equal(body.config.admin.tokenEnv, "FERRY_ADMIN_TOKEN");
    assert.equal(body.config.upstreams.api.targets[0].url, upstream.url);
    // The hash still identifies the config actually served.
    assert.match(body.hash, /^[0-9a-f]{64}$/);

    // The gateway itself still sends the real value upstream.
    const sent = await (await fetch(`${gw.url}/x`, { headers: { "x-api-key": "client-key-1" } }))
      .json();
    assert.equal(sent.headers.authorization, UPSTREAM_TOKEN);
  } finally {
    await gw.close();
    await upstream.close();
  }
});
