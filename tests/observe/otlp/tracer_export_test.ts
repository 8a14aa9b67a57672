import assert from "node:assert/strict";
import {
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { SPAN_KIND, startOtlpReceiver } from "../../helpers/otlp_receiver.ts";
import { W3CTraceContextPropagator } from "../../../src/observe/otlp/propagator.ts";
import { RecordingSpan } from "../../../src/observe/otlp/span.ts";
import { pipeline } from "./pipeline.ts";

const propagator = new W3CTraceContextPropagator();
const INCOMING_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const INCOMING_SPAN = "00f067aa0ba902b7";

Deno.test("a server span and its client child reach the collector with their tree intact", async () => {
  const receiver = startOtlpReceiver();
  try {
    const { exporter, provider } = pipeline(receiver.endpoint);
    const tracer = provider.getTracer("ferry", "0.1.0");
    const incoming = propagator.extract(
      ROOT_CONTEXT,
      { traceparent: `00-${INCOMING_TRACE}-${INCOMING_SPAN}-01`, tracestate: "vendor=x" },
      defaultTextMapGetter,
    );
    const server = tracer.startSpan("GET /users", {
      kind: SpanKind.SERVER,
      attributes: { "http.request.method": "GET", "ferry.route": "users" },
    }, incoming);
    server.setAttributes({
      "http.response.status_code": 200,
      "ferry.ratio": 0.25,
      "ferry.cached": false,
      "ferry.tags": ["a", "b"],
    });
    server.addEvent("policy.passed", { "policy.name": "jwt" });
    server.setStatus({ code: SpanStatusCode.OK });

    const client = tracer.startSpan(
      "GET upstream",
      { kind: SpanKind.CLIENT, attributes: { "server.port": 8080 } },
      trace.setSpan(incoming, server),
    );
    client.recordException(new TypeError("connection reset"));
    client.setStatus({ code: SpanStatusCode.ERROR, message: "reset" });
    const outgoing: Record<string, string> = {};
    propagator.inject(trace.setSpan(incoming, client), outgoing, defaultTextMapSetter);
    client.end();
    server.end();

    // The upstream sees the client span as its parent, tracestate passed on.
    assert.deepEqual(outgoing, {
      traceparent: `00-${INCOMING_TRACE}-${client.spanContext().spanId}-01`,
      tracestate: "vendor=x",
    });

    await exporter.forceFlush();
    const spans = await receiver.waitFor("both spans", (s) => s.length === 2 ? s : undefined);
    const s = spans.find((x) => x.kind === SPAN_KIND.server)!;
    const c = spans.find((x) => x.kind === SPAN_KIND.client)!;
    assert.equal(s.traceId, INCOMING_TRACE);
    assert.equal(s.parentSpanId, INCOMING_SPAN);
    assert.equal(s.spanId, server.spanContext().spanId);
    assert.equal(c.traceId, INCOMING_TRACE);
    assert.equal(c.parentSpanId, s.spanId);
    assert.equal(s.name, "GET /users");
    assert.equal(s.scope, "ferry");
    assert.equal(s.service, "ferry-test");
    assert.deepEqual(s.attributes, {
      "http.request.method": "GET",
      "ferry.route": "users",
      "http.response.status_code": 200,
      "ferry.ratio": 0.25,
      "ferry.cached": false,
      "ferry.tags": ["a", "b"],
    });
    assert.deepEqual(s.events, [{ name: "policy.passed", attributes: { "policy.name": "jwt" } }]);
    assert.equal(s.statusCode, 1);
    assert.equal(c.statusCode, 2);
    assert.deepEqual(c.attributes, { "server.port": 8080 });
    assert.equal(c.events.length, 1);
    assert.equal(c.events[0].name, "exception");
    assert.equal(c.events[0].attributes["exception.type"], "TypeError");
    assert.equal(c.events[0].attributes["exception.message"], "connection reset");
    assert.match(String(c.events[0].attributes["exception.stacktrace"]), /TypeError/);
    assert.equal(exporter.exported, 2);
    assert.equal(receiver.undecodable, 0);
    await exporter.shutdown();
  } finally {
    await receiver.close();
  }
});

Deno.test("a root span gets a fresh trace id and no parent; options.root ignores the context", async () => {
  const receiver = startOtlpReceiver();
  try {
    const { exporter, provider } = pipeline(receiver.endpoint);
    const tracer = provider.getTracer("ferry");
    const first = tracer.startSpan("first", {}, ROOT_CONTEXT);
    const second = tracer.startSpan("second", { root: true }, trace.setSpan(ROOT_CONTEXT, first));
    first.end();
    second.end();
    await exporter.shutdown();
    const spans = await receiver.waitFor("two roots", (s) => s.length === 2 ? s : undefined);
    for (const span of spans) {
      assert.equal(span.parentSpanId, "");
      assert.equal(span.kind, SPAN_KIND.internal);
    }
    assert.notEqual(spans[0].traceId, spans[1].traceId);
  } finally {
    await receiver.close();
  }
});

Deno.test("unsampled spans are not exported but carry fresh ids with flags 00", async () => {
  const receiver = startOtlpReceiver();
  try {
    const { exporter, provider } = pipeline(receiver.endpoint, {
      kind: "parentbased_always_on",
      ratio: 1,
    });
    const tracer = provider.getTracer("ferry");
    const incoming = propagator.extract(
      ROOT_CONTEXT,
      { traceparent: `00-${INCOMING_TRACE}-${INCOMING_SPAN}-00` },
      defaultTextMapGetter,
    );
    const server = tracer.startSpan("server", { kind: SpanKind.SERVER }, incoming);
    const client = tracer.startSpan("client", {}, trace.setSpan(incoming, server));
    assert.equal(server.isRecording(), false);
    assert.ok(!(server instanceof RecordingSpan));
    assert.equal(server.spanContext().traceId, INCOMING_TRACE);
    assert.match(server.spanContext().spanId, /^[0-9a-f]{16}$/);
    assert.notEqual(server.spanContext().spanId, INCOMING_SPAN);
    assert.notEqual(client.spanContext().spanId, server.spanContext().spanId);
    assert.equal(client.spanContext().traceFlags, 0);
    const outgoing: Record<string, string> = {};
    propagator.inject(trace.setSpan(incoming, client), outgoing, defaultTextMapSetter);
    assert.equal(outgoing.traceparent, `00-${INCOMING_TRACE}-${client.spanContext().spanId}-00`);
    client.end();
    server.end();

    // A sampled span after them is the only one exported.
    tracer.startSpan("marker", {}, ROOT_CONTEXT).end();
    await exporter.shutdown();
    const spans = await receiver.waitFor("marker", (s) => s.length > 0 ? s : undefined);
    assert.deepEqual(spans.map((s) => s.name), ["marker"]);
    assert.equal(exporter.exported, 1);
  } finally {
    await receiver.close();
  }
});

Deno.test("startActiveSpan runs its callback with the span, in every overload", () => {
  const { provider } = pipeline("http://127.0.0.1:9");
  const tracer = provider.getTracer("ferry");
  const a = tracer.startActiveSpan("a", (span) => span);
  const b = tracer.startActiveSpan("b", { kind: SpanKind.CLIENT }, (span) => span);
  const parent = trace.setSpan(ROOT_CONTEXT, a);
  const c = tracer.startActiveSpan("c", {}, parent, (span) => span);
  assert.ok(a instanceof RecordingSpan && b instanceof RecordingSpan && c instanceof RecordingSpan);
  assert.equal(b.kind, SpanKind.CLIENT);
  assert.equal(c.parentSpanId, a.spanContext().spanId);
  assert.equal(c.spanContext().traceId, a.spanContext().traceId);
});

Deno.test("a span ends once: a second end() exports nothing more and later changes are ignored", async () => {
  const receiver = startOtlpReceiver();
  try {
    const { exporter, provider } = pipeline(receiver.endpoint);
    const span = provider.getTracer("ferry").startSpan("once", {}, ROOT_CONTEXT);
    span.end();
    span.setAttribute("late", 1).updateName("renamed").addEvent("late");
    span.end();
    assert.equal(exporter.queued, 1);
    await exporter.shutdown();
    const [received] = await receiver.waitFor("span", (s) => s.length ? s : undefined);
    assert.equal(received.name, "once");
    assert.deepEqual(received.attributes, {});
    assert.deepEqual(received.events, []);
    assert.equal(receiver.spans.length, 1);
  } finally {
    await receiver.close();
  }
});

Deno.test("tracers of different names export under their own scopes", async () => {
  const receiver = startOtlpReceiver();
  try {
    const { exporter, provider } = pipeline(receiver.endpoint);
    assert.equal(provider.getTracer("ferry", "1"), provider.getTracer("ferry", "1"));
    provider.getTracer("ferry").startSpan("f", {}, ROOT_CONTEXT).end();
    provider.getTracer("other", "2").startSpan("o", {}, ROOT_CONTEXT).end();
    await exporter.shutdown();
    const spans = await receiver.waitFor("both", (s) => s.length === 2 ? s : undefined);
    assert.deepEqual(spans.map((s) => `${s.scope}:${s.name}`).sort(), ["ferry:f", "other:o"]);
  } finally {
    await receiver.close();
  }
});

Deno.test("a foreign parent is followed when valid and ignored when its ids are not", () => {
  const { provider } = pipeline("http://127.0.0.1:9");
  const tracer = provider.getTracer("ferry");
  const foreign = trace.wrapSpanContext({
    traceId: INCOMING_TRACE,
    spanId: INCOMING_SPAN,
    traceFlags: 1,
  });
  const child = tracer.startSpan("child", {}, trace.setSpan(ROOT_CONTEXT, foreign));
  assert.ok(child instanceof RecordingSpan);
  assert.equal(child.spanContext().traceId, INCOMING_TRACE);
  assert.equal(child.parentSpanId, INCOMING_SPAN);

  const invalid = trace.wrapSpanContext({
    traceId: "0".repeat(32),
    spanId: INCOMING_SPAN,
    traceFlags: 1,
  });
  const root = tracer.startSpan("root", {}, trace.setSpan(ROOT_CONTEXT, invalid));
  assert.ok(root instanceof RecordingSpan);
  assert.equal(root.parentSpanId, "");
  assert.match(root.spanContext().traceId, /^(?!0{32})[0-9a-f]{32}$/);
});
