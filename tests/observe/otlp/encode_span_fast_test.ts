/**
 * The common-span encoder against the general one: for every span it takes, the bytes are the
 * same (so everything encode_proto_test.ts shows about the general encoder holds for it); every
 * span it does not take leaves the writer untouched, for the general encoder to write.
 */
import assert from "node:assert/strict";
import {
  type Context,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import { writeSpan } from "../../../src/observe/otlp/encode_proto.ts";
import { writeCommonSpan } from "../../../src/observe/otlp/encode_span_fast.ts";
import { ProtoWriter } from "../../../src/observe/otlp/proto_writer.ts";
import type { RecordingSpan } from "../../../src/observe/otlp/span.ts";
import { collectingProvider } from "./pipeline.ts";

/** Ends one span made by `make` and returns it. */
function spanOf(
  make: (tracer: Tracer, parent: Context) => void,
): RecordingSpan {
  const { ended, provider, remoteParent } = collectingProvider();
  make(provider.getTracer("ferry"), remoteParent);
  assert.equal(ended.length, 1);
  return ended[0];
}

function generalBytes(span: RecordingSpan): Uint8Array {
  const out = new ProtoWriter(64);
  writeSpan(out, span);
  return out.bytes().slice();
}

Deno.test("common spans: the fast encoder writes exactly the general encoder's bytes", () => {
  const long = "x".repeat(200); // two-byte lengths for the string, its AnyValue and KeyValue
  const veryLong = "y".repeat(20_000); // three-byte lengths, and a span over 16 KiB
  const spans = [
    // a root span: no parent, no tracestate
    spanOf((tracer) => tracer.startSpan("GET items", { kind: SpanKind.SERVER, root: true }).end()),
    // a child of a remote parent with a tracestate, the attribute kinds it takes
    spanOf((tracer, parent) => {
      const span = tracer.startSpan("GET api", { kind: SpanKind.CLIENT }, parent);
      span.setAttributes({
        "http.request.method": "GET",
        "server.port": 8080,
        zero: 0,
        "past-32-bits": 2 ** 40 + 7,
        "max-safe": Number.MAX_SAFE_INTEGER,
        yes: true,
        no: false,
        empty: "",
        long,
        [long]: "a long key",
      });
      span.setAttribute("server.port", 8081); // set again: the value changes, not the order
      span.setAttribute("__proto__", "just a key");
      span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }),
    spanOf((tracer) => {
      const span = tracer.startSpan(veryLong, { kind: SpanKind.INTERNAL, root: true });
      span.setAttribute("body", veryLong);
      span.setStatus({ code: SpanStatusCode.OK });
      span.end();
    }),
  ];
  assert.deepEqual(spans[1].attributeKeys.slice(0, 2), ["http.request.method", "server.port"]);
  assert.equal(spans[1].attributeValues[1], 8081);
  assert.equal(spans[1].attributeKeys.at(-1), "__proto__");
  for (const span of spans) {
    const out = new ProtoWriter(16);
    out.raw(new Uint8Array([1, 2, 3])); // a batch already holding spans
    assert.equal(writeCommonSpan(out, span), true, span.name.slice(0, 20));
    assert.deepEqual(out.bytes().subarray(3), generalBytes(span), span.name.slice(0, 20));
    assert.deepEqual([...out.bytes().subarray(0, 3)], [1, 2, 3]);
  }
});

Deno.test("other spans: the fast encoder declines and leaves the writer as it was", () => {
  const cases: Record<string, RecordingSpan> = {
    "non-ASCII value": spanOf((tracer) =>
      tracer.startSpan("GET", { root: true, attributes: { city: "Zürich" } }).end()
    ),
    "non-ASCII key": spanOf((tracer) =>
      tracer.startSpan("GET", { root: true, attributes: { "café": "x" } }).end()
    ),
    "non-ASCII name": spanOf((tracer) => tracer.startSpan("GET /ü", { root: true }).end()),
    "non-ASCII tracestate": spanOf((tracer) => {
      const span = tracer.startSpan(
        "GET",
        {},
        trace.setSpan(
          ROOT_CONTEXT,
          trace.wrapSpanContext({
            traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
            spanId: "00f067aa0ba902b7",
            traceFlags: 1,
            traceState: { serialize: () => "k=ü" } as never,
          }),
        ),
      );
      span.end();
    }),
    "an event": spanOf((tracer) => {
      const span = tracer.startSpan("GET", { root: true });
      span.addEvent("ferry.policy.rejected");
      span.end();
    }),
    "a status message": spanOf((tracer) => {
      const span = tracer.startSpan("GET", { root: true });
      span.setStatus({ code: SpanStatusCode.ERROR, message: "boom" });
      span.end();
    }),
    "a negative integer": spanOf((tracer) =>
      tracer.startSpan("GET", { root: true, attributes: { n: -1 } }).end()
    ),
    "a double": spanOf((tracer) =>
      tracer.startSpan("GET", { root: true, attributes: { n: 0.5 } }).end()
    ),
    "an unsafe integer": spanOf((tracer) =>
      tracer.startSpan("GET", { root: true, attributes: { n: 2 ** 60 } }).end()
    ),
    "dropped attributes": spanOf((tracer) => {
      const span = tracer.startSpan("GET", { root: true });
      for (let i = 0; i < 129; i++) span.setAttribute(`a${i}`, i);
      span.end();
    }),
    "an array": spanOf((tracer) =>
      tracer.startSpan("GET", { root: true, attributes: { list: ["a"] } }).end()
    ),
  };
  for (const [label, span] of Object.entries(cases)) {
    const out = new ProtoWriter(16);
    out.raw(new Uint8Array([9, 9]));
    assert.equal(writeCommonSpan(out, span), false, label);
    assert.deepEqual([...out.bytes()], [9, 9], label);
  }
});
