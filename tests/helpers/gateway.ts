/**
 * Test helpers: start a gateway on ephemeral ports from a plain config object, and start real
 * upstream servers. Every helper returns something with `close()`; tests close in `finally`.
 */
import { MemoryLogger } from "../../src/observe/logger.ts";
import { type GatewayHandle, startGateway } from "../../src/server/gateway.ts";

/** Starts a gateway on 127.0.0.1 with ephemeral proxy and admin ports and an in-memory log. */
export async function startTestGateway(
  config: Record<string, unknown>,
  options: { admin?: boolean; logger?: MemoryLogger; env?: Record<string, string> } = {},
): Promise<GatewayHandle & { logger: MemoryLogger }> {
  const logger = options.logger ?? new MemoryLogger();
  const env = options.env;
  const gw = await startGateway(config, {
    ...(env ? { env: (name: string) => env[name] } : {}),
    listen: { hostname: "127.0.0.1", port: 0 },
    admin: options.admin === false ? false : { hostname: "127.0.0.1", port: 0 },
    logger,
    demo: false,
  });
  return Object.assign(gw, { logger });
}

/** A running upstream server. */
export interface TestUpstream {
  readonly url: string;
  readonly port: number;
  /** Requests received, in order. */
  readonly received: { method: string; url: string; headers: Headers }[];
  close(): Promise<void>;
}

/** Starts a `Deno.serve` upstream on an ephemeral port with the given handler. */
export function startUpstream(
  handler: (
    req: Request,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
  ) => Response | Promise<Response>,
): TestUpstream {
  const received: TestUpstream["received"] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req, info) => {
    received.push({ method: req.method, url: req.url, headers: req.headers });
    return handler(req, info);
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    port: server.addr.port,
    received,
    close: () => server.shutdown(),
  };
}

/** An upstream that echoes the request it got as JSON (method, path, query, headers, body). */
export function startEchoUpstream(): TestUpstream {
  return startUpstream(async (req) => {
    const url = new URL(req.url);
    const body = req.body ? await req.text() : null;
    return Response.json({
      method: req.method,
      path: url.pathname,
      query: url.search,
      headers: Object.fromEntries(req.headers),
      body,
    });
  });
}

/** A minimal config forwarding everything to one upstream. */
export function catchAll(upstreamUrl: string, extra: Record<string, unknown> = {}) {
  return {
    upstreams: { api: { targets: [upstreamUrl] } },
    routes: [{ name: "all", upstream: "api" }],
    ...extra,
  };
}

/** A port nothing listens on (bound, then released). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/**
 * Sends raw bytes over TCP and returns everything the server wrote until it closed the
 * connection (or `maxBytes`). For requests `fetch` refuses to send.
 */
