/** A tracer provider wired to a real exporter, as installOtlpTracing builds it, for tests. */
import { resourceAttributes } from "../../../src/observe/otlp/encode.ts";
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
