/**
 * WebSocket backpressure from a slow client to the upstream: while the client is not reading,
 * the gateway stops reading the upstream (TCP then slows the upstream down) instead of
 * buffering everything the upstream sends. Nothing is lost: once the client reads, every
 * message arrives whole and in order.
 */
import assert from "node:assert/strict";
import { UpstreamWebSocket } from "../../src/proxy/ws_upstream.ts";
import {
  catchAll,
  portOf,
  RawSocket,
  startRawUpstream,
  startTestGateway,
  within,
} from "../helpers/gateway.ts";
import { acceptFor, readFrame } from "../helpers/websocket.ts";

/** An unmasked binary server frame with a 64-bit length, any size. */
function binaryFrame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(10 + payload.length);
  out[0] = 0x82;
  out[1] = 127;
  new DataView(out.buffer).setBigUint64(2, BigInt(payload.length));
  out.set(payload, 10);
  return out;
}

/** A raw upstream that accepts the upgrade, then runs `script`. */
function acceptingUpstream(script: (s: RawSocket) => Promise<void>) {
  return startRawUpstream(async (s) => {
    const head = (await s.readHead())!;
    await s.write(
      "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n" +
        `sec-websocket-accept: ${await acceptFor(head)}\r\n\r\n`,
    );
    await script(s);
  });
}

Deno.test("ws upstream: a promise returned by onmessage pauses reading until it settles", async () => {
  const hold = Promise.withResolvers<void>();
  // Three messages in one write: without the pause, all three are read at once.
  const upstream = acceptingUpstream(async (s) => {
    const text = (t: string) => new Uint8Array([0x81, t.length, ...new TextEncoder().encode(t)]);
    const all = [text("one"), text("two"), text("three")];
    await s.write(new Uint8Array(all.flatMap((f) => [...f])));
    await hold.promise;
  });
  const ws = await UpstreamWebSocket.connect(
    { origin: upstream.url, protocol: "http:", hostname: "127.0.0.1", port: upstream.port },
    "/ws",
    ["host", `127.0.0.1:${upstream.port}`],
    [],
    5_000,
  );
  const seen: string[] = [];
  const gate = Promise.withResolvers<void>();
  const first = Promise.withResolvers<void>();
  const third = Promise.withResolvers<void>();
  ws.onmessage = (m) => {
    seen.push(m as string);
    if (m === "one") {
      first.resolve();
      return gate.promise;
    }
    if (m === "three") third.resolve();
  };
  const closed = new Promise<void>((resolve) => ws.onclose = () => resolve());
  try {
    ws.start();
    await within(first.promise, 5_000, "first message");
    // One macrotask later the other two, already buffered, would have been delivered.
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.deepEqual(seen, ["one"]);
    seen.push("(gate opened)");
    gate.resolve();
    await within(third.promise, 5_000, "third message");
    assert.deepEqual(seen, ["one", "(gate opened)", "two", "three"]);
  } finally {
    ws.close();
    hold.resolve();
    await closed;
    await upstream.close();
  }
});

Deno.test("a client that stops reading: the gateway stops reading the upstream, and loses nothing", async () => {
  const MESSAGES = 64;
  const SIZE = 1 << 20;
  let written = 0; // messages the upstream's kernel accepted
  const finished = Promise.withResolvers<"upstream wrote everything">();
  const upstream = acceptingUpstream(async (s) => {
    for (let i = 0; i < MESSAGES; i++) {
      await s.write(binaryFrame(new Uint8Array(SIZE).fill(i)));
      written++;
    }
    finished.resolve("upstream wrote everything");
    await s.waitForClose();
  });
  const gw = await startTestGateway(catchAll(upstream.url));
  const client = new RawSocket(
    await Deno.connect({ hostname: "127.0.0.1", port: portOf(gw) }),
  );
  try {
    await client.write(
      "GET /ws HTTP/1.1\r\nhost: gw.test\r\nupgrade: websocket\r\nconnection: Upgrade\r\n" +
        "sec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    );
    assert.match((await client.readHead())!, /^HTTP\/1\.1 101/);
    // The client reads nothing now. The upstream gets as far as the socket buffers and the
    // gateway's high-water mark allow, then its writes stop completing. Waiting for that is
    // the only timed part: the test starts reading once the count has not moved for 500 ms.
    // Without backpressure, the gateway reads all 64 MiB and the upstream finishes first.
    const stalled = new Promise<"stalled">((resolve) => {
      let last = -1, still = 0;
      const timer = setInterval(() => {
        still = written === last && written > 0 ? still + 1 : 0;
        last = written;
        if (still >= 5 || written === MESSAGES) {
          clearInterval(timer);
          resolve("stalled");
        }
      }, 100);
    });
    const first = await within(Promise.race([finished.promise, stalled]), 30_000, "stall");
    assert.equal(
      first,
      "stalled",
      "the gateway read the upstream while the client was not reading",
    );
    assert.ok(written < MESSAGES, `the upstream wrote all ${written} messages`);

    // Now the client reads: every message arrives whole, in order, and the upstream finishes.
    for (let i = 0; i < MESSAGES; i++) {
      const { opcode, payload } = await within(readFrame(client), 30_000, `message ${i}`);
      assert.equal(opcode, 2);
      assert.equal(payload.length, SIZE);
      assert.ok(payload[0] === i && payload[SIZE - 1] === i, `message ${i} is intact`);
    }
    await within(finished.promise, 5_000, "upstream done");
  } finally {
    client.close();
    await gw.close();
    await upstream.close();
  }
});
