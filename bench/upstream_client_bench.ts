/**
 * Cost of one keep-alive GET of a 1 KiB body through Ferry's upstream client and through `fetch`
 * (the option it replaced), against a `Deno.serve` upstream in the same process (so the figures
 * include the server's share: read the ratio, not the absolute). Run with
 * `deno bench --allow-net bench/upstream_client_bench.ts`.
 * The end-to-end figure that matters (gateway req/s under wrk) comes from `shared/bench/peers.sh`.
 */
import type { OutboundRequest } from "../src/upstream/client.ts";
import { Http1Client } from "../src/upstream/http1/client.ts";

const payload = new Uint8Array(1024).fill(120);
const server = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen() {} },
  () => new Response(payload, { headers: { "content-type": "text/plain" } }),
);
const port = server.addr.port;
const target = {
  origin: `http://127.0.0.1:${port}`,
  protocol: "http:" as const,
  hostname: "127.0.0.1",
  port,
};
const timeouts = { connectMs: 5_000, totalMs: 30_000, idleMs: 30_000 };
const request: OutboundRequest = {
  method: "GET",
  path: "/bench?x=1",
  headers: ["host", `127.0.0.1:${port}`, "user-agent", "bench", "accept", "*/*"],
  body: null,
  bodyLength: -1,
};

const http1 = new Http1Client({ maxIdlePerTarget: 64, idleTimeoutMs: 30_000 });
const fetchClient = Deno.createHttpClient({ allowHost: true });
const url = `${target.origin}${request.path}`;
const fetchHeaders = [["host", `127.0.0.1:${port}`], ["user-agent", "bench"], ["accept", "*/*"]];

Deno.bench("Http1Client GET 1 KiB", { group: "get", baseline: true }, async () => {
  const res = await http1.send(target, request, timeouts);
  if (res.body instanceof ReadableStream) await res.body.cancel();
});
Deno.bench("fetch GET 1 KiB", { group: "get" }, async () => {
  const res = await fetch(url, { headers: fetchHeaders, client: fetchClient });
  await res.arrayBuffer();
});

globalThis.addEventListener("unload", () => {
  http1.close();
  fetchClient.close();
  server.shutdown();
});
