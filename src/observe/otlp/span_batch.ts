/**
 * The two OTLP/HTTP encodings the exporter speaks, as batches that encode each span when it is
 * added: `http/protobuf` (OTLP's default) and `http/json`. Encoding at the end of a span, not
 * per batch at export time, lets span objects die young (see `exporter.ts`).
 */
import { encodeSpan, exportRequestBody, type OtlpKeyValue } from "./encode.ts";
import { exportRequestProto, writeSpan } from "./encode_proto.ts";
import { ProtoWriter } from "./proto_writer.ts";
import type { InstrumentationScope, RecordingSpan } from "./span.ts";

/** Ended spans, encoded, for one export request. */
export interface SpanBatch {
  /** Spans added. */
  readonly count: number;
  /** Encodes and keeps `span`; when that throws, the batch is as it was. */
  add(span: RecordingSpan): void;
  /** The export request's body: every span added, under `resource`. */
  body(resource: readonly OtlpKeyValue[]): string | Uint8Array<ArrayBuffer>;
}

/** One OTLP/HTTP encoding. */
export interface SpanEncoding {
  readonly protocol: OtlpProtocol;
  readonly contentType: string;
  newBatch(): SpanBatch;
}

/** The values of `OTEL_EXPORTER_OTLP_PROTOCOL` Ferry's exporter accepts. */
export type OtlpProtocol = "http/protobuf" | "http/json";

class JsonBatch implements SpanBatch {
  readonly #texts: string[] = [];
  readonly #scopes: InstrumentationScope[] = [];

  get count(): number {
    return this.#texts.length;
  }

  add(span: RecordingSpan): void {
    const text = encodeSpan(span);
    Number(text); // flattens the rope in place (see ids.ts): the batch holds one flat string
    this.#texts.push(text);
    this.#scopes.push(span.scope);
  }

  body(resource: readonly OtlpKeyValue[]): string {
    return exportRequestBody(resource, this.#scopes, this.#texts);
  }
}

class ProtobufBatch implements SpanBatch {
  /** Per scope, its spans as `ScopeSpans.spans` fields; usually one scope, Ferry's. */
  readonly #byScope = new Map<InstrumentationScope, ProtoWriter>();
  #count = 0;

  get count(): number {
    return this.#count;
  }

  add(span: RecordingSpan): void {
    let out = this.#byScope.get(span.scope);
    if (out === undefined) {
      out = new ProtoWriter(16 * 1024);
      this.#byScope.set(span.scope, out);
    }
    const before = out.length;
    try {
      writeSpan(out, span);
    } catch (error) {
      out.truncate(before);
      throw error;
    }
    this.#count++;
  }

  body(resource: readonly OtlpKeyValue[]): Uint8Array<ArrayBuffer> {
    return exportRequestProto(resource, this.#byScope);
  }
}

/** The encoding for `protocol`. */
export function spanEncoding(protocol: OtlpProtocol): SpanEncoding {
  return protocol === "http/json"
    ? { protocol, contentType: "application/json", newBatch: () => new JsonBatch() }
    : { protocol, contentType: "application/x-protobuf", newBatch: () => new ProtobufBatch() };
}
