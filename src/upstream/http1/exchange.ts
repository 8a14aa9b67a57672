import {
  type ExchangeTimeouts,
  type InboundResponse,
  type OutboundRequest,
  UpstreamError,
} from "../client.ts";
import { type BodyFraming, type BodyOwner, BodySource, copyRanges } from "./body_reader.ts";
import { ChunkedDecoder } from "./chunked_decoder.ts";
import { Connection } from "./connection.ts";
import { Deadline, type DeadlineOwner, type DeadlineQueue } from "./deadlines.ts";
import { decodeLatin1 } from "./latin1.ts";
import type { UpstreamOrigin } from "./origin.ts";
import {
  bodyFollowsHead,
  encodeRequestHead,
  RequestBodyError,
  type UploadWatch,
  writeChunkedBody,
  writeLengthBody,
} from "./request_writer.ts";
import {
  HeadScanner,
  MAX_HEAD_BYTES,
  parseResponseHead,
  type ResponseHead,
} from "./response_head.ts";

/**
 * One request/response exchange: connection, request, response head, body, and the connection's
 * fate afterwards (back to the pool, or closed).
 *
 * Failures from outside (abort signal, deadlines) go through `fail`, which records the error and
 * closes the connection. Whatever was awaiting on the socket then wakes with an I/O error and
 * reports the recorded error instead, so every await point needs only one check.
 */

/** Methods that are safe to send twice (RFC 9110 §9.2.2) when a pooled connection was stale. */
const RETRYABLE_METHODS = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]);
/** More interim (1xx) responses than this before the final one is a protocol error. */
const MAX_INTERIM = 16;
/**
 * Streamed body bytes kept while it goes out on a reused connection, so that a stale-connection
 * retry can send them again. An upstream that closed the connection idle says so within a round
 * trip of the head, long before this much of an upload left; past it, no retry.
 */
const REPLAY_MAX_BYTES = 64 * 1024;

const enum Writer {
  Idle,
  Running,
  Failed,
}

export class Exchange implements BodyOwner, DeadlineOwner, EventListenerObject, UploadWatch {
  error: UpstreamError | null = null;
  #conn: Connection | null = null;
  readonly #total: Deadline = new Deadline(this);
  #connectDeadline: Deadline | null = null;
  #idleDeadline: Deadline | null = null;
  /** While a streamed body goes out: fires when it made no progress for `idleMs`. */
  #uploadDeadline: Deadline | null = null;
  /** Whom a stalled upload waits on: the client for a chunk (true) or the upstream. */
  #uploadWaitsOnClient = false;
  /** The response head arrived: the total deadline has done its work. */
  #answered = false;
  #connecting: AbortController | null = null;
  /** The TLS connection whose handshake is running: `fail` closes it, which ends the handshake. */
  #handshaking: Deno.TlsConn | null = null;
  #writer = Writer.Idle;
  #reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  /** A streamed body's chunks as sent on a reused connection, for a stale-connection retry. */
  #tape: BodyTape | null = null;
  #source: BodySource | null = null;
  /** The response's framing lets the connection carry another exchange. */
  #reusable = false;
  /** Some byte of the response arrived (a stale pooled connection sends none). */
  #gotBytes = false;
  #done = false;
  #interim = 0;

  constructor(
    readonly origin: UpstreamOrigin,
    readonly deadlines: DeadlineQueue,
    readonly request: OutboundRequest,
    readonly timeouts: ExchangeTimeouts,
  ) {}

