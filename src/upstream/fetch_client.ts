import {
  type ExchangeTimeouts,
  type InboundResponse,
  type OutboundRequest,
  type TargetAddress,
  type UpstreamClient,
  UpstreamError,
} from "./client.ts";
import { Deadline, type DeadlineOwner, DeadlineQueue } from "./http1/deadlines.ts";

/**
 * The fallback upstream client on `fetch`: TLS and HTTP/2 upstreams, and anything the raw
 * HTTP/1.1 client does not speak. Slower per request, same contract, same conformance test.
 *
 * What `fetch` does on its own, and how this client keeps the contract anyway:
 * - It drops a caller's `host` unless the HTTP client allows it: ours does (`allowHost`).
 * - It follows redirects: `redirect: "manual"` returns a 3xx as is.
 * - It decodes `gzip` and `br` bodies whenever the request's accept-encoding is anything but
 *   exactly `identity`, yet keeps `content-encoding` and `content-length`. So when the caller
 *   sends no accept-encoding we send `identity` (what the caller gets is then byte-exact), and
 *   when fetch did decode we drop those two headers, since they describe bytes the caller never
 *   sees. The caller then receives a decoded body, which is still a correct response.
 * - It hides trailers, sends a stream body chunked even when its length is known, cannot send
 *   a body with GET or HEAD, reports headers in its own order rather than the wire's, and gives
 *   no view of the connect phase: `connectMs` is not enforced apart from `totalMs`.
 * - It adds `accept` (any media type), `accept-language: *` and `user-agent: Deno/<version>`
 *   when the request has none of its own.
 * - It takes a URL, not a request target: `origin + path` goes through WHATWG URL parsing,
 *   which cannot be turned off. So the target is not sent byte for byte: in the path `"`, `<`,
 *   `>`, `` ` ``, `{`, `}` are percent-encoded, `\` becomes `/` and dot segments are resolved;
 *   in the query `"`, `'`, `<`, `>` are percent-encoded. Escapes already there are kept as they
 *   are. (Requests reach the client with their path normalised, so only the encodings show.)
 *   Worse, a path that does not start with "/" is read as part of the authority
 *   (`"@evil.test/"` after the origin sends the request, with the origin as Basic credentials,
 *   to another host), and a "#" cuts off the rest of the target, query included. Such a path is
 *   refused with `TypeError`, as the raw client refuses a path it cannot put on the wire.
 */

/** Methods `fetch` refuses to send. */
const FORBIDDEN_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);

export class FetchClient implements UpstreamClient {
  readonly #http: Deno.HttpClient;
  readonly #deadlines = new DeadlineQueue();
  #closed = false;
  /** Exchanges not yet finished, for {@link abortInFlight}. */
  readonly #inFlight = new Set<FetchExchange>();

  /** `caCerts`: PEM certificates to trust besides the default roots (tests use a private CA). */
  constructor(options: { caCerts?: string[] } = {}) {
    this.#http = Deno.createHttpClient({ allowHost: true, caCerts: options.caCerts });
  }

