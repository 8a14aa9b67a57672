/**
 * OTLP/protobuf against OTLP/JSON: the same spans, encoded both ways by Ferry, decoded by
 * protobufjs from the OTLP message definitions (tests/helpers/otlp_proto.ts) and by
 * `JSON.parse`, carry exactly the same data: ids, times to the nanosecond, kinds, every
 * attribute kind (negative and 64-bit integers, non-finite doubles, bytes, arrays, nested lists,
 * non-ASCII text), events, status and tracestate, grouped by scope.
 */
import assert from "node:assert/strict";
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { encodeExportRequest, resourceAttributes } from "../../../src/observe/otlp/encode.ts";
import { exportRequestProto, writeSpan } from "../../../src/observe/otlp/encode_proto.ts";
import { ProtoWriter } from "../../../src/observe/otlp/proto_writer.ts";
import type { InstrumentationScope, RecordingSpan } from "../../../src/observe/otlp/span.ts";
import { decodeTraceExport } from "../../helpers/otlp_proto.ts";
import { collectingProvider } from "./pipeline.ts";

function recordedSpans(): RecordingSpan[] {
  const { ended, provider, remoteParent } = collectingProvider();
  const tricky = 'quote " backslash \\ newline \n é 🚀 \u0001';
  const server = provider.getTracer("ferry", "1.2.3").startSpan("GET /users/:id", {
    kind: SpanKind.SERVER,
    startTime: 1_800_000_000_123.456789,
    attributes: {
      "http.request.method": "GET",
      "http.response.status_code": 200,
      "server.port": 8080,
      negative: -42,
      "max-safe": Number.MAX_SAFE_INTEGER,
      unsafe: 2 ** 60,
      half: 0.5,
      nan: NaN,
      inf: -Infinity,
      yes: true,
      no: false,
      list: ["a", "b"],
      city: "Zürich", // an ASCII key with a value that is not: the fast path backs out
      [tricky]: tricky,
    },
  }, remoteParent);
  server.setAttribute("big", 2n ** 62n as unknown as number);
  server.setAttribute("negative-big", -(2n ** 63n) as unknown as number);
  server.setAttribute("too-big", 2n ** 64n as unknown as number);
  server.setAttribute("bytes", new Uint8Array([0, 1, 254, 255]) as unknown as string);
  server.setAttribute("mixed", [1, null, "x"] as unknown as string[]);
  server.setAttribute("nested", { a: 1, b: { c: "d" } } as unknown as string);
  server.setAttribute("date", new Date(Date.UTC(2026, 10, 22)) as unknown as string);
  server.addEvent(
    "ferry.policy.rejected",
    { "ferry.policy": "jwt", status: 401 },
    1_800_000_000_124,
  );
  server.addEvent("bare");
  server.setStatus({ code: SpanStatusCode.ERROR, message: tricky });
  server.end(1_800_000_000_125.5);

  const client = provider.getTracer("ferry", "1.2.3").startSpan("GET api", {
    kind: SpanKind.CLIENT,
    attributes: { "ferry.attempt": 1, "url.full": "http://127.0.0.1:3000/users/7" },
  }, trace.setSpan(ROOT_CONTEXT, server));
  client.end();
  // A second scope, without a version.
  provider.getTracer("plugin").startSpan("inner", { kind: SpanKind.INTERNAL }, ROOT_CONTEXT).end();
  return ended;
}

function protobufBody(spans: RecordingSpan[]) {
  const byScope = new Map<InstrumentationScope, ProtoWriter>();
  for (const span of spans) {
    let out = byScope.get(span.scope);
    if (out === undefined) byScope.set(span.scope, out = new ProtoWriter(16));
    writeSpan(out, span);
  }
  return exportRequestProto(resourceAttributes("svc", { "deployment.environment": "é" }), byScope);
}

Deno.test("protobuf and JSON exports of the same spans decode to the same data", () => {
  const spans = recordedSpans();
  const fromJson = JSON.parse(
    encodeExportRequest(resourceAttributes("svc", { "deployment.environment": "é" }), spans),
  );
  const fromProtobuf = decodeTraceExport(protobufBody(spans));
  assert.deepEqual(fromProtobuf, fromJson);
  // And the data is what was recorded, not merely the same mistake twice.
  const [server, client] = fromJson.resourceSpans[0].scopeSpans[0].spans;
  assert.equal(server.parentSpanId, "00f067aa0ba902b7");
  assert.equal(server.traceState, "vendor=a,other=b");
  assert.equal(client.parentSpanId, server.spanId);
  // 125.5 - 123.456789 ms, to within what a double holds of an epoch time (2^-12 ms ≈ 244 ns).
  const took = Number(BigInt(server.endTimeUnixNano) - BigInt(server.startTimeUnixNano));
  assert.ok(Math.abs(took - 2_043_211) <= 244, `took ${took} ns`);
  const attributes = Object.fromEntries(
    server.attributes.map((a: { key: string; value: unknown }) => [a.key, a.value]),
  );
  assert.deepEqual(attributes["negative-big"], { intValue: "-9223372036854775808" });
  assert.deepEqual(attributes["max-safe"], { intValue: "9007199254740991" });
  assert.deepEqual(attributes.bytes, { bytesValue: "AAH+/w==" });
  assert.deepEqual(attributes.nan, { doubleValue: "NaN" });
  assert.equal(fromJson.resourceSpans[0].scopeSpans[1].scope.name, "plugin");
});

Deno.test("a protobuf export of many spans keeps every one (lengths past one varint byte)", () => {
  const { ended, provider } = collectingProvider();
  const long = "x".repeat(20_000); // a string and a message longer than 16 KiB: 3-byte lengths
  for (let i = 0; i < 600; i++) {
    provider.getTracer("ferry").startSpan(`s${i}`, {
      attributes: { i, long: i === 300 ? long : "short" },
    }, ROOT_CONTEXT).end();
  }
  const decoded = decodeTraceExport(protobufBody(ended)) as {
    resourceSpans: { scopeSpans: { spans: { name: string; attributes: unknown[] }[] }[] }[];
  };
  const spans = decoded.resourceSpans[0].scopeSpans[0].spans;
  assert.equal(spans.length, 600);
  assert.deepEqual(spans.map((s) => s.name), ended.map((s) => s.name));
  assert.deepEqual(spans[300].attributes[1], { key: "long", value: { stringValue: long } });
});

Deno.test("a span keeps 128 attributes and 128 events; the export counts the rest as dropped", () => {
  const { ended, provider } = collectingProvider();
  const span = provider.getTracer("ferry").startSpan("busy", {}, ROOT_CONTEXT);
  for (let i = 0; i < 200; i++) span.setAttribute(`a${i}`, i);
  span.setAttribute("a5", "changed"); // a key already kept can still change
  for (let i = 0; i < 130; i++) span.addEvent(`e${i}`);
  span.end();
  const fromJson = JSON.parse(
    encodeExportRequest(resourceAttributes("svc", { "deployment.environment": "é" }), ended),
  );
  const fromProtobuf = decodeTraceExport(protobufBody(ended));
  assert.deepEqual(fromProtobuf, fromJson);
  const [exported] = fromJson.resourceSpans[0].scopeSpans[0].spans;
  assert.equal(exported.attributes.length, 128);
  assert.equal(exported.droppedAttributesCount, 72);
  assert.deepEqual(exported.attributes[5], { key: "a5", value: { stringValue: "changed" } });
  assert.equal(exported.events.length, 128);
  assert.equal(exported.droppedEventsCount, 2);
});
