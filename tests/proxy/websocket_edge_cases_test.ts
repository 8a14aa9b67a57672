/**
 * WebSocket bridge edge cases found in review: an upstream that greets and closes at once (its
 * frames arrive before the client side is open), and close frames carrying codes the client
 * side's WebSocket refuses to send.
 */
import assert from "node:assert/strict";
import { MAX_QUEUED_BYTES, UpstreamWebSocket } from "../../src/proxy/ws_upstream.ts";
import {
  catchAll,
  type RawSocket,
  startRawUpstream,
  startTestGateway,
  within,
} from "../helpers/gateway.ts";
import { acceptFor, readFrame } from "../helpers/websocket.ts";

/** An unmasked server frame (payloads under 126 bytes). */
function frame(opcode: number, payload: Uint8Array): Uint8Array {
  return new Uint8Array([0x80 | opcode, payload.length, ...payload]);
}

function text(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

function closeFrame(code: number, reason: string): Uint8Array {
  return frame(8, new Uint8Array([code >> 8, code & 0xff, ...text(reason)]));
}

/** An upstream that accepts the upgrade and writes `after` in the same write as the 101. */
function upstreamSending(after: Uint8Array, then?: (s: RawSocket) => Promise<void>) {
  return startRawUpstream(async (s) => {
    const head = (await s.readHead())!;
    const answer = new TextEncoder().encode(
      "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n" +
        `sec-websocket-accept: ${await acceptFor(head)}\r\n\r\n`,
    );
    const all = new Uint8Array(answer.length + after.length);
    all.set(answer);
    all.set(after, answer.length);
    await s.write(all);
    await then?.(s);
  });
}

/** Opens a client WebSocket and collects its messages and its close event. */
function client(url: string) {
  const ws = new WebSocket(url.replace("http", "ws") + "/ws");
  const messages: unknown[] = [];
  ws.onmessage = (e) => messages.push(e.data);
  ws.onerror = () => {};
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.onclose = (e) => resolve({ code: e.code, reason: e.reason });
  });
  return { ws, messages, closed };
}

/** Ferry's upstream WebSocket client, connected straight to `upstream` (no gateway). */
function connectDirectly(upstream: { url: string; port: number }): Promise<UpstreamWebSocket> {
  const address = {
    origin: upstream.url,
    protocol: "http:" as const,
    hostname: "127.0.0.1",
    port: upstream.port,
  };
  return UpstreamWebSocket.connect(address, "/", ["host", "x"], [], 5_000);
}

/** Closes the client (if still open), then the gateway and the upstream. */
async function closeAll(
  c: ReturnType<typeof client>,
  gw: { close(): Promise<void> },
  upstream: { close(): Promise<void> },
): Promise<void> {
  if (c.ws.readyState <= WebSocket.OPEN) c.ws.close();
  await c.closed;
  await gw.close();
  await upstream.close();
}

Deno.test("an upstream that greets and closes right after the upgrade: the client gets both", async () => {
  const upstream = upstreamSending(
    new Uint8Array([...frame(1, text("welcome")), ...closeFrame(4001, "go away")]),
    async (s) => void await s.waitForClose(),
  );
  const gw = await startTestGateway(catchAll(upstream.url));
  const c = client(gw.url);
  try {
    const closed = await within(c.closed, 5_000, "client close");
    assert.deepEqual(c.messages, ["welcome"]);
    assert.deepEqual(closed, { code: 4001, reason: "go away" });
  } finally {
    await closeAll(c, gw, upstream);
  }
});

