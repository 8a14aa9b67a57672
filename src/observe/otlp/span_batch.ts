/**
 * The two OTLP/HTTP encodings the exporter speaks, as batches that encode each span when it is
 * added: `http/protobuf` (OTLP's default) and `http/json`. Encoding at the end of a span, not
 * per batch at export time, lets span objects die young (see `exporter.ts`).
 */
import { encodeSpan, exportRequestBody, type OtlpKeyValue } from "./encode.ts";
import { exportRequestProto, writeSpan } from "./encode_proto.ts";
import { writeCommonSpan } from "./encode_span_fast.ts";
import { ProtoWriter } from "./proto_writer.ts";
import type { InstrumentationScope, RecordingSpan } from "./span.ts";

/** Ended spans, encoded, for one export request. */
export interface SpanBatch {
  /** Spans added. */
  readonly count: number;
  /** Encodes and keeps `span`; when that throws, the batch is as it was. */
  add(span: RecordingSpan): void;
  /**
   * The export request's body: every span added, under `resource`, in memory of its own (it
   * stays valid after {@link release}).
   */
  body(resource: readonly OtlpKeyValue[]): string | Uint8Array<ArrayBuffer>;
  /** Done with: the batch's buffers may be reused by a later batch. */
  release(): void;
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

  release(): void {}
}

/**
 * Span buffers kept for the next batches. A batch's buffer grows to ~100 KB; allocating them
 * afresh for every batch measured ~2.5% of a traced request's CPU (ArrayBuffers are external
 * memory, which drives V8 to collect more often).
 */
class WriterPool {
  readonly #free: ProtoWriter[] = [];

  take(): ProtoWriter {
    const writer = this.#free.pop();
    if (writer === undefined) return new ProtoWriter(16 * 1024);
    writer.truncate(0);
    return writer;
  }

  give(writer: ProtoWriter): void {
    // A few: the filling batch, and one being exported.
    if (this.#free.length < 4) this.#free.push(writer);
  }
}

class ProtobufBatch implements SpanBatch {
  /** Per scope, its spans as `ScopeSpans.spans` fields; usually one scope, Ferry's. */
  readonly #byScope = new Map<InstrumentationScope, ProtoWriter>();
  #count = 0;

  constructor(readonly pool: WriterPool) {}

  get count(): number {
    return this.#count;
  }

  add(span: RecordingSpan): void {
    let out = this.#byScope.get(span.scope);
    if (out === undefined) {
      out = this.pool.take();
      this.#byScope.set(span.scope, out);
    }
    const before = out.length;
    try {
      if (!writeCommonSpan(out, span)) writeSpan(out, span);
    } catch (error) {
      out.truncate(before);
      throw error;
    }
    this.#count++;
  }

  body(resource: readonly OtlpKeyValue[]): Uint8Array<ArrayBuffer> {
    return exportRequestProto(resource, this.#byScope);
  }

  release(): void {
    for (const writer of this.#byScope.values()) this.pool.give(writer);
    this.#byScope.clear();
  }
}

/** The encoding for `protocol` (with buffers of its own, reused from batch to batch). */
export function spanEncoding(protocol: OtlpProtocol): SpanEncoding {
  if (protocol === "http/json") {
    return { protocol, contentType: "application/json", newBatch: () => new JsonBatch() };
  }
  const pool = new WriterPool();
  return {
    protocol,
    contentType: "application/x-protobuf",
    newBatch: () => new ProtobufBatch(pool),
  };
}
