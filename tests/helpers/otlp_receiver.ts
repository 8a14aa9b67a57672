/**
 * A real OTLP/HTTP receiver for tests: a `Deno.serve` server on 127.0.0.1:0 that takes what an
 * exporter posts to `/v1/traces`, as OTLP/protobuf (`application/x-protobuf`, decoded by
 * `otlp_proto.ts`) or OTLP/JSON, and keeps every span, flattened and with its attributes decoded. Logs and metrics are answered
 * 200 and dropped, so an exporter sending them never retries or complains.
 *
 * Tests wait for spans with {@link OtlpReceiver.waitFor}: it resolves as soon as an export makes
 * the condition true (no polling, no sleeps) and rejects after a bound, so a missing span fails
 * the test instead of hanging it.
 */

import { decodeTraceExport } from "./otlp_proto.ts";

/** An attribute value as OTLP/JSON encodes it. */
interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
}

interface KeyValue {
  key: string;
  value: AnyValue;
}

/** Attributes decoded to plain values (OTLP/JSON sends 64-bit integers as strings). */
export type Attributes = Record<string, string | number | boolean | unknown[]>;

/** One event on a span. */
export interface ReceivedEvent {
  name: string;
  attributes: Attributes;
}

/** One exported span, flattened out of its resource and scope. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  /** Epoch nanoseconds. */
  startNanos: bigint;
  endNanos: bigint;
  attributes: Attributes;
  events: ReceivedEvent[];
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  statusCode: number;
  /** The resource's `service.name`. */
  service: string;
  /** The instrumentation scope's name (`ferry` for Ferry's spans, Deno's own otherwise). */
  scope: string;
}

/** OTLP SpanKind numbers. */
export const SPAN_KIND = { internal: 1, server: 2, client: 3 } as const;

/** The running receiver. */
export interface OtlpReceiver {
  /** `http://127.0.0.1:<port>`, the value for `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  readonly endpoint: string;
  /** Every span received so far, in arrival order. */
  readonly spans: readonly ReceivedSpan[];
  /** POSTs to `/v1/traces` received (each an export batch). */
  readonly traceExports: number;
  /** The path of every request received, traces, logs and metrics included, in order. */
  readonly paths: readonly string[];
  /** Trace exports that could not be decoded; a test asserts it stays 0. */
  readonly undecodable: number;
  /** The content type of every trace export, in order. */
  readonly contentTypes: readonly string[];
  /**
   * Resolves with `select(spans)` once it returns a value other than `undefined`, checked now and
   * after every export; rejects after `timeoutMs`.
   */
  waitFor<T>(
    what: string,
    select: (spans: readonly ReceivedSpan[]) => T | undefined,
    timeoutMs?: number,
  ): Promise<T>;
  close(): Promise<void>;
}

/** Starts a receiver on an ephemeral port of 127.0.0.1. */
export function startOtlpReceiver(): OtlpReceiver {
  const spans: ReceivedSpan[] = [];
  const listeners = new Set<() => void>();
  let traceExports = 0;
  const paths: string[] = [];
  let undecodable = 0;
  const contentTypes: string[] = [];

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    paths.push(path);
    const body = await readBody(req);
    if (req.method === "POST" && path === "/v1/traces") {
      traceExports++;
      const type = req.headers.get("content-type") ?? "";
      contentTypes.push(type);
      try {
        spans.push(
          ...flatten(
            type === "application/x-protobuf"
              ? decodeTraceExport(body)
              : JSON.parse(new TextDecoder().decode(body)),
          ),
        );
      } catch {
        undecodable++;
      }
      for (const listener of [...listeners]) listener();
    }
    // An empty JSON object is a valid Export*ServiceResponse: "everything accepted".
    return Response.json({});
  });

  return {
    endpoint: `http://127.0.0.1:${server.addr.port}`,
    spans,
    get traceExports() {
      return traceExports;
    },
    paths,
    contentTypes,
    get undecodable() {
      return undecodable;
    },
    waitFor(what, select, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        let timer: ReturnType<typeof setTimeout> | undefined = undefined;
        const check = () => {
          let value;
          try {
            value = select(spans);
          } catch (e) {
            finish(() => reject(e));
            return;
          }
          if (value !== undefined) finish(() => resolve(value));
        };
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        timer = setTimeout(
          () =>
            finish(() =>
              reject(
                new Error(
                  `${what}: not received within ${timeoutMs} ms; spans so far:\n${
                    spans.map(describeSpan).join("\n")
                  }`,
                ),
              )
            ),
          timeoutMs,
        );
        listeners.add(check);
        check();
      });
    },
    close: () => server.shutdown(),
  };
}

/** A one-line summary of a span, for failure messages. */
export function describeSpan(span: ReceivedSpan): string {
  return `${span.scope} kind=${span.kind} "${span.name}" trace=${span.traceId} span=${span.spanId}` +
    ` parent=${span.parentSpanId || "-"} ${JSON.stringify(span.attributes)}`;
}

/** The request body, gunzipped when the exporter compressed it. */
async function readBody(req: Request): Promise<Uint8Array> {
  if (!req.body) return new Uint8Array();
  const stream = req.headers.get("content-encoding") === "gzip"
    ? req.body.pipeThrough(new DecompressionStream("gzip"))
    : req.body;
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

interface ExportTraceRequest {
  resourceSpans?: {
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: {
      scope?: { name?: string };
      spans?: {
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind?: number;
        startTimeUnixNano?: string;
        endTimeUnixNano?: string;
        attributes?: KeyValue[];
        events?: { name: string; attributes?: KeyValue[] }[];
        status?: { code?: number };
      }[];
    }[];
  }[];
}

function flatten(request: ExportTraceRequest): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of request.resourceSpans ?? []) {
    const service = String(decodeAttributes(rs.resource?.attributes)["service.name"] ?? "");
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: normalizeId(s.traceId),
          spanId: normalizeId(s.spanId),
          parentSpanId: normalizeId(s.parentSpanId ?? ""),
          name: s.name,
          kind: s.kind ?? 0,
          startNanos: BigInt(s.startTimeUnixNano ?? 0),
          endNanos: BigInt(s.endTimeUnixNano ?? 0),
          attributes: decodeAttributes(s.attributes),
          events: (s.events ?? []).map((e) => ({
            name: e.name,
            attributes: decodeAttributes(e.attributes),
          })),
          statusCode: s.status?.code ?? 0,
          service,
          scope: ss.scope?.name ?? "",
        });
      }
    }
  }
  return out;
}

/**
 * OTLP/JSON ids are lower-case hex by the spec; some exporters send base64 (protobuf JSON's
 * default for bytes). Both end up as lower-case hex, the form `traceparent` uses.
 */
function normalizeId(id: string): string {
  if (id === "" || /^[0-9a-f]+$/i.test(id)) return id.toLowerCase();
  const bytes = Uint8Array.from(atob(id), (c) => c.charCodeAt(0));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function decodeAttributes(list: KeyValue[] | undefined): Attributes {
  const out: Attributes = {};
  for (const { key, value } of list ?? []) out[key] = decodeValue(value);
  return out;
}

function decodeValue(value: AnyValue): string | number | boolean | unknown[] {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(decodeValue);
  return "";
}
