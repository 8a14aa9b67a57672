/**
 * Redirect targets are filled in one pass over the configured template: text that comes from the
 * request (the path, the query, a parameter's value) is never itself read as a placeholder.
 */
import assert from "node:assert/strict";
import { startEchoUpstream, startTestGateway } from "../helpers/gateway.ts";
import { redirectLocation } from "../../src/proxy/redirect.ts";

Deno.test("a ':name' in the request's query or path is not replaced by a parameter", async () => {
  const upstream = startEchoUpstream();
  const gw = await startTestGateway({
    upstreams: { api: { targets: [upstream.url] } },
    routes: [
      { match: { path: "/u/:id" }, redirect: { to: "/users/:id?{query}", status: 302 } },
      { match: { path: "/p/:id/*" }, redirect: { to: "https://new.example{path}?id=:id" } },
      { upstream: "api" },
    ],
  });
  try {
    const cases: [string, string][] = [
      ["/u/7?next=:id", "/users/7?next=:id"],
      ["/p/9/a:id", "https://new.example/p/9/a:id?id=9"],
    ];
    for (const [path, location] of cases) {
      const res = await fetch(`${gw.url}${path}`, { redirect: "manual" });
      await res.body?.cancel();
      assert.equal(res.headers.get("location"), location, path);
    }
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("redirectLocation: a parameter value holding a placeholder stays literal", () => {
  assert.equal(
    redirectLocation("/a/:x/:y{query}", "/p", "q={path}", { x: ":y", y: "{query}" }),
    "/a/:y/{query}q={path}",
  );
});
