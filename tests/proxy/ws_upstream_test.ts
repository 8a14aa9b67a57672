/**
 * Ferry's upstream WebSocket client against a hand-written WebSocket server on raw TCP, for what
 * a well-behaved server never sends: pings, fragmented messages, oversized or invalid-UTF-8
 * messages, bad handshakes, and close codes the WebSocket API cannot send.
 */
import assert from "node:assert/strict";
import type { TargetAddress } from "../../src/upstream/client.ts";
import { MAX_MESSAGE_BYTES, UpstreamWebSocket } from "../../src/proxy/ws_upstream.ts";
import { type RawSocket, startRawUpstream, within } from "../helpers/gateway.ts";
import { acceptFor, readFrame } from "../helpers/websocket.ts";

/** An unmasked server frame. */
function frame(opcode: number, payload: Uint8Array | string, fin = true): Uint8Array {
  const body = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
  const head = body.length < 126 ? [body.length] : [126, body.length >> 8, body.length & 0xff];
  return new Uint8Array([(fin ? 0x80 : 0) | opcode, ...head, ...body]);
}

/** Reads one client frame, which must come masked. */
async function readClientFrame(s: RawSocket): Promise<{ opcode: number; payload: Uint8Array }> {
  const frame = await readFrame(s);
  assert.ok(frame.masked, "client frames must be masked");
  return frame;
}

function address(port: number): TargetAddress {
  return { origin: `http://127.0.0.1:${port}`, protocol: "http:", hostname: "127.0.0.1", port };
}

/**
 * Runs `script` as the server side after a correct handshake. `done` settles when the script
 * has finished: tests await it before closing the server, which would cut its socket.
 */
function wsServer(script: (s: RawSocket) => Promise<void>) {
  const done = Promise.withResolvers<void>();
  const server = startRawUpstream(async (s) => {
    try {
      const head = (await s.readHead())!;
      await s.write(
        "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n" +
          `sec-websocket-accept: ${await acceptFor(head)}\r\n\r\n`,
      );
      await script(s);
      done.resolve();
    } catch (e) {
      done.reject(e);
      throw e;
    }
  });
  return Object.assign(server, { done: done.promise });
}

function events(ws: UpstreamWebSocket) {
  const messages: (string | Uint8Array)[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.onclose = (code, reason) => resolve({ code, reason });
  });
  ws.onmessage = (m) => void messages.push(m);
  ws.start();
  return { messages, closed };
}

Deno.test("ws upstream: pings are answered, fragments are joined, the close code comes back", async () => {
  const server = wsServer(async (s) => {
    await s.write(frame(9, "are you there"));
    const pong = await readClientFrame(s);
    assert.equal(pong.opcode, 10);
    assert.equal(new TextDecoder().decode(pong.payload), "are you there");
    await s.write(frame(1, "hel", false));
    await s.write(frame(0, "lo", true));
    await s.write(frame(8, new Uint8Array([0x03, 0xe9, ...new TextEncoder().encode("bye")])));
    const echo = await readClientFrame(s);
    assert.equal(echo.opcode, 8);
  });
  try {
    const ws = await UpstreamWebSocket.connect(
      address(server.port),
      "/ws",
      ["host", "x"],
      [],
      2000,
    );
    const { messages, closed } = events(ws);
    assert.deepEqual(await closed, { code: 1001, reason: "bye" });
    assert.deepEqual(messages, ["hello"]);
    await server.done;
  } finally {
    await server.close();
  }
  assert.deepEqual(server.errors, []);
});

Deno.test("ws upstream: any valid close code is sent, 1001 and 1008 included", async () => {
  for (const code of [1001, 1008, 4000]) {
    const got = Promise.withResolvers<number>();
    const server = wsServer(async (s) => {
      const f = await readClientFrame(s);
      got.resolve((f.payload[0] << 8) | f.payload[1]);
    });
    try {
      const ws = await UpstreamWebSocket.connect(address(server.port), "/", [], [], 2000);
      const { closed } = events(ws);
      ws.close(code, "done");
      assert.equal(await got.promise, code);
      await closed;
      await server.done;
    } finally {
      await server.close();
    }
  }
});

