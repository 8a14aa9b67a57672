/**
 * One TCP (or TLS) connection to an upstream, with a reusable read buffer and a reusable write buffer.
 *
 * The read buffer holds unread bytes in `buf[start, end)`. Response heads are scanned and parsed
 * in place, and small bodies are copied out of it, so a keep-alive request allocates no read
 * buffer at all. It grows only to hold a response head larger than itself.
 *
 * While pooled, a connection keeps one read pending ("idle read"). That read notices at once
 * when the upstream closes an idle connection, so the pool drops it instead of handing out a dead
 * socket, and it costs nothing extra: the next exchange on this connection simply awaits it as
 * its first read.
 */

/** Initial read buffer; large enough for typical heads plus a small body in one read. */
const READ_BUFFER_BYTES = 16 * 1024;
/** Initial write buffer; request heads and small bodies are serialised here. */
const WRITE_BUFFER_BYTES = 8 * 1024;

export class Connection {
  buf: Uint8Array = new Uint8Array(READ_BUFFER_BYTES);
  /** First unread byte in `buf`. */
  start = 0;
  /** One past the last received byte in `buf`. */
  end = 0;
  wbuf: Uint8Array = new Uint8Array(WRITE_BUFFER_BYTES);
  /** True once the connection came back from the pool: a failure may mean it went stale. */
  reused = false;
  closed = false;
  /** True while the connection sits in a pool. */
  idle = false;
  /** `Date.now()` when it last became idle (the pool's sweep reads it). */
  idleSince = 0;
  /** Called when the idle read completes while still idle: the upstream closed or misbehaved. */
  onIdleEnd: ((conn: Connection) => void) | null = null;
  #pendingRead: Promise<number | null> | null = null;
  /** Over TLS, where a peer's close without close_notify must read as end of stream. */
  readonly #tls: boolean;
  readonly #idleReadDone = () => {
    if (this.idle && this.onIdleEnd !== null) this.onIdleEnd(this);
  };

  /**
   * `open`, when given, is the set of its origin's open connections: the connection is in it
   * until it closes (see `Http1Client.abortInFlight`). Kept per connection, not per request.
   */
  constructor(readonly conn: Deno.Conn, readonly open?: Set<Connection>) {
    open?.add(this);
    this.#tls = "handshake" in conn;
  }

  /**
   * Reads more bytes after `end`, compacting or growing the buffer when it is full. Resolves to
   * the number of bytes read, which the caller adds to `end`, or `null` at end of stream. Not an
   * async function on purpose: the hot path should await the socket op itself, not a wrapper.
   */
  read(): Promise<number | null> {
    const pending = this.#pendingRead;
    if (pending !== null) {
      this.#pendingRead = null;
      return pending;
    }
    if (this.end === this.buf.length) this.#makeRoom();
    return this.readInto(this.buf.subarray(this.end));
  }

  /** Reads straight into `into` (a large body's own chunk), bypassing the buffer. */
  readInto(into: Uint8Array): Promise<number | null> {
    const reading = this.conn.read(into);
    return this.#tls ? reading.catch(endWithoutCloseNotify) : reading;
  }

  /** Writes `bytes` completely (a socket write may take only part of it). */
  async write(bytes: Uint8Array): Promise<void> {
    let done = await this.conn.write(bytes);
    while (done < bytes.length) done += await this.conn.write(bytes.subarray(done));
  }

  /** Makes sure `wbuf` holds at least `size` bytes and returns it. */
  writeBuffer(size: number): Uint8Array {
    if (this.wbuf.length < size) {
      let n = this.wbuf.length * 2;
      while (n < size) n *= 2;
      this.wbuf = new Uint8Array(n);
    }
    return this.wbuf;
  }

  /** Enters the pool: starts the idle read and lets the process exit despite it. */
  enterIdle(onIdleEnd: (conn: Connection) => void): void {
    this.idle = true;
    this.reused = true;
    this.idleSince = Date.now();
    this.onIdleEnd = onIdleEnd;
    this.conn.unref();
    // Back in the pool unused (the request was rejected before sending): its idle read is
    // still pending and still watched.
    if (this.#pendingRead !== null) return;
    this.start = this.end = 0;
    const pending = this.readInto(this.buf);
    this.#pendingRead = pending;
    pending.then(this.#idleReadDone, this.#idleReadDone);
  }

  /** Leaves the pool for an exchange; the idle read becomes the exchange's first read. */
  leaveIdle(): void {
    this.idle = false;
    this.onIdleEnd = null;
    this.conn.ref();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.idle = false;
    this.open?.delete(this);
    try {
      this.conn.close();
    } catch {
      // Already closed by the runtime; nothing left to release.
    }
    // A read still pending rejects as "interrupted"; nobody may be awaiting it any more.
    this.#pendingRead?.catch(() => {});
    this.#pendingRead = null;
  }

  #makeRoom(): void {
    if (this.start > 0) {
      this.buf.copyWithin(0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    } else {
      const bigger = new Uint8Array(this.buf.length * 2);
      bigger.set(this.buf.subarray(0, this.end));
      this.buf = bigger;
    }
  }
}

/**
 * A TLS peer that closes without close_notify ends the stream, as nginx and browsers read it:
 * many servers close that way after a close-delimited body. A body with a length or chunked
 * framing that ends early is still caught as cut by its own framing.
 */
function endWithoutCloseNotify(e: unknown): null {
  if (e instanceof Deno.errors.UnexpectedEof) return null;
  throw e;
}
