/**
 * `gw.explain(method, url)` as the README's "Testing your routes in `deno test`" uses it. The
 * README example must work as written, and a URL without scheme and host (`/users/7`, the
 * natural thing to type in a test) must be refused, not read as host "users" and path "/7" and
 * explained as a quiet 404 for a request nobody asked about.
 */
import assert from "node:assert/strict";
import { createGateway, defineConfig, headers, rewrite } from "../../mod.ts";
import { explainRequest } from "../../src/routing/explain.ts";
import { RouteTable } from "../../src/routing/route_table.ts";
import { normalize } from "../../src/server/gateway.ts";

/** The README's walked-through config; its upstream addresses are never contacted here. */
const README_CONFIG = defineConfig({
  listen: { hostname: "127.0.0.1", port: 8080 },
  admin: { hostname: "127.0.0.1", port: 9901 },
  upstreams: {
    users: {
      targets: ["http://10.0.0.5:3000", { url: "http://10.0.0.6:3000", weight: 2 }],
      balancer: { type: "least_request" },
      host: "target",
      timeouts: { connect: "2s", total: "10s", idle: "60s" },
    },
  },
  policies: {
    stamped: headers({ response: { set: { "x-gateway": "ferry" } } }),
  },
  routes: [
    {
      name: "user",
      match: { host: "*.example.com", path: "/users/:id{[0-9]+}", method: ["GET", "PUT"] },
      upstream: "users",
      use: ["stamped", rewrite({ addPrefix: "/v2" })],
    },
    { match: { path: "/old/*" }, redirect: { to: "https://new.example.com{path}", status: 301 } },
  ],
});

Deno.test("the README's deno test example works as written", async () => {
  const gw = await createGateway(README_CONFIG, { demo: false });
  try {
    const e = gw.explain("GET", "http://api.example.com/users/7");
    assert.equal(e.winner?.name, "user");
    assert.deepEqual(e.winner?.params, { id: "7" });
    // and the reason an earlier route lost is the one a person would give
    const other = gw.explain("GET", "http://api.example.org/users/7");
    assert.equal(other.winner, undefined);
    assert.match(other.verdicts[0].reasons.join("; "), /host "api\.example\.org"/);
  } finally {
    await gw.close();
  }
});

Deno.test("explainRequest refuses a URL that has no scheme and host", () => {
  const table = new RouteTable(normalize(README_CONFIG).routes);
  for (const url of ["/users/7", "users/7", "api.example.com/users/7", "http://a b/users/7"]) {
    assert.throws(() => explainRequest(table, "GET", url), TypeError, url);
  }
  const ok = explainRequest(table, "get", "http://api.example.com/users/7");
  assert.equal(ok.request.method, "GET");
  assert.equal(ok.winner?.name, "user");
  assert.deepEqual(ok.winner?.params, { id: "7" });
});

Deno.test('gw.explain refuses a bare path instead of explaining host "users"', async () => {
  const gw = await createGateway(README_CONFIG, { demo: false });
  try {
    assert.throws(() => gw.explain("GET", "/users/7"), TypeError);
  } finally {
    await gw.close();
  }
});
