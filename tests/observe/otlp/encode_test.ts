import assert from "node:assert/strict";
import { ROOT_CONTEXT, SpanKind, SpanStatusCode } from "@opentelemetry/api";
import {
  encodeExportRequest,
  encodeValue,
  resourceAttributes,
} from "../../../src/observe/otlp/encode.ts";
import type { RecordingSpan } from "../../../src/observe/otlp/span.ts";
import { createSampler } from "../../../src/observe/otlp/sampler.ts";
import { FerryTracerProvider } from "../../../src/observe/otlp/tracer.ts";
import { collectingProvider } from "./pipeline.ts";

Deno.test("attribute values map to OTLP AnyValue kinds", () => {
  assert.deepEqual(encodeValue("x"), { stringValue: "x" });
  assert.deepEqual(encodeValue(true), { boolValue: true });
  assert.deepEqual(encodeValue(42), { intValue: "42" });
  assert.deepEqual(encodeValue(-7), { intValue: "-7" });
  assert.deepEqual(encodeValue(1.5), { doubleValue: 1.5 });
  assert.deepEqual(encodeValue(2 ** 60), { doubleValue: 2 ** 60 }); // not exact as an int
  assert.deepEqual(encodeValue(NaN), { doubleValue: "NaN" });
  assert.deepEqual(encodeValue(-Infinity), { doubleValue: "-Infinity" });
  assert.deepEqual(encodeValue(2n ** 62n), { intValue: "4611686018427387904" });
  assert.deepEqual(encodeValue(2n ** 64n), { stringValue: "18446744073709551616" });
  assert.deepEqual(encodeValue([1, "a", null]), {
    arrayValue: { values: [{ intValue: "1" }, { stringValue: "a" }, {}] },
  });
  assert.deepEqual(encodeValue(new Uint8Array([104, 105])), { bytesValue: "aGk=" });
  assert.deepEqual(encodeValue({ a: 1 }), {
    kvlistValue: { values: [{ key: "a", value: { intValue: "1" } }] },
  });
  assert.equal(encodeValue(null), undefined);
  assert.equal(encodeValue(undefined), undefined);
  assert.equal(encodeValue(() => 1), undefined);
});

Deno.test("an export request groups spans by scope, with OTLP kinds, times and status", () => {
  const ended: RecordingSpan[] = [];
  const provider = new FerryTracerProvider({
    sampler: createSampler({ kind: "always_on", ratio: 1 }),
    sink: { onEnd: (span) => ended.push(span) },
  });
  const start = 1_800_000_000_000;
  const a = provider.getTracer("ferry", "1.2.3").startSpan("a", {
    kind: SpanKind.SERVER,
    startTime: start,
  }, ROOT_CONTEXT);
  a.addEvent("ev", { k: "v" }, start + 1);
  a.setStatus({ code: SpanStatusCode.ERROR, message: "boom" });
  a.end(start + 2);
  const b = provider.getTracer("plugin").startSpan("b", { kind: SpanKind.CONSUMER }, ROOT_CONTEXT);
  b.end();

  const body = JSON.parse(encodeExportRequest(resourceAttributes("svc", { env: "t" }), ended));
  assert.equal(body.resourceSpans.length, 1);
  const [rs] = body.resourceSpans;
  assert.deepEqual(rs.resource.attributes, [
    { key: "env", value: { stringValue: "t" } },
    { key: "service.name", value: { stringValue: "svc" } },
    { key: "telemetry.sdk.name", value: { stringValue: "ferry" } },
    { key: "telemetry.sdk.language", value: { stringValue: "js" } },
  ]);
  assert.deepEqual(rs.scopeSpans.map((s: { scope: unknown }) => s.scope), [
    { name: "ferry", version: "1.2.3" },
    { name: "plugin" },
  ]);
  const spanA = rs.scopeSpans[0].spans[0];
  assert.equal(spanA.kind, 2);
  assert.equal(rs.scopeSpans[1].spans[0].kind, 5);
  assert.equal(spanA.parentSpanId, undefined);
  assert.equal(spanA.traceState, undefined);
  assert.match(spanA.traceId, /^[0-9a-f]{32}$/);
  assert.match(spanA.spanId, /^[0-9a-f]{16}$/);
  // Whole epoch milliseconds as given; the fraction is whatever the origin arithmetic leaves.
  assert.equal(BigInt(spanA.startTimeUnixNano) / 1_000_000n, BigInt(start));
  assert.equal(BigInt(spanA.endTimeUnixNano) - BigInt(spanA.startTimeUnixNano), 2_000_000n);
  assert.equal(BigInt(spanA.events[0].timeUnixNano) - BigInt(spanA.startTimeUnixNano), 1_000_000n);
  assert.deepEqual(spanA.events[0].attributes, [{ key: "k", value: { stringValue: "v" } }]);
  assert.deepEqual(spanA.status, { code: 2, message: "boom" });
  assert.deepEqual(rs.scopeSpans[1].spans[0].status, { code: 0 });
});

Deno.test("names, keys and values needing JSON escapes stay intact, tracestate included", () => {
  const { ended, provider, remoteParent } = collectingProvider();
  const tricky = 'quote " backslash \\ newline \n tab \t \u0001 é 🚀';
  const span = provider.getTracer("ferry").startSpan(
    tricky,
    { attributes: { [tricky]: tricky, big: 2 ** 60, half: 0.5, inf: Infinity, list: [true] } },
    remoteParent,
  );
  span.addEvent(tricky, { [tricky]: false });
  span.setStatus({ code: SpanStatusCode.ERROR, message: tricky });
  span.end();
  const body = JSON.parse(encodeExportRequest([], ended));
  const encoded = body.resourceSpans[0].scopeSpans[0].spans[0];
  assert.equal(encoded.name, tricky);
  assert.equal(encoded.traceState, "vendor=a,other=b");
  assert.equal(encoded.parentSpanId, "00f067aa0ba902b7");
  assert.deepEqual(encoded.attributes, [
    { key: tricky, value: { stringValue: tricky } },
    { key: "big", value: { doubleValue: 2 ** 60 } },
    { key: "half", value: { doubleValue: 0.5 } },
    { key: "inf", value: { doubleValue: "Infinity" } },
    { key: "list", value: { arrayValue: { values: [{ boolValue: true }] } } },
  ]);
  assert.equal(encoded.events[0].name, tricky);
  assert.deepEqual(encoded.events[0].attributes, [{ key: tricky, value: { boolValue: false } }]);
  assert.deepEqual(encoded.status, { code: 2, message: tricky });
});
