/**
 * A minimal OTLP/HTTP sink for benchmarks: accepts every export and discards it, counting spans
 * requests so a run can confirm traces were really exported.
 *
 *   deno run --allow-net bench/otlp_sink.ts 4318
 */
const port = Number(Deno.args[0] ?? "4318");
let exports = 0;
Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, async (req) => {
  await req.arrayBuffer();
  if (new URL(req.url).pathname === "/v1/traces") exports++;
  if (req.method === "GET") return new Response(`${exports}\n`);
  return new Response("{}", { headers: { "content-type": "application/json" } });
});