export async function rawRequest(port: number, bytes: string, maxBytes = 1 << 20): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(bytes));
    const chunks: Uint8Array[] = [];
    let total = 0;
    const buf = new Uint8Array(16384);
    while (total < maxBytes) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
      total += n;
    }
    return new TextDecoder().decode(
      chunks.reduce((a, c) => {
        const out = new Uint8Array(a.length + c.length);
        out.set(a);
        out.set(c, a.length);
        return out;
      }, new Uint8Array()),
    );
  } finally {
    try {
      conn.close();
    } catch {
      // already closed by the server
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers for the proxy integration tests (tests/proxy/).
// ---------------------------------------------------------------------------------------------

/** The gateway listener's port, for raw TCP clients. */
export function portOf(handle: { url: string }): number {
  return Number(new URL(handle.url).port);
}

/**
 * Rejects if `promise` has not settled within `ms`. A deadlock guard only: a proxy that buffers
 * a body the test is waiting on would otherwise hang the suite instead of failing it. The
 * timer is always cleared, so the sanitizers stay quiet.
 */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Encodes text one byte per char (HTTP heads are Latin-1 on the wire). */
export function latin1(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

function fromLatin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return s;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function headEnd(buf: Uint8Array): number {
  for (let i = 3; i < buf.length; i++) {
    if (buf[i - 3] === 13 && buf[i - 2] === 10 && buf[i - 1] === 13 && buf[i] === 10) return i + 1;
  }
  return -1;
}

/**
 * A buffered TCP connection for hand-written HTTP on either side: raw upstreams that send what
 * no well-behaved server would, and raw clients that send what `fetch` refuses to.
 */
export class RawSocket {
  #buf: Uint8Array = new Uint8Array(0);
  #closed = false;

  constructor(readonly conn: Deno.Conn) {}

  /** Reads through the next blank line; `null` when the peer closed first. */
  async readHead(): Promise<string | null> {
    for (;;) {
      const end = headEnd(this.#buf);
      if (end >= 0) {
        const head = fromLatin1(this.#buf.subarray(0, end));
        this.#buf = this.#buf.slice(end);
        return head;
      }
      if (!await this.#more()) return null;
    }
  }

  /** Reads exactly `n` bytes; throws when the peer closes before. */
  async readBytes(n: number): Promise<Uint8Array> {
    while (this.#buf.length < n) {
      if (!await this.#more()) throw new Error(`peer closed after ${this.#buf.length} of ${n}`);
    }
    const out = this.#buf.slice(0, n);
    this.#buf = this.#buf.slice(n);
    return out;
  }

  /** Reads up to and including the next CRLF. */
  async readLine(): Promise<string> {
    for (;;) {
      const i = this.#buf.indexOf(10);
      if (i >= 0) {
        const line = fromLatin1(this.#buf.subarray(0, i + 1));
        this.#buf = this.#buf.slice(i + 1);
        return line;
      }
      if (!await this.#more()) throw new Error("peer closed inside a line");
    }
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
      if (!await this.#more()) throw new Error(`peer closed before ${JSON.stringify(marker)}`);
    }
  }

  /** Resolves once the peer closed its side (or reset it). */
  async waitForClose(): Promise<void> {
    while (await this.#more());
  }

  /** Reads everything until the peer closes (or resets). */
  async readToEnd(): Promise<Uint8Array> {
    while (await this.#more());
    const out = this.#buf;
    this.#buf = new Uint8Array(0);
    return out;
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
    if (this.#closed) return false;
    const chunk = new Uint8Array(64 * 1024);
    let n: number | null;
    try {
      n = await this.conn.read(chunk);
    } catch {
      return false; // Reset by the peer, or closed by us.
    }
    if (n === null) return false;
    this.#buf = concat(this.#buf, chunk.subarray(0, n));
    return true;
  }
}

/** A TCP upstream that answers with hand-written bytes. */
export interface RawUpstream {
  readonly url: string;
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Every request head read through `RawSocket.readHead`, in order. */
  readonly heads: string[];
  /** Errors thrown by the connection handler (a test asserts this stays empty). */
  readonly errors: unknown[];
  close(): Promise<void>;
}

/**
 * Starts a raw TCP upstream on an ephemeral port. `handle` gets each connection; the socket is
 * closed when it returns.
 */
export function startRawUpstream(
  handle: (socket: RawSocket, index: number) => Promise<void>,
): RawUpstream {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const heads: string[] = [];
  const errors: unknown[] = [];
  const open = new Set<RawSocket>();
  const running: Promise<void>[] = [];
  let accepted = 0;
  const loop = (async () => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch {
        return; // The listener was closed.
      }
      const socket = new RawSocket(conn);
      const readHead = socket.readHead.bind(socket);
      socket.readHead = async () => {
        const head = await readHead();
        if (head !== null) heads.push(head);
        return head;
      };
      open.add(socket);
      running.push(
        handle(socket, accepted++).catch((e) => void errors.push(e)).finally(() => {
          open.delete(socket);
          socket.close();
        }),
      );
    }
  })();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get accepted() {
      return accepted;
    },
    heads,
    errors,
    async close() {
      listener.close();
      await loop;
      for (const socket of open) socket.close();
      await Promise.all(running);
    },
  };
}

/** One HTTP/1.1 response read off a raw connection. */
export interface RawResponse {
  status: number;
  /** Header lines in wire order, names lower-cased. */
  headers: [string, string][];
  /** The first value of `name`, or `null`. */
  header(name: string): string | null;
  /** Every value of `name`. */
  all(name: string): string[];
  /** The body as sent on the wire after removing chunked framing (content-codings kept). */
  body: Uint8Array;
  text(): string;
}

function parseHead(head: string): Omit<RawResponse, "body" | "text"> {
  const lines = head.split("\r\n").filter((l) => l.length > 0);
  const status = Number(lines[0].split(" ")[1]);
  const headers: [string, string][] = lines.slice(1).map((line) => {
    const colon = line.indexOf(":");
    return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
  });
  const all = (name: string) => headers.filter(([n]) => n === name).map(([, v]) => v);
  return { status, headers, all, header: (name) => all(name)[0] ?? null };
}

/**
 * Sends `request` over a fresh TCP connection and reads exactly one response, framed by its
 * Content-Length, chunked coding, or the connection closing. `head: true` for HEAD requests
 * (no body follows whatever the headers say). The connection is closed afterwards.
 */
export async function rawExchange(
  port: number,
  request: string | Uint8Array,
  options: { head?: boolean } = {},
): Promise<RawResponse> {
  const socket = new RawSocket(await Deno.connect({ hostname: "127.0.0.1", port }));
  try {
    await socket.write(request);
    const headText = await socket.readHead();
    if (headText === null) throw new Error("the server closed the connection without a response");
    const head = parseHead(headText);
    let body: Uint8Array = new Uint8Array(0);
    const length = head.header("content-length");
    // After 101 the connection speaks another protocol: nothing more is HTTP.
    const noBody = options.head || head.status === 101 || head.status === 204 ||
      head.status === 304;
    if (noBody) {
      // Nothing follows the head.
    } else if (head.header("transfer-encoding")?.toLowerCase() === "chunked") {
      for (;;) {
        const size = parseInt(await socket.readLine(), 16);
        if (size === 0) {
          while ((await socket.readLine()) !== "\r\n"); // Trailers end with a blank line.
          break;
        }
        body = concat(body, await socket.readBytes(size));
        await socket.readBytes(2);
      }
    } else if (length !== null) {
      body = await socket.readBytes(Number(length));
    } else {
      body = await socket.readToEnd();
    }
    return { ...head, body, text: () => new TextDecoder().decode(body) };
  } finally {
    socket.close();
  }
}

/** A gateway problem response, checked for the RFC 9457 shape and parsed. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  requestId: string;
}

/**
 * Reads a `fetch` response as a problem: content type `application/problem+json`, the members
 * every Ferry problem has, and `requestId` equal to the `x-request-id` header.
 */
export async function readProblem(res: Response): Promise<Problem> {
  const text = await res.text();
  if (res.headers.get("content-type") !== "application/problem+json") {
    throw new Error(`not a problem: ${res.headers.get("content-type")} ${text}`);
  }
  const body = JSON.parse(text) as Problem;
  for (const key of ["type", "title", "detail", "requestId"] as const) {
    if (typeof body[key] !== "string" || body[key].length === 0) {
      throw new Error(`problem member ${key} missing: ${text}`);
    }
  }
  if (body.status !== res.status) throw new Error(`problem status ${body.status} ≠ ${res.status}`);
  if (body.requestId !== res.headers.get("x-request-id")) {
    throw new Error(`problem requestId ${body.requestId} ≠ x-request-id header`);
  }
  return body;
}
