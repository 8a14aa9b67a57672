import assert from "node:assert/strict";
import {
  createTraceState,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  trace,
} from "@opentelemetry/api";
import {
  formatTraceparent,
  parentFromHeaders,
  parseTraceparent,
  W3CTraceContextPropagator,
} from "../../../src/observe/otlp/propagator.ts";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID = "00f067aa0ba902b7";
const VALID = `00-${TRACE_ID}-${SPAN_ID}-01`;
const propagator = new W3CTraceContextPropagator();

function extract(carrier: Record<string, string | string[]>) {
  return trace.getSpanContext(propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter));
}

Deno.test("extract reads a valid traceparent as a remote parent, and keeps tracestate", () => {
  const parent = extract({
    traceparent: VALID,
    tracestate: "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7",
  });
  assert.ok(parent);
  assert.equal(parent.traceId, TRACE_ID);
  assert.equal(parent.spanId, SPAN_ID);
  assert.equal(parent.traceFlags, 1);
  assert.equal(parent.isRemote, true);
  assert.equal(parent.traceState?.get("congo"), "t61rcWkgMzE");
  assert.equal(parent.traceState?.serialize(), "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
});

Deno.test("extract keeps an unsampled flag", () => {
  assert.equal(extract({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-00` })?.traceFlags, 0);
});

Deno.test("inject writes what extract read (round trip), tracestate included", () => {
  const carrier: Record<string, string> = {};
  const ctx = propagator.extract(
    ROOT_CONTEXT,
    { traceparent: VALID, tracestate: "a=1,b=2" },
    defaultTextMapGetter,
  );
  propagator.inject(ctx, carrier, defaultTextMapSetter);
  assert.deepEqual(carrier, { traceparent: VALID, tracestate: "a=1,b=2" });
});

Deno.test("inject writes two-digit flags and no tracestate when there is none", () => {
  const carrier: Record<string, string> = {};
  const ctx = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: TRACE_ID,
    spanId: SPAN_ID,
    traceFlags: 0,
  });
  propagator.inject(ctx, carrier, defaultTextMapSetter);
  assert.deepEqual(carrier, { traceparent: `00-${TRACE_ID}-${SPAN_ID}-00` });
});

Deno.test("inject writes nothing without a valid span context", () => {
  const carrier: Record<string, string> = {};
  propagator.inject(ROOT_CONTEXT, carrier, defaultTextMapSetter);
  const invalid = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: "0".repeat(32),
    spanId: SPAN_ID,
    traceFlags: 1,
    traceState: createTraceState("a=1"),
  });
  propagator.inject(invalid, carrier, defaultTextMapSetter);
  assert.deepEqual(carrier, {});
});

Deno.test("a later version with extra fields is read; exactly 55 characters too", () => {
  assert.equal(
    extract({ traceparent: `cc-${TRACE_ID}-${SPAN_ID}-01-what-the-future-holds` })?.traceId,
    TRACE_ID,
  );
  assert.equal(extract({ traceparent: `01-${TRACE_ID}-${SPAN_ID}-00` })?.spanId, SPAN_ID);
});

Deno.test("surrounding whitespace is not part of the value", () => {
  assert.equal(extract({ traceparent: ` ${VALID}\t` })?.traceId, TRACE_ID);
});

const MALFORMED: [string, string][] = [
  ["empty", ""],
  ["version ff", `ff-${TRACE_ID}-${SPAN_ID}-01`],
  ["version 00 with an extra field", `${VALID}-extra`],
  ["a later version with junk glued to the flags", `cc-${TRACE_ID}-${SPAN_ID}-01x`],
  ["upper-case trace id", `00-${TRACE_ID.toUpperCase()}-${SPAN_ID}-01`],
  ["upper-case span id", `00-${TRACE_ID}-${SPAN_ID.toUpperCase()}-01`],
  ["upper-case version", `0A-${TRACE_ID}-${SPAN_ID}-01`],
  ["upper-case flags", `00-${TRACE_ID}-${SPAN_ID}-0A`],
  ["non-hex version", `0g-${TRACE_ID}-${SPAN_ID}-01`],
  ["non-hex trace id", `00-${TRACE_ID.slice(0, 31)}g-${SPAN_ID}-01`],
  ["non-hex span id", `00-${TRACE_ID}-${SPAN_ID.slice(0, 15)}z-01`],
  ["non-hex flags", `00-${TRACE_ID}-${SPAN_ID}-0x`],
  ["all-zero trace id", `00-${"0".repeat(32)}-${SPAN_ID}-01`],
  ["all-zero span id", `00-${TRACE_ID}-${"0".repeat(16)}-01`],
  ["short trace id", `00-${TRACE_ID.slice(1)}-${SPAN_ID}-01`],
  ["long span id", `00-${TRACE_ID}-${SPAN_ID}0-01`],
  ["one-digit flags", `00-${TRACE_ID}-${SPAN_ID}-1`],
  ["three-digit version", `000-${TRACE_ID}-${SPAN_ID}-01`],
  ["missing flags", `00-${TRACE_ID}-${SPAN_ID}`],
  ["wrong separator", `00_${TRACE_ID}_${SPAN_ID}_01`],
  ["two headers joined", `${VALID}, ${VALID}`],
];

for (const [what, value] of MALFORMED) {
  Deno.test(`a malformed traceparent (${what}) gives no parent`, () => {
    assert.equal(parseTraceparent(value), undefined);
    assert.equal(extract({ traceparent: value, tracestate: "a=1" }), undefined);
  });
}

Deno.test("two traceparent values in a carrier give no parent", () => {
  assert.equal(extract({ traceparent: [VALID, VALID] }), undefined);
  assert.equal(extract({ traceparent: [VALID] })?.traceId, TRACE_ID);
});

Deno.test("several tracestate values are one list, in order", () => {
  assert.equal(
    extract({ traceparent: VALID, tracestate: ["a=1", "b=2"] })?.traceState?.serialize(),
    "a=1,b=2",
  );
});

Deno.test("without traceparent the context is returned unchanged", () => {
  assert.equal(propagator.extract(ROOT_CONTEXT, {}, defaultTextMapGetter), ROOT_CONTEXT);
});

Deno.test("fields are traceparent and tracestate", () => {
  assert.deepEqual(propagator.fields(), ["traceparent", "tracestate"]);
});

Deno.test("parentFromHeaders reads a request's headers as the gateway's request path does", () => {
  const headers = new Headers({ traceparent: VALID, tracestate: "a=1,b=2" });
  const parent = parentFromHeaders(headers.get("traceparent"), headers.get("tracestate"));
  assert.equal(parent?.traceId, VALID.split("-")[1]);
  assert.equal(parent?.spanId, VALID.split("-")[2]);
  assert.equal(parent?.isRemote, true);
  assert.equal(parent?.traceState?.serialize(), "a=1,b=2");
  assert.equal(parentFromHeaders(null, "a=1"), undefined);
  assert.equal(parentFromHeaders("00-bad", null), undefined);
  // Headers joins a repeated field with ", ": two parents are ambiguous, so there is none.
  const twice = new Headers([["traceparent", VALID], ["traceparent", VALID]]);
  assert.equal(parentFromHeaders(twice.get("traceparent"), null), undefined);
});

Deno.test("formatTraceparent writes version 00 and the sampled flag as two hex digits", () => {
  const spanContext = { traceId: "ab".repeat(16), spanId: "cd".repeat(8), traceFlags: 1 };
  assert.equal(formatTraceparent(spanContext), `00-${"ab".repeat(16)}-${"cd".repeat(8)}-01`);
  assert.equal(
    formatTraceparent({ ...spanContext, traceFlags: 0 }),
    `00-${"ab".repeat(16)}-${"cd".repeat(8)}-00`,
  );
});
