/**
 * A stable fingerprint of a normalized config. Two configs that mean the same thing hash the
 * same whatever their key order, so a reload can tell "nothing changed" from "changed", and the
 * admin API and logs can name the config that is serving.
 */

import { sha256Hex } from "./sha256_hex.ts";

/**
 * JSON with object keys sorted at every depth. Keys whose value is `undefined` are left out, as
 * `JSON.stringify` does. Throws a TypeError on cycles and on values JSON cannot hold (functions,
 * symbols, BigInts, non-finite numbers): a normalized config never contains them.
 */
export function canonicalJson(value: unknown): string {
  return write(value, new Set());
}

function write(value: unknown, ancestors: Set<object>): string {
  switch (typeof value) {
    case "string":
    case "boolean":
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`canonical JSON cannot hold ${value}`);
      return JSON.stringify(value);
    case "object":
      break;
    default:
      throw new TypeError(`canonical JSON cannot hold a ${typeof value}`);
  }
  if (value === null) return "null";
  if (ancestors.has(value)) throw new TypeError("canonical JSON cannot hold a cycle");
  ancestors.add(value);
  let out: string;
  if (Array.isArray(value)) {
    // JSON writes holes and undefined items as null; so do we, to stay a subset of JSON.
    out = `[${Array.from(value, (v) => (v === undefined ? "null" : write(v, ancestors))).join()}]`;
  } else {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).filter((k) => record[k] !== undefined).sort();
    out = `{${keys.map((k) => `${JSON.stringify(k)}:${write(record[k], ancestors)}`).join()}}`;
  }
  ancestors.delete(value);
  return out;
}

/** SHA-256 of the canonical JSON of `value`, as lower-case hex. */
export async function configHash(value: unknown): Promise<string> {
  return await sha256Hex(new TextEncoder().encode(canonicalJson(value)));
}
