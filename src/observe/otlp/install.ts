/**
 * Makes Ferry's tracer, propagator and context manager the process's `@opentelemetry/api`
 * globals, exporting to the collector the settings name. Globals are per process, so this runs
 * once: later calls get the first instance back.
 */
import { context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "./context_manager.ts";
import { resourceAttributes } from "./encode.ts";
import { BatchSpanExporter } from "./exporter.ts";
import { W3CTraceContextPropagator } from "./propagator.ts";
import { createSampler } from "./sampler.ts";
import type { OtlpTraceSettings } from "./settings.ts";
import { type FerryTracer, FerryTracerProvider } from "./tracer.ts";

export { OTLP_ENV_VARS, type OtlpTraceSettings, otlpTraceSettings } from "./settings.ts";

/** The installed pipeline. */
export interface OtlpTracing {
  /** The exporter, for its counters (`exported`, `dropped`, `failedExports`, …). */
  readonly exporter: BatchSpanExporter;
  readonly provider: FerryTracerProvider;
  /** Ferry's tracer ("ferry"), which the request path calls directly. */
  readonly tracer: FerryTracer;
  /**
   * Whether each api global was ours to set; false when something (Deno's `OTEL_DENO`
   * telemetry, another SDK) registered one first, which the api then keeps.
   */
  readonly registered: { tracerProvider: boolean; propagator: boolean; contextManager: boolean };
  /** Exports every span ended so far. */
  forceFlush(options?: { retries?: boolean }): Promise<void>;
  /** Exports what is queued and stops exporting (later spans are dropped and counted). */
  shutdown(): Promise<void>;
}

let installed: OtlpTracing | undefined;

/** Builds the pipeline for `settings` and registers it with `@opentelemetry/api`. */
export function installOtlpTracing(settings: OtlpTraceSettings): OtlpTracing {
  if (installed !== undefined) return installed;
  const exporter = new BatchSpanExporter({
    endpoint: settings.endpoint,
    protocol: settings.protocol,
    headers: settings.headers,
    resource: resourceAttributes(settings.serviceName, settings.resourceAttributes),
    maxQueueSize: settings.maxQueueSize,
    maxExportBatchSize: settings.maxExportBatchSize,
    scheduledDelayMs: settings.scheduledDelayMs,
    exportTimeoutMs: settings.exportTimeoutMs,
    caCerts: settings.caCerts,
  });
  const provider = new FerryTracerProvider({
    sampler: createSampler(settings.sampler),
    sink: exporter,
  });
  const registered = {
    contextManager: context.setGlobalContextManager(
      new AsyncLocalStorageContextManager().enable(),
    ),
    propagator: propagation.setGlobalPropagator(new W3CTraceContextPropagator()),
    tracerProvider: trace.setGlobalTracerProvider(provider),
  };
  installed = {
    exporter,
    provider,
    tracer: provider.ferryTracer("ferry"),
    registered,
    forceFlush: (options) => exporter.forceFlush(options),
    shutdown: () => exporter.shutdown(),
  };
  return installed;
}
