import type { OutboundRequest } from "../client.ts";
import type { Connection } from "./connection.ts";
import { TOKEN } from "./latin1.ts";

/**
 * Serialising requests (RFC 9112 §3, §6, §7.1).
 *
 * The head is written straight into the connection's write buffer, validating and Latin-1
 * encoding in the same pass, so sending a request allocates nothing but the write op. A small
 * `Uint8Array` body rides in the same buffer: one write per request. The client owns framing:
 * it writes Content-Length or Transfer-Encoding itself and drops any the caller left in.
 */

/** `Uint8Array` bodies up to this size are sent in the same write as the head. */
export const INLINE_BODY_MAX = 64 * 1024;
/** Stream chunks up to this size are framed by copying (one write), larger ones are not copied. */
const INLINE_CHUNK_MAX = 16 * 1024;

/** Methods whose requests carry content by definition: an empty one is sent as length 0. */
const CONTENT_METHODS = new Set(["POST", "PUT", "PATCH"]);

/** The request body stream failed or did not match its declared length (a client-side fault). */
export class RequestBodyError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RequestBodyError";
  }
}

/**
 * Writes the request head into `conn.wbuf`, followed by the body when it is a small
 * `Uint8Array`. Returns the number of bytes to write. Throws `TypeError` for a method, path,
 * header name or value that cannot go on the wire as is (CR, LF, NUL, non-Latin-1 characters).
 */
export function encodeRequestHead(
  conn: Connection,
  hostHeader: string,
  request: OutboundRequest,
): number {
  const { method, path, headers, body } = request;
  if ((headers.length & 1) !== 0) throw new TypeError("request headers must be name/value pairs");
  const bytes = body instanceof Uint8Array && body.length > 0 ? body : null;
  const inline = bytes !== null && bytes.length <= INLINE_BODY_MAX;

  let size = method.length + path.length + 12 + hostHeader.length + 8 + 40 + 2;
  for (let i = 0; i < headers.length; i++) size += headers[i].length + 2;
  if (inline) size += bytes.length;
  const out = conn.writeBuffer(size);

  let p = writeToken(method, out, 0, "method");
  out[p++] = 32;
  p = writePath(path, out, p);
  out.set(HTTP11_CRLF, p);
  p += HTTP11_CRLF.length;

  let sawHost = false;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i];
    if (name.length === 14 && name === "content-length") continue;
    if (name.length === 17 && name === "transfer-encoding") continue;
    if (name.length === 4 && name === "host") sawHost = true;
    p = writeToken(name, out, p, "header name");
    out[p++] = 58;
    out[p++] = 32;
    p = writeValue(headers[i + 1], name, out, p);
    out[p++] = 13;
    out[p++] = 10;
  }
  if (!sawHost) {
    p = writeAscii("host: ", out, p);
    p = writeValue(hostHeader, "host", out, p);
    out[p++] = 13;
    out[p++] = 10;
  }

  if (bytes !== null) {
    p = writeAscii(`content-length: ${bytes.length}\r\n`, out, p);
  } else if (body !== null && !(body instanceof Uint8Array)) {
    p = writeAscii(
      request.bodyLength >= 0
        ? `content-length: ${request.bodyLength}\r\n`
        : "transfer-encoding: chunked\r\n",
      out,
      p,
    );
  } else if (CONTENT_METHODS.has(method)) {
    p = writeAscii("content-length: 0\r\n", out, p);
  }
  out[p++] = 13;
  out[p++] = 10;
  if (inline) {
    out.set(bytes, p);
    p += bytes.length;
  }
  return p;
}

/** True when the body still has to be written after the head (see `encodeRequestHead`). */
export function bodyFollowsHead(request: OutboundRequest): boolean {
  const body = request.body;
  if (body === null) return false;
  if (body instanceof Uint8Array) return body.length > INLINE_BODY_MAX;
  return true;
}

/**
 * Told where a streamed upload waits: on the client for its next chunk, or on the upstream to
 * take the last one. Each call is progress, and says whom a stall would be blamed on.
 */
export interface UploadWatch {
  awaitingClient(): void;
  awaitingUpstream(): void;
}

/**
 * Streams a body of declared length. Once that many bytes went out the request is complete: the
 * stream's end is read in the background, not awaited, since the upstream may answer (and the
 * exchange finish) as soon as it has the bytes.
 */
