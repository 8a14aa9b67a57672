/**
 * A WebSocket upgrade whose path a client sent as raw UTF-8 bytes (`/café/ws`; Deno.serve
 * accepts them) is opened upstream with the percent-encoded path, as for any other request:
 * written as is, each character was cut to one byte (`é` became the Latin-1 byte E9, `ĩ`
 * became `)`), so the upstream saw a broken or a different path.
 */
import assert from "node:assert/strict";
import {
  catchAll,
  portOf,
  rawExchange,
  type RawSocket,
  startRawUpstream,
  startTestGateway,
  within,
} from "../helpers/gateway.ts";
import { acceptFor } from "../helpers/websocket.ts";

Deno.test("a WebSocket upgrade with a raw UTF-8 path reaches the upstream percent-encoded", async () => {
  const upstream = startRawUpstream(async (s: RawSocket) => {
    const head = await s.readHead();
    if (head === null) return;
    await s.write(
      "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n" +
        `sec-websocket-accept: ${await acceptFor(head)}\r\n\r\n`,
    );
    await s.waitForClose();
  });
  const gw = await startTestGateway(catchAll(upstream.url));
  try {
    const request = new TextEncoder().encode(
      "GET /café/ĩ?room=日本 HTTP/1.1\r\nHost: a.test\r\nUpgrade: websocket\r\n" +
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
        "Sec-WebSocket-Version: 13\r\n\r\n",
    );
    const res = await within(rawExchange(portOf(gw), request), 5_000, "gateway answer");
    assert.equal(res.status, 101, res.text());
    assert.equal(
      upstream.heads[0].split("\r\n")[0],
      "GET /caf%C3%A9/%C4%A9?room=%E6%97%A5%E6%9C%AC HTTP/1.1",
    );
  } finally {
    await gw.close();
    await upstream.close();
  }
});
