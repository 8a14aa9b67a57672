/**
 * A request that says `Upgrade: websocket` but is not a valid WebSocket handshake (no
 * `Connection: Upgrade`, no key, a wrong version): the gateway must answer it with a clear
 * client error, and must not leave an upstream WebSocket connection open for it.
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

/** An upstream that accepts every upgrade and holds the connection until the gateway drops it. */
function acceptingUpstream() {
  return startRawUpstream(async (s: RawSocket) => {
    const head = await s.readHead();
    if (head === null) return;
    await s.write(
      "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n" +
        `sec-websocket-accept: ${await acceptFor(head)}\r\n\r\n`,
    );
    await s.waitForClose();
  });
}

const VALID = {
  "Connection": "Upgrade",
  "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
  "Sec-WebSocket-Version": "13",
};

/** What is wrong, the headers changed from a valid handshake, the expected status. */
const CASES: [string, Record<string, string | undefined>, number][] = [
  ["no Connection: Upgrade", { "Connection": undefined }, 400],
  ["Connection: keep-alive", { "Connection": "keep-alive" }, 400],
  ["no Sec-WebSocket-Key", { "Sec-WebSocket-Key": undefined }, 400],
  // RFC 6455 §4.2.2: an unknown version is refused with 426 and the version the server speaks.
  ["Sec-WebSocket-Version 8", { "Sec-WebSocket-Version": "8" }, 426],
];

for (const [what, change, status] of CASES) {
  Deno.test(`an Upgrade: websocket request with ${what} is a ${status}, and the upstream is not asked`, async () => {
    const upstream = acceptingUpstream();
    const gw = await startTestGateway(catchAll(upstream.url));
    try {
      let head = `GET /ws HTTP/1.1\r\nHost: a.test\r\nUpgrade: websocket\r\n`;
      for (const [name, value] of Object.entries({ ...VALID, ...change })) {
        if (value !== undefined) head += `${name}: ${value}\r\n`;
      }
      const res = await within(rawExchange(portOf(gw), head + "\r\n"), 5_000, "gateway answer");
      assert.equal(res.status, status, res.text());
      if (status === 426) assert.equal(res.header("sec-websocket-version"), "13");
      assert.equal(res.header("content-type"), "application/problem+json");
      // The upstream was never asked: an upgrade the gateway cannot complete with the client
      // must not open (and strand) one with the upstream.
      assert.equal(upstream.accepted, 0);
      const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
      assert.match(metrics, /ferry_open_streams\{kind="websocket"\} 0/);
    } finally {
      await gw.close();
      await upstream.close();
    }
  });
}
