/**
 * OTLP/protobuf encoding of ended spans (`opentelemetry/proto/trace/v1/trace.proto` and
 * `collector/trace/v1/trace_service.proto`), the protocol OTLP exporters default to. The field
 * numbers below are the proto files'. Attribute values are encoded as `encode.ts` encodes them
 * for OTLP/JSON, so both protocols carry the same data (tests/observe/otlp/encode_proto_test.ts
 * decodes both and compares).
 *
 * Compared with OTLP/JSON, a span is about half the bytes (binary ids and times, no key names)
 * and nothing is escaped, built as a string or converted to UTF-8 afterwards.
 */
import { attributeLists, encodeValue, type OtlpAnyValue, type OtlpKeyValue } from "./encode.ts";
import { ProtoWriter, varintSize } from "./proto_writer.ts";
import type { InstrumentationScope, RecordingSpan } from "./span.ts";
import { NANOS64, splitEpochNanos } from "./time.ts";

// Span
const SPAN_TRACE_ID = 1;
const SPAN_SPAN_ID = 2;
const SPAN_TRACE_STATE = 3;
const SPAN_PARENT_SPAN_ID = 4;
const SPAN_NAME = 5;
const SPAN_KIND = 6;
const SPAN_START = 7;
const SPAN_END = 8;
const SPAN_ATTRIBUTES = 9;
const SPAN_DROPPED_ATTRIBUTES = 10;
const SPAN_EVENTS = 11;
const SPAN_DROPPED_EVENTS = 12;
const SPAN_STATUS = 15;
// Span.Event
const EVENT_TIME = 1;
const EVENT_NAME = 2;
const EVENT_ATTRIBUTES = 3;
// Status
const STATUS_MESSAGE = 2;
const STATUS_CODE = 3;
// KeyValue, AnyValue, ArrayValue, KeyValueList
const KV_KEY = 1;
const KV_VALUE = 2;
const ANY_STRING = 1;
const ANY_BOOL = 2;
const ANY_INT = 3;
const ANY_DOUBLE = 4;
const ANY_ARRAY = 5;
const ANY_KVLIST = 6;
const ANY_BYTES = 7;
const LIST_VALUES = 1;
// ExportTraceServiceRequest, ResourceSpans, Resource, ScopeSpans, InstrumentationScope
const REQUEST_RESOURCE_SPANS = 1;
const RESOURCE_SPANS_RESOURCE = 1;
const RESOURCE_SPANS_SCOPE_SPANS = 2;
const RESOURCE_ATTRIBUTES = 1;
const SCOPE_SPANS_SCOPE = 1;
const SCOPE_SPANS_SPANS = 2;
const SCOPE_NAME = 1;
const SCOPE_VERSION = 2;

/**
 * Appends `span` to `out` as one `ScopeSpans.spans` field (field 2, length-delimited), so a
 * writer holding a scope's spans is that `ScopeSpans` message minus its scope.
 */
export function writeSpan(out: ProtoWriter, span: RecordingSpan): void {
  const message = out.begin(SCOPE_SPANS_SPANS);
  out.hex(SPAN_TRACE_ID, span.context.traceId);
  out.hex(SPAN_SPAN_ID, span.context.spanId);
  const traceState = span.context.traceState?.serialize();
  if (traceState) out.string(SPAN_TRACE_STATE, traceState);
  if (span.parentSpanId !== "") out.hex(SPAN_PARENT_SPAN_ID, span.parentSpanId);
  out.string(SPAN_NAME, span.name);
  // The api's SpanKind starts at INTERNAL = 0, OTLP's at 1.
  out.uint(SPAN_KIND, span.kind + 1);
  writeTime(out, SPAN_START, span.startMs);
  writeTime(out, SPAN_END, span.endMs);
  writeAttributes(out, SPAN_ATTRIBUTES, span.attributeKeys, span.attributeValues);
  if (span.droppedAttributes > 0) out.uint(SPAN_DROPPED_ATTRIBUTES, span.droppedAttributes);
  if (span.events !== undefined) {
    for (const event of span.events) {
      const at = out.begin(SPAN_EVENTS);
      writeTime(out, EVENT_TIME, event.timeMs);
      out.string(EVENT_NAME, event.name);
      if (event.attributes !== undefined) {
        writeAttributes(out, EVENT_ATTRIBUTES, ...attributeLists(event.attributes));
      }
      out.end(at);
    }
  }
  if (span.droppedEvents > 0) out.uint(SPAN_DROPPED_EVENTS, span.droppedEvents);
  const status = out.begin(SPAN_STATUS);
  if (span.statusMessage) out.string(STATUS_MESSAGE, span.statusMessage);
  if (span.statusCode !== 0) out.uint(STATUS_CODE, span.statusCode);
  out.end(status);
  out.end(message);
}

