import type {
  ExchangeTimeouts,
  OutboundRequest,
  TargetAddress,
} from "../../../src/upstream/client.ts";

/** The address of a test server on 127.0.0.1. */
export function targetFor(port: number): TargetAddress {
  return { origin: `http://127.0.0.1:${port}`, protocol: "http:", hostname: "127.0.0.1", port };
}

/** Generous limits: tests that are about timeouts pass their own. */
export const relaxed: ExchangeTimeouts = { connectMs: 5_000, totalMs: 10_000, idleMs: 10_000 };

/** A request with defaults: GET, no body, a Host header for the test server. */
export function request(port: number, over: Partial<OutboundRequest> = {}): OutboundRequest {
  return {
    method: "GET",
    path: "/",
    headers: ["host", `127.0.0.1:${port}`],
    body: null,
    bodyLength: -1,
    ...over,
  };
}

/** A port nothing listens on: bound, then released. */
export function unusedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Reads a response body of any shape to bytes. */
export async function bodyBytes(
  body: ReadableStream<Uint8Array> | Uint8Array | null,
): Promise<Uint8Array> {
  if (body === null) return new Uint8Array(0);
  if (body instanceof Uint8Array) return body;
  return new Uint8Array(await new Response(body).arrayBuffer());
}

export function bodyText(body: ReadableStream<Uint8Array> | Uint8Array | null): Promise<string> {
  return bodyBytes(body).then((b) => new TextDecoder().decode(b));
}

/** The value of the first header `name` in a flat header list, or `undefined`. */
export function header(headers: string[], name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1];
  return undefined;
}

/** Bytes whose value depends on their position, so reordering or loss shows. */
export function pattern(length: number, seed = 0): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed + (i >> 13)) & 0xff;
  return out;
}

/** A stream that yields `chunks` one by one, each only when asked for. */
export function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]);
      else controller.close();
    },
  });
}
