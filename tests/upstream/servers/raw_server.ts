/**
 * A TCP server that answers with hand-written bytes, for responses no well-behaved HTTP server
 * would send: broken framing, interim responses, stalls, early closes.
 */

/** One accepted connection, read request by request. */
export class RawConn {
  #buf = new Uint8Array(0);
  #closed = false;

  constructor(readonly conn: Deno.Conn) {}

  /** Reads one request head (through the empty line); `null` when the client closed first. */
  async readHead(): Promise<string | null> {
    for (;;) {
      const end = indexOfHeadEnd(this.#buf);
      if (end >= 0) {
        const head = fromLatin1(this.#buf.subarray(0, end));
        this.#buf = this.#buf.slice(end);
        return head;
      }
      if (!await this.#more()) return null;
    }
  }

  /** Reads exactly `n` body bytes. */
  async readBytes(n: number): Promise<Uint8Array> {
    while (this.#buf.length < n) {
      if (!await this.#more()) throw new Error(`client closed after ${this.#buf.length} of ${n}`);
    }
    const out = this.#buf.slice(0, n);
    this.#buf = this.#buf.slice(n);
    return out;
  }

  /** Reads until the text `marker` arrived; returns everything up to and including it. */
  async readUntil(marker: string): Promise<string> {
    for (;;) {
      const text = fromLatin1(this.#buf);
      const i = text.indexOf(marker);
      if (i >= 0) {
        this.#buf = this.#buf.slice(i + marker.length);
        return text.slice(0, i + marker.length);
      }
      if (!await this.#more()) throw new Error(`client closed before ${JSON.stringify(marker)}`);
    }
  }

  /** Resolves once the client closed its side (or reset it). */
  async waitForClose(): Promise<void> {
    while (await this.#more());
  }

  async write(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? latin1(data) : data;
    let done = 0;
    while (done < bytes.length) done += await this.conn.write(bytes.subarray(done));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch {
      // Already closed.
    }
  }

  async #more(): Promise<boolean> {
    const chunk = new Uint8Array(64 * 1024);
    let n: number | null;
    try {
      n = await this.conn.read(chunk);
    } catch {
      return false; // Reset by the client, or closed by us.
    }
    if (n === null) return false;
    const joined = new Uint8Array(this.#buf.length + n);
    joined.set(this.#buf);
    joined.set(chunk.subarray(0, n), this.#buf.length);
    this.#buf = joined;
    return true;
  }
}

export interface RawServer {
  port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Errors thrown by connection handlers. */
  readonly errors: unknown[];
  close(): Promise<void>;
}

/** Serves each connection with `handle`, which gets it and its 0-based index. */
export function startRawServer(
  handle: (conn: RawConn, index: number) => Promise<void>,
): RawServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<RawConn>();
  const handlers: Promise<void>[] = [];
  const errors: unknown[] = [];
  let accepted = 0;
  const loop = (async () => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch {
        return; // Listener closed.
      }
      const raw = new RawConn(conn);
      open.add(raw);
      const index = accepted++;
      handlers.push(
        handle(raw, index).catch((e) => {
          errors.push(e);
        }).finally(() => {
          open.delete(raw);
          raw.close();
        }),
      );
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    get accepted() {
      return accepted;
    },
    errors,
    async close() {
      listener.close();
      await loop;
      for (const raw of open) raw.close();
      await Promise.all(handlers);
    },
  };
}

/** Encodes a string whose chars are all < 256 one byte per char. */
export function latin1(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) throw new TypeError(`not Latin-1: ${JSON.stringify(text)}`);
    out[i] = c;
  }
  return out;
}

function indexOfHeadEnd(buf: Uint8Array): number {
  for (let i = 3; i < buf.length; i++) {
    if (buf[i] === 10 && buf[i - 1] === 13 && buf[i - 2] === 10 && buf[i - 3] === 13) return i + 1;
  }
  return -1;
}

/** Decodes bytes one char per byte (`TextDecoder("latin1")` is really windows-1252). */
export function fromLatin1(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += String.fromCharCode(bytes[i]);
  return out;
}
