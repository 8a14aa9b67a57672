/**
 * Turns an upstream response into the response sent to the client: hop-by-hop headers removed,
 * the request id echoed, the body streamed as it came (never decoded or re-encoded, so gzip and
 * every other content-coding pass through byte-exact with their own Content-Length).
 */
import type { InboundResponse } from "../upstream/client.ts";
import { hopByHopFilter } from "./hop_by_hop.ts";

/** Every value of `name`, joined as one list value (a header may come on several lines). */
function headerValue(list: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < list.length; i += 2) {
    if (list[i] === name) value = value === undefined ? list[i + 1] : `${value}, ${list[i + 1]}`;
  }
  return value;
}

/** Builds the client response; `null` when the status cannot be represented (caller → 502). */
export function clientResponse(res: InboundResponse, requestId: string): Response | null {
  if (res.status < 200 || res.status > 599) return null;
  const drop = hopByHopFilter(headerValue(res.headers, "connection"));
  const bytes = res.body instanceof Uint8Array;
  const headers = responseHeaders(res.headers, drop, bytes, requestId);
  const nullBody = res.status === 204 || res.status === 304 || res.status === 205;
  // 205 goes out as 204. `new Response` refuses a 205 with a body, and Deno.serve frames a 205
  // with neither Content-Length nor a close (it drops a Content-Length we set), so HTTP/1.1
  // clients that read it as close-delimited (curl, Go, Python) would wait forever. 204 says the
  // same "done, nothing to show" minus the hint to reset the form, and every client frames it.
  const status = res.status === 205 ? 204 : res.status;
  // No statusText: Deno.serve sends the canonical reason phrase whatever we pass.
  return new Response(nullBody ? null : bodyOf(res), { status, headers });
}

/**
 * The body to hand Deno.serve. A `null` body on a status that has one is a HEAD answer: when
 * the upstream gave it no Content-Length (its GET is chunked or close-delimited), an empty
 * stream stands in, because for `null` Deno.serve writes `content-length: 0` and tells the
 * client the resource is empty (RFC 9110 §8.6). For a stream it writes neither Content-Length
 * nor Transfer-Encoding on a HEAD answer, as nginx does, and no body bytes.
 */
function bodyOf(res: InboundResponse): InboundResponse["body"] {
  if (res.body !== null || headerValue(res.headers, "content-length") !== undefined) {
    return res.body;
  }
  return new ReadableStream({ start: (controller) => controller.close() });
}

/**
 * Whether an upstream field goes on to the client: not hop-by-hop, not the upstream's request id
 * (the gateway's replaces it), and no Content-Length for a byte body, which Deno.serve writes
 * itself (it is kept for streams and HEAD).
 */
function passesOn(name: string, drop: (name: string) => boolean, bytes: boolean): boolean {
  return !drop(name) && name !== "x-request-id" && !(bytes && name === "content-length");
}

/**
 * The client's header fields as `new Response` takes them fastest: a record when every name is
 * distinct (Response checks each value once and skips converting each pair as a sequence, ~2 µs
 * less per 7-header response when measured), else a pair list, which keeps repeated fields such
 * as Set-Cookie as separate lines. A name an object inherits (`constructor`) reads as taken and
 * takes the pair list too, as does `__proto__`: Deno drops that accessor, but under
 * `--unstable-unsafe-proto` a record key of that name would set the prototype, not a field.
 */
function responseHeaders(
  list: readonly string[],
  drop: (name: string) => boolean,
  bytes: boolean,
  requestId: string,
): Record<string, string> | [string, string][] {
  const record: Record<string, string> = {};
  for (let i = 0; i < list.length; i += 2) {
    const name = list[i];
    if (!passesOn(name, drop, bytes)) continue;
    if (record[name] !== undefined || name === "__proto__") {
      return headerPairs(list, drop, bytes, requestId);
    }
    record[name] = list[i + 1];
  }
  record["x-request-id"] = requestId;
  return record;
}

/** {@link responseHeaders} as a pair list. */
function headerPairs(
  list: readonly string[],
  drop: (name: string) => boolean,
  bytes: boolean,
  requestId: string,
): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i < list.length; i += 2) {
    if (passesOn(list[i], drop, bytes)) pairs.push([list[i], list[i + 1]]);
  }
  pairs.push(["x-request-id", requestId]);
  return pairs;
}
