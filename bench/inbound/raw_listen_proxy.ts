/**
 * Probe, not a product: the same proxy as `serve_proxy.ts`, but answering on a raw
 * `Deno.listen` socket instead of `Deno.serve`. It handles only what the benchmark sends (GET,
 * one request per read, no request body) and none of HTTP/1.1's edge cases. Its point is the
 * ceiling: what an inbound server of Ferry's own, with no web `Request`/`Response` objects,
 * could reach. Listens on $PROXY_PORT, forwards to 127.0.0.1:$BACKEND_PORT.
 */
import { Http1Client } from "../../src/upstream/http1/client.ts";
import { backendTarget, TIMEOUTS } from "./shared.ts";

const client = new Http1Client({ maxIdlePerTarget: 256, idleTimeoutMs: 60_000 });
const target = backendTarget();
const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function serve(conn: Deno.TcpConn): Promise<void> {
  conn.setNoDelay(true); // without it, Nagle's algorithm holds every response ~40 ms
  const buf = new Uint8Array(16 * 1024);
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) return;
    const head = decoder.decode(buf.subarray(0, n));
    const sp1 = head.indexOf(" ");
    const sp2 = head.indexOf(" ", sp1 + 1);
    const res = await client.send(target, {
      method: head.slice(0, sp1),
      path: head.slice(sp1 + 1, sp2),
      headers: ["host", target.origin.slice(7)],
      body: null,
      bodyLength: 0,
    }, TIMEOUTS);
    let out = `HTTP/1.1 ${res.status} ${res.statusText}\r\n`;
    for (let i = 0; i < res.headers.length; i += 2) {
      const name = res.headers[i];
      if (name !== "connection" && name !== "content-length") {
        out += `${name}: ${res.headers[i + 1]}\r\n`;
      }
    }
    const body = res.body instanceof Uint8Array
      ? res.body
      : new Uint8Array(await new Response(res.body).arrayBuffer());
    const bytes = encoder.encode(`${out}content-length: ${body.length}\r\n\r\n`);
    const message = new Uint8Array(bytes.length + body.length);
    message.set(bytes);
    message.set(body, bytes.length);
    let written = 0;
    while (written < message.length) written += await conn.write(message.subarray(written));
  }
}

const port = Number(Deno.env.get("PROXY_PORT") ?? 28090);
for await (const conn of Deno.listen({ hostname: "127.0.0.1", port })) {
  serve(conn).catch(() => {}).finally(() => {
    try {
      conn.close();
    } catch {
      // already closed
    }
  });
}
