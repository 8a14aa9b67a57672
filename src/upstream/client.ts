/**
 * The interface of an upstream HTTP client: Ferry's own pooled HTTP/1.1 client (`http1/`), over
 * TCP or TLS, is the one implementation; a new one (HTTP/2, say) runs the shared conformance test
 * in `tests/upstream/client_conformance_test.ts`.
 */

/** Where to send: an origin that a pool can key connections on. */
export interface TargetAddress {
  /** `http://127.0.0.1:3000` (scheme, host, port; no path). */
  origin: string;
  protocol: "http:" | "https:";
  hostname: string;
  port: number;
}

/** The address a client connects to for `url` (an `http:` or `https:` URL). */
export function addressOf(url: URL): TargetAddress {
  const protocol = url.protocol === "https:" ? "https:" : "http:";
  return {
    origin: url.origin,
    protocol,
    hostname: url.hostname.replace(/^\[|\]$/g, ""),
    port: url.port ? Number(url.port) : protocol === "https:" ? 443 : 80,
  };
}

/** A request ready for the wire: hop-by-hop headers already removed by the forwarder. */
export interface OutboundRequest {
  method: string;
  /** Origin-form target, path plus query: `/users/7?x=1`. */
  path: string;
  /** Flat `[name, value, name, value, ...]`, names lower-case, including `host`. */
  headers: string[];
  /** Streamed body, or `null` for none. */
  body: ReadableStream<Uint8Array> | Uint8Array | null;
  /** Body size when known (from Content-Length), else `-1` (sent chunked). */
  bodyLength: number;
  /** Aborts the exchange: connect, send, wait and body. */
  signal?: AbortSignal;
}

/** Per-exchange limits, already in milliseconds. */
export interface ExchangeTimeouts {
  connectMs: number;
  /** From dispatch until response headers. */
  totalMs: number;
  /** Longest silence while reading the response body. */
  idleMs: number;
}

/** A response as it came off the wire; the forwarder applies the hop-by-hop rules. */
export interface InboundResponse {
  status: number;
  statusText: string;
  /** Flat `[name, value, ...]`, names lower-case, in wire order, hop-by-hop headers included. */
  headers: string[];
  /**
   * The body: bytes when it was already complete in the first read (the common small case,
   * which saves a stream), a stream otherwise, `null` when the status or method has none.
   */
  body: ReadableStream<Uint8Array> | Uint8Array<ArrayBuffer> | null;
}

/** Why an exchange failed; the forwarder maps these to 502 and 504. */
export type UpstreamErrorKind =
  | "connect" // refused, unreachable, DNS
  | "connect_timeout"
  | "timeout" // no response headers within totalMs
  | "reset" // connection closed or reset before a complete response head
  | "protocol" // the upstream spoke malformed HTTP
  | "aborted" // the caller aborted (client went away)
  | "request_timeout"; // the client's request body stalled for idleMs: the client's fault

/** An exchange failure with the reason the gateway reports. */
export class UpstreamError extends Error {
  constructor(readonly kind: UpstreamErrorKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UpstreamError";
  }
}

/** Sends one request to one target and returns its response head with a streaming body. */
export interface UpstreamClient {
  send(
    target: TargetAddress,
    request: OutboundRequest,
    timeouts: ExchangeTimeouts,
  ): Promise<InboundResponse>;
  /** Closes every pooled connection; exchanges in flight finish. */
  close(): void;
  /**
   * Closes the client and ends every exchange still in flight at once, as if its upstream had
   * hung up (`reset`): for a gateway shutting down past its drain.
   */
  abortInFlight(): void;
}