Deno.test("ws upstream: invalid UTF-8 closes with 1007, an oversized message with 1009", async () => {
  const cases: [Uint8Array, number][] = [
    [frame(1, new Uint8Array([0xc3, 0x28])), 1007],
    [
      new Uint8Array([0x82, 127, 0, 0, 0, 0, ...bigEndian32(MAX_MESSAGE_BYTES + 1)]),
      1009,
    ],
  ];
  for (const [bytes, expected] of cases) {
    const server = wsServer(async (s) => {
      await s.write(bytes);
      const f = await readClientFrame(s);
      assert.equal(f.opcode, 8);
      assert.equal((f.payload[0] << 8) | f.payload[1], expected);
    });
    try {
      const ws = await UpstreamWebSocket.connect(address(server.port), "/", [], [], 2000);
      const { closed } = events(ws);
      assert.equal((await closed).code, expected);
      await server.done;
    } finally {
      await server.close();
    }
    assert.deepEqual(server.errors, []);
  }
});

Deno.test("ws upstream: frames RFC 6455 forbids a server close the connection with 1002", async () => {
  const masked = new Uint8Array([
    0x81,
    0x85,
    1,
    2,
    3,
    4,
    ..."hello".split("").map((c, i) => c.charCodeAt(0) ^ [1, 2, 3, 4][i & 3]),
  ]);
  const cases: [string, Uint8Array, number][] = [
    ["a reserved bit", new Uint8Array([0xc1, 2, 0x68, 0x69]), 1002],
    ["a masked frame", masked, 1002],
    ["a fragmented ping", frame(9, "p", false), 1002],
    ["a 126-byte ping", frame(9, new Uint8Array(126)), 1002],
    ["a continuation with nothing to continue", frame(0, "x"), 1002],
    ["a new message inside a fragmented one", concat(frame(1, "a", false), frame(1, "b")), 1002],
    ["an unknown opcode", frame(3, "x"), 1002],
    ["a close reason that is not UTF-8", frame(8, new Uint8Array([0x03, 0xe8, 0xc3, 0x28])), 1007],
  ];
  for (const [what, bytes, expected] of cases) {
    const server = wsServer(async (s) => {
      await s.write(bytes);
      const f = await readClientFrame(s);
      assert.equal(f.opcode, 8, what);
      assert.equal((f.payload[0] << 8) | f.payload[1], expected, what);
    });
    try {
      const ws = await UpstreamWebSocket.connect(address(server.port), "/", [], [], 2000);
      const { messages, closed } = events(ws);
      // Bounded: a client that let the frame pass would wait for a close that never comes.
      assert.equal((await within(closed, 5_000, what)).code, expected, what);
      assert.deepEqual(messages, [], `${what}: nothing is delivered from a broken stream`);
      await server.done;
    } finally {
      await server.close();
    }
    assert.deepEqual(server.errors, [], what);
  }
});

function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(parts.flatMap((p) => [...p]));
}

Deno.test("ws upstream: a refused upgrade or a wrong accept key fails the connect", async () => {
  const refusing = startRawUpstream(async (s) => {
    await s.readHead();
    await s.write("HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n");
  });
  const lying = startRawUpstream(async (s) => {
    await s.readHead();
    await s.write(
      "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n" +
        "sec-websocket-accept: bm90IHRoZSByaWdodCBrZXk=\r\n\r\n",
    );
  });
  try {
    await assert.rejects(
      UpstreamWebSocket.connect(address(refusing.port), "/", [], [], 2000),
      /answered 403/,
    );
    await assert.rejects(
      UpstreamWebSocket.connect(address(lying.port), "/", [], [], 2000),
      /wrong Sec-WebSocket-Accept/,
    );
  } finally {
    await refusing.close();
    await lying.close();
  }
});

Deno.test("ws upstream: an upstream that never answers the upgrade times out", async () => {
  const silent = startRawUpstream(async (s) => {
    await s.readHead();
    await s.waitForClose();
  });
  try {
    await assert.rejects(
      UpstreamWebSocket.connect(address(silent.port), "/", [], [], 100),
      /timed out/,
    );
  } finally {
    await silent.close();
  }
});

function bigEndian32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}
