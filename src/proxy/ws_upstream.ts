/**
 * The upstream side of a WebSocket bridge, on a plain TCP connection: Ferry's own RFC 6455
 * handshake and framing. Deno's `WebSocket` client would replace the client's Host, prefix its
 * User-Agent and refuse close codes other than 1000 and 3000–4999; here the upgrade request is
 * the client's (minus hop-by-hop headers), like any other forwarded request.
 */
import { concatBytes } from "./bytes.ts";
import type { TlsSettings } from "../config/normalized.ts";
import type { TargetAddress } from "../upstream/client.ts";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const MAX_HEAD = 64 * 1024;
/** Smallest read buffer; a frame larger than this gets a buffer of its own size. */
const READ_CHUNK_BYTES = 16 * 1024;
/** Larger messages are refused with 1009 (message too big) rather than buffered without end. */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** Payload bytes that may wait for a slow upstream before the bridge gives up on it. */
export const MAX_QUEUED_BYTES = MAX_MESSAGE_BYTES;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Why the upgrade failed; the bridge answers the client with 502. */
export class WebSocketUpgradeError extends Error {
  /**
   * The status the upstream answered instead of 101, when it answered at all: the circuit
   * breaker and outlier detection judge it like any HTTP answer (5xx is a failure).
   */
  constructor(message: string, readonly status?: number) {
    super(message);
  }
}

async function sha1Base64(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", encoder.encode(text)));
  return btoa(String.fromCharCode(...digest));
}