  async send(
    target: TargetAddress,
    request: OutboundRequest,
    timeouts: ExchangeTimeouts,
  ): Promise<InboundResponse> {
    const { method, body } = request;
    if (FORBIDDEN_METHODS.has(method)) throw new TypeError(`fetch cannot send ${method}`);
    checkPath(request.path);
    const hasBody = body !== null && !(body instanceof Uint8Array && body.length === 0);
    if (hasBody && (method === "GET" || method === "HEAD")) {
      throw new TypeError(`fetch cannot send a body with ${method}`);
    }
    const headers = new Headers();
    let acceptEncoding: string | null = null;
    const list = request.headers;
    for (let i = 0; i < list.length; i += 2) {
      const name = list[i];
      if (name === "content-length" || name === "transfer-encoding") continue;
      if (name === "accept-encoding") acceptEncoding = list[i + 1];
      headers.append(name, list[i + 1]);
    }
    if (acceptEncoding === null) headers.set("accept-encoding", "identity");
    const mayDecode = acceptEncoding === null
      ? false
      : acceptEncoding.trim().toLowerCase() !== "identity";

    const exchange = new FetchExchange(
      this.#deadlines,
      target.origin,
      timeouts,
      request.signal,
      this.#inFlight,
    );
    let response: Response;
    try {
      response = await fetch(target.origin + request.path, {
        method,
        headers,
        body: hasBody ? (body as BodyInit) : null,
        redirect: "manual",
        client: this.#http,
        signal: exchange.signal,
      });
    } catch (e) {
      throw exchange.failed(e);
    } finally {
      exchange.headReceived();
    }

    const out: string[] = [];
    const decoded = mayDecode && isDecodedByFetch(response.headers.get("content-encoding"));
    // `forEach` walks Headers' own list; `for...of` builds an iterator and entries (slower).
    response.headers.forEach((value, name) => {
      if (decoded && (name === "content-encoding" || name === "content-length")) return;
      out.push(name, value);
    });
    const noBody = method === "HEAD" || response.status === 204 || response.status === 304;
    let responseBody: InboundResponse["body"] = null;
    if (response.body !== null) {
      if (noBody) {
        await response.body.cancel().catch(() => {});
      } else if (!decoded && isSmall(response.headers.get("content-length"))) {
        // A small body of known size is read whole: far cheaper than a wrapped stream, and the
        // contract prefers bytes for complete small bodies.
        responseBody = await exchange.readSmallBody(response);
      } else {
        responseBody = exchange.wrapBody(response.body);
      }
    }
    if (!(responseBody instanceof ReadableStream)) exchange.finish();
    return {
      status: response.status,
      statusText: response.statusText,
      headers: out,
      body: responseBody,
    };
  }

