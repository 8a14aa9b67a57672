/** A tracer provider wired to a real exporter, as installOtlpTracing builds it, for tests. */
import { type Context, createTraceState, ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { resourceAttributes } from "../../../src/observe/otlp/encode.ts";
import type { RecordingSpan } from "../../../src/observe/otlp/span.ts";
import {
  BatchSpanExporter,
  type BatchSpanExporterOptions,
} from "../../../src/observe/otlp/exporter.ts";
import { createSampler, type SamplerSpec } from "../../../src/observe/otlp/sampler.ts";
import { FerryTracerProvider } from "../../../src/observe/otlp/tracer.ts";

export function pipeline(
  endpoint: string,
  sampler: SamplerSpec = { kind: "always_on", ratio: 1 },
  options: Partial<BatchSpanExporterOptions> = {},
): { exporter: BatchSpanExporter; provider: FerryTracerProvider } {
  const exporter = new BatchSpanExporter({
    endpoint: `${endpoint}/v1/traces`,
    resource: resourceAttributes("ferry-test", { "deployment.environment": "test" }),
    ...options,
  });
  return {
    exporter,
    provider: new FerryTracerProvider({ sampler: createSampler(sampler), sink: exporter }),
  };
}

/** An http endpoint on 127.0.0.1 where nothing listens (a port just released). */
export function closedPortEndpoint(): string {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return `http://127.0.0.1:${port}`;
}

/**
 * A provider that samples everything and keeps each ended span in `ended`, for encoder tests,
 * and a remote parent (with a tracestate) for spans that need one.
 */
export function collectingProvider(): {
  ended: RecordingSpan[];
  provider: FerryTracerProvider;
  remoteParent: Context;
} {
  const ended: RecordingSpan[] = [];
  const provider = new FerryTracerProvider({
    sampler: createSampler({ kind: "always_on", ratio: 1 }),
    sink: { onEnd: (span) => ended.push(span) },
  });
  const remoteParent = trace.setSpan(
    ROOT_CONTEXT,
    trace.wrapSpanContext({
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      traceFlags: 1,
      traceState: createTraceState("vendor=a,other=b"),
    }),
  );
  return { ended, provider, remoteParent };
}
