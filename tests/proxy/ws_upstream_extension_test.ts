/**
 * Ferry's upstream WebSocket client offers no extension (the client's `Sec-WebSocket-Extensions`
 * is not forwarded, so `permessage-deflate` is never negotiated end to end). An upstream that
 * answers the upgrade with an extension anyway would then send frames the gateway cannot read
 * (compressed, RSV1 set): RFC 6455 §4.1 says the client fails such a handshake, so the client
 * gets a clean 502, not an open socket that dies on the first message.
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
import { acceptFor } from "../helpers/websocket.ts";

Deno.test("an upstream that accepts the upgrade with an extension nobody offered is a 502", async () => {
  const upstream = startRawUpstream(async (s) => {
    const head = (await s.readHead())!;
    await s.write(
      "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n" +
        `sec-websocket-accept: ${await acceptFor(head)}\r\n` +
        "sec-websocket-extensions: permessage-deflate\r\n\r\n",
    );
    await s.waitForClose();
  });
  const gw = await startTestGateway(catchAll(upstream.url));
  try {
    const res = await within(
      rawExchange(
        portOf(gw),
        "GET /ws HTTP/1.1\r\nHost: a.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
          "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n",
      ),
      5_000,
      "gateway answer",
    );
    assert.equal(res.status, 502);
    assert.match(res.text(), /extension/);
    // The client's offer was not passed on: the gateway cannot inflate frames.
    assert.doesNotMatch(upstream.heads[0], /sec-websocket-extensions/i);
  } finally {
    await gw.close();
    await upstream.close();
  }
});
