import { UpstreamError } from "../client.ts";

/**
 * Incremental decoder for the chunked transfer coding (RFC 9112 §7.1).
 *
 * It never copies: `decode` reports where the chunk data lies in the bytes it was given, and the
 * caller copies or hands those ranges on. Chunk extensions are skipped; trailer fields are read
 * and dropped (the interface has no place for them, and forwarding them as headers would be
 * wrong). Framing is strict: CRLF everywhere, hex sizes only, bounded line lengths.
 */

const enum State {
  Size,
  /** Whitespace after the size digits: only more of it, ";" or the line end may follow. */
  SizeBws,
  Extension,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  TrailerStart,
  Trailer,
  TrailerLf,
  FinalLf,
  Done,
}

/** Longest chunk-size line (size, extensions) we accept. */
const MAX_SIZE_LINE = 4096;
/** Largest trailer section we skip over. */
const MAX_TRAILERS = 64 * 1024;

export class ChunkedDecoder {
  #state = State.Size;
  #size = 0;
  #digits = 0;
  #lineBytes = 0;
  #trailerBytes = 0;
  /** Chunk data bytes still expected in the current chunk. */
  remaining = 0;

  get done(): boolean {
    return this.#state === State.Done;
  }

  /** True when the next bytes are chunk data; the caller may read them straight into its own buffer. */
  get inData(): boolean {
    return this.#state === State.Data;
  }

  /** Counts `n` data bytes the caller read directly (see `inData`). */
  consumeData(n: number): void {
    this.remaining -= n;
    if (this.remaining === 0) this.#state = State.DataCr;
  }

  /**
   * Decodes `buf[from, to)`. Chunk data is appended to `ranges` as `[start, end)` pairs. Returns
   * where decoding stopped: `to`, or the first byte after the body once `done`.
   */
  decode(buf: Uint8Array, from: number, to: number, ranges: number[]): number {
    let i = from;
    while (i < to) {
      switch (this.#state) {
        case State.Data: {
          const take = Math.min(this.remaining, to - i);
          ranges.push(i, i + take);
          i += take;
          this.consumeData(take);
          break;
        }
        case State.Size: {
          const b = buf[i];
          const v = hexValue(b);
          if (v >= 0) {
            if (++this.#digits > MAX_SIZE_LINE) throw protocol("chunk size line too long");
            this.#size = this.#size * 16 + v;
            if (this.#size > Number.MAX_SAFE_INTEGER) throw protocol("chunk size too large");
            i++;
          } else if (this.#digits === 0) {
            throw protocol("malformed chunk size");
          } else if (b === 13) {
            this.#state = State.SizeLf;
            i++;
          } else if (b === 59) {
            // ";" starts an extension.
            this.#state = State.Extension;
            this.#lineBytes = this.#digits;
          } else if (b === 32 || b === 9) {
            this.#state = State.SizeBws;
            this.#lineBytes = this.#digits;
          } else {
            throw protocol("malformed chunk size");
          }
          break;
        }
        case State.SizeBws: {
          // BWS may precede ";" (or, leniently, the line end), but "5 6" is no chunk size:
          // reading it as 5 would frame the body differently from what the upstream meant.
          const b = buf[i];
          if (b === 59) {
            this.#state = State.Extension;
          } else if (b === 13) {
            this.#state = State.SizeLf;
            i++;
          } else if (b === 32 || b === 9) {
            if (++this.#lineBytes > MAX_SIZE_LINE) throw protocol("chunk size line too long");
            i++;
          } else {
            throw protocol("malformed chunk size");
          }
          break;
        }
        case State.Extension: {
          const b = buf[i];
          if (b === 13) this.#state = State.SizeLf;
          else if ((b < 32 && b !== 9) || b === 127) throw protocol("malformed chunk extension");
          else if (++this.#lineBytes > MAX_SIZE_LINE) throw protocol("chunk extension too long");
          i++;
          break;
        }
        case State.SizeLf: {
          if (buf[i] !== 10) throw protocol("malformed chunk size line");
          i++;
          if (this.#size === 0) {
            this.#state = State.TrailerStart;
          } else {
            this.remaining = this.#size;
            this.#state = State.Data;
          }
          this.#size = 0;
          this.#digits = 0;
          break;
        }
        case State.DataCr: {
          if (buf[i] !== 13) throw protocol("chunk data longer than its size");
          this.#state = State.DataLf;
          i++;
          break;
        }
        case State.DataLf: {
          if (buf[i] !== 10) throw protocol("chunk data longer than its size");
          this.#state = State.Size;
          i++;
          break;
        }
        case State.TrailerStart: {
          this.#state = buf[i] === 13 ? State.FinalLf : State.Trailer;
          if (this.#state === State.FinalLf) i++;
          break;
        }
        case State.Trailer: {
          const b = buf[i];
          if (b === 13) this.#state = State.TrailerLf;
          else if (b === 10 || b === 0) throw protocol("malformed trailer field");
          if (++this.#trailerBytes > MAX_TRAILERS) throw protocol("trailer section too large");
          i++;
          break;
        }
        case State.TrailerLf: {
          if (buf[i] !== 10) throw protocol("malformed trailer field");
          this.#state = State.TrailerStart;
          i++;
          break;
        }
        case State.FinalLf: {
          if (buf[i] !== 10) throw protocol("malformed end of chunked body");
          this.#state = State.Done;
          return i + 1;
        }
        case State.Done:
          return i;
      }
    }
    return i;
  }
}

function hexValue(b: number): number {
  if (b >= 48 && b <= 57) return b - 48;
  if (b >= 97 && b <= 102) return b - 87;
  if (b >= 65 && b <= 70) return b - 55;
  return -1;
}

function protocol(message: string): UpstreamError {
  return new UpstreamError("protocol", message);
}
