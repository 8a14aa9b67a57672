/**
 * A minimal OTLP/HTTP sink for benchmarks: accepts every export and discards it, counting trace
 * exports and spans (OTLP/protobuf or OTLP/JSON), so a run can confirm traces were really
 * exported.
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
function countJsonSpans(body: string): number {
  let count = 0;
  for (let at = body.indexOf(SPAN_ID); at !== -1; at = body.indexOf(SPAN_ID, at + SPAN_ID.length)) {
    count++;
  }
  return count;
}
/**
 * Spans in an OTLP/protobuf `ExportTraceServiceRequest`: the `spans` fields (2) of every
 * `ScopeSpans` (field 2) of every `ResourceSpans` (field 1), found by walking field headers only.
 */
function countProtobufSpans(body: Uint8Array): number {
  let count = 0;
  // Calls `each(field, start, end)` for every length-delimited field of body[from, to).
  const walk = (from: number, to: number, each: (field: number, s: number, e: number) => void) => {
    let pos = from;
    const varint = () => {
      let value = 0;
      for (let scale = 1;; scale *= 128) {
        const byte = body[pos++];
        value += (byte & 0x7f) * scale;
        if (byte < 0x80) return value;
      }
    };
    while (pos < to) {
      const key = varint();
      const wireType = key & 7;
      if (wireType === 0) varint();
      else if (wireType === 1) pos += 8;
      else if (wireType === 5) pos += 4;
      else {
        const length = varint();
        each(key >>> 3, pos, pos + length);
        pos += length;
      }
    }
  };
  walk(0, body.length, (f, s, e) => {
    if (f !== 1) return;
    walk(s, e, (f, s, e) => {
      if (f !== 2) return;
      walk(s, e, (f) => {
        if (f === 2) count++;
      });
    });
  });
  return count;
}

Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, async (req) => {
  const bytes = new Uint8Array(await req.arrayBuffer());
  if (req.method === "GET" || req.method === "DELETE") {
    const counts = `${exports} exports, ${spans} spans\n`;
    if (req.method === "DELETE") exports = spans = 0;
    return new Response(counts);
  }
  if (new URL(req.url).pathname === "/v1/traces") {
    exports++;
    spans += req.headers.get("content-type") === "application/x-protobuf"
      ? countProtobufSpans(bytes)
      : countJsonSpans(new TextDecoder().decode(bytes));
  }
  return new Response("{}", { headers: { "content-type": "application/json" } });
});
