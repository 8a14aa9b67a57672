/**
 * The span context in an api `Context`, when it is a valid one. Spans of Ferry's own classes
 * have well-formed ids by construction (made by `ids.ts`, or checked by the propagator when
 * they came from a `traceparent`), so only foreign spans go through the api's regex checks,
 * which cost more than the rest of starting a span or injecting its `traceparent`.
 */
import { type Context, isSpanContextValid, type SpanContext, trace } from "@opentelemetry/api";
import { ContextOnlySpan } from "./context_only_span.ts";
import { RecordingSpan } from "./span.ts";

/** The valid span context `context` carries, or undefined. */
export function validSpanContext(context: Context): SpanContext | undefined {
  const span = trace.getSpan(context);
  if (span === undefined) return undefined;
  if (span instanceof RecordingSpan) return span.context;
  if (span instanceof ContextOnlySpan) return span.spanContext();
  const spanContext = span.spanContext();
  return isSpanContextValid(spanContext) ? spanContext : undefined;
}
