/**
 * A real HTTP/1.1 upstream on 127.0.0.1 whose behaviour a test changes while traffic flows: it
 * answers, fails with a status, hangs, resets connections, slows down, dies (listener and every
 * connection closed at once, like a killed process) and comes back on the same port.
 *
 * It speaks just enough HTTP/1.1 for a gateway (Content-Length bodies, keep-alive) and is written
 * on raw TCP so that "kill" is abrupt: `Deno.serve`'s shutdown would drain gracefully instead.
 */

/** What to do with one request. */
export type Behavior =
  | { kind: "ok"; body?: string }
  | { kind: "status"; status: number }
  | { kind: "hang" }
  | { kind: "reset" }
  | { kind: "delay"; ms: number; status?: number };

/** One request as the upstream saw it. */
export interface SeenRequest {
  method: string;
  path: string;
  headers: Map<string, string>;
  body: Uint8Array;
  /** performance.now() when the request head and body had arrived. */
  at: number;
}

export class FlakyUpstream {
  /** Every request received, in order (health probes included). */
  readonly seen: SeenRequest[] = [];
  /** Decides each request's fate; tests replace it at any time. */
  behave: (req: SeenRequest) => Behavior = () => ({ kind: "ok" });
  #listener: Deno.Listener | undefined;
  readonly #conns = new Set<Deno.Conn>();
  /** Pending delays, with what a kill tells their waiters. */
  readonly #timers = new Map<ReturnType<typeof setTimeout>, () => void>();
  readonly #loops = new Set<Promise<void>>();

  private constructor(readonly port: number, readonly name: string) {}

  /** Starts on an ephemeral port. */
  static start(name: string): FlakyUpstream {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const up = new FlakyUpstream((listener.addr as Deno.NetAddr).port, name);
    up.#serve(listener);
    return up;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get alive(): boolean {
    return this.#listener !== undefined;
  }

  /** Requests for `path` so far (without the query). */
  count(path?: string): number {
    return path === undefined
      ? this.seen.length
      : this.seen.filter((r) => r.path.split("?")[0] === path).length;
  }

  /** Dies at once: the port refuses connections and every open connection is closed. */
  kill(): void {
    this.#listener?.close();
    this.#listener = undefined;
    for (const conn of this.#conns) closeQuietly(conn);
    this.#conns.clear();
    for (const [timer, cancelled] of this.#timers) {
      clearTimeout(timer);
      cancelled();
    }
    this.#timers.clear();
  }

  /** Comes back on the same port. */
  revive(): void {
    if (this.#listener) return;
    this.#serve(Deno.listen({ hostname: "127.0.0.1", port: this.port }));
  }

  /** Kills and waits for every connection loop to end. */
  async close(): Promise<void> {
    this.kill();
    await Promise.all([...this.#loops]);
  }

  #serve(listener: Deno.Listener): void {
    this.#listener = listener;
    this.#track((async () => {
      for (;;) {
        let conn: Deno.Conn;
        try {
          conn = await listener.accept();
        } catch {
          return;
        }
        this.#conns.add(conn);
        this.#track(
          this.#connection(conn).finally(() => {
            this.#conns.delete(conn);
            closeQuietly(conn);
          }),
        );
      }
    })());
  }

  #track(loop: Promise<void>): void {
    this.#loops.add(loop);
    loop.finally(() => this.#loops.delete(loop));
  }

  async #connection(conn: Deno.Conn): Promise<void> {
    const reader = new ByteReader(conn);
    for (;;) {
      const head = await reader.head();
      if (head === null) return;
      const [requestLine, ...lines] = head.split("\r\n");
      const [method, path] = requestLine.split(" ");
      const headers = new Map<string, string>();
      for (const line of lines) {
        const colon = line.indexOf(":");
        if (colon > 0) {
          headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
        }
      }
      const length = Number(headers.get("content-length") ?? 0);
      const body = await reader.exactly(length);
      if (body === null) return;
      const req = { method, path, headers, body, at: performance.now() };
      this.seen.push(req);
      const behavior = this.behave(req);
      if (behavior.kind === "reset") return;
      if (behavior.kind === "hang") {
        await reader.closed();
        return;
      }
      if (behavior.kind === "delay") {
        const finished = await this.#wait(behavior.ms);
        if (!finished) return;
      }
      const status = behavior.kind === "status"
        ? behavior.status
        : behavior.kind === "delay"
        ? behavior.status ?? 200
        : 200;
      const text = behavior.kind === "ok" && behavior.body !== undefined
        ? behavior.body
        : this.name;
      const payload = new TextEncoder().encode(text);
      const response = `HTTP/1.1 ${status} X\r\ncontent-type: text/plain\r\n` +
        `content-length: ${payload.length}\r\nx-upstream: ${this.name}\r\n\r\n`;
      try {
        await writeAll(conn, new TextEncoder().encode(response));
        await writeAll(conn, payload);
      } catch {
        return;
      }
    }
  }

  /** Waits `ms` unless killed first (then `false`). */
  #wait(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        resolve(true);
      }, ms);
      this.#timers.set(timer, () => resolve(false));
    });
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}

/** Buffered reads off a connection. */
class ByteReader {
  #buffer = new Uint8Array(0);
  constructor(private readonly conn: Deno.Conn) {}

  async #fill(): Promise<boolean> {
    const chunk = new Uint8Array(16 * 1024);
    let n: number | null;
    try {
      n = await this.conn.read(chunk);
    } catch {
      return false;
    }
    if (n === null) return false;
    const next = new Uint8Array(this.#buffer.length + n);
    next.set(this.#buffer);
    next.set(chunk.subarray(0, n), this.#buffer.length);
    this.#buffer = next;
    return true;
  }

  /** The next request head (without the blank line), or `null` at end of stream. */
  async head(): Promise<string | null> {
    for (;;) {
      const text = new TextDecoder("latin1").decode(this.#buffer);
      const end = text.indexOf("\r\n\r\n");
      if (end >= 0) {
        this.#buffer = this.#buffer.subarray(end + 4);
        return text.slice(0, end);
      }
      if (!await this.#fill()) return null;
    }
  }

  async exactly(n: number): Promise<Uint8Array | null> {
    while (this.#buffer.length < n) if (!await this.#fill()) return null;
    const out = this.#buffer.slice(0, n);
    this.#buffer = this.#buffer.subarray(n);
    return out;
  }

  /** Resolves when the peer closes (or the connection is closed locally). */
  async closed(): Promise<void> {
    while (await this.#fill()) { /* discard */ }
  }
}
