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
/**
 * Each span has exactly one `"spanId"` member (`parentSpanId` does not match: capital S).
 * Counted with `indexOf`, not a global regex match, which builds an array per export: the sink
 * shares a core with the load generator and the backend, so it must cost them little.
 */
const SPAN_ID = '"spanId"';
function countSpans(body: string): number {
  let count = 0;
  for (let at = body.indexOf(SPAN_ID); at !== -1; at = body.indexOf(SPAN_ID, at + SPAN_ID.length)) {
    count++;
  }
  return count;
}
Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, async (req) => {
  const body = await req.text();
  if (req.method === "GET" || req.method === "DELETE") {
    const counts = `${exports} exports, ${spans} spans\n`;
    if (req.method === "DELETE") exports = spans = 0;
    return new Response(counts);
  }
  if (new URL(req.url).pathname === "/v1/traces") {
    exports++;
    spans += countSpans(body);
  }
  return new Response("{}", { headers: { "content-type": "application/json" } });
});
