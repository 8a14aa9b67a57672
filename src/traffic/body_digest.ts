/**
 * The SHA-256 of a response body, computed chunk by chunk as the body streams past (Web Crypto
 * has no incremental digest; `node:crypto`'s has, and Deno provides it). When JSON fields are to
 * be ignored, a JSON body of at most {@link JSON_CAPTURE_LIMIT} bytes is also kept, so that it
 * can be parsed, stripped and hashed again at the end; anything else is hashed as it came.
 */
import { concatBytes } from "../proxy/bytes.ts";
import { createHash, type Hash } from "node:crypto";
import { type JsonPaths, removeJsonFields } from "./json_fields.ts";

/** The largest JSON body kept for field stripping; larger ones are compared byte for byte. */
export const JSON_CAPTURE_LIMIT = 1 << 20;

/** A body's fingerprint. */
export interface BodyFingerprint {
  sha256: string;
  bytes: number;
  /** Whether ignored JSON fields were removed before hashing. */
  jsonStripped: boolean;
}

/** A JSON media type: `application/json`, `application/problem+json`, `text/json`... */
export function isJsonContentType(contentType: string | null | undefined): boolean {
  return contentType !== null && contentType !== undefined &&
    /^[a-z]+\/(?:[^;]*\+)?json\s*(?:;|$)/i.test(contentType.trim());
}

/**
 * Keeps every number as the upstream wrote it. Parsed into a double, 9007199254740993 and
 * 9007199254740992 are the same value, so two answers with different 64-bit ids (database keys,
 * snowflake ids) would hash alike and count as a match.
 */
function exactNumbers(_key: string, value: unknown, context?: { source?: string }): unknown {
  return typeof value === "number" && context?.source !== undefined
    ? (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON(context.source)
    : value;
}

/**
 * Sixteen digits and dots in a row (the only way a number can hold more than the 15 significant
 * digits every double keeps exactly), or a three-digit exponent (one past a double's range
 * becomes Infinity or 0). Without either, two different numbers stay different as doubles, and
 * the plain parse (about twice as fast as one with a reviver) is exact enough.
 */
const MAY_LOSE_DIGITS = /\d[\d.]{15}|\d[eE][+-]?\d{3}/;

/**
 * Parses, with numbers kept exact when precision could be lost. The reviver walks the value by
 * recursion, so JSON nested a few thousand deep overflows the stack there (a plain parse does
 * not): such a body is parsed plainly rather than not stripped at all.
 */
function parseExactly(text: string): unknown {
  if (!MAY_LOSE_DIGITS.test(text)) return JSON.parse(text);
  try {
    return JSON.parse(text, exactNumbers);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    return JSON.parse(text);
  }
}

export class BodyDigest {
  readonly #hash: Hash = createHash("sha256");
  #bytes = 0;
  /** Kept chunks while the body may still be stripped; `null` once it cannot be. */
  #kept: Uint8Array[] | null;

  /**
   * `stripPaths` applies only when the body is JSON (`json`) and not content-encoded: a
   * compressed body's fields cannot be read without decoding it.
   */
  constructor(private readonly stripPaths: JsonPaths, json: boolean) {
    this.#kept = stripPaths.length > 0 && json ? [] : null;
  }

  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
    this.#bytes += chunk.byteLength;
    if (this.#kept === null) return;
    // A copy: the original chunk goes on to the client, and its buffer may be reused or moved.
    if (this.#bytes <= JSON_CAPTURE_LIMIT) this.#kept.push(chunk.slice());
    else this.#kept = null;
  }

  finish(): BodyFingerprint {
    const raw = this.#hash.digest("hex");
    const bytes = this.#bytes;
    if (this.#kept === null) return { sha256: raw, bytes, jsonStripped: false };
    let text: string;
    try {
      const value = parseExactly(new TextDecoder().decode(concatBytes(this.#kept, bytes)));
      text = JSON.stringify(removeJsonFields(value, this.stripPaths));
    } catch {
      // Says JSON, is not (or is too odd to rebuild): compare as is. Never throw from here: the
      // primary's digest is finished as the client reads the last of its body.
      return { sha256: raw, bytes, jsonStripped: false };
    } finally {
      this.#kept = null;
    }
    const sha256 = createHash("sha256").update(text).digest("hex");
    return { sha256, bytes, jsonStripped: true };
  }
}
