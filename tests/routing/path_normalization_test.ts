/**
 * Deno.serve passes the request target on as the client sent it (`/a/../b` stays `/a/../b`), so
 * the gateway must resolve it before routing: otherwise a request can pass a guarded route and
 * its policies, then reach an upstream that resolves the path into the guarded one.
 */
import assert from "node:assert/strict";
import { normalizePath } from "../../src/routing/path_pattern.ts";
import { matchInput } from "../../src/routing/request_view.ts";
import { normalize } from "../../src/server/gateway.ts";
import { seededRandom } from "../helpers/random.ts";
import { guarded, routedGateway } from "./route_fixture.ts";

Deno.test("dot segments, escaped dots, backslashes and escaped letters cannot slip past a route", async () => {
  const { gw, upstream, get, close } = await routedGateway([
    guarded("admin", "/admin/*"),
    { name: "public", match: { path: "/public/*" }, upstream: "pub" },
  ]);
  try {
    for (
      const target of [
        "/public/../admin/secret",
        "/public/%2e%2e/admin/secret",
        "/public/.%2E/admin/secret",
        "/public/..\\admin/secret",
        "/%61dmin/secret",
        "/public/./../admin/secret?x=1",
        "//admin/secret",
        "/public//..//admin/secret",
      ]
    ) {
      const res = await get(target);
      assert.equal(res.status, 302, `${target} must be taken by the admin route`);
      assert.match(res.header("location") ?? "", /^https:\/\/admin\.example\//, target);
      // `explain` must say the same as the gateway did.
      assert.equal(gw.explain("GET", `http://x${target}`).winner?.name, "admin", target);
    }
    assert.equal(upstream.heads.length, 0, "nothing reached the public upstream");

    // What does reach the upstream is the resolved path, the one the route was chosen on.
    const res = await get("/public/a/./b/../c/%7Euser?q=%2e%2e");
    assert.equal(res.status, 200);
    assert.equal(upstream.heads[0].split("\r\n")[0], "GET /public/a/c/~user?q=%2e%2e HTTP/1.1");
  } finally {
    await close();
  }
});

/**
 * The reference: a WHATWG URL parser's path after "\\" is read as "/" and runs of "/" are
 * merged, which is nginx's order (merge first, then resolve dots).
 */
function resolvedByUrlParser(path: string): string {
  const merged = path.replace(/\\/g, "/").replace(/\/{2,}/g, "/");
  return new URL(`http://x${merged}`).pathname;
}

Deno.test("path resolution agrees with a WHATWG URL parser on random dot and slash paths", () => {
  const random = seededRandom(7_2026);
  // Each token is a whole segment (the backslash one splits into two empty segments).
  const tokens = ["a", "b", ".", "..", "%2e", "%2E", ".%2e", "%2e.", "", "\\", "a.b", ".x"];
  for (let i = 0; i < 3000; i++) {
    const count = 1 + Math.floor(random() * 6);
    const path = "/" +
      Array.from({ length: count }, () => tokens[Math.floor(random() * tokens.length)]).join("/");
    assert.equal(normalizePath(path), resolvedByUrlParser(path), path);
  }
  // Ordinary paths come back as the very same string.
  for (const path of ["/", "/api/v1/users/7", "/.well-known/jwks.json", "/a/b/", "/caf%C3%A9"]) {
    assert.equal(normalizePath(path), path);
  }
  // Doubled slashes merge, a trailing one stays.
  assert.equal(normalizePath("//a///b//"), "/a/b/");
  assert.equal(normalizePath("//"), "/");
});

Deno.test("an absolute URL with a query but no path keeps its host and query apart", () => {
  const input = matchInput("GET", "http://API.example.com:8080?debug=1#top", new Headers());
  assert.equal(input.host, "api.example.com");
  assert.equal(input.path, "/");
  assert.equal(input.query, "debug=1");
  assert.equal(input.queryParam("debug"), "1");
  const hashOnly = matchInput("GET", "http://[::1]:9#x?y", new Headers());
  assert.deepEqual([hashOnly.host, hashOnly.path, hashOnly.query], ["[::1]", "/", ""]);
});

Deno.test("route literals are read like request paths: escapes of letters decoded, dot segments refused", () => {
  const base = { upstreams: { api: { targets: ["http://127.0.0.1:1"] } } };
  const table = normalize({
    ...base,
    routes: [{ name: "home", match: { path: "/%7Euser/*" }, upstream: "api" }],
  });
  assert.equal(table.routes[0].match.path, "/%7Euser/*");
  for (const pattern of ["/a/../b", "/a/./b", "/a/%2E%2e", "/a\\b", "/a//b", "/a//*"]) {
    assert.throws(
      () =>
        normalize({ ...base, routes: [{ name: "r", match: { path: pattern }, upstream: "api" }] }),
      /can never match: request paths/,
      pattern,
    );
  }
});