  close(): void {
    // Deno's HttpClient throws when closed twice; a shutdown may reach here twice.
    if (this.#closed) return;
    this.#closed = true;
    this.#http.close();
  }

  abortInFlight(): void {
    for (const exchange of [...this.#inFlight]) exchange.abortForShutdown();
    this.close();
  }
}

/**
 * Throws `TypeError` for a path that would not reach `origin` as the target it names once
 * `fetch` parses `origin + path` as a URL: anything but an origin-form path (`@host/`, `.x/` or
 * `:1/` would change the authority; fetch cannot send `*`), a "#" (which would end the target
 * there), and what the raw client refuses too (spaces, controls, non-ASCII).
 */
function checkPath(path: string): void {
  if (path.charCodeAt(0) !== 47) {
    throw new TypeError(`request path must start with "/": ${JSON.stringify(path)}`);
  }
  for (let i = 1; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === 35) {
      throw new TypeError(`invalid request path ${JSON.stringify(path)}`);
    }
  }
}

/** Bodies up to this size with a content-length are read whole instead of streamed. */
const SMALL_BODY = 64 * 1024;

function isSmall(contentLength: string | null): boolean {
  if (contentLength === null) return false;
  const n = Number(contentLength);
  return Number.isInteger(n) && n >= 0 && n <= SMALL_BODY;
}

/** Deno's fetch decodes exactly these single codings (checked by the conformance test). */
function isDecodedByFetch(contentEncoding: string | null): boolean {
  if (contentEncoding === null) return false;
  const coding = contentEncoding.trim().toLowerCase();
  return coding === "gzip" || coding === "br";
}

/** Timers, abort wiring and error mapping for one fetch. */
class FetchExchange implements DeadlineOwner, EventListenerObject {
  readonly #controller = new AbortController();
  readonly #total = new Deadline(this);
  readonly #idle = new Deadline(this);
  #error: UpstreamError | null = null;
  #inHead = true;

  constructor(
    readonly deadlines: DeadlineQueue,
    readonly origin: string,
    readonly timeouts: ExchangeTimeouts,
    readonly callerSignal: AbortSignal | undefined,
    readonly inFlight: Set<FetchExchange>,
  ) {
    inFlight.add(this);
    if (callerSignal !== undefined) {
      if (callerSignal.aborted) this.#fail(aborted());
      else callerSignal.addEventListener("abort", this);
    }
    deadlines.start(this.#total, timeouts.totalMs);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  handleEvent(): void {
    this.#fail(aborted());
  }

  onDeadline(deadline: Deadline): void {
    this.#fail(
      deadline === this.#total
        ? new UpstreamError(
          "timeout",
          `no response head from ${this.origin} within ${this.timeouts.totalMs} ms`,
        )
        : new UpstreamError(
          "timeout",
          `response body from ${this.origin} stalled for ${this.timeouts.idleMs} ms`,
        ),
    );
  }

  /** Ends the exchange because the client is shutting down (see `abortInFlight`). */
  abortForShutdown(): void {
    this.#fail(new UpstreamError("reset", `the gateway shut down before ${this.origin} answered`));
  }

  headReceived(): void {
    this.#inHead = false;
    this.deadlines.stop(this.#total);
  }

  /** Maps a fetch rejection to the error to report and ends the exchange. */
  failed(e: unknown): Error {
    const error = this.#error ?? mapFetchError(e, this.origin, this.#inHead);
    this.finish();
    return error;
  }

  finish(): void {
    this.inFlight.delete(this);
    this.callerSignal?.removeEventListener("abort", this);
    this.deadlines.stop(this.#total);
    this.deadlines.stop(this.#idle);
  }

  /** Reads a small body whole, with the idle timeout over the whole read. */
  async readSmallBody(response: Response): Promise<Uint8Array<ArrayBuffer>> {
    this.deadlines.start(this.#idle, this.timeouts.idleMs);
    try {
      return await response.bytes();
    } catch (e) {
      throw this.failed(e);
    } finally {
      this.deadlines.stop(this.#idle);
    }
  }

  /** The response body with the idle timeout applied and errors mapped to `UpstreamError`. */
  wrapBody(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
    const reader = body.getReader();
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        this.deadlines.start(this.#idle, this.timeouts.idleMs);
        try {
          const { done, value } = await reader.read();
          this.deadlines.stop(this.#idle);
          if (done) {
            this.finish();
            controller.close();
          } else {
            controller.enqueue(value);
          }
        } catch (e) {
          const error = this.failed(e);
          controller.error(error);
        }
      },
      cancel: (reason) => {
        this.finish();
        return reader.cancel(reason).catch(() => {});
      },
    });
  }

  #fail(error: UpstreamError): void {
    if (this.#error !== null) return;
    this.#error = error;
    this.#controller.abort(error);
  }
}

/**
 * Sorts a fetch failure into our error kinds. fetch reports everything as `TypeError("fetch
 * failed")`; the reason is in the message of its cause, which is what we match.
 */
function mapFetchError(e: unknown, origin: string, inHead: boolean): Error {
  if (e instanceof UpstreamError) return e;
  const detail = describe(e);
  const options = { cause: e };
  // hyper reports every failure before the request went out, TCP and TLS alike, as a `Connect`
  // client error. A failed TLS handshake (unknown issuer, wrong name, expired, not TLS at all)
  // is a connect failure too (nothing was sent; `retries.on: ["connect"]` may move on), and the
  // verifier's reason is what an operator needs, without fetch's "error sending request" wrap.
  const phase = detail.indexOf(CONNECT_PHASE);
  if (phase !== -1) {
    const reason = detail.slice(phase + CONNECT_PHASE.length);
    const what = CONNECT_FAILURE.test(reason) || !origin.startsWith("https:")
      ? `cannot connect to ${origin}`
      : `TLS handshake with ${origin} failed`;
    return new UpstreamError("connect", `${what}: ${reason}`, options);
  }
  if (CONNECT_FAILURE.test(detail)) {
    return new UpstreamError("connect", `cannot connect to ${origin}: ${detail}`, options);
  }
  if (PARSE_FAILURE.test(detail)) {
    return new UpstreamError("protocol", `malformed response from ${origin}: ${detail}`, options);
  }
  const where = inHead ? "before a complete response head" : "inside the response body";
  return new UpstreamError("reset", `connection to ${origin} failed ${where}: ${detail}`, options);
}

const CONNECT_PHASE = "client error (Connect): ";
const CONNECT_FAILURE =
  /connection refused|tcp connect error|dns error|failed to lookup address|no route to host|network is unreachable/i;
const PARSE_FAILURE = /invalid HTTP|parsed|parse error/i;

function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = e.cause instanceof Error ? e.cause.message : "";
  return (cause === "" ? e.message : cause).split("\n")[0];
}

function aborted(): UpstreamError {
  return new UpstreamError("aborted", "the request was aborted by the caller");
}
