/**
 * A minimal OTLP/HTTP sink for benchmarks: accepts every export and discards it, counting trace
 * exports and (for OTLP/JSON) spans, so a run can confirm traces were really exported.
 * `GET /` answers `<exports> exports, <spans> spans` since the last `DELETE /`, which resets.
 *
 *   deno run --allow-net bench/otlp_sink.ts 4318
 */
const port = Number(Deno.args[0] ?? "4318");
let exports = 0;
let spans = 0;
/** Each span has exactly one `"spanId"` member (`parentSpanId` does not match: capital S). */
const SPAN_ID = /"spanId"/g;
Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, async (req) => {
  const body = await req.text();
  if (req.method === "GET" || req.method === "DELETE") {
    const counts = `${exports} exports, ${spans} spans\n`;
    if (req.method === "DELETE") exports = spans = 0;
    return new Response(counts);
  }
  if (new URL(req.url).pathname === "/v1/traces") {
    exports++;
    spans += body.match(SPAN_ID)?.length ?? 0;
  }
  return new Response("{}", { headers: { "content-type": "application/json" } });
});
