/**
 * WebSocket relay latency for small messages sent back to back: a raw client (TCP_NODELAY, each
 * frame its own write) sends pairs of 20-byte text messages through a gateway to a `Deno.serve`
 * upstream, which notes when each arrives. Prints the gap between the two arrivals of a pair.
 * A gap near the delayed-ACK time (~40 ms) means Nagle's algorithm held the second frame on a
 * socket of the path. `--direct` skips the gateway, for comparison.
 *
 *   deno run -A bench/ws_latency.ts [--direct] [--pairs 40]
 *
 * Measured 2026-11-23: direct max 0.18 ms; through Ferry without TCP_NODELAY on the upstream
 * socket max 43 ms (p50 0.04 ms); with it, max 0.41 ms.
 */
import { startGateway } from "../src/server/gateway.ts";

const direct = Deno.args.includes("--direct");
const pairsArg = Deno.args.indexOf("--pairs");
const pairs = pairsArg >= 0 ? Number(Deno.args[pairsArg + 1]) : 40;

const arrivals: number[] = [];
const upstream = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
  const { socket, response } = Deno.upgradeWebSocket(req);
  socket.onmessage = () => arrivals.push(performance.now());
  return response;
});
const gateway = await startGateway({
  upstreams: { api: { targets: [`http://127.0.0.1:${upstream.addr.port}`] } },
  routes: [{ upstream: "api" }],
}, { listen: { hostname: "127.0.0.1", port: 0 }, admin: false, logger: { log() {} } });

/** A masked client text frame (payload under 126 bytes). */
function textFrame(text: string): Uint8Array {
  const payload = new TextEncoder().encode(text);
  const mask = [1, 2, 3, 4];
  const frame = new Uint8Array(6 + payload.length);
  frame[0] = 0x81;
  frame[1] = 0x80 | payload.length;
  frame.set(mask, 2);
  for (let i = 0; i < payload.length; i++) frame[6 + i] = payload[i] ^ mask[i & 3];
  return frame;
}

const port = direct ? upstream.addr.port : Number(new URL(gateway.url).port);
const client = await Deno.connect({ hostname: "127.0.0.1", port });
client.setNoDelay(true);
await client.write(
  new TextEncoder().encode(
    "GET /ws HTTP/1.1\r\nhost: bench.test\r\nupgrade: websocket\r\nconnection: Upgrade\r\n" +
      "sec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
  ),
);
await client.read(new Uint8Array(4096)); // the 101 (nothing else is sent to this client)

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const gaps: number[] = [];
for (let i = 0; i < pairs; i++) {
  arrivals.length = 0;
  await client.write(textFrame("a".repeat(20)));
  await client.write(textFrame("b".repeat(20)));
  while (arrivals.length < 2) await sleep(1);
  gaps.push(arrivals[1] - arrivals[0]);
  await sleep(60); // past the delayed-ACK time, so each pair starts with nothing unacknowledged
}
gaps.sort((a, b) => a - b);
const at = (q: number) => gaps[Math.min(gaps.length - 1, Math.floor(q * gaps.length))].toFixed(2);
console.log(
  `${direct ? "direct" : "through Ferry"}: gap between a pair's arrivals, ms: ` +
    `p50 ${at(0.5)}, p90 ${at(0.9)}, max ${gaps.at(-1)!.toFixed(2)} (${pairs} pairs)`,
);
client.close();
await gateway.close();
await upstream.shutdown();
