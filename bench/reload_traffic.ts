/**
 * The traffic side of bench/reload_memory.ts, in its own process so that neither the upstream
 * nor the load generator shares the heap being measured:
 *
 * 1. starts the showcase's demo upstream on an ephemeral loopback port and prints
 *    `{"upstream": "http://127.0.0.1:<port>"}`;
 * 2. reads one line from stdin: the gateway's URL and how many requests to send
 *    (`<url> <count>`), sends them through the gateway across the showcase's routes with 8
 *    keep-alive connections, and prints `{"sent": n, "failed": m}` (a 5xx, a network error or
 *    no answer within 10 s counts as failed);
 * 3. keeps the upstream serving (the gateway health-checks it) until stdin closes.
 *
 * Why: a gateway is reloaded while it is in service. Before any request, RSS leaves out all the
 * code the request path pages in and JIT-compiles (the deno binary's own code is file-backed
 * RSS), which then arrives during the first reloads and reads as reload growth.
 */
import { startDemoServer } from "../src/demo/server.ts";

/** Paths that reach the showcase's routes: proxied GETs and POSTs, and a gateway redirect. */
const PATHS = ["/api/users/7", "/api/orders?page=2", "/v1/users/9", "/gzip", "/healthz"];
const CONNECTIONS = 8;
const REQUEST_TIMEOUT_MS = 10_000;

async function sendAll(base: string, count: number): Promise<{ sent: number; failed: number }> {
  let next = 0;
  let failed = 0;
  // Deno's fetch keeps idle connections: each of the 8 loops reuses one after its first request.
  const loop = async () => {
    while (next < count) {
      const n = next++;
      const path = PATHS[n % PATHS.length];
      const post = n % 7 === 0;
      try {
        const res = await fetch(base + path, {
          method: post ? "POST" : "GET",
          body: post ? JSON.stringify({ n }) : undefined,
          redirect: "manual",
          // A gateway that stops answering fails the run (counted) instead of hanging it.
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        await res.arrayBuffer();
        if (res.status >= 500) failed++;
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, loop));
  return { sent: count, failed };
}

async function firstLine(stdin: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stdin.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  // Stay subscribed so that the end of stdin (the parent exiting or closing it) is seen.
  (async () => {
    while (!(await reader.read()).done) { /* only waiting for the end */ }
    Deno.exit(0);
  })();
  return text.split("\n")[0];
}

if (import.meta.main) {
  const upstream = startDemoServer("127.0.0.1", 0);
  console.log(JSON.stringify({ upstream: `http://127.0.0.1:${upstream.addr.port}` }));
  const [url, count] = (await firstLine(Deno.stdin.readable)).split(" ");
  console.log(JSON.stringify(await sendAll(url.replace(/\/$/, ""), Number(count))));
}
