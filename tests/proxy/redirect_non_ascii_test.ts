/**
 * A redirect target with characters outside ASCII (`/日本`, `café`) is accepted by the config,
 * so the gateway must send it as a valid `Location`: percent-encoded UTF-8 (RFC 3986), never a
 * 500 for every request (`日` is no ByteString) nor a raw Latin-1 byte (`é` as 0xE9, which no
 * client reads as the intended character).
 */
import assert from "node:assert/strict";
import { portOf, rawExchange, startEchoUpstream, startTestGateway } from "../helpers/gateway.ts";

Deno.test("a redirect target with non-ASCII characters goes out percent-encoded", async () => {
  const upstream = startEchoUpstream();
  const gw = await startTestGateway({
    upstreams: { api: { targets: [upstream.url] } },
    routes: [
      { match: { path: "/jp/*" }, redirect: { to: "/日本{path}", status: 302 } },
      { match: { path: "/cafe" }, redirect: { to: "https://example.com/café menu" } },
      { upstream: "api" },
    ],
  });
  try {
    const cases: [string, number, string][] = [
      ["/jp/a%20b?q=%C3%A9", 302, "/%E6%97%A5%E6%9C%AC/jp/a%20b?q=%C3%A9"],
      ["/cafe", 308, "https://example.com/caf%C3%A9%20menu"],
    ];
    for (const [path, status, location] of cases) {
      // Raw, so the bytes on the wire are checked, not what a client makes of them.
      const res = await rawExchange(
        portOf(gw),
        `GET ${path} HTTP/1.1\r\nhost: gw\r\nconnection: close\r\n\r\n`,
      );
      assert.equal(res.status, status, `${path}: ${res.text()}`);
      assert.equal(res.header("location"), location, path);
    }
    assert.deepEqual(upstream.received, []);
  } finally {
    await gw.close();
    await upstream.close();
  }
});