  /**
   * Runs the exchange up to the response head. One async function on purpose: every nested
   * async layer costs a promise and a microtask hop per request on the hot path.
   */
  async run(): Promise<InboundResponse> {
    const signal = this.request.signal;
    if (signal !== undefined) {
      if (signal.aborted) throw aborted();
      signal.addEventListener("abort", this);
    }
    this.deadlines.start(this.#total, this.timeouts.totalMs);
    let conn = this.origin.pool.take() ?? null;
    try {
      for (let attempt = 0;; attempt++) {
        if (conn === null) conn = await this.#connect();
        this.#conn = conn;
        this.#gotBytes = false;
        this.#writer = Writer.Idle;
        try {
          const length = this.#encodeHead(conn);
          const request = conn.wbuf.subarray(0, length);
          let written: number;
          try {
            written = await conn.conn.write(request);
          } catch {
            // The upstream may have answered and reset the connection before taking the whole
            // request (an oversized head, say): its answer is still readable, so read on. A
            // connection that simply died reads as a reset too, which keeps the stale retry.
            if (this.error !== null) throw this.error;
            written = -1;
          }
          if (this.error !== null) throw this.error;
          // The rest of the request goes out while we wait for the response: an upstream may
          // answer (and stop reading) before it has all of it (RFC 9112 §9.5), and a streaming
          // echo answers as the body arrives. A head larger than the socket takes at once is
          // such a rest too.
          if (written < 0) this.#writer = Writer.Failed;
          else if (written < length) this.#startWriter(conn, request.subarray(written));
          else if (bodyFollowsHead(this.request)) this.#startWriter(conn, null);

          const scanner = new HeadScanner();
          let head: ResponseHead | null;
          while ((head = this.#takeHead(conn, scanner)) === null) {
            let n: number | null;
            try {
              n = await conn.read();
            } catch (e) {
              throw this.error ?? reset(`reading the response failed: ${message(e)}`, e);
            }
            if (this.error !== null) throw this.error;
            if (n === null) {
              throw reset(
                this.#gotBytes
                  ? "upstream closed the connection inside the response head"
                  : "upstream closed the connection without responding",
              );
            }
            conn.end += n;
            this.#gotBytes = true;
          }
          this.#answered = true;
          this.#tape?.release();
          return this.#respond(conn, head);
        } catch (e) {
          if (attempt > 0 || !this.#mayRetry(conn, e)) throw e;
          // The pooled connection was closed upstream before it saw our request: once more on
          // a fresh one.
          conn.close();
          this.#conn = null;
          conn = null;
        }
      }
    } catch (e) {
      throw this.#failed(e);
    } finally {
      this.deadlines.stop(this.#total);
    }
  }

  /** Ends the exchange from outside (abort, deadline) with `error`. */
  fail(error: UpstreamError): void {
    if (this.error !== null || this.#done) return;
    this.error = error;
    this.#connecting?.abort(error);
    if (this.#handshaking !== null) closeQuietly(this.#handshaking);
    this.#conn?.close();
    this.#cancelRequestBody(error);
    if (this.#source !== null) {
      // Past the head: `run` has returned, so the body stream is the one to tell.
      this.#source.abort(error);
      this.#done = true;
      this.#conn = null;
      this.#detach();
    }
  }

  /** The caller's abort signal fired. */
  handleEvent(): void {
    this.fail(aborted());
  }

  onDeadline(deadline: Deadline): void {
    const { origin, timeouts } = this;
    if (deadline === this.#total) {
      this.fail(
        new UpstreamError(
          "timeout",
          `no response head from ${origin.address.origin} within ${timeouts.totalMs} ms`,
        ),
      );
    } else if (deadline === this.#uploadDeadline) {
      this.fail(
        this.#uploadWaitsOnClient
          ? new UpstreamError(
            "request_timeout",
            `the client sent no request body for ${timeouts.idleMs} ms`,
          )
          : new UpstreamError(
            "timeout",
            `${origin.address.origin} took no request body for ${timeouts.idleMs} ms`,
          ),
      );
    } else if (deadline === this.#connectDeadline) {
      this.fail(
        new UpstreamError(
          "connect_timeout",
          `connecting to ${origin.address.origin} took longer than ${timeouts.connectMs} ms`,
        ),
      );
    } else {
      this.fail(
        new UpstreamError(
          "timeout",
          `response body from ${origin.address.origin} stalled for ${timeouts.idleMs} ms`,
        ),
      );
    }
  }

  readStarted(): void {
    this.deadlines.start(this.#idleDeadline ??= new Deadline(this), this.timeouts.idleMs);
  }

  readEnded(): void {
    if (this.#idleDeadline !== null) this.deadlines.stop(this.#idleDeadline);
    if (this.#uploadDeadline !== null) this.deadlines.stop(this.#uploadDeadline);
  }

  bodyComplete(conn: Connection): void {
    this.#finish(conn);
  }

  bodyAbandoned(conn: Connection): void {
    this.#done = true;
    this.#conn = null;
    this.#detach();
    conn.close();
    this.#cancelRequestBody(new Error("response body abandoned"));
  }

  async #connect(): Promise<Connection> {
    const { hostname, port, origin, protocol } = this.origin.address;
    const controller = new AbortController();
    this.#connecting = controller;
    const deadline = this.#connectDeadline ??= new Deadline(this);
    this.deadlines.start(deadline, this.timeouts.connectMs);
    let conn: Deno.TcpConn | Deno.TlsConn;
    try {
      let tcp: Deno.TcpConn;
      try {
        tcp = await Deno.connect({ hostname, port, signal: controller.signal });
      } catch (e) {
        throw this.error ??
          new UpstreamError("connect", `cannot connect to ${origin}: ${message(e)}`, { cause: e });
      }
      if (this.error !== null) {
        tcp.close();
        throw this.error;
      }
      tcp.setNoDelay(true);
      conn = protocol === "https:" ? await this.#handshake(tcp) : tcp;
    } finally {
      this.#connecting = null;
      this.deadlines.stop(deadline);
    }
    return new Connection(conn, this.origin.open);
  }

  /**
   * TLS over `tcp`, its handshake still under the connect deadline (which ends a hung one by
   * closing the socket). A failed handshake (unknown issuer, another name, a plain-HTTP port) is
   * a `connect` failure, as Envoy counts it: nothing of the request went out.
   */
  async #handshake(tcp: Deno.TcpConn): Promise<Deno.TlsConn> {
    const { address: { hostname, origin }, tls: settings } = this.origin;
    let tls: Deno.TlsConn | null = null;
    try {
      tls = await Deno.startTls(tcp, {
        hostname: settings?.serverName ?? hostname,
        caCerts: settings?.caCerts,
        alpnProtocols: ["http/1.1"],
      });
      this.#handshaking = tls;
      if (this.error === null) await tls.handshake();
    } catch (e) {
      closeQuietly(tls ?? tcp);
      throw this.error ??
        new UpstreamError("connect", `TLS handshake with ${origin} failed: ${message(e)}`, {
          cause: e,
        });
    } finally {
      this.#handshaking = null;
    }
    if (this.error !== null) {
      closeQuietly(tls);
      throw this.error;
    }
    return tls;
  }

  /** Serialises the request into the connection's write buffer; returns its length. */
  #encodeHead(conn: Connection): number {
    try {
      return encodeRequestHead(conn, this.origin.hostHeader, this.request);
    } catch (e) {
      // Nothing was sent, so the connection is as good as before.
      this.#conn = null;
      this.origin.pool.put(conn);
      throw e;
    }
  }

  /**
   * Takes the final response head from the buffered bytes, skipping interim (1xx) responses, or
   * returns `null` when more bytes are needed.
   */
  #takeHead(conn: Connection, scanner: HeadScanner): ResponseHead | null {
    for (;;) {
      const length = scanner.scan(conn.buf, conn.start, conn.end);
      if (length < 0) {
        if (conn.end - conn.start > MAX_HEAD_BYTES) throw headTooLarge();
        return null;
      }
      if (length > MAX_HEAD_BYTES) throw headTooLarge();
      const text = decodeLatin1(conn.buf, conn.start, conn.start + length, scanner.ascii);
      const head = parseResponseHead(text, this.request.method === "HEAD");
      conn.start += length;
      if (head.status >= 200) return head;
      // 100 Continue, 102 Processing, 103 Early Hints: informational; the answer follows.
      if (head.status === 101) throw protocol("unexpected 101 Switching Protocols");
      if (++this.#interim > MAX_INTERIM) {
        throw protocol(`upstream sent more than ${MAX_INTERIM} interim (1xx) responses`);
      }
      scanner.reset();
    }
  }

  #respond(conn: Connection, head: ResponseHead): InboundResponse {
    this.deadlines.stop(this.#total);
    this.#reusable = !head.close;
    const status = head.status;
    let body: InboundResponse["body"] = null;
    if (this.request.method === "HEAD" || status === 204 || status === 304) {
      this.#finish(conn);
    } else if (head.chunked) {
      const decoder = new ChunkedDecoder();
      const ranges: number[] = [];
      conn.start = decoder.decode(conn.buf, conn.start, conn.end, ranges);
      const data = copyRanges(conn.buf, ranges);
      if (decoder.done) {
        body = data;
        this.#finish(conn);
      } else {
        body = this.#stream(conn, { kind: "chunked", decoder }, data);
      }
    } else if (head.contentLength >= 0) {
      const length = head.contentLength;
      const available = conn.end - conn.start;
      if (available >= length) {
        // The whole body is here: hand out a copy and free the connection right away.
        body = conn.buf.slice(conn.start, conn.start + length);
        conn.start += length;
        this.#finish(conn);
      } else {
        const data = conn.buf.slice(conn.start, conn.end);
        conn.start = conn.end;
        body = this.#stream(conn, { kind: "length", remaining: length - available }, data);
      }
    } else {
      // No framing: the body runs until the upstream closes (RFC 9112 §6.3 rule 8).
      this.#reusable = false;
      const data = conn.buf.slice(conn.start, conn.end);
      conn.start = conn.end;
      body = this.#stream(conn, { kind: "close" }, data);
    }
    return { status, statusText: head.statusText, headers: head.headers, body };
  }

  #stream(
    conn: Connection,
    framing: BodyFraming,
    initial: Uint8Array,
  ): ReadableStream<Uint8Array> {
    const source = new BodySource(this, conn, framing, initial.length > 0 ? initial : null);
    this.#source = source;
    return new ReadableStream(source);
  }

  /** The response is complete: keep the connection when everything about it is clean. */
  #finish(conn: Connection): void {
    this.#done = true;
    this.#conn = null;
    this.#detach();
    // Leftover bytes mean the upstream sent more than it framed: never trust that connection.
    if (this.#reusable && conn.start === conn.end && this.#writer === Writer.Idle) {
      this.origin.pool.put(conn);
    } else {
      conn.close();
      if (this.#writer === Writer.Running) {
        this.#cancelRequestBody(new Error("upstream answered before the request body was sent"));
      }
    }
  }

  /**
   * Writes what is left of the request in the background: `rest` of the head when the socket
   * took only part of it, then the body when it did not travel inline with the head.
   */
  #startWriter(conn: Connection, rest: Uint8Array | null): void {
    const body = this.request.body;
    this.#writer = Writer.Running;
    let reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
    if (body !== null && !(body instanceof Uint8Array)) {
      // Only a reused connection can turn out stale, and only a retryable method is sent
      // again, so only such an upload is kept for a retry; others read the stream directly.
      if (this.#tape !== null) reader = this.#tape.reader();
      else if (conn.reused && RETRYABLE_METHODS.has(this.request.method)) {
        reader = (this.#tape = new BodyTape(body.getReader())).reader();
      } else reader = body.getReader();
      this.#reader = reader;
      // The total timeout bounds the wait for the answer, not the upload: a large body on a
      // slow link took longer than it and failed with 504 while the upstream was still
      // receiving it. While it streams, a stall of `idleMs` ends it instead (blamed on the
      // side it waits on); the total timeout starts again once it is sent, as Envoy's does.
      this.deadlines.stop(this.#total);
      this.#uploadDeadline ??= new Deadline(this);
    }
    // Only a head the socket took in part pays for the extra step.
    const sent = rest === null
      ? this.#sendBody(conn, reader)
      : conn.write(rest).then(() => this.#sendBody(conn, reader));
    sent.then(
      () => {
        if (conn !== this.#conn) return;
        this.#writer = Writer.Idle;
        this.#reader = null;
        if (reader === null) return;
        this.deadlines.stop(this.#uploadDeadline!);
        if (!this.#answered) this.deadlines.start(this.#total, this.timeouts.totalMs);
      },
      (e) => {
        if (conn !== this.#conn) return; // An earlier attempt, or the exchange is over.
        this.#writer = Writer.Failed;
        if (this.#uploadDeadline !== null) this.deadlines.stop(this.#uploadDeadline);
        if (e instanceof RequestBodyError) {
          this.fail(new UpstreamError("aborted", e.message, { cause: e }));
        }
        // A failed socket write means the upstream closed or reset the connection. The read
        // side reports that, or the response the upstream sent before closing.
      },
    );
  }

  /** Writes the body that did not travel with the head, if any. */
  #sendBody(
    conn: Connection,
    reader: ReadableStreamDefaultReader<Uint8Array> | null,
  ): Promise<void> {
    if (reader !== null) {
      const length = this.request.bodyLength;
      return length >= 0
        ? writeLengthBody(conn, reader, length, this)
        : writeChunkedBody(conn, reader, this);
    }
    const body = this.request.body;
    return body instanceof Uint8Array && bodyFollowsHead(this.request)
      ? conn.write(body)
      : Promise.resolve();
  }

  awaitingClient(): void {
    this.#uploadWaitsOnClient = true;
    this.deadlines.start(this.#uploadDeadline!, this.timeouts.idleMs);
  }

  awaitingUpstream(): void {
    this.#uploadWaitsOnClient = false;
    this.deadlines.start(this.#uploadDeadline!, this.timeouts.idleMs);
  }

  #mayRetry(conn: Connection, e: unknown): boolean {
    const body = this.request.body;
    return this.error === null && conn.reused && !this.#gotBytes &&
      e instanceof UpstreamError && e.kind === "reset" &&
      RETRYABLE_METHODS.has(this.request.method) &&
      (body === null || body instanceof Uint8Array || (this.#tape?.replayable ?? true));
  }

  /** Cleans up after `run` failed and returns the error to report. */
  #failed(e: unknown): Error {
    const error = this.error ??
      (e instanceof UpstreamError || e instanceof TypeError
        ? e
        : reset(`exchange failed: ${message(e)}`, e));
    this.#done = true;
    this.#conn?.close();
    this.#conn = null;
    this.#cancelRequestBody(error);
    this.#detach();
    return error;
  }

  #cancelRequestBody(reason: unknown): void {
    const reader = this.#reader;
    if (reader === null) return;
    this.#reader = null;
    reader.cancel(reason).catch(() => {});
  }

  /** Stops every timer and listener of this exchange. */
  #detach(): void {
    this.request.signal?.removeEventListener("abort", this);
    this.deadlines.stop(this.#total);
    if (this.#connectDeadline !== null) this.deadlines.stop(this.#connectDeadline);
    if (this.#idleDeadline !== null) this.deadlines.stop(this.#idleDeadline);
  }
}

/**
 * A streamed request body shared by the attempts of one exchange. The first attempt's reader
 * keeps each chunk it reads (up to `REPLAY_MAX_BYTES`), so a retry's reader can send them again
 * before reading on. Each new reader retires the one before: a retired reader reads nothing more
 * from the body and cannot cancel it.
 */
class BodyTape {
  /** Chunks read so far, while they may have to be sent again; `null` once they cannot be. */
  #kept: Uint8Array[] | null = [];
  #keptBytes = 0;
  /** The body reported its end. */
  #ended = false;
  #generation = 0;
  /** A read of the body in progress, awaited by a newer reader before it reads on. */
  #reading: Promise<unknown> | null = null;

  constructor(readonly body: ReadableStreamDefaultReader<Uint8Array>) {}

  /** Everything read so far can be sent again. */
  get replayable(): boolean {
    return this.#kept !== null;
  }

  /** The upstream answered: no retry can follow, so nothing needs keeping. */
  release(): void {
    this.#kept = null;
  }

  /** A reader for the next attempt: the chunks kept so far, then the rest of the body. */
  reader(): ReadableStreamDefaultReader<Uint8Array> {
    const generation = ++this.#generation;
    let next = 0;
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        // A retired reader's read still in flight: its chunk gets kept, so wait and replay it.
        while (this.#reading !== null) await this.#reading;
        if (generation !== this.#generation) return controller.error(new Error("retried"));
        const kept = this.#kept;
        if (kept !== null && next < kept.length) return controller.enqueue(kept[next++]);
        // Replayed all: only the first attempt's reads are kept for a retry.
        if (generation > 1) this.#kept = null;
        if (this.#ended) return controller.close();
        const chunk = await this.#read(generation);
        if (chunk === null) return controller.close();
        if (generation === 1 && this.#kept !== null) next++;
        if (generation === this.#generation) controller.enqueue(chunk);
      },
      // Only the exchange cancels (a retired writer never does): it ends the body for good.
      cancel: (reason) => this.body.cancel(reason),
    }, { highWaterMark: 0 }).getReader();
  }

  /** Reads the next chunk from the body (`null` at its end), keeping it for the first attempt. */
  async #read(generation: number): Promise<Uint8Array | null> {
    const reading = this.body.read();
    this.#reading = reading;
    let result: ReadableStreamReadResult<Uint8Array>;
    try {
      result = await reading;
    } finally {
      this.#reading = null;
    }
    if (result.done) {
      this.#ended = true;
      this.body.releaseLock();
      return null;
    }
    const kept = this.#kept;
    if (generation === 1 && kept !== null) {
      if (this.#keptBytes + result.value.length > REPLAY_MAX_BYTES) this.#kept = null;
      else {
        kept.push(result.value);
        this.#keptBytes += result.value.length;
      }
    }
    return result.value;
  }
}

function aborted(): UpstreamError {
  return new UpstreamError("aborted", "the request was aborted by the caller");
}

function reset(text: string, cause?: unknown): UpstreamError {
  return new UpstreamError("reset", text, cause === undefined ? undefined : { cause });
}

function protocol(text: string): UpstreamError {
  return new UpstreamError("protocol", text);
}

function headTooLarge(): UpstreamError {
  return protocol(`response head larger than ${MAX_HEAD_BYTES} bytes`);
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Closes a socket that may already be closed (or consumed by `Deno.startTls`). */
function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}
