import { UpstreamError } from "../client.ts";
import { tokenCase } from "./latin1.ts";

/**
 * Response heads (RFC 9112 §4, §5): finding where a head ends, then parsing it.
 *
 * Finding the end is a byte loop that also rejects the bytes that make framing ambiguous (bare
 * CR, bare LF, NUL) and every other control character but HTAB, and notes whether the head is
 * pure ASCII. Parsing then works on one decoded string with `indexOf`, which is cheaper in V8
 * than decoding every line and field on its own.
 */

/** Upper bound for one response head; larger heads are a protocol error. */
export const MAX_HEAD_BYTES = 64 * 1024;

/** Finds the end of a head across reads without rescanning bytes already seen. */
export class HeadScanner {
  /** Bytes already checked, relative to the head's first byte. */
  #scanned = 0;
  /** Start of the current line, relative to the head's first byte. */
  #lineStart = 0;
  #bits = 0;

  /** True when every byte of the head found last was below 0x80. */
  get ascii(): boolean {
    return this.#bits < 0x80;
  }

  reset(): void {
    this.#scanned = 0;
    this.#lineStart = 0;
    this.#bits = 0;
  }

  /**
   * Scans `buf[start, end)`, where `start` is the head's first byte. Returns the head's length
   * including the final empty line, or -1 when the head is not complete yet.
   */
  scan(buf: Uint8Array, start: number, end: number): number {
    let lineStart = start + this.#lineStart;
    let bits = this.#bits;
    let i = start + this.#scanned;
    for (; i < end; i++) {
      const b = buf[i];
      bits |= b;
      if (b > 31 && b !== 127) continue;
      if (b === 10) {
        if (i === start || buf[i - 1] !== 13) throw protocol("bare LF in response head");
        if (i - 1 === lineStart) {
          this.#bits = bits;
          return i + 1 - start;
        }
        lineStart = i + 1;
      } else if (b === 13) {
        if (i + 1 === end) break; // Decide once the next byte is here.
        if (buf[i + 1] !== 10) throw protocol("bare CR in response head");
      } else if (b === 0) {
        throw protocol("NUL in response head");
      } else if (b !== 9) {
        // RFC 9110 §5.5 lets a recipient keep other control characters, but a gateway would
        // pass them on to its client, and Deno's HTTP/1.1 writer does not check for them: it
        // panics, taking the whole process down. Only HTAB may appear in a head.
        throw protocol(`control character 0x${b.toString(16).padStart(2, "0")} in response head`);
      }
    }
    this.#scanned = i - start;
    this.#lineStart = lineStart - start;
    this.#bits = bits;
    return -1;
  }
}

/** A parsed response head with the framing facts the body reader needs. */
export interface ResponseHead {
  status: number;
  statusText: string;
  /** Flat `[name, value, ...]`, names lower-case, in wire order. */
  headers: string[];
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: number;
  /** Declared Content-Length, or -1 when absent. */
  contentLength: number;
  chunked: boolean;
  /** The connection may not carry another exchange after this response. */
  close: boolean;
}

/**
 * Parses a complete head (status line, fields, final empty line) decoded as Latin-1.
 * `headRequest` says the request was HEAD, whose answer has no body whatever its fields say.
 */
