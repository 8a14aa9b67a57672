/**
 * W3C Trace Context (`traceparent` / `tracestate`) for `@opentelemetry/api`'s propagation API.
 * Parsing is strict, as the spec asks: anything malformed means "no parent", and the request
 * starts a fresh trace instead of joining a broken one.
 */
import {
  type Context,
  createTraceState,
  type SpanContext,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  trace,
} from "@opentelemetry/api";
import { ContextOnlySpan } from "./context_only_span.ts";
import { BYTE_HEX } from "./ids.ts";
import { validSpanContext } from "./valid_span_context.ts";

const TRACEPARENT = "traceparent";
const TRACESTATE = "tracestate";
const ZERO_TRACE_ID = "00000000000000000000000000000000";
const ZERO_SPAN_ID = "0000000000000000";

// version-traceid-parentid-flags, then (future versions only) more fields after a dash.
const TRACEPARENT_PATTERN = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** The parent a `traceparent` value names, or undefined when the value is not valid. */
export function parseTraceparent(
  value: string,
): { traceId: string; spanId: string; traceFlags: number } | undefined {
  // Optional whitespace around a header value is not part of it (RFC 9110).
  const match = TRACEPARENT_PATTERN.exec(value.trim());
  if (match === null) return undefined;
  const [, version, traceId, spanId, flags, rest] = match;
  if (version === "ff") return undefined; // forbidden version
  // Version 00 is exactly four fields; a later version may append fields we do not know.
  if (version === "00" && rest !== undefined) return undefined;
  if (traceId === ZERO_TRACE_ID || spanId === ZERO_SPAN_ID) return undefined;
  return { traceId, spanId, traceFlags: parseInt(flags, 16) };
}

/**
 * The parent span context named by a request's `traceparent` and `tracestate` header values, or
 * undefined when there is none or it is not valid. A header sent twice arrives joined with ", "
 * and is then not valid: two parents are ambiguous.
 */
export function parentFromHeaders(
  traceparent: string | null | undefined,
  tracestate: string | null | undefined,
): SpanContext | undefined {
  if (traceparent === undefined || traceparent === null) return undefined;
  const parent = parseTraceparent(traceparent);
  if (parent === undefined) return undefined;
  return {
    traceId: parent.traceId,
    spanId: parent.spanId,
    traceFlags: parent.traceFlags,
    isRemote: true,
    traceState: tracestate ? createTraceState(boundTracestate(tracestate)) : undefined,
  };
}

/** W3C Trace Context's bounds on a `tracestate` a participant passes on. */
const MAX_TRACESTATE_MEMBERS = 32;
const MAX_TRACESTATE_LENGTH = 512;
/** Members longer than this are the first to go when a `tracestate` is too long. */
const LARGE_TRACESTATE_MEMBER = 128;

/**
 * `value` cut to what `createTraceState` keeps intact: at most 32 list members and 512 characters.
 * Past those bounds the api's parser reverses the members' order (more than 32) or drops the
 * whole list (over 512 characters), where W3C Trace Context asks a participant to keep the order
 * and to truncate whole members: those over 128 characters first, then from the end.
 */
export function boundTracestate(value: string): string {
  if (
    value.length <= MAX_TRACESTATE_LENGTH && !hasMoreCommasThan(value, MAX_TRACESTATE_MEMBERS - 1)
  ) {
    return value; // the common case: nothing to cut, no allocation
  }
  // Empty members (allowed, as ", ," from joined headers) take no slot.
  const members = value.split(",").map((member) => member.trim()).filter((m) => m !== "");
  if (members.length > MAX_TRACESTATE_MEMBERS) members.length = MAX_TRACESTATE_MEMBERS;
  for (let i = members.length - 1; i >= 0 && tooLong(members); i--) {
    if (members[i].length > LARGE_TRACESTATE_MEMBER) members.splice(i, 1);
  }
  while (tooLong(members)) members.pop();
  return members.join(",");
}

function tooLong(members: readonly string[]): boolean {
  return members.join(",").length > MAX_TRACESTATE_LENGTH;
}

function hasMoreCommasThan(value: string, most: number): boolean {
  let count = 0;
  for (let at = value.indexOf(","); at !== -1; at = value.indexOf(",", at + 1)) {
    if (++count > most) return true;
  }
  return false;
}

/** The `traceparent` value for `spanContext` (assumed valid). */
export function formatTraceparent(spanContext: SpanContext): string {
  return `00-${spanContext.traceId}-${spanContext.spanId}-${
    BYTE_HEX[spanContext.traceFlags & 0xff]
  }`;
}

/** W3C Trace Context propagator. */
export class W3CTraceContextPropagator implements TextMapPropagator {
  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    const spanContext = validSpanContext(context);
    if (spanContext === undefined) return;
    setter.set(carrier, TRACEPARENT, formatTraceparent(spanContext));
    const traceState = spanContext.traceState?.serialize();
    if (traceState) setter.set(carrier, TRACESTATE, traceState);
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    const state = getter.get(carrier, TRACESTATE);
    // Several tracestate headers are one list, in order (W3C Trace Context §3.3.1).
    const parent = parentFromHeaders(
      first(getter.get(carrier, TRACEPARENT)),
      Array.isArray(state) ? state.join(",") : state,
    );
    // As trace.setSpanContext does, with Ferry's class: the tracer then trusts these ids.
    return parent === undefined ? context : trace.setSpan(context, new ContextOnlySpan(parent));
  }

  fields(): string[] {
    return [TRACEPARENT, TRACESTATE];
  }
}

/** A single header value; two `traceparent` headers are ambiguous, so neither counts. */
function first(value: string | string[] | undefined): string | undefined {
  if (!Array.isArray(value)) return value;
  return value.length === 1 ? value[0] : undefined;
}
