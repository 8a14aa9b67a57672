/**
 * Hostile WebSocket upstreams, generated: after a correct upgrade, a raw upstream writes a
 * well-formed frame sequence (text, binary, fragmented messages, pings, a close) mutated 1-3
 * times by a seeded generator, then closes its socket. A real WebSocket client talks to it
 * through the gateway. Seeded, so every run replays the same 300 streams.
 *
 * What must hold for every one of them: the client's socket closes, never hangs, with a code a
 * bridge may report (see ALLOWED); nothing fails inside the gateway; and the gateway still
 * bridges a good WebSocket (case -1 runs first and last).
 */
import assert from "node:assert/strict";
import { seededRandom } from "../helpers/random.ts";
import { catchAll, startRawUpstream, startTestGateway, within } from "../helpers/gateway.ts";
import { acceptFor } from "../helpers/websocket.ts";

/** An unmasked server frame. */
function frame(opcode: number, payload: string | number[], fin = true): number[] {
  const body = typeof payload === "string" ? [...new TextEncoder().encode(payload)] : payload;
  const head = body.length < 126 ? [body.length] : [126, body.length >> 8, body.length & 0xff];
  return [(fin ? 0x80 : 0) | opcode, ...head, ...body];
}

/** Valid frame streams, one per kind of traffic. */
const CORPUS: number[][] = [
  [...frame(1, "hello"), ...frame(2, [1, 2, 3]), ...frame(8, [0x03, 0xe8, ...bytes("bye")])],
  [...frame(1, "par", false), ...frame(9, "p"), ...frame(0, "ts")],
  [...frame(2, new Array(300).fill(7)), ...frame(10, "pong")],
  [...frame(1, "héllo wörld"), ...frame(8, [0x0f, 0xa0])],
  [...frame(8, [])],
];

function bytes(text: string): number[] {
  return [...new TextEncoder().encode(text)];
}

/** Byte values that matter in frame headers: FIN/RSV/opcode bits, length forms, UTF-8. */
const INTERESTING = [
  0x00,
  0x01,
  0x02,
  0x08,
  0x09,
  0x0a,
  0x0f,
  0x7e,
  0x7f,
  0x80,
  0x81,
  0x88,
  0xc1,
  0xff,
];

const CASES = 300;

/** Stream `n`: a corpus stream with 1-3 mutations, the same every run. */
function mutated(n: number): Uint8Array {
  const random = seededRandom(0x3e65 + n * 15_485_863);
  const stream = [...CORPUS[n % CORPUS.length]];
  const mutations = 1 + Math.floor(random() * 3);
  for (let m = 0; m < mutations; m++) {
    const at = Math.floor(random() * stream.length);
    const kind = Math.floor(random() * 4);
    const value = random() < 0.6
      ? INTERESTING[Math.floor(random() * INTERESTING.length)]
      : Math.floor(random() * 256);
    if (kind === 0) stream[at] = value;
    else if (kind === 1) stream.splice(at, 0, value);
    else if (kind === 2) stream.splice(at, 1 + Math.floor(random() * 4));
    else stream.length = at;
  }
  return new Uint8Array(stream);
}

/**
 * Close codes a client of the bridge may see besides the upstream's own (1000, 3000-4999): 1005
 * for a close frame without a code, protocol errors (1002, 1007, 1009) and 1011 for an upstream
 * gone or broken. Never 1006 (the gateway always closes properly) or anything a client refuses.
 */
const ALLOWED = new Set([1000, 1002, 1005, 1007, 1009, 1011, 4000]);

Deno.test(`websocket fuzz: ${CASES} mutated upstream streams each end the client's socket with a proper code`, async () => {
  const upstream = startRawUpstream(async (s) => {
    const head = (await s.readHead())!;
    const n = Number(/[?&]case=(-?\d+)/.exec(head)?.[1]);
    await s.write(
      "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n" +
        `sec-websocket-accept: ${await acceptFor(head)}\r\n\r\n`,
    );
    try {
      // Case -1: a healthy peer that echoes one text message and closes with 4000.
      await s.write(n < 0 ? new Uint8Array(frame(1, "healthy")) : mutated(n));
      if (n < 0) await s.write(new Uint8Array(frame(8, [0x0f, 0xa0, ...bytes("done")])));
    } catch {
      // The gateway may already have failed the connection: nothing more to write.
    }
    // Returning closes the socket: whatever the stream said, the upstream is gone now.
  });
  const gw = await startTestGateway(catchAll(upstream.url));
  const codes = new Map<number, number>();
  try {
    // The healthy peer first and last: the gateway bridges well before and after the rest.
    for (const n of [-1, ...Array.from({ length: CASES }, (_, i) => i), -1]) {
      const what = `case ${n} [${[...(n < 0 ? [] : mutated(n))].join(",")}]`;
      // A client WebSocket sends no custom headers: the case number travels in the query.
      const ws = new WebSocket(`${gw.url.replace("http", "ws")}/ws?case=${n}`);
      const messages: unknown[] = [];
      ws.onmessage = (e) => messages.push(e.data);
      ws.onerror = () => {};
      const closed = new Promise<number>((resolve) => ws.onclose = (e) => resolve(e.code));
      const code = await within(closed, 8_000, what);
      codes.set(code, (codes.get(code) ?? 0) + 1);
      if (n < 0) {
        assert.deepEqual([code, messages], [4000, ["healthy"]], "the healthy peer");
      } else assert.ok(ALLOWED.has(code) || (code >= 3000 && code <= 4999), `${what}: ${code}`);
      assert.deepEqual(gw.logger.lines.filter((l) => l.level === "error"), [], what);
    }
  } finally {
    await gw.close();
    await upstream.close();
  }
  console.log(Object.fromEntries([...codes].sort((a, b) => a[0] - b[0])));
  assert.ok((codes.get(1002) ?? 0) > 0, "some streams must be refused as protocol errors");
});
