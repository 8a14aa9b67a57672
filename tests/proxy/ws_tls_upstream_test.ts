/**
 * A WebSocket routed to an `https://` upstream must be opened over TLS, like every other request
 * to it: sent as plain text, the upgrade (cookies, Authorization and all) would cross the network
 * in clear to a port that expects a TLS handshake.
 */
import assert from "node:assert/strict";
import {
  catchAll,
  portOf,
  rawExchange,
  startRawUpstream,
  startTestGateway,
  within,
} from "../helpers/gateway.ts";

Deno.test("a WebSocket to an https:// upstream starts with a TLS handshake, never the plain upgrade", async () => {
  const firstBytes = Promise.withResolvers<Uint8Array>();
  // Not a TLS server: it only records what the gateway sends first, then hangs up, so the
  // handshake fails whichever way the gateway spoke.
  const upstream = startRawUpstream(async (s) => {
    firstBytes.resolve(await s.readBytes(3));
  });
  const gw = await startTestGateway(catchAll(`https://127.0.0.1:${upstream.port}`));
  try {
    const res = await within(
      rawExchange(
        portOf(gw),
        "GET /ws HTTP/1.1\r\nHost: a.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          "Cookie: session=secret\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
          "Sec-WebSocket-Version: 13\r\n\r\n",
      ),
      5_000,
      "gateway answer",
    );
    const [type, major] = await within(firstBytes.promise, 5_000, "first bytes upstream");
    // 0x16 0x03: a TLS handshake record (ClientHello). Plain HTTP would start with "GET".
    assert.deepEqual([type, major], [0x16, 0x03]);
    assert.equal(res.status, 502);
  } finally {
    await gw.close();
    await upstream.close();
  }
});
