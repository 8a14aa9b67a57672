import { UpstreamError } from "../client.ts";
import type { ChunkedDecoder } from "./chunked_decoder.ts";
import type { Connection } from "./connection.ts";

/**
 * Response bodies that were not complete in the first read, as a pull-based `ReadableStream`.
 *
 * Nothing is buffered ahead of the consumer: each `pull` reads once from the socket and enqueues
 * what arrived, so server-sent events flow event by event and a slow client slows the upstream
 * (TCP backpressure) instead of filling memory. Where the framing says the next bytes are pure
 * body (Content-Length, or inside a chunk), they are read straight into a fresh buffer that is
 * handed to the consumer without a copy.
 */

/** Largest single read for body data. */
const MAX_READ = 64 * 1024;

/** The exchange a body belongs to: timers, error mapping and the connection's fate. */
export interface BodyOwner {
  /** The failure (abort, timeout) that ended the exchange, if any. */
  readonly error: UpstreamError | null;
  /** Arms the idle timeout around one socket read. */
  readStarted(): void;
  readEnded(): void;
  /** The body ended cleanly; the connection may be reused if the framing allows. */
  bodyComplete(conn: Connection): void;
  /** The body ended early (consumer cancelled, read failed); the connection must close. */
  bodyAbandoned(conn: Connection): void;
}

export type BodyFraming =
  | { kind: "length"; remaining: number }
  | { kind: "chunked"; decoder: ChunkedDecoder }
  | { kind: "close" };

export class BodySource implements UnderlyingDefaultSource<Uint8Array> {
  #controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  #finished = false;
  #received = 0;

  constructor(
    readonly owner: BodyOwner,
    readonly conn: Connection,
    readonly framing: BodyFraming,
    readonly initial: Uint8Array | null,
  ) {}

  start(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.#controller = controller;
    if (this.initial !== null && this.initial.length > 0) {
      this.#received += this.initial.length;
      controller.enqueue(this.initial);
    }
  }

  async pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    try {
      const framing = this.framing;
      if (framing.kind === "length") await this.#pullLength(controller, framing);
      else if (framing.kind === "chunked") await this.#pullChunked(controller, framing.decoder);
      else await this.#pullUntilClose(controller);
    } catch (e) {
      this.#fail(e);
    }
  }

  cancel(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.owner.bodyAbandoned(this.conn);
  }

  /** Ends the stream with `error` (abort, idle timeout) unless it already ended. */
  abort(error: UpstreamError): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#controller?.error(error);
  }

  async #pullLength(
    controller: ReadableStreamDefaultController<Uint8Array>,
    framing: { remaining: number },
  ): Promise<void> {
    const want = Math.min(framing.remaining, MAX_READ);
    const chunk = new Uint8Array(want);
    const n = await this.#read(chunk);
    if (this.#finished) return;
    if (n === null) {
      throw reset(
        `upstream closed the connection after ${this.#received} body bytes, ` +
          `${framing.remaining} short of its content-length`,
      );
    }
    framing.remaining -= n;
    this.#enqueue(controller, chunk, n);
    if (framing.remaining === 0) this.#complete(controller);
  }

  async #pullChunked(
    controller: ReadableStreamDefaultController<Uint8Array>,
    decoder: ChunkedDecoder,
  ): Promise<void> {
    const conn = this.conn;
    for (;;) {
      if (conn.start < conn.end) {
        const ranges: number[] = [];
        conn.start = decoder.decode(conn.buf, conn.start, conn.end, ranges);
        const data = copyRanges(conn.buf, ranges);
        if (data.length > 0) {
          this.#received += data.length;
          controller.enqueue(data);
        }
        if (decoder.done) return this.#complete(controller);
        if (data.length > 0) return;
      }
      // The buffer is drained: start over at its beginning so it never needs compacting.
      conn.start = conn.end = 0;
      if (decoder.inData) {
        const want = Math.min(decoder.remaining, MAX_READ);
        const chunk = new Uint8Array(want);
        const n = await this.#read(chunk);
        if (this.#finished) return;
        if (n === null) throw reset("upstream closed the connection inside a chunked body");
        decoder.consumeData(n);
        return this.#enqueue(controller, chunk, n);
      }
      const n = await this.#fill();
      if (this.#finished) return;
      if (n === null) throw reset("upstream closed the connection inside a chunked body");
    }
  }

  async #pullUntilClose(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    const chunk = new Uint8Array(MAX_READ);
    const n = await this.#read(chunk);
    if (this.#finished) return;
    if (n === null) return this.#complete(controller);
    this.#enqueue(controller, chunk, n);
  }

  /** Enqueues `chunk[0, n)`; a mostly empty buffer is copied so it does not pin 64 KiB. */
  #enqueue(controller: ReadableStreamDefaultController<Uint8Array>, chunk: Uint8Array, n: number) {
    this.#received += n;
    if (n === chunk.length) controller.enqueue(chunk);
    else if (n >= chunk.length >> 2) controller.enqueue(chunk.subarray(0, n));
    else controller.enqueue(chunk.slice(0, n));
  }

  async #read(into: Uint8Array): Promise<number | null> {
    this.owner.readStarted();
    try {
      return await this.conn.readInto(into);
    } catch (e) {
      throw this.owner.error ?? reset(`reading the response body failed: ${message(e)}`, e);
    } finally {
      this.owner.readEnded();
    }
  }

  async #fill(): Promise<number | null> {
    this.owner.readStarted();
    try {
      const n = await this.conn.read();
      if (n !== null) this.conn.end += n;
      return n;
    } catch (e) {
      throw this.owner.error ?? reset(`reading the response body failed: ${message(e)}`, e);
    } finally {
      this.owner.readEnded();
    }
  }

  #complete(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.#finished = true;
    this.owner.bodyComplete(this.conn);
    controller.close();
  }

  #fail(e: unknown): void {
    if (this.#finished) return;
    this.#finished = true;
    this.owner.bodyAbandoned(this.conn);
    const error = e instanceof UpstreamError ? e : reset(`response body failed: ${message(e)}`, e);
    this.#controller?.error(error);
  }
}

/** Copies the `[start, end)` ranges of `buf` into one new array. */
export function copyRanges(buf: Uint8Array, ranges: number[]): Uint8Array<ArrayBuffer> {
  if (ranges.length === 2) return buf.slice(ranges[0], ranges[1]);
  let total = 0;
  for (let i = 0; i < ranges.length; i += 2) total += ranges[i + 1] - ranges[i];
  const out = new Uint8Array(total);
  let p = 0;
  for (let i = 0; i < ranges.length; i += 2) {
    out.set(buf.subarray(ranges[i], ranges[i + 1]), p);
    p += ranges[i + 1] - ranges[i];
  }
  return out;
}

function reset(text: string, cause?: unknown): UpstreamError {
  return new UpstreamError("reset", text, cause === undefined ? undefined : { cause });
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
