/**
 * Tracing through `@opentelemetry/api`. The sink is either Ferry's own OTLP/HTTP pipeline
 * (`src/observe/otlp/`, on when an `OTEL_EXPORTER_OTLP_*ENDPOINT` is set) or Deno's built-in
 * exporter (`OTEL_DENO=true`); see `tracing_setup.ts`. Without either the API is a no-op, and
 * Ferry skips every tracing step so untraced traffic pays nothing. Incoming
 * `traceparent`/`tracestate` are then forwarded unchanged like any end-to-end header.
 *
 * Under `OTEL_DENO`, `Deno.serve` already opens a server span per request, continuing an
 * incoming `traceparent`; Ferry names it `METHOD route` and adds its attributes instead of
 * opening a second one. Otherwise (Ferry's pipeline, or in-process `gateway.fetch`) Ferry opens
 * its own. Each upstream attempt gets a client span whose context is injected into the upstream
 * request, so retries show up as siblings.
 */
import { formatTraceparent, parentFromHeaders } from "./otlp/propagator.ts";
import {
  type Attributes,
  context,
  propagation,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from "@opentelemetry/api";

const headerGetter = {
  keys: (carrier: Headers) => [...carrier.keys()],
  get: (carrier: Headers, key: string) => carrier.get(key) ?? undefined,
};

/** Ferry's own tracer, which takes a span's parent directly (`FerryTracer.startSpanUnder`). */
export interface DirectTracer {
  startSpanUnder(
    name: string,
    kind: SpanKind,
    attributes: Attributes | undefined,
    startTime: number | undefined,
    parent: SpanContext | undefined,
  ): Span;
}

/** What a trace pipeline Ferry installed itself offers the gateway (see `tracing_setup.ts`). */
export interface TracePipeline {
  /**
   * Exports every span ended so far; resolves when done. `retries: false` sends each batch once
   * (see `BatchSpanExporter.forceFlush`).
   */
  forceFlush(options?: { retries?: boolean }): Promise<void>;
  /** What became of the spans ended so far. */
  readonly exporter: { exported: number; dropped: number; failedSpans: number };
  /** The pipeline's tracer, called directly on the request path (see {@link Tracing}). */
  readonly tracer: DirectTracer;
}

/**
 * The gateway's tracing, on or off for its whole life.
 *
 * With Ferry's own pipeline, the request path calls its tracer directly: the server span's
 * parent is read from the request's headers, each attempt's parent is the server span, and the
 * upstream's `traceparent` is written from the attempt span, with no api `Context`, propagator
 * or global lookup in between. Measured side by side with sampling off, this costs ~4% less CPU
 * per request than the api route (contexts made and read, a carrier object, global lookups).
 * Under Deno's exporter the api is the only route to Deno's tracer and propagator.
 */
export class Tracing {
  readonly #tracer: Tracer;
  readonly #direct: DirectTracer | undefined;

  /** `pipeline` is Ferry's own exporter when it is the sink (not Deno's). */
  constructor(readonly enabled: boolean, readonly pipeline?: TracePipeline) {
    this.#tracer = trace.getTracer("ferry");
    this.#direct = pipeline?.tracer;
  }

  /**
   * Exports what Ferry's own pipeline holds (Deno's exporter flushes itself at exit). This is
   * the closing gateway's last flush: a batch the collector fails is not retried, so a collector
   * that is down costs the shutdown one attempt, not the export timeout.
   */
  flush(): Promise<void> {
    return this.pipeline?.forceFlush({ retries: false }) ?? Promise.resolve();
  }

  /**
   * With Ferry's own exporter, starts the request's server span (continuing the incoming trace
   * headers, at `startTime`, a `performance.now()` reading); the caller ends it. `undefined`
   * under Deno's exporter, whose spans need {@link withServerSpan}'s async context.
   *
   * The span travels explicitly (in ProxyState) to the attempts and the policies, which saves
   * entering an async context per request (~2% of CPU measured), and the handler ends it
   * itself, which saves an async layer per request.
   */
  startServerSpan(req: Request, startTime: number): Span | undefined {
    const direct = this.#direct;
    if (direct === undefined) return undefined;
    const headers = req.headers;
    const traceparent = headers.get("traceparent");
    // A tracestate means nothing without a traceparent: most requests save the second lookup.
    const parent = traceparent === null
      ? undefined
      : parentFromHeaders(traceparent, headers.get("tracestate"));
    // Ferry's tracer reads a small number as a performance.now() reading, as the JS SDK does.
    // The span's name and attributes come when the request is done (describeServerSpan).
    return direct.startSpanUnder(req.method, SpanKind.SERVER, undefined, startTime, parent);
  }

  /**
   * Runs `handle` with the request's server span: Deno's when there is one, else a new one
   * continuing the incoming trace headers, started at `startTime` (a `performance.now()`
   * reading). The span is ended here only when Ferry opened it.
   */
  async withServerSpan(
    req: Request,
    startTime: number,
    handle: (span: Span) => Promise<Response>,
  ): Promise<Response> {
    const direct = this.startServerSpan(req, startTime);
    if (direct !== undefined) {
      try {
        return await handle(direct);
      } finally {
        direct.end();
      }
    }
    const active = trace.getActiveSpan();
    if (active) return handle(active);
    const parent = propagation.extract(context.active(), req.headers, headerGetter);
    // Deno's tracer is left to take its own clock.
    const span = this.#tracer.startSpan(req.method, { kind: SpanKind.SERVER }, parent);
    try {
      return await context.with(trace.setSpan(parent, span), () => handle(span));
    } finally {
      span.end();
    }
  }

  /**
   * Opens a client span for one upstream attempt, a child of `parent` (the request's server
   * span) or else of the current context, started at `startTime` (a `performance.now()`
   * reading). The caller adds its attributes when it records.
   */
  startAttempt(name: string, parent: Span | undefined, startTime: number): Span {
    if (this.#direct !== undefined) {
      return this.#direct.startSpanUnder(
        name,
        SpanKind.CLIENT,
        undefined,
        startTime,
        parent?.spanContext(),
      );
    }
    const active = context.active();
    const parentContext = parent ? trace.setSpan(active, parent) : active;
    return this.#tracer.startSpan(name, { kind: SpanKind.CLIENT }, parentContext);
  }

  /**
   * The upstream request's headers with the attempt's trace context in place of any incoming
   * `traceparent`/`tracestate` (flat `[name, value, ...]`, as the upstream client takes them).
   */
  inject(headers: readonly string[], attempt: Span): string[] {
    if (this.#direct !== undefined) {
      // Ferry's spans carry the incoming tracestate in their context (parentFromHeaders), so
      // the attempt's own trace context replaces the incoming headers outright.
      const spanContext = attempt.spanContext();
      const out: string[] = [];
      for (let i = 0; i < headers.length; i += 2) {
        const name = headers[i];
        if (name !== "traceparent" && name !== "tracestate") out.push(name, headers[i + 1]);
      }
      out.push("traceparent", formatTraceparent(spanContext));
      const state = spanContext.traceState?.serialize();
      if (state) out.push("tracestate", state);
      return out;
    }
    // Under Deno, whatever its propagator writes.
    const injected: Record<string, string> = {};
    propagation.inject(trace.setSpan(context.active(), attempt), injected);
    const out: string[] = [];
    let incomingParent: string | undefined;
    let incomingState: string | undefined;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i];
      if (name === "traceparent") incomingParent = headers[i + 1];
      else if (name === "tracestate") incomingState = headers[i + 1];
      else out.push(name, headers[i + 1]);
    }
    for (const name in injected) out.push(name.toLowerCase(), injected[name]);
    // Deno's server span does not keep the caller's tracestate, but W3C Trace Context asks
    // every participant of the same trace to pass it on: keep it when the trace is the same.
    if (
      injected.tracestate === undefined && incomingState !== undefined &&
      traceIdOf(incomingParent) !== undefined &&
      traceIdOf(incomingParent) === traceIdOf(injected.traceparent)
    ) {
      out.push("tracestate", incomingState);
    }
    return out;
  }

  /**
   * Ends an attempt span with its outcome, at `endTime` (a `performance.now()` reading; Deno's
   * spans take their own clock).
   */
  endAttempt(span: Span, endTime: number, status: number | undefined, error?: string): void {
    if (status !== undefined) {
      span.setAttribute("http.response.status_code", status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    } else {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error });
      if (error) span.setAttribute("error.type", error);
    }
    span.end(this.#direct === undefined ? undefined : endTime);
  }
}

/** The trace id of a `traceparent` value (`00-<trace id>-<parent id>-<flags>`). */
function traceIdOf(traceparent: string | undefined): string | undefined {
  return traceparent?.split("-")[1];
}

/** The trace id of the current span, for the access log; undefined when not traced. */
export function currentTraceId(): string | undefined {
  const id = trace.getActiveSpan()?.spanContext().traceId;
  return id && id !== "00000000000000000000000000000000" ? id : undefined;
}

/** Records a policy's refusal on the request's server span (a span event). */
export function recordRejection(
  state: { span?: Span } | undefined,
  policy: string,
  reason: string,
  status: number,
): void {
  (state?.span ?? trace.getActiveSpan())?.addEvent("ferry.policy.rejected", {
    "ferry.policy": policy,
    "ferry.reason": reason,
    "http.response.status_code": status,
  });
}