for (const code of [1004, 1005, 1006, 1015, 2999, 5000, 999]) {
  Deno.test(`an upstream close frame with the unsendable code ${code} reaches the client as 1002`, async () => {
    const upstream = upstreamSending(new Uint8Array(0), async (s) => {
      await readFrame(s); // The client is open once its first message came through.
      await s.write(closeFrame(code, "odd"));
      await s.waitForClose();
    });
    const gw = await startTestGateway(catchAll(upstream.url));
    const c = client(gw.url);
    c.ws.onopen = () => c.ws.send("hi");
    try {
      const closed = await within(c.closed, 5_000, "client close");
      // The upstream broke the protocol (RFC 6455 §7.4.1): relaying its code as is would make the
      // client fail the connection (Deno's client reports code 0).
      assert.deepEqual(closed, { code: 1002, reason: `invalid close code ${code}` });
    } finally {
      await closeAll(c, gw, upstream);
    }
  });
}

Deno.test("an upstream that vanishes mid-frame reaches the client as 1011, a code every client takes", async () => {
  // Half a text frame, then the socket closes: to the bridge the upstream went away (1006).
  const upstream = upstreamSending(new Uint8Array([0x81, 5, 0x68, 0x65]));
  const gw = await startTestGateway(catchAll(upstream.url));
  const c = client(gw.url);
  try {
    const closed = await within(c.closed, 5_000, "client close");
    // 1014 ("bad gateway") would be apt, but Deno's client refuses it and reports code 0.
    assert.equal(closed.code, 1011);
    assert.deepEqual(c.messages, []);
  } finally {
    await closeAll(c, gw, upstream);
  }
});

Deno.test("an upstream that never answers the client's close is disconnected, not held forever", async () => {
  const opened = Promise.withResolvers<void>();
  const sawClose = Promise.withResolvers<number>();
  const released = Promise.withResolvers<void>();
  const upstream = upstreamSending(new Uint8Array(0), async (s) => {
    await readFrame(s); // the client's first message: it is open
    opened.resolve();
    // Read the gateway's close frame, then neither answer it nor close: a half-dead peer.
    const [b0] = await s.readBytes(1);
    sawClose.resolve(b0 & 0x0f);
    await s.waitForClose();
    released.resolve();
  });
  // The closing handshake is given up after the connect timeout. It is short to keep the test
  // quick, but not so short that a busy machine fails the upgrade itself (100 ms did, once, in
  // a full-suite run).
  const gw = await startTestGateway({
    upstreams: { api: { targets: [upstream.url], timeouts: { connect: "1s" } } },
    routes: [{ name: "all", upstream: "api" }],
  });
  const c = client(gw.url);
  c.ws.onopen = () => c.ws.send("hi");
  try {
    await within(opened.promise, 5_000, "client open");
    c.ws.close(1000, "done");
    assert.equal(await within(sawClose.promise, 5_000, "upstream got the close"), 0x8);
    await c.closed;
    // The gateway gives up on the closing handshake and drops the upstream connection (before
    // the fix it stayed open, and the bridge stayed counted as open, until the process ended).
    await within(released.promise, 5_000, "upstream connection released");
    const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    assert.match(metrics, /ferry_open_streams\{kind="websocket"\} 0/);
  } finally {
    await closeAll(c, gw, upstream);
  }
});

Deno.test("nothing is sent to the upstream after the close frame (a reload closing a busy bridge)", async () => {
  const seen = Promise.withResolvers<number[]>();
  const upstream = upstreamSending(new Uint8Array(0), async (s) => {
    const opcodes: number[] = [];
    for (;;) {
      const [b0, b1] = await s.readBytes(2);
      opcodes.push(b0 & 0x0f);
      await s.readBytes(4 + (b1 & 0x7f)); // mask and payload (all under 126 bytes here)
      if ((b0 & 0x0f) === 8) break;
    }
    await s.write(closeFrame(1000, ""));
    // Whatever still arrives after the close frame is a protocol violation by the gateway.
    const rest = await s.readToEnd();
    seen.resolve(rest.length ? [...opcodes, rest[0] & 0x0f] : opcodes);
  });
  const ws = await connectDirectly(upstream);
  const closed = new Promise<number>((resolve) => ws.onclose = (code) => resolve(code));
  try {
    ws.start();
    ws.send("before");
    // The bridge closes both sides on a reload; the client's messages already in flight still
    // reach `send` until the client side has closed too.
    ws.close(1001, "route changed by a reload");
    ws.send("after");
    assert.deepEqual(await within(seen.promise, 5_000, "upstream frames"), [1, 8]);
    assert.equal(await closed, 1000);
  } finally {
    await upstream.close();
  }
});

