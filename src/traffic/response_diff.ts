/**
 * Compares a primary response with its mirror's: the status, the configured headers, and the
 * body fingerprint (SHA-256, after removing ignored JSON fields). Only header *names* are named
 * in a difference, never values: logs and admin must not leak cookies or tokens.
 */
import type { NormalizedMirrorDiff } from "../config/normalized.ts";
import { HOP_BY_HOP } from "../proxy/hop_by_hop.ts";
import type { BodyFingerprint } from "./body_digest.ts";
import { compileJsonPaths, type JsonPaths } from "./json_fields.ts";

/** What is compared of one response. */
export interface ResponseFacts {
  status: number;
  /** Lower-case names; a header sent on several lines is joined with ", ". */
  headers: ReadonlyMap<string, string>;
  body: BodyFingerprint;
}

/** One way the two responses differ. */
export type Difference =
  | { part: "status"; primary: number; shadow: number }
  | { part: "header"; name: string }
  | { part: "body"; primary: string; shadow: string };

/**
 * Headers that `"*"` never compares: connection-specific ones, and those that differ between
 * any two answers (`date`), that the gateway sets itself (`x-request-id`), or that encode
 * framing the body comparison already covers (`content-length`).
 */
const NEVER_COMPARED_BY_STAR = new Set([...HOP_BY_HOP, "date", "x-request-id", "content-length"]);

/** Flat `[name, value, ...]` (as upstream clients return) to a joined map. */
export function headerMap(list: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (let i = 0; i < list.length; i += 2) join(map, list[i].toLowerCase(), list[i + 1]);
  return map;
}

/** A `Headers` object to a joined map. */
export function headersToMap(headers: Headers): Map<string, string> {
  const map = new Map<string, string>();
  for (const [name, value] of headers) join(map, name, value);
  return map;
}

function join(map: Map<string, string>, name: string, value: string): void {
  const before = map.get(name);
  map.set(name, before === undefined ? value : `${before}, ${value}`);
}

/** The comparison rules of one route, compiled once per snapshot. */
export class ResponseComparer {
  readonly #all: boolean;
  readonly #named: readonly string[];
  readonly #ignored: ReadonlySet<string>;
  /** Paths of JSON fields removed before hashing bodies. */
  readonly jsonPaths: JsonPaths;

  constructor(rules: NormalizedMirrorDiff) {
    this.#all = rules.headers.includes("*");
    this.#ignored = new Set(rules.ignoreHeaders);
    this.#named = rules.headers.filter((h) => h !== "*" && !this.#ignored.has(h));
    this.jsonPaths = compileJsonPaths(rules.ignoreJsonFields);
  }

  /** Every difference, in the order status, headers (by name), body; empty when they match. */
  compare(primary: ResponseFacts, shadow: ResponseFacts): Difference[] {
    const out: Difference[] = [];
    if (primary.status !== shadow.status) {
      out.push({ part: "status", primary: primary.status, shadow: shadow.status });
    }
    for (const name of this.#headerNames(primary, shadow)) {
      if (primary.headers.get(name) !== shadow.headers.get(name)) {
        out.push({ part: "header", name });
      }
    }
    if (primary.body.sha256 !== shadow.body.sha256) {
      out.push({ part: "body", primary: describe(primary.body), shadow: describe(shadow.body) });
    }
    return out;
  }

  #headerNames(primary: ResponseFacts, shadow: ResponseFacts): string[] {
    if (!this.#all) return [...this.#named];
    const names = new Set(this.#named);
    for (const side of [primary, shadow]) {
      for (const name of side.headers.keys()) {
        if (!NEVER_COMPARED_BY_STAR.has(name) && !this.#ignored.has(name)) names.add(name);
      }
    }
    return [...names].sort();
  }
}

function describe(body: BodyFingerprint): string {
  return `sha256:${body.sha256} (${body.bytes} bytes${
    body.jsonStripped ? ", JSON fields ignored" : ""
  })`;
}
