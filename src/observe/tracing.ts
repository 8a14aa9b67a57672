/**
 * Tracing through `@opentelemetry/api`. The sink is either Ferry's own OTLP/HTTP JSON pipeline
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
import { splitUrl } from "../routing/request_view.ts";
import {
  type Attributes,
  type Context,
  context,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from "@opentelemetry/api";

const headerGetter = {
  keys: (carrier: Headers) => [...carrier.keys()],
  get: (carrier: Headers, key: string) => carrier.get(key) ?? undefined,
};

/** What a trace pipeline Ferry installed itself offers the gateway (see `tracing_setup.ts`). */
export interface TracePipeline {
  /** Exports every span ended so far; resolves when done. */
  forceFlush(): Promise<void>;
  /** What became of the spans ended so far. */
  readonly exporter: { exported: number; dropped: number; failedSpans: number };
}

/** The gateway's tracing, on or off for its whole life. */
export class Tracing {
  readonly #tracer: Tracer;

  /** `pipeline` is Ferry's own exporter when it is the sink (not Deno's). */
  constructor(readonly enabled: boolean, readonly pipeline?: TracePipeline) {
    this.#tracer = trace.getTracer("ferry");
  }

  /** Exports what Ferry's own pipeline holds (Deno's exporter flushes itself at exit). */
  flush(): Promise<void> {
    return this.pipeline?.forceFlush() ?? Promise.resolve();
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
    const active = trace.getActiveSpan();
    if (active) return handle(active);
    const parent = propagation.extract(context.active(), req.headers, headerGetter);
    const url = splitUrl(req.url);
    const span = this.#tracer.startSpan(req.method, {
      kind: SpanKind.SERVER,
      // Ferry's tracer reads a small number as a performance.now() reading, as the JS SDK
      // does; Deno's tracer is left to take its own clock.
      startTime: this.pipeline ? startTime : undefined,
      // What Deno's own server span records, minus the query (it may carry credentials).
      attributes: {
        "http.request.method": req.method,
        "url.scheme": req.url.startsWith("https:") ? "https" : "http",
        "url.path": url.path,
        "server.address": url.host,
      },
    }, parent);
    try {
      // Ferry's pipeline: the span travels explicitly (in ProxyState) to the attempts and the
      // policies, which saves entering an async context per request (~2% of CPU measured).
      if (this.pipeline) return await handle(span);
      return await context.with(trace.setSpan(parent, span), () => handle(span));
    } finally {
      span.end();
    }
  }

  /**
   * Opens a client span for one upstream attempt, a child of `parent` (the request's server
   * span) or else of the current context.
   */
  startAttempt(
    name: string,
    attributes: Attributes,
    parent: Span | undefined,
  ): { span: Span; context: Context } {
    const active = context.active();
    const parentContext = parent ? trace.setSpan(active, parent) : active;
    const span = this.#tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, parentContext);
    return { span, context: trace.setSpan(parentContext, span) };
  }

  /**
   * The upstream request's headers with the attempt's trace context in place of any incoming
   * `traceparent`/`tracestate` (flat `[name, value, ...]`, as the upstream client takes them).
   */
  inject(headers: readonly string[], attemptContext: Context): string[] {
    const carrier: Record<string, string> = {};
    propagation.inject(attemptContext, carrier);
    const out: string[] = [];
    let incomingParent: string | undefined;
    let incomingState: string | undefined;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i];
      if (name === "traceparent") incomingParent = headers[i + 1];
      else if (name === "tracestate") incomingState = headers[i + 1];
      else out.push(name, headers[i + 1]);
    }
    for (const [name, value] of Object.entries(carrier)) out.push(name.toLowerCase(), value);
    // Deno's server span does not keep the caller's tracestate, but W3C Trace Context asks
    // every participant of the same trace to pass it on: keep it when the trace is the same.
    if (
      carrier.tracestate === undefined && incomingState !== undefined &&
      traceIdOf(incomingParent) !== undefined &&
      traceIdOf(incomingParent) === traceIdOf(carrier.traceparent)
    ) {
      out.push("tracestate", incomingState);
    }
    return out;
  }

  /** Ends an attempt span with its outcome. */
  endAttempt(span: Span, status: number | undefined, error?: string): void {
    if (status !== undefined) {
      span.setAttribute("http.response.status_code", status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    } else {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error });
      if (error) span.setAttribute("error.type", error);
    }
    span.end();
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
