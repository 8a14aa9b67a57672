/**
 * A consistent hash reads its key as the route's policies left the request, as Envoy hashes
 * after its filters: a tenant a `headers` policy sets keeps one server, and a client's own copy
 * of a header a policy replaced never steers the pick. The mirror's shadow pick reads it alike.
 */
import assert from "node:assert/strict";
import { startTestGateway, startUpstream } from "../helpers/gateway.ts";

Deno.test("consistent_hash on a header a headers policy sets keeps every request on one server", async () => {
  const a = startUpstream(() => new Response("a"));
  const b = startUpstream(() => new Response("b"));
  const gw = await startTestGateway({
    upstreams: {
      api: {
        targets: [a.url, b.url],
        balancer: { type: "consistent_hash", key: { header: "x-tenant" } },
      },
    },
    routes: [{
      upstream: "api",
      use: [{ kind: "headers", options: { request: { set: { "x-tenant": "acme" } } } }],
    }],
  });
  try {
    const served = new Set<string>();
    // Clients claiming other tenants (or none): the policy's value is the one sent and hashed.
    for (let i = 0; i < 16; i++) {
      const headers: Record<string, string> = i % 2 ? { "x-tenant": `client-${i}` } : {};
      served.add(await (await fetch(`${gw.url}/t`, { headers })).text());
    }
    assert.equal(served.size, 1, `requests of one tenant spread over ${[...served].join(", ")}`);
    for (const { headers } of [...a.received, ...b.received]) {
      assert.equal(headers.get("x-tenant"), "acme");
    }
  } finally {
    await gw.close();
    await a.close();
    await b.close();
  }
});
