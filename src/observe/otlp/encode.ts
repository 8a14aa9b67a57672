/**
 * OTLP/JSON encoding of ended spans (an `ExportTraceServiceRequest`), done per batch at export
 * time so the request path never formats anything. Ids stay lower-case hex, 64-bit numbers are
 * decimal strings and enums are numbers, as the OTLP/JSON mapping requires.
 */
import type { Attributes } from "@opentelemetry/api";
import type { InstrumentationScope, RecordingSpan } from "./span.ts";
import { epochNanos } from "./time.ts";

/** An OTLP `AnyValue`. */
export type OtlpAnyValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: string }
  | { doubleValue: number | string }
  | { bytesValue: string }
  | { arrayValue: { values: OtlpAnyValue[] } }
  | { kvlistValue: { values: OtlpKeyValue[] } }
  | Record<string, never>;

export interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** `value` as an OTLP `AnyValue`; undefined for what has no encoding (null, functions, …). */
export function encodeValue(value: unknown): OtlpAnyValue | undefined {
  switch (typeof value) {
    case "string":
      return { stringValue: value };
    case "boolean":
      return { boolValue: value };
    case "number":
      if (Number.isSafeInteger(value)) return { intValue: String(value) };
      // Protobuf's JSON mapping spells the non-finite doubles as strings.
      return { doubleValue: Number.isFinite(value) ? value : String(value) };
    case "bigint":
      return value >= INT64_MIN && value <= INT64_MAX
        ? { intValue: String(value) }
        : { stringValue: String(value) };
    case "object":
      if (value === null) return undefined;
      if (Array.isArray(value)) {
        const values: OtlpAnyValue[] = [];
        // A null inside a homogeneous array keeps its slot, as an empty AnyValue.
        for (const item of value) values.push(encodeValue(item) ?? {});
        return { arrayValue: { values } };
      }
      if (value instanceof Uint8Array) return { bytesValue: base64(value) };
      if (value instanceof Date) return { stringValue: value.toISOString() };
      return { kvlistValue: { values: encodeAttributes(value as Attributes) } };
    default:
      return undefined;
  }
}

/** An attribute object as OTLP key/values, skipping values without an encoding. */
export function encodeAttributes(attributes: Attributes): OtlpKeyValue[] {
  const out: OtlpKeyValue[] = [];
  for (const key in attributes) {
    const value = encodeValue(attributes[key]);
    if (value !== undefined) out.push({ key, value });
  }
  return out;
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
  return btoa(binary);
}

/**
 * One span in OTLP/JSON form. Plain objects handed to `JSON.stringify` (which escapes what needs
 * escaping) measured faster than writing the JSON text by hand.
 */
export function encodeSpan(span: RecordingSpan): Record<string, unknown> {
  const out: Record<string, unknown> = {
    traceId: span.context.traceId,
    spanId: span.context.spanId,
  };
  if (span.parentSpanId !== "") out.parentSpanId = span.parentSpanId;
  const traceState = span.context.traceState?.serialize();
  if (traceState) out.traceState = traceState;
  out.name = span.name;
  out.kind = span.kind + 1; // the api's SpanKind starts at INTERNAL = 0, OTLP's at 1
  out.startTimeUnixNano = epochNanos(span.startMs);
  out.endTimeUnixNano = epochNanos(span.endMs);
  out.attributes = encodeAttributes(span.attributes);
  if (span.events !== undefined) {
    out.events = span.events.map((event) => ({
      timeUnixNano: epochNanos(event.timeMs),
      name: event.name,
      attributes: event.attributes === undefined ? [] : encodeAttributes(event.attributes),
    }));
  }
  out.status = span.statusMessage === undefined || span.statusMessage === ""
    ? { code: span.statusCode }
    : { code: span.statusCode, message: span.statusMessage };
  return out;
}

/**
 * The request body for `spans`, grouped by the tracer (instrumentation scope) that made them,
 * under one resource whose attributes were encoded once, when the exporter was built.
 */
export function encodeExportRequest(
  resource: readonly OtlpKeyValue[],
  spans: readonly RecordingSpan[],
): string {
  const byScope = new Map<InstrumentationScope, Record<string, unknown>[]>();
  for (const span of spans) {
    const group = byScope.get(span.scope);
    if (group === undefined) byScope.set(span.scope, [encodeSpan(span)]);
    else group.push(encodeSpan(span));
  }
  const scopeSpans = [];
  for (const [scope, encoded] of byScope) {
    scopeSpans.push({
      scope: scope.version === undefined
        ? { name: scope.name }
        : { name: scope.name, version: scope.version },
      spans: encoded,
    });
  }
  return JSON.stringify({ resourceSpans: [{ resource: { attributes: resource }, scopeSpans }] });
}

/** The resource Ferry reports: the service, the SDK, and what `OTEL_RESOURCE_ATTRIBUTES` adds. */
export function resourceAttributes(
  serviceName: string,
  extra: Readonly<Record<string, string>>,
): OtlpKeyValue[] {
  return encodeAttributes({
    ...extra,
    "service.name": serviceName,
    "telemetry.sdk.name": "ferry",
    "telemetry.sdk.language": "js",
  });
}
