/**
 * The upstream side of a bridged WebSocket is kept alive by Ferry's own pings. A client's pings
 * are answered by the gateway and never reach the upstream, so without them a quiet bridge sent
 * nothing upstream (a load balancer in between drops it as idle), and an upstream whose host
 * vanished without a FIN was held open forever while the client's heartbeats kept succeeding.
 */
import assert from "node:assert/strict";
import {
  catchAll,
  type RawSocket,
  startRawUpstream,
  startTestGateway,
  within,
} from "../helpers/gateway.ts";
import { acceptFor, readFrame } from "../helpers/websocket.ts";

/** An upstream `idle` timeout short enough for a test to see several of them pass. */
const IDLE = "50ms";

/** Accepts the upgrade on a raw socket, then hands it to `then`. */
function upstream(then: (s: RawSocket) => Promise<void>) {
  return startRawUpstream(async (s) => {
    const head = (await s.readHead())!;
    await s.write(
      new TextEncoder().encode(
        "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n" +
          `sec-websocket-accept: ${await acceptFor(head)}\r\n\r\n`,
      ),
    );
    await then(s);
  });
}

/** An unmasked server frame (payloads under 126 bytes). */
function frame(opcode: number, payload: Uint8Array): Uint8Array {
  return new Uint8Array([0x80 | opcode, payload.length, ...payload]);
}

function client(url: string) {
  const ws = new WebSocket(url.replace("http", "ws") + "/ws");
  ws.onerror = () => {};
  const opened = new Promise<void>((resolve) => ws.onopen = () => resolve());
  const message = new Promise<unknown>((resolve) => ws.onmessage = (e) => resolve(e.data));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.onclose = (e) => resolve({ code: e.code, reason: e.reason });
  });
  return { ws, opened, message, closed };
}

Deno.test("a quiet WebSocket whose upstream answers pings outlives many idle timeouts", async () => {
  const pinged = Promise.withResolvers<void>();
  let pings = 0;
  const up = upstream(async (s) => {
    for (;;) {
      const f = await readFrame(s);
      if (f.opcode === 9) {
        await s.write(frame(10, f.payload));
        if (++pings === 3) pinged.resolve();
      } else if (f.opcode === 1) await s.write(frame(1, f.payload));
      else return; // the close frame
    }
  });
  const gw = await startTestGateway(
    catchAll(up.url, { upstreams: { api: { targets: [up.url], timeouts: { idle: IDLE } } } }),
  );
  const c = client(gw.url);
  try {
    await within(c.opened, 5_000, "client open");
    // Three idle periods of silence in both directions, each bridged by a ping and its pong.
    await within(pinged.promise, 5_000, "the upstream pinged");
    c.ws.send("still here");
    assert.equal(await within(c.message, 5_000, "echo"), "still here");
    c.ws.close(1000);
    assert.equal((await c.closed).code, 1000);
  } finally {
    if (c.ws.readyState <= WebSocket.OPEN) c.ws.close();
    await c.closed;
    await gw.close();
    await up.close();
  }
});

Deno.test("an upstream that goes silent (host gone, no FIN) is dropped, and the client gets 1011", async () => {
  const gone = Promise.withResolvers<void>();
  // Reads what comes (pings included) and answers nothing, as a blackholed host would.
  const up = upstream(async (s) => {
    try {
      for (;;) await readFrame(s);
    } catch {
      gone.resolve(); // Ferry closed the connection
    }
  });
  const gw = await startTestGateway(
    catchAll(up.url, { upstreams: { api: { targets: [up.url], timeouts: { idle: IDLE } } } }),
  );
  const c = client(gw.url);
  try {
    await within(c.opened, 5_000, "client open");
    const closed = await within(c.closed, 5_000, "client closed");
    assert.equal(closed.code, 1011);
    assert.equal(closed.reason, "upstream stopped answering pings");
    await within(gone.promise, 5_000, "upstream connection closed");
  } finally {
    if (c.ws.readyState <= WebSocket.OPEN) c.ws.close();
    await c.closed;
    await gw.close();
    await up.close();
  }
});