/**
 * An `ExportTraceServiceRequest`: one resource, then for each scope its `ScopeSpans`, whose
 * spans `spansOf` wrote with {@link writeSpan}.
 */
export function exportRequestProto(
  resource: readonly OtlpKeyValue[],
  scopes: ReadonlyMap<InstrumentationScope, ProtoWriter>,
): Uint8Array<ArrayBuffer> {
  // Sized for everything up front: one allocation, no growing copies.
  let spansLength = 0;
  for (const spans of scopes.values()) spansLength += spans.length;
  const out = new ProtoWriter(spansLength + 4096);
  const resourceSpans = out.begin(REQUEST_RESOURCE_SPANS);
  const resourceAt = out.begin(RESOURCE_SPANS_RESOURCE);
  for (const kv of resource) writeKeyValue(out, RESOURCE_ATTRIBUTES, kv.key, kv.value);
  out.end(resourceAt);
  for (const [scope, spans] of scopes) {
    const scopeSpans = out.begin(RESOURCE_SPANS_SCOPE_SPANS);
    const scopeAt = out.begin(SCOPE_SPANS_SCOPE);
    out.string(SCOPE_NAME, scope.name);
    if (scope.version !== undefined) out.string(SCOPE_VERSION, scope.version);
    out.end(scopeAt);
    out.raw(spans.bytes());
    out.end(scopeSpans);
  }
  out.end(resourceSpans);
  return out.bytes();
}

/** A time (milliseconds since `performance.timeOrigin`) as fixed64 epoch nanoseconds. */
function writeTime(out: ProtoWriter, field: number, relMs: number): void {
  splitEpochNanos(relMs);
  out.fixed64(field, NANOS64.low, NANOS64.high);
}

function writeAttributes(
  out: ProtoWriter,
  field: number,
  keys: readonly string[],
  values: readonly unknown[],
): void {
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    const value = values[i];
    // The common kinds (strings and non-negative integers, under ASCII keys) with their sizes
    // worked out here from the string lengths, so the KeyValue and AnyValue need no begin/end;
    // if a string turns out not to be ASCII, or for any other kind, the shared AnyValue mapping.
    const start = out.length;
    const keyPart = 1 + varintSize(key.length) + key.length;
    if (typeof value === "string") {
      const anyLength = 1 + varintSize(value.length) + value.length;
      out.header(field, keyPart + 1 + varintSize(anyLength) + anyLength);
      out.header(KV_KEY, key.length);
      if (out.ascii(key)) {
        out.header(KV_VALUE, anyLength);
        out.header(ANY_STRING, value.length);
        if (out.ascii(value)) continue;
      }
      out.truncate(start);
    } else if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) {
      const anyLength = 1 + varintSize(value);
      out.header(field, keyPart + 1 + varintSize(anyLength) + anyLength);
      out.header(KV_KEY, key.length);
      if (out.ascii(key)) {
        out.header(KV_VALUE, anyLength);
        out.uint(ANY_INT, value);
        continue;
      }
      out.truncate(start);
    }
    const encoded = encodeValue(value);
    if (encoded !== undefined) writeKeyValue(out, field, key, encoded);
  }
}

function writeKeyValue(out: ProtoWriter, field: number, key: string, value: OtlpAnyValue): void {
  const at = out.begin(field);
  out.string(KV_KEY, key);
  writeAnyValue(out, KV_VALUE, value);
  out.end(at);
}

/** An `AnyValue` in the form `encodeValue` gives (OTLP/JSON's), as protobuf. */
function writeAnyValue(out: ProtoWriter, field: number, value: OtlpAnyValue): void {
  const at = out.begin(field);
  if ("stringValue" in value) out.string(ANY_STRING, value.stringValue);
  else if ("boolValue" in value) out.bool(ANY_BOOL, value.boolValue);
  else if ("intValue" in value) out.int64(ANY_INT, BigInt(value.intValue));
  else if ("doubleValue" in value) out.double(ANY_DOUBLE, Number(value.doubleValue));
  else if ("bytesValue" in value) out.bytesField(ANY_BYTES, base64Bytes(value.bytesValue));
  else if ("arrayValue" in value) {
    const list = out.begin(ANY_ARRAY);
    for (const item of value.arrayValue.values) writeAnyValue(out, LIST_VALUES, item);
    out.end(list);
  } else if ("kvlistValue" in value) {
    const list = out.begin(ANY_KVLIST);
    for (const kv of value.kvlistValue.values) writeKeyValue(out, LIST_VALUES, kv.key, kv.value);
    out.end(list);
  }
  // An empty AnyValue (a null inside an array) has no fields.
  out.end(at);
}

function base64Bytes(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
