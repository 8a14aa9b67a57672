/**
 * Ferry's `Tracer` and `TracerProvider` for `@opentelemetry/api`. A sampled span is a
 * {@link RecordingSpan} that goes to the exporter when it ends; an unsampled one is a
 * non-recording {@link ContextOnlySpan} around real, fresh ids with the sampled flag off, so the trace still
 * propagates (`traceparent` flags `00`) and downstream services agree not to record it.
 */
import {
  type Attributes,
  type Context,
  context as contextApi,
  type Span,
  type SpanContext,
  SpanKind,
  type SpanOptions,
  type TimeInput,
  trace,
  type Tracer,
  type TracerProvider,
} from "@opentelemetry/api";
import { ContextOnlySpan } from "./context_only_span.ts";
import { newSpanId, newTraceId } from "./ids.ts";
import type { SpanSampler } from "./sampler.ts";
import { type EndedSpanSink, type InstrumentationScope, RecordingSpan } from "./span.ts";
import { validSpanContext } from "./valid_span_context.ts";

/** What every tracer of a provider shares. */
export interface TracerSetup {
  sampler: SpanSampler;
  sink: EndedSpanSink;
}

export class FerryTracer implements Tracer {
  readonly #setup: TracerSetup;
  readonly #scope: InstrumentationScope;

  constructor(setup: TracerSetup, scope: InstrumentationScope) {
    this.#setup = setup;
    this.#scope = scope;
  }

  startSpan(name: string, options?: SpanOptions, context?: Context): Span {
    const parent = options?.root ? undefined : validSpanContext(context ?? contextApi.active());
    return this.startSpanUnder(
      name,
      options?.kind ?? SpanKind.INTERNAL,
      options?.attributes,
      options?.startTime,
      parent,
    );
  }

  /**
   * Starts a span under `parent`, a valid span context given directly (none: a new trace).
   * Ferry's request path has its parent at hand, so it needs no api `Context` to carry it.
   */
  startSpanUnder(
    name: string,
    kind: SpanKind,
    attributes: Attributes | undefined,
    startTime: TimeInput | undefined,
    parent: SpanContext | undefined,
  ): Span {
    const traceId = parent === undefined ? newTraceId() : parent.traceId;
    const spanId = newSpanId();
    const traceState = parent?.traceState;
    if (!this.#setup.sampler.shouldSample(parent, traceId)) {
      return new ContextOnlySpan({ traceId, spanId, traceFlags: 0, traceState });
    }
    return new RecordingSpan(
      name,
      kind,
      { traceId, spanId, traceFlags: 1, traceState },
      parent === undefined ? "" : parent.spanId,
      this.#scope,
      attributes,
      startTime,
      this.#setup.sink,
    );
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    options: SpanOptions,
    fn: F,
  ): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    options: SpanOptions,
    context: Context,
    fn: F,
  ): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    optionsOrFn: SpanOptions | F,
    contextOrFn?: Context | F,
    maybeFn?: F,
  ): ReturnType<F> {
    let options: SpanOptions | undefined;
    let parentContext: Context | undefined;
    let fn: F;
    if (typeof optionsOrFn === "function") {
      fn = optionsOrFn;
    } else if (typeof contextOrFn === "function") {
      options = optionsOrFn;
      fn = contextOrFn;
    } else {
      options = optionsOrFn;
      parentContext = contextOrFn;
      fn = maybeFn as F;
    }
    const base = parentContext ?? contextApi.active();
    const span = this.startSpan(name, options, base);
    const run = fn as (span: Span) => ReturnType<F>;
    return contextApi.with(trace.setSpan(base, span), run, undefined, span);
  }
}

/** Hands out tracers that share one sampler and one exporter; one tracer per name and version. */
export class FerryTracerProvider implements TracerProvider {
  readonly #setup: TracerSetup;
  readonly #tracers = new Map<string, FerryTracer>();

  constructor(setup: TracerSetup) {
    this.#setup = setup;
  }

  getTracer(name: string, version?: string): Tracer {
    return this.ferryTracer(name, version);
  }

  /** {@link getTracer}, typed as Ferry's tracer (for {@link FerryTracer.startSpanUnder}). */
  ferryTracer(name: string, version?: string): FerryTracer {
    const key = `${name}@${version ?? ""}`;
    let tracer = this.#tracers.get(key);
    if (tracer === undefined) {
      tracer = new FerryTracer(this.#setup, { name, version });
      this.#tracers.set(key, tracer);
    }
    return tracer;
  }
}
