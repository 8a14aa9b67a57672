/**
 * The request-path cost of Ferry's own OpenTelemetry pipeline (src/observe/otlp): a gateway
 * request records a SERVER span and a CLIENT span per upstream attempt, so the unit is one such
 * pair, sampled (recorded, encoded as OTLP/protobuf and queued for export) or not (ids only, for
 * propagation). Encoding 512 spans is also measured on its own, in both OTLP encodings.
 *
 *   deno bench --allow-net --allow-read --allow-env bench/otlp_bench.ts
 */
import {
  type Context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  SpanKind,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import { encodeExportRequest, resourceAttributes } from "../src/observe/otlp/encode.ts";
import { BatchSpanExporter } from "../src/observe/otlp/exporter.ts";
import { W3CTraceContextPropagator } from "../src/observe/otlp/propagator.ts";
import { spanEncoding } from "../src/observe/otlp/span_batch.ts";
import { createSampler, type SamplerSpec } from "../src/observe/otlp/sampler.ts";
import type { RecordingSpan } from "../src/observe/otlp/span.ts";
import { FerryTracerProvider } from "../src/observe/otlp/tracer.ts";

const PAIRS_PER_ITERATION = 256; // 512 spans: exactly one export batch
const resource = resourceAttributes("ferry-bench", {});

/** A port on 127.0.0.1 where nothing listens: flushes between iterations fail fast. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

function setup(kind: SamplerSpec["kind"]) {
  const exporter = new BatchSpanExporter({
    endpoint: `http://127.0.0.1:${closedPort()}/v1/traces`,
    resource,
    scheduledDelayMs: 600_000,
  });
  const provider = new FerryTracerProvider({
    sampler: createSampler({ kind, ratio: 1 }),
    sink: exporter,
  });
  return { exporter, tracer: provider.getTracer("ferry", "0.1.0") };
}

/** What the gateway does per proxied request, tracing-wise. */
function requestPair(tracer: Tracer, parent: Context): void {
  const server = tracer.startSpan("GET /users/:id", {
    kind: SpanKind.SERVER,
    attributes: {
      "http.request.method": "GET",
      "url.path": "/users/42",
      "http.route": "/users/:id",
    },
  }, parent);
  const client = tracer.startSpan("GET users-api", {
    kind: SpanKind.CLIENT,
    attributes: { "server.address": "10.0.0.7", "server.port": 8080, "ferry.attempt": 1 },
  }, trace.setSpan(parent, server));
  client.setAttribute("http.response.status_code", 200);
  client.end();
  server.setAttribute("http.response.status_code", 200);
  server.end();
}

const sampled = setup("always_on");
Deno.bench(`${PAIRS_PER_ITERATION} server+client span pairs, sampled, recorded and queued`, {
  group: "pair",
  baseline: true,
}, async (b) => {
  b.start();
  for (let i = 0; i < PAIRS_PER_ITERATION; i++) requestPair(sampled.tracer, ROOT_CONTEXT);
  b.end();
  // Empties the queue, outside the measurement; nothing listens, so no retries (at once).
  await sampled.exporter.forceFlush({ retries: false });
});

const unsampled = setup("always_off");
Deno.bench(`${PAIRS_PER_ITERATION} server+client span pairs, not sampled`, {
  group: "pair",
}, () => {
  for (let i = 0; i < PAIRS_PER_ITERATION; i++) requestPair(unsampled.tracer, ROOT_CONTEXT);
});

// 512 ended spans shaped like the request path's.
const batch: RecordingSpan[] = [];
const collecting = new FerryTracerProvider({
  sampler: createSampler({ kind: "always_on", ratio: 1 }),
  sink: { onEnd: (span) => batch.push(span) },
}).getTracer("ferry", "0.1.0");
while (batch.length < 512) requestPair(collecting, ROOT_CONTEXT);
Deno.bench("encode 512 spans to OTLP JSON", { group: "encode", baseline: true }, () => {
  encodeExportRequest(resource, batch);
});
Deno.bench("encode 512 spans to OTLP protobuf", { group: "encode" }, () => {
  const spans = spanEncoding("http/protobuf").newBatch();
  for (const span of batch) spans.add(span);
  spans.body(resource);
});

const propagator = new W3CTraceContextPropagator();
const incoming = { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" };
Deno.bench("traceparent extract + inject", () => {
  const ctx = propagator.extract(ROOT_CONTEXT, incoming, defaultTextMapGetter);
  propagator.inject(ctx, {}, defaultTextMapSetter);
});
