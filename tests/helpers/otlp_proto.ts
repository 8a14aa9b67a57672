/**
 * Decodes OTLP/protobuf trace exports for the tests with protobufjs (an implementation
 * independent of Ferry's encoder) and the message definitions of `opentelemetry-proto`
 * (`trace/v1/trace.proto`, `common/v1/common.proto`, `resource/v1/resource.proto`,
 * `collector/trace/v1/trace_service.proto`), trimmed to the fields a trace export uses. The
 * result is the object OTLP/JSON would have carried (hex ids, 64-bit integers as decimal
 * strings, enums as numbers, the members Ferry's JSON encoder writes), so a test can compare the
 * two encodings and the OTLP receiver can take either.
 */
import protobuf from "protobufjs";

const OTLP_TRACE_PROTO = `
syntax = "proto3";
package otlp;
message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message InstrumentationScope {
  string name = 1; string version = 2; repeated KeyValue attributes = 3;
  uint32 dropped_attributes_count = 4;
}
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }
message Status { reserved 1; string message = 2; int32 code = 3; }
message Span {
  message Event {
    fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3;
    uint32 dropped_attributes_count = 4;
  }
  bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4;
  fixed32 flags = 16; string name = 5; int32 kind = 6;
  fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9; uint32 dropped_attributes_count = 10;
  repeated Event events = 11; uint32 dropped_events_count = 12;
  uint32 dropped_links_count = 14; Status status = 15;
}
message ScopeSpans {
  InstrumentationScope scope = 1; repeated Span spans = 2; string schema_url = 3;
}
message ResourceSpans {
  reserved 1000;
  Resource resource = 1; repeated ScopeSpans scope_spans = 2; string schema_url = 3;
}
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
`;

const ExportTraceServiceRequest = protobuf.parse(OTLP_TRACE_PROTO).root
  .lookupType("otlp.ExportTraceServiceRequest");

type Json = Record<string, unknown>;

const hex = (base64: string) =>
  [...atob(base64)].map((c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join("");

function anyValue(value: Json): Json {
  if (value.doubleValue !== undefined) {
    const x = value.doubleValue as number;
    return { doubleValue: Number.isFinite(x) ? x : String(x) };
  }
  if (value.arrayValue !== undefined) {
    const values = ((value.arrayValue as Json).values ?? []) as Json[];
    return { arrayValue: { values: values.map(anyValue) } };
  }
  if (value.kvlistValue !== undefined) {
    const values = ((value.kvlistValue as Json).values ?? []) as Json[];
    return { kvlistValue: { values: values.map(keyValue) } };
  }
  const { value: _oneofName, ...rest } = value;
  return rest;
}

function keyValue(kv: Json): Json {
  return { key: kv.key, value: anyValue((kv.value ?? {}) as Json) };
}

function span(s: Json): Json {
  const events = (s.events as Json[]).map((e) => ({
    timeUnixNano: e.timeUnixNano,
    name: e.name,
    attributes: (e.attributes as Json[]).map(keyValue),
  }));
  const status = (s.status ?? {}) as Json;
  return {
    traceId: hex(s.traceId as string),
    spanId: hex(s.spanId as string),
    ...(s.parentSpanId ? { parentSpanId: hex(s.parentSpanId as string) } : {}),
    ...(s.traceState ? { traceState: s.traceState } : {}),
    name: s.name,
    kind: s.kind,
    startTimeUnixNano: s.startTimeUnixNano,
    endTimeUnixNano: s.endTimeUnixNano,
    attributes: (s.attributes as Json[]).map(keyValue),
    ...(s.droppedAttributesCount ? { droppedAttributesCount: s.droppedAttributesCount } : {}),
    ...(events.length === 0 ? {} : { events }),
    ...(s.droppedEventsCount ? { droppedEventsCount: s.droppedEventsCount } : {}),
    status: status.message
      ? { code: status.code ?? 0, message: status.message }
      : { code: status.code ?? 0 },
  };
}

/** An `ExportTraceServiceRequest` as the OTLP/JSON object it stands for. */
export function decodeTraceExport(body: Uint8Array): Json {
  const decoded = ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(body), {
    longs: String,
    bytes: String,
    enums: Number,
    arrays: true,
    oneofs: true,
  }) as Json;
  return {
    resourceSpans: (decoded.resourceSpans as Json[]).map((rs) => ({
      resource: {
        attributes: (((rs.resource ?? {}) as Json).attributes as Json[] ?? []).map(keyValue),
      },
      scopeSpans: (rs.scopeSpans as Json[]).map((ss) => {
        const scope = (ss.scope ?? {}) as Json;
        return {
          scope: scope.version
            ? { name: scope.name, version: scope.version }
            : { name: scope.name },
          spans: (ss.spans as Json[]).map(span),
        };
      }),
    })),
  };
}