export async function writeLengthBody(
  conn: Connection,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  length: number,
  watch: UploadWatch,
): Promise<void> {
  let sent = 0;
  while (sent < length) {
    watch.awaitingClient();
    const chunk = await readChunk(reader);
    if (chunk === null) {
      throw new RequestBodyError(`request body ended after ${sent} of ${length} bytes`);
    }
    if (sent + chunk.length > length) {
      throw new RequestBodyError(`request body is longer than its declared ${length} bytes`);
    }
    // Awaiting every write is the backpressure: the next chunk is pulled only once this one
    // left for the kernel.
    watch.awaitingUpstream();
    await conn.write(chunk);
    sent += chunk.length;
  }
  // One more read, not awaited: the upstream may answer (and the exchange finish) as soon as it
  // has the bytes. Deno.serve reports the end at once once the declared bytes are in, and a
  // request body it never saw read to its end makes it close the client's connection after the
  // response: every streamed upload cost the client a reconnect (and a TLS handshake).
  reader.read().then(() => reader.releaseLock(), () => {});
}

/** Streams a body of unknown length with the chunked transfer coding. */
export async function writeChunkedBody(
  conn: Connection,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  watch: UploadWatch,
): Promise<void> {
  // The CRLF that closes a large chunk travels with the next size line: one write fewer.
  let pendingCrlf = false;
  for (;;) {
    watch.awaitingClient();
    const chunk = await readChunk(reader);
    if (chunk === null) break;
    if (chunk.length === 0) continue; // A zero-size chunk would end the body.
    watch.awaitingUpstream();
    const small = chunk.length <= INLINE_CHUNK_MAX;
    const out = conn.writeBuffer(small ? chunk.length + 24 : 24);
    let p = 0;
    if (pendingCrlf) {
      out[p++] = 13;
      out[p++] = 10;
    }
    p = writeAscii(chunk.length.toString(16), out, p);
    out[p++] = 13;
    out[p++] = 10;
    if (small) {
      out.set(chunk, p);
      p += chunk.length;
      out[p++] = 13;
      out[p++] = 10;
      await conn.write(out.subarray(0, p));
      pendingCrlf = false;
    } else {
      await conn.write(out.subarray(0, p));
      await conn.write(chunk);
      pendingCrlf = true;
    }
  }
  watch.awaitingUpstream();
  const out = conn.writeBuffer(8);
  const end = writeAscii(pendingCrlf ? "\r\n0\r\n\r\n" : "0\r\n\r\n", out, 0);
  await conn.write(out.subarray(0, end));
}

async function readChunk(
  reader: ReadableStreamDefaultReader<Uint8Array>,
): Promise<Uint8Array | null> {
  let result: ReadableStreamReadResult<Uint8Array>;
  try {
    result = await reader.read();
  } catch (e) {
    throw new RequestBodyError(`request body stream failed: ${message(e)}`, { cause: e });
  }
  if (result.done) return null;
  if (!(result.value instanceof Uint8Array)) {
    throw new RequestBodyError("request body stream yielded a non-Uint8Array chunk");
  }
  return result.value;
}

const HTTP11_CRLF = new TextEncoder().encode(" HTTP/1.1\r\n");

function writeAscii(s: string, out: Uint8Array, p: number): number {
  for (let i = 0; i < s.length; i++) out[p++] = s.charCodeAt(i);
  return p;
}

function writeToken(s: string, out: Uint8Array, p: number, what: string): number {
  if (s.length === 0) throw new TypeError(`empty ${what}`);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f || TOKEN[c] === 0) throw new TypeError(`invalid ${what} ${JSON.stringify(s)}`);
    out[p++] = c;
  }
  return p;
}

/** Origin-form (`/a?b`) or `*`: visible ASCII only; anything else must be percent-encoded. */
function writePath(s: string, out: Uint8Array, p: number): number {
  const first = s.charCodeAt(0);
  if (first !== 47 && !(first === 42 && s.length === 1)) {
    throw new TypeError(`request path must start with "/": ${JSON.stringify(s)}`);
  }
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) throw new TypeError(`invalid request path ${JSON.stringify(s)}`);
    out[p++] = c;
  }
  return p;
}

/**
 * A field value as Latin-1. CR, LF and NUL would split or truncate the head; the other control
 * characters but HTAB are not allowed in a field value either (RFC 9110 §5.5), and a server may
 * refuse the request for them.
 */
function writeValue(s: string, name: string, out: Uint8Array, p: number): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || (c < 0x20 && c !== 9) || c === 0x7f) {
      throw new TypeError(`invalid value for header "${name}"`);
    }
    out[p++] = c;
  }
  return p;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