function latin1(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/** An open upstream WebSocket. Set the handlers, then call `start()` to begin reading. */
export class UpstreamWebSocket {
  /**
   * Called with each whole message. A returned promise pauses reading until it settles: the
   * bridge's backpressure, so a client slower than the upstream is not buffered for without end.
   */
  onmessage: (data: string | Uint8Array) => void | Promise<void> = () => {};
  onclose: (code: number, reason: string) => void = () => {};
  #buf: Uint8Array;
  #writing: Promise<unknown> = Promise.resolve();
  #closeSent = false;
  #closed = false;
  #fragments: Uint8Array[] = [];
  #fragmentOpcode = 0;
  #fragmentBytes = 0;
  /** A message's first frame came without FIN: continuation frames follow, nothing else. */
  #fragmenting = false;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  /** Payload bytes handed to `#frame` and not yet written. */
  #queued = 0;
  /** Set by every read from the upstream; the keepalive clears it at each of its ticks. */
  #heard = false;
  /** The keepalive sent a ping and has heard nothing since. */
  #pinged = false;
  /** Reading is paused on the bridge's backpressure: silence then proves nothing. */
  #paused = false;
  #keepAlive: ReturnType<typeof setInterval> | undefined;

  private constructor(
    private readonly conn: Deno.Conn,
    /** The subprotocol the upstream chose, or `""`. */
    readonly protocol: string,
    leftover: Uint8Array,
    /** How long to wait for the upstream's close frame once ours is sent. */
    private readonly closeTimeoutMs: number,
    /** Upstream silence after which it is pinged, and then dropped if it stays silent. */
    private readonly idleMs: number,
  ) {
    this.#buf = leftover;
  }

  /**
   * Connects and upgrades. `headers` is the forwarded header list (Host included, hop-by-hop
   * and `sec-websocket-*` removed); the handshake headers are added here. `timeoutMs` bounds
   * the connect and upgrade, and later the wait for the upstream's answer to our close frame.
   * An upstream silent for `idleMs` is pinged, and dropped if it stays silent for `idleMs` more
   * (0: never). `tls` verifies an `https:` target as its upstream says.
   */
  static async connect(
    target: TargetAddress,
    path: string,
    headers: readonly string[],
    protocols: readonly string[],
    timeoutMs: number,
    idleMs = 0,
    tls: TlsSettings | null = null,
  ): Promise<UpstreamWebSocket> {
    // One timer bounds connect and handshake; expiring aborts the connect (a host that drops
    // SYNs would otherwise hold it for the OS's own minutes-long timeout) or closes the socket,
    // which ends the handshake.
    let conn: Deno.Conn | undefined;
    let expired = false;
    const abort = new AbortController();
    const timer = setTimeout(() => {
      expired = true;
      abort.abort();
      try {
        conn?.close();
      } catch {
        // already closed
      }
    }, timeoutMs);
    let tcp: Deno.TcpConn;
    try {
      tcp = await Deno.connect({
        hostname: target.hostname,
        port: target.port,
        signal: abort.signal,
      });
    } catch (e) {
      clearTimeout(timer);
      if (expired) throw new WebSocketUpgradeError("connect timed out");
      throw new WebSocketUpgradeError(`cannot connect: ${(e as Error).message}`);
    }
    if (expired) {
      clearTimeout(timer);
      tcp.close();
      throw new WebSocketUpgradeError("connect timed out");
    }
    // Each message is one write of a whole frame: Nagle's algorithm would hold a small frame
    // that follows another until the upstream ACKs the first, up to its delayed-ACK time (~40 ms).
    tcp.setNoDelay(true);
    conn = tcp;
    try {
      // An https:// upstream gets TLS like every other request to it (the handshake runs with
      // the first write, under the same timer): in plain text the upgrade, cookies and all,
      // would go out in clear to a port that expects a ClientHello.
      if (target.protocol === "https:") {
        conn = await Deno.startTls(tcp, {
          hostname: tls?.serverName ?? target.hostname,
          caCerts: tls?.caCerts,
          alpnProtocols: ["http/1.1"],
        });
      }
      const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
      let head = `GET ${path} HTTP/1.1\r\n`;
      for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
      head += "connection: Upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\n";
      head += `sec-websocket-key: ${key}\r\n`;
      if (protocols.length) head += `sec-websocket-protocol: ${protocols.join(", ")}\r\n`;
      await writeAll(conn, latin1(head + "\r\n"));

      const { status, fields, rest } = await readHead(conn);
      if (status !== 101) {
        // A head without a readable status (0) is a protocol failure, not an answer.
        throw new WebSocketUpgradeError(
          `upstream answered ${status}, not 101`,
          status >= 200 ? status : undefined,
        );
      }
      if (fields.get("sec-websocket-accept") !== await sha1Base64(key + GUID)) {
        throw new WebSocketUpgradeError("upstream sent a wrong Sec-WebSocket-Accept");
      }
      // §4.1: an extension the client did not ask for fails the handshake. Ferry offers none,
      // and accepted, one like permessage-deflate would only fail the bridge at the first frame.
      const extensions = fields.get("sec-websocket-extensions");
      if (extensions) {
        throw new WebSocketUpgradeError(
          `upstream chose an extension nobody offered: ${extensions}`,
        );
      }
      const protocol = fields.get("sec-websocket-protocol") ?? "";
      if (protocol && !protocols.includes(protocol)) {
        throw new WebSocketUpgradeError(`upstream chose a subprotocol nobody offered: ${protocol}`);
      }
      return new UpstreamWebSocket(conn, protocol, rest, timeoutMs, idleMs);
    } catch (e) {
      try {
        conn.close();
      } catch {
        // closed by the timer
      }
      if (expired) throw new WebSocketUpgradeError("upgrade timed out");
      if (e instanceof WebSocketUpgradeError) throw e;
      throw new WebSocketUpgradeError(`upgrade failed: ${(e as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Reads frames until the connection ends; calls `onclose` exactly once. */
  start(): void {
    // The client's pings are answered by the gateway's own server socket and never reach the
    // upstream, so they no longer prove the upstream alive, and the upstream hop carries nothing
    // while the client is quiet. Ferry pings it itself: a healthy upstream answers (any frame
    // will do) and stays open however long it is quiet; one whose host vanished without a FIN
    // is dropped, and the client told 1011, instead of being held open forever.
    if (this.idleMs > 0) this.#keepAlive = setInterval(() => this.#checkAlive(), this.idleMs);
    this.#readLoop().catch(() => this.#finish(1006, "")).finally(() => this.#finish(1006, ""));
  }

  send(data: string | ArrayBuffer | Uint8Array): void {
    if (typeof data === "string") this.#frame(1, encoder.encode(data));
    else this.#frame(2, data instanceof Uint8Array ? data : new Uint8Array(data));
  }

  /** Starts the closing handshake with `code` (any valid code) and `reason`. */
  close(code = 1000, reason = ""): void {
    if (this.#closeSent || this.#closed) return;
    this.#closeSent = true;
    const payload = code === 1005 ? new Uint8Array(0) : closePayload(code, reason);
    this.#frame(8, payload);
    // An upstream that never answers (hung, or its host gone without a FIN) would otherwise
    // keep the connection and the bridge open for as long as the process lives.
    this.#closeTimer = setTimeout(() => this.#finish(code, reason), this.closeTimeoutMs);
  }

  #checkAlive(): void {
    if (this.#heard || this.#paused) {
      this.#heard = false;
      this.#pinged = false;
    } else if (!this.#pinged) {
      this.#pinged = true;
      this.#frame(9, new Uint8Array(0));
    } else this.#finish(1006, "upstream stopped answering pings");
  }

  /** Drops the connection without a closing handshake (nothing was ever relayed on it). */
  abort(): void {
    this.#finish(1006, "");
  }

  #frame(opcode: number, payload: Uint8Array): void {
    // Nothing may follow our close frame (RFC 6455 §5.5.1); client messages still in flight
    // when a reload closes the bridge are dropped here.
    if (this.#closed || (this.#closeSent && opcode !== 8)) return;
    const n = payload.length;
    // Deno's server socket cannot be paused, so a client that sends faster than the upstream
    // reads would queue here without end: past the bound, the upstream is dropped (a close
    // frame could not get through anyway) and the client told to try again later.
    if (this.#queued > 0 && this.#queued + n > MAX_QUEUED_BYTES) {
      this.#finish(1013, "upstream is not reading");
      return;
    }
    this.#queued += n;
    const headLen = n < 126 ? 2 : n < 65536 ? 4 : 10;
    const frame = new Uint8Array(headLen + 4 + n);
    frame[0] = 0x80 | opcode;
    if (n < 126) frame[1] = 0x80 | n;
    else if (n < 65536) {
      frame[1] = 0x80 | 126;
      frame[2] = n >> 8;
      frame[3] = n & 0xff;
    } else {
      frame[1] = 0x80 | 127;
      new DataView(frame.buffer).setBigUint64(2, BigInt(n));
    }
    // Client frames are masked (RFC 6455 §5.3).
    const mask = crypto.getRandomValues(new Uint8Array(4));
    frame.set(mask, headLen);
    const body = headLen + 4;
    for (let i = 0; i < n; i++) frame[body + i] = payload[i] ^ mask[i & 3];
    this.#writing = this.#writing.then(() => writeAll(this.conn, frame)).then(
      () => void (this.#queued -= n),
      () => this.#finish(1006, ""),
    );
  }

  async #readLoop(): Promise<void> {
    for (;;) {
      const frame = await this.#readFrame();
      if (frame === null) return;
      const { fin, opcode, payload } = frame;
      const broken = frameProblem(frame, this.#fragmenting);
      if (broken !== undefined) return await this.#fail(1002, broken);
      if (opcode === 8) {
        const code = payload.length >= 2 ? (payload[0] << 8) | payload[1] : 1005;
        // A code no endpoint may send fails the connection (RFC 6455 §7.4.1); relayed, it would
        // make the client fail its side too.
        if (payload.length === 1 || (payload.length >= 2 && !sendableCloseCode(code))) {
          return await this.#fail(1002, `invalid close code ${payload.length === 1 ? "" : code}`);
        }
        const reason = payload.length > 2 ? decodeText(payload.subarray(2)) : "";
        if (reason === undefined) return await this.#fail(1007, "invalid UTF-8 in a close reason");
        this.close(code === 1005 ? 1000 : code, reason);
        await this.#writing;
        this.#finish(code, reason);
        return;
      }
      if (opcode === 9) {
        this.#frame(10, payload);
        continue;
      }
      if (opcode === 10) continue;
      if (opcode === 0 || opcode === 1 || opcode === 2) {
        if (opcode !== 0) {
          this.#fragmentOpcode = opcode;
          this.#fragments = [];
          this.#fragmentBytes = 0;
        }
        this.#fragments.push(payload);
        this.#fragmentBytes += payload.length;
        if (this.#fragmentBytes > MAX_MESSAGE_BYTES) {
          return await this.#fail(1009, "message too big");
        }
        this.#fragmenting = !fin;
        if (!fin) continue;
        const whole = concatBytes(this.#fragments, this.#fragmentBytes);
        this.#fragments = [];
        if (this.#fragmentOpcode === 1) {
          const text = decodeText(whole);
          if (text === undefined) return await this.#fail(1007, "invalid UTF-8 in a text message");
          await this.#deliver(text);
        } else await this.#deliver(whole);
        continue;
      }
      return await this.#fail(1002, `unknown opcode ${opcode}`);
    }
  }

  /** Hands a message on, noting while the bridge's backpressure holds reading paused. */
  async #deliver(data: string | Uint8Array): Promise<void> {
    const paused = this.onmessage(data);
    if (!paused) return;
    this.#paused = true;
    try {
      await paused;
    } finally {
      this.#paused = false;
    }
  }

  /** Ends with `code`: the close frame is flushed before the socket closes. */
  async #fail(code: number, reason: string): Promise<void> {
    this.close(code, reason);
    await this.#writing;
    this.#finish(code, reason);
  }

  /** The next frame, or `null` when the connection ended. */
  async #readFrame(): Promise<Frame | null> {
    if (!await this.#fill(2)) return null;
    const b0 = this.#buf[0], b1 = this.#buf[1];
    let len = b1 & 0x7f;
    let offset = 2;
    if (len === 126) {
      if (!await this.#fill(4)) return null;
      len = (this.#buf[2] << 8) | this.#buf[3];
      offset = 4;
    } else if (len === 127) {
      if (!await this.#fill(10)) return null;
      const big = new DataView(this.#buf.buffer, this.#buf.byteOffset + 2, 8).getBigUint64(0);
      if (big > BigInt(MAX_MESSAGE_BYTES)) {
        await this.#fail(1009, "message too big");
        return null;
      }
      len = Number(big);
      offset = 10;
    }
    const masked = (b1 & 0x80) !== 0;
    const total = offset + (masked ? 4 : 0) + len;
    if (!await this.#fill(total)) return null;
    let payload = this.#buf.slice(offset + (masked ? 4 : 0), total);
    if (masked) {
      const mask = this.#buf.subarray(offset, offset + 4);
      payload = payload.map((b, i) => b ^ mask[i & 3]);
    }
    this.#buf = this.#buf.subarray(total);
    return { fin: (b0 & 0x80) !== 0, rsv: b0 & 0x70, opcode: b0 & 0x0f, masked, payload };
  }

  /**
   * Reads until `n` bytes are buffered; false when the connection ended first. The buffer for a
   * frame is allocated once, at its full size: growing it read by read would copy a 16 MiB
   * message hundreds of times over.
   */
  async #fill(n: number): Promise<boolean> {
    if (this.#buf.length >= n) return true;
    const store = new Uint8Array(Math.max(READ_CHUNK_BYTES, n));
    store.set(this.#buf);
    let filled = this.#buf.length;
    while (filled < n) {
      let read: number | null;
      try {
        read = await this.conn.read(store.subarray(filled));
      } catch {
        return false;
      }
      if (read === null) return false;
      this.#heard = true;
      filled += read;
    }
    this.#buf = store.subarray(0, filled);
    return true;
  }

  #finish(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#closeTimer);
    clearInterval(this.#keepAlive);
    try {
      this.conn.close();
    } catch {
      // already closed
    }
    this.onclose(code, reason);
  }
}

/** One frame as read off the wire. */
interface Frame {
  fin: boolean;
  /** The three reserved bits; Ferry negotiates no extension, so they must be 0. */
  rsv: number;
  opcode: number;
  masked: boolean;
  payload: Uint8Array;
}

/**
 * What makes a server's frame a protocol error (RFC 6455 §5), given whether a fragmented message
 * is in progress; undefined when the frame is well-formed. Unknown opcodes are left to the
 * caller, which names them.
 */
function frameProblem(frame: Frame, fragmenting: boolean): string | undefined {
  const { fin, rsv, opcode, masked, payload } = frame;
  if (rsv !== 0) return "reserved bits set, but no extension was negotiated";
  // §5.1: a server never masks; a client that sees a masked frame must close.
  if (masked) return "a masked frame from the server";
  if (opcode >= 8) {
    if (!fin) return "a fragmented control frame";
    if (payload.length > 125) return "a control frame over 125 bytes";
  } else if (opcode === 0 && !fragmenting) {
    return "a continuation frame with no message to continue";
  } else if ((opcode === 1 || opcode === 2) && fragmenting) {
    return "a new message before the fragmented one ended";
  }
  return undefined;
}

/** Whether `code` may appear in a close frame (RFC 6455 §7.4 and the IANA registry). */
export function sendableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
    (code >= 3000 && code <= 4999);
}

function closePayload(code: number, reason: string): Uint8Array {
  const text = encoder.encode(reason).subarray(0, 123); // control frames carry ≤ 125 bytes
  const out = new Uint8Array(2 + text.length);
  out[0] = code >> 8;
  out[1] = code & 0xff;
  out.set(text, 2);
  return out;
}

function decodeText(bytes: Uint8Array): string | undefined {
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) done += await conn.write(bytes.subarray(done));
}

/** Reads the upgrade response head; `rest` holds bytes after it (already frames). */
async function readHead(
  conn: Deno.Conn,
): Promise<{ status: number; fields: Map<string, string>; rest: Uint8Array }> {
  let buf: Uint8Array = new Uint8Array(0);
  for (;;) {
    const text = String.fromCharCode(...buf.subarray(0, Math.min(buf.length, MAX_HEAD)));
    const end = text.indexOf("\r\n\r\n");
    if (end >= 0) {
      const lines = text.slice(0, end).split("\r\n");
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0])?.[1] ?? 0);
      const fields = new Map<string, string>();
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(":");
        if (colon > 0) {
          fields.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
        }
      }
      return { status, fields, rest: buf.slice(end + 4) };
    }
    if (buf.length > MAX_HEAD) throw new WebSocketUpgradeError("upgrade response head too large");
    const chunk = new Uint8Array(4096);
    const n = await conn.read(chunk);
    if (n === null) throw new WebSocketUpgradeError("upstream closed during the upgrade");
    buf = concatBytes([buf, chunk.subarray(0, n)], buf.length + n);
  }
}
