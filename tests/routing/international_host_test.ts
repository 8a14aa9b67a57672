/**
 * Clients send an internationalised host name in its ASCII form (`bücher.example` is
 * `xn--bcher-kva.example` on the wire; a raw `ü` in Host is refused with 400), so a route written
 * with the Unicode name must take requests for the ASCII one.
 */
import assert from "node:assert/strict";
import { rawExchange, startRawUpstream, startTestGateway } from "../helpers/gateway.ts";

Deno.test("a route for a Unicode host name takes requests for its punycode form", async () => {
  // Every request the upstream gets is answered 200 "ok"; its request lines are kept in `heads`.
  const upstream = startRawUpstream(async (socket) => {
    if (await socket.readHead() === null) return;
    await socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
  });
  const gw = await startTestGateway({
    upstreams: { pub: { targets: [upstream.url] } },
    routes: [
      {
        name: "books",
        match: { path: "/*", host: "Bücher.example" },
        redirect: { to: "https://books.example/", status: 302 },
      },
      {
        name: "munich",
        match: { path: "/*", host: "*.münchen.example" },
        redirect: { to: "https://munich.example/", status: 302 },
      },
      { name: "other", match: { path: "/*" }, upstream: "pub" },
    ],
  }, { admin: false });
  const port = Number(new URL(gw.url).port);
  const get = (host: string) =>
    rawExchange(port, `GET /x HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\n\r\n`);
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
    await gw.close();
    await upstream.close();
  }
});
