/**
 * Clients send an internationalised host name in its ASCII form (`bücher.example` is
 * `xn--bcher-kva.example` on the wire; a raw `ü` in Host is refused with 400), so a route written
 * with the Unicode name must take requests for the ASCII one.
 */
import assert from "node:assert/strict";
import { guarded, routedGateway } from "./route_fixture.ts";

Deno.test("a route for a Unicode host name takes requests for its punycode form", async () => {
  const { gw, upstream, get: getPath, close } = await routedGateway([
    guarded("books", { path: "/*", host: "Bücher.example" }),
    guarded("munich", { path: "/*", host: "*.münchen.example" }),
    { name: "other", match: { path: "/*" }, upstream: "pub" },
  ]);
  const get = (host: string) => getPath("/x", host);
  try {
    for (
      const [host, route] of [
        ["xn--bcher-kva.example", "books"],
        ["XN--BCHER-KVA.example.:8080", "books"],
        ["www.xn--mnchen-3ya.example", "munich"],
      ]
    ) {
      const res = await get(host);
      assert.equal(res.status, 302, `Host ${host} must be taken by the ${route} route`);
      assert.equal(res.header("location"), `https://${route}.example/`, host);
      assert.equal(gw.explain("GET", `http://${host}/x`).winner?.name, route, host);
    }
    assert.equal(upstream.heads.length, 0, "nothing reached the catch-all's upstream");
    // The wildcard still needs a label of its own.
    assert.equal((await get("xn--mnchen-3ya.example")).status, 200);
  } finally {
    await close();
  }
});