export function parseResponseHead(text: string, headRequest: boolean): ResponseHead {
  // status-line = HTTP-version SP status-code SP [ reason-phrase ]
  if (
    text.charCodeAt(0) !== 72 || text.charCodeAt(1) !== 84 || text.charCodeAt(2) !== 84 ||
    text.charCodeAt(3) !== 80 || text.charCodeAt(4) !== 47 || text.charCodeAt(5) !== 49 ||
    text.charCodeAt(6) !== 46 || text.charCodeAt(8) !== 32
  ) {
    throw protocol(`malformed status line ${JSON.stringify(firstLine(text))}`);
  }
  const minor = text.charCodeAt(7) - 48;
  const d0 = text.charCodeAt(9) - 48, d1 = text.charCodeAt(10) - 48, d2 = text.charCodeAt(11) - 48;
  if (
    minor < 0 || minor > 9 || d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9
  ) {
    throw protocol(`malformed status line ${JSON.stringify(firstLine(text))}`);
  }
  const status = d0 * 100 + d1 * 10 + d2;
  // RFC 9112 §6.3 rule 1: these end at the head, so Transfer-Encoding frames nothing. An
  // upstream answering HEAD or 304 sends the one its 200 would carry (`gzip, chunked`, say),
  // which is no reason to refuse the response or drop the connection.
  const framed = !headRequest && status >= 200 && status !== 204 && status !== 304;
  const lineEnd = text.indexOf("\r\n", 12);
  let statusText = "";
  if (lineEnd > 12) {
    if (text.charCodeAt(12) !== 32) {
      throw protocol(`malformed status line ${JSON.stringify(firstLine(text))}`);
    }
    statusText = text.slice(13, lineEnd);
  }

  const headers: string[] = [];
  let contentLength = -1;
  let transferEncoding = false;
  let transferCodings = 0;
  let chunked = false;
  let close = false;
  let keepAlive = false;
  let pos = lineEnd + 2;
  for (;;) {
    const eol = text.indexOf("\r\n", pos);
    if (eol === pos) break; // The empty line that ends the head.
    const first = text.charCodeAt(pos);
    if (first === 32 || first === 9) throw protocol("obsolete line folding in response head");
    const colon = text.indexOf(":", pos);
    const nameCase = colon < 0 || colon > eol ? -1 : tokenCase(text, pos, colon);
    if (nameCase < 0) {
      throw protocol(`malformed header line ${JSON.stringify(text.slice(pos, eol))}`);
    }
    let vs = colon + 1, ve = eol;
    while (vs < ve && isOws(text.charCodeAt(vs))) vs++;
    while (ve > vs && isOws(text.charCodeAt(ve - 1))) ve--;
    const name = nameCase === 0 ? text.slice(pos, colon) : text.slice(pos, colon).toLowerCase();
    const value = text.slice(vs, ve);
    headers.push(name, value);
    pos = eol + 2;

    switch (name.length) {
      case 14:
        if (name === "content-length") {
          const n = parseContentLength(value);
          // RFC 9112 §6.3 (5): repeats of one value become one field with that value before
          // the message goes on. "5, 5" is no valid length for Deno.serve, which drops it and
          // then tells a HEAD client "content-length: 0".
          if (contentLength >= 0) {
            if (n !== contentLength) throw protocol("conflicting content-length values");
            headers.length -= 2;
          } else if (value.indexOf(",") >= 0) {
            headers[headers.length - 1] = String(n);
          }
          contentLength = n;
        }
        break;
      case 17:
        if (name === "transfer-encoding" && framed) {
          transferEncoding = true;
          for (const coding of listTokens(value)) {
            transferCodings++;
            chunked = coding === "chunked";
            if (!chunked) throw protocol(`unsupported transfer-coding "${coding}"`);
          }
        }
        break;
      case 10:
        if (name === "connection") {
          const v = value.toLowerCase();
          if (v === "keep-alive") keepAlive = true;
          else if (v === "close") close = true;
          else {
            for (const token of listTokens(v)) {
              if (token === "close") close = true;
              else if (token === "keep-alive") keepAlive = true;
            }
          }
        }
        break;
    }
  }

  if (transferEncoding) {
    // RFC 9112 §6.1: "chunked" exactly once and last; anything else we cannot undo for the
    // client, and both framings at once is the classic smuggling vector. Never guess. A field
    // that is present but empty (or only commas) frames nothing: reading it as absent would let
    // Content-Length or the close frame a body the upstream said it had transfer-coded.
    if (transferCodings === 0) throw protocol("transfer-encoding names no transfer-coding");
    if (transferCodings > 1) throw protocol("chunked applied more than once");
    if (contentLength >= 0) throw protocol("both transfer-encoding and content-length");
    if (minor === 0) throw protocol("transfer-encoding in an HTTP/1.0 response");
  }
  if (minor === 0 && !keepAlive) close = true;
  return { status, statusText, headers, minor, contentLength, chunked, close };
}

/** Content-Length: digits, or a list of identical digit strings ("42, 42"). */
function parseContentLength(value: string): number {
  let result = -1;
  let n = -1;
  for (let i = 0; i <= value.length; i++) {
    const c = i < value.length ? value.charCodeAt(i) : 44;
    if (c >= 48 && c <= 57) {
      n = n < 0 ? c - 48 : n * 10 + (c - 48);
      if (n > Number.MAX_SAFE_INTEGER) throw protocol("content-length too large");
    } else if (c === 44) {
      if (n < 0) throw protocol(`invalid content-length ${JSON.stringify(value)}`);
      if (result >= 0 && n !== result) throw protocol("conflicting content-length values");
      result = n;
      n = -1;
      while (i + 1 < value.length && isOws(value.charCodeAt(i + 1))) i++;
    } else if (isOws(c) && n >= 0) {
      while (i + 1 < value.length && isOws(value.charCodeAt(i + 1))) i++;
      if (i + 1 < value.length && value.charCodeAt(i + 1) !== 44) {
        throw protocol(`invalid content-length ${JSON.stringify(value)}`);
      }
    } else {
      throw protocol(`invalid content-length ${JSON.stringify(value)}`);
    }
  }
  return result;
}

/** Lower-cased, trimmed, non-empty elements of a comma-separated list. */
function listTokens(value: string): string[] {
  const out: string[] = [];
  for (const part of value.split(",")) {
    const t = part.trim().toLowerCase();
    if (t !== "") out.push(t);
  }
  return out;
}

function isOws(c: number): boolean {
  return c === 32 || c === 9;
}

function firstLine(text: string): string {
  const i = text.indexOf("\r\n");
  return (i < 0 ? text : text.slice(0, i)).slice(0, 100);
}

function protocol(message: string): UpstreamError {
  return new UpstreamError("protocol", message);
}
