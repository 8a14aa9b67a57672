/**
 * Clients percent-encode what a request target cannot carry (`é` is `%C3%A9`), in either hex
 * case (`%c3%a9` is the same path, RFC 3986 §6.2.2.1), and an upstream decodes both alike. A
 * route must take every spelling of its path, or the other spellings fall through to a broader
 * route (and around the guarded route's policies) while the upstream serves the guarded path.
 */
import assert from "node:assert/strict";
import { guarded, routedGateway } from "./route_fixture.ts";

Deno.test("a route takes its path whatever the case of the percent-escapes a client sent", async () => {
  const { gw, upstream, get, close } = await routedGateway([
    guarded("encoded-upper", "/files/caf%C3%A9/*"),
    guarded("encoded-lower", "/docs/%e6%97%a5/*"),
    guarded("slash", "/a%2Fb/*"),
    { name: "public", match: { path: "/*" }, upstream: "pub" },
  ]);
  try {
    for (
      const [target, route] of [
        ["/files/caf%C3%A9/secret", "encoded-upper"],
        ["/files/caf%c3%a9/secret", "encoded-upper"],
        ["/files/caf%C3%a9/secret", "encoded-upper"],
        ["/docs/%E6%97%A5/x", "encoded-lower"],
        ["/docs/%e6%97%a5/x", "encoded-lower"],
        ["/a%2fb/x", "slash"],
        ["/a%2Fb/x", "slash"],
      ]
    ) {
      const res = await get(target);
      assert.equal(res.status, 302, `${target} must be taken by the ${route} route`);
      assert.equal(res.header("location"), `https://${route}.example/`, target);
      // `explain` must say the same as the gateway did.
      assert.equal(gw.explain("GET", `http://x${target}`).winner?.name, route, target);
    }
    assert.equal(upstream.heads.length, 0, "nothing reached the catch-all's upstream");

    // The upstream is sent the path the route was chosen on; the query is left as it came.
    const res = await get("/other/x%2fy%3a?q=%2f");
    assert.equal(res.status, 200);
    assert.equal(upstream.heads[0].split("\r\n")[0], "GET /other/x%2Fy%3A?q=%2f HTTP/1.1");
  } finally {
    await close();
  }
});

Deno.test("a route written with non-ASCII characters takes the percent-encoded requests clients send", async () => {
  const { gw, upstream, get, close } = await routedGateway([
    guarded("cafe", "/café/*"),
    guarded("wiki", "/wiki/日本/:section"),
    guarded("spaced", "/my files/*"),
    { name: "public", match: { path: "/*" }, upstream: "pub" },
  ]);
  try {
    for (
      const [target, route] of [
        ["/caf%C3%A9/menu", "cafe"],
        ["/caf%c3%a9/menu", "cafe"],
        ["/wiki/%E6%97%A5%E6%9C%AC/history", "wiki"],
        ["/my%20files/a.txt", "spaced"],
      ]
    ) {
      const res = await get(target);
      assert.equal(res.status, 302, `${target} must be taken by the ${route} route`);
      assert.equal(res.header("location"), `https://${route}.example/`, target);
      assert.equal(gw.explain("GET", `http://x${target}`).winner?.name, route, target);
    }
    // What a browser sends for the address bar's `/café/menu`.
    const res = await fetch(`${gw.url}/café/menu`, { redirect: "manual" });
    await res.body?.cancel();
    assert.equal(res.headers.get("location"), "https://cafe.example/");
    assert.equal(upstream.heads.length, 0, "nothing reached the catch-all's upstream");
  } finally {
    await close();
  }
});
