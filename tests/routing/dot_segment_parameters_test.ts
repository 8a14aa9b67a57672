/**
 * Java servers (Tomcat, Jetty: Spring Boot and most Java apps) drop a segment's `;parameters`
 * before resolving dot segments, so `/public/..;/admin/x` is `/admin/x` to them. The gateway must
 * route such a path as the upstream will read it, or it passes a public route and its policies
 * and reaches the guarded one.
 */
import assert from "node:assert/strict";
import { guarded, routedGateway } from "./route_fixture.ts";

Deno.test("a dot segment with ;parameters cannot carry a request past a guarded route", async () => {
  const { gw, upstream, get, close } = await routedGateway([
    guarded("admin", "/admin/*"),
    { name: "public", match: { path: "/public/*" }, upstream: "pub" },
  ]);
  try {
    for (
      const target of [
        "/public/..;/admin/secret",
        "/public/..;jsessionid=1/admin/secret",
        "/public/x/.;/..;/../admin/secret",
        "/public/%2e%2e;/admin/secret",
      ]
    ) {
      const res = await get(target);
      assert.equal(res.status, 302, `${target} must be taken by the admin route`);
      assert.equal(gw.explain("GET", `http://x${target}`).winner?.name, "admin", target);
    }
    assert.equal(upstream.heads.length, 0, "nothing reached the public upstream");

    // What reaches the upstream is resolved as a Java server would; other `;` stay as sent.
    const res = await get("/public/a/.;x/b/..;y/c;v=1/..%3B/d");
    assert.equal(res.status, 200);
    assert.equal(upstream.heads[0].split("\r\n")[0], "GET /public/a/c;v=1/..%3B/d HTTP/1.1");
  } finally {
    await close();
  }
});