Deno.test("a client gone before the upstream accepted: the upstream connection is released", async () => {
  const clientGone = Promise.withResolvers<void>();
  const forwarded = Promise.withResolvers<void>();
  const released = Promise.withResolvers<void>();
  const upstream = startRawUpstream(async (s) => {
    const head = (await s.readHead())!;
    forwarded.resolve();
    await clientGone.promise; // the upgrade is answered only after the client hung up
    await s.write(
      "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n" +
        `sec-websocket-accept: ${await acceptFor(head)}\r\n\r\n`,
    );
    await s.waitForClose();
    released.resolve();
  });
  const gw = await startTestGateway({
    upstreams: { api: { targets: [upstream.url], timeouts: { connect: "100ms" } } },
    routes: [{ name: "all", upstream: "api" }],
    // Deno.serve never finishes the dead upgrade request, so shutdown waits out the drain.
    limits: { drainTimeout: "100ms" },
  });
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(gw.url).port) });
    await conn.write(
      new TextEncoder().encode(
        "GET /ws HTTP/1.1\r\nHost: a.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      ),
    );
    await within(forwarded.promise, 5_000, "upgrade forwarded");
    conn.close();
    clientGone.resolve();
    await within(released.promise, 5_000, "upstream connection released");
    const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    assert.match(metrics, /ferry_open_streams\{kind="websocket"\} 0/);
  } finally {
    clientGone.resolve();
    await gw.close();
    await upstream.close();
  }
});

Deno.test("an upstream that stopped reading: queued writes are bounded, then it is dropped with 1013", async () => {
  const hold = Promise.withResolvers<void>();
  const upstream = upstreamSending(new Uint8Array(0), async () => {
    await hold.promise; // reads nothing more until the test ends
  });
  const ws = await connectDirectly(upstream);
  const closed = new Promise<[number, string]>((resolve) => {
    ws.onclose = (code, reason) => resolve([code, reason]);
  });
  try {
    ws.start();
    // Three times the bound, in 1 MiB messages; the socket buffers take some, the queue the rest.
    const chunk = new Uint8Array(1 << 20);
    for (let i = 0; i < 3 * MAX_QUEUED_BYTES / chunk.length; i++) ws.send(chunk);
    assert.deepEqual(await within(closed, 5_000, "upstream dropped"), [
      1013,
      "upstream is not reading",
    ]);
  } finally {
    ws.close();
    hold.resolve();
    await upstream.close();
  }
});

Deno.test("a client that outpaces an upstream that stopped reading is closed, not buffered without end", async () => {
  const opened = Promise.withResolvers<void>();
  const hold = Promise.withResolvers<void>();
  const upstream = upstreamSending(new Uint8Array(0), async (s) => {
    await readFrame(s); // "hi"; after that this upstream reads nothing more
    opened.resolve();
    await hold.promise;
  });
  const gw = await startTestGateway(catchAll(upstream.url));
  const c = client(gw.url);
  c.ws.onopen = () => c.ws.send("hi");
  try {
    await within(opened.promise, 5_000, "client open");
    // Three times what the gateway may hold for the upstream, in 1 MiB messages. The gateway
    // closes with 1013, but the client is still sending, so its close is often abnormal.
    const chunk = new Uint8Array(1 << 20);
    for (let i = 0; i < 3 * MAX_QUEUED_BYTES / chunk.length; i++) c.ws.send(chunk);
    await within(c.closed, 10_000, "client closed by the gateway");
    const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    assert.match(metrics, /ferry_open_streams\{kind="websocket"\} 0/);
  } finally {
    if (c.ws.readyState <= WebSocket.OPEN) c.ws.close();
    await c.closed;
    hold.resolve();
    await gw.close();
    await upstream.close();
  }
});
