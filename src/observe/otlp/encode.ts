/**
 * OTLP/JSON encoding of ended spans (an `ExportTraceServiceRequest`): each span when it ends
 * (`span_batch.ts`), the request around a batch at export time. Ids stay lower-case hex, 64-bit
 * numbers are decimal strings and enums are numbers, as the OTLP/JSON mapping requires. The
 * attribute mapping (`encodeValue`) is shared with the protobuf encoding (`encode_proto.ts`).
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
 * Each attribute key's JSON prefix, `{"key":"http.route","value":{`, made once: a gateway's
 * spans repeat the same few dozen keys, and escaping them again for every span was measurable.
 * Bounded, since keys could in principle come from user data.
 */
const keyPrefixes = new Map<string, string>();
const MAX_CACHED_KEYS = 1024;

function keyPrefix(key: string): string {
  let prefix = keyPrefixes.get(key);
  if (prefix === undefined) {
    prefix = `{"key":${JSON.stringify(key)},"value":{`;
    if (keyPrefixes.size < MAX_CACHED_KEYS) keyPrefixes.set(key, prefix);
  }
  return prefix;
}

/** One attribute value's `AnyValue` members as JSON text, or undefined when it has none. */
function valueText(value: unknown): string | undefined {
  switch (typeof value) {
    case "string":
      return `"stringValue":${JSON.stringify(value)}`;
    case "boolean":
      return value ? `"boolValue":true` : `"boolValue":false`;
    case "number":
      if (Number.isSafeInteger(value)) return `"intValue":"${value}"`;
      if (Number.isFinite(value)) return `"doubleValue":${value}`;
      break; // NaN and the infinities are strings: the general path below
  }
  const encoded = encodeValue(value);
  if (encoded === undefined) return undefined;
  const text = JSON.stringify(encoded);
  return text.slice(1, -1); // the members, without the braces
}

/** Attributes (keys and their values, as spans keep them) as the text of a `KeyValue` array. */
function attributesText(keys: readonly string[], values: readonly unknown[]): string {
  let out = "[";
  let first = true;
  for (let i = 0; i < keys.length; i++) {
    const value = valueText(values[i]);
    if (value === undefined) continue;
    out += (first ? "" : ",") + keyPrefix(keys[i]) + value + "}}";
    first = false;
  }
  return out + "]";
}

/** An attribute object (an event's) as the key and value lists spans keep. */
export function attributeLists(attributes: Attributes): [string[], unknown[]] {
  const keys = Object.keys(attributes);
  return [keys, keys.map((key) => attributes[key])];
}

/**
 * One span as OTLP/JSON text. Written directly rather than built as objects for
 * `JSON.stringify`: with the key prefixes cached this measured ~1.5× faster, and export encoding
 * runs on the gateway's only thread. Ids and times are hex and digits (nothing to escape);
 * every other string goes through `JSON.stringify`.
 */
export function encodeSpan(span: RecordingSpan): string {
  let out = `{"traceId":"${span.context.traceId}","spanId":"${span.context.spanId}"`;
  if (span.parentSpanId !== "") out += `,"parentSpanId":"${span.parentSpanId}"`;
  const traceState = span.context.traceState?.serialize();
  if (traceState) out += `,"traceState":${JSON.stringify(traceState)}`;
  // The api's SpanKind starts at INTERNAL = 0, OTLP's at 1.
  out += `,"name":${JSON.stringify(span.name)},"kind":${span.kind + 1}` +
    `,"startTimeUnixNano":"${epochNanos(span.startMs)}"` +
    `,"endTimeUnixNano":"${epochNanos(span.endMs)}"` +
    `,"attributes":${attributesText(span.attributeKeys, span.attributeValues)}`;
  if (span.droppedAttributes > 0) out += `,"droppedAttributesCount":${span.droppedAttributes}`;
  if (span.events !== undefined) {
    out += `,"events":[`;
    for (let i = 0; i < span.events.length; i++) {
      const event = span.events[i];
      out += `${i === 0 ? "" : ","}{"timeUnixNano":"${epochNanos(event.timeMs)}"` +
        `,"name":${JSON.stringify(event.name)}` +
        `,"attributes":${
          event.attributes === undefined
            ? "[]"
            : attributesText(...attributeLists(event.attributes))
        }}`;
    }
    out += "]";
  }
  if (span.droppedEvents > 0) out += `,"droppedEventsCount":${span.droppedEvents}`;
  out += span.statusMessage === undefined || span.statusMessage === ""
    ? `,"status":{"code":${span.statusCode}}}`
    : `,"status":{"code":${span.statusCode},"message":${JSON.stringify(span.statusMessage)}}}`;
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
  return exportRequestBody(resource, spans.map((s) => s.scope), spans.map(encodeSpan));
}

/**
 * The request body for spans already encoded (`texts[i]`, made by {@link encodeSpan}, came from
 * a tracer with scope `scopes[i]`), grouped by scope under one resource.
 */
export function exportRequestBody(
  resource: readonly OtlpKeyValue[],
  scopes: readonly InstrumentationScope[],
  texts: readonly string[],
): string {
  const byScope = new Map<InstrumentationScope, string[]>();
  for (let i = 0; i < texts.length; i++) {
    const group = byScope.get(scopes[i]);
    if (group === undefined) byScope.set(scopes[i], [texts[i]]);
    else group.push(texts[i]);
  }
  const scopeSpans: string[] = [];
  for (const [scope, encoded] of byScope) {
    const scopeText = JSON.stringify(
      scope.version === undefined
        ? { name: scope.name }
        : { name: scope.name, version: scope.version },
    );
    scopeSpans.push(`{"scope":${scopeText},"spans":[${encoded.join(",")}]}`);
  }
  return `{"resourceSpans":[{"resource":{"attributes":${JSON.stringify(resource)}}` +
    `,"scopeSpans":[${scopeSpans.join(",")}]}]}`;
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
