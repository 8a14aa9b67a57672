/**
 * One forward-auth sub-request: what is sent to the auth service, and its answer reduced to a
 * verdict. The client's body is never sent (the auth service decides on headers, as with
 * Traefik and nginx), and every way of not getting an answer ends as `unavailable`, which the
 * policy turns into a refusal: nothing here can let a request through by failing.
 */
import { readBounded } from "../proxy/bytes.ts";

/** Longest denial body handed back to the client (a login page or a problem document). */
export const MAX_DENIAL_BODY_BYTES = 64 * 1024;

/** What the auth service is asked, and how. */
export interface AuthCall {
  url: string;
  method: string;
  headers: Headers;
  timeoutMs: number;
  /** The pooled client of the gateway (closed at shutdown with the gateway's shared state). */
  client: Deno.HttpClient;
}

/** The auth service's verdict. */
export type AuthVerdict =
  | { kind: "allow"; headers: Headers }
  | {
    kind: "deny";
    status: number;
    headers: Headers;
    /** The body as sent, or `undefined` when it exceeded {@link MAX_DENIAL_BODY_BYTES}. */
    body: Uint8Array<ArrayBuffer> | undefined;
  }
  | { kind: "unavailable"; reason: "timeout" | "unreachable" | "invalid_answer"; error: string };

/** Asks the auth service. Never throws. */
export async function callAuthService(call: AuthCall): Promise<AuthVerdict> {
  const deadline = new AbortController();
  // A plain timer, cleared in `finally`: it covers the denial body too, which a slow or
  // endless auth service could otherwise drip forever. The client's disconnect is not watched
  // (Deno's `request.signal` also fires after every successful response): the timeout already
  // bounds the work of a request nobody waits for.
  const timer = setTimeout(() => deadline.abort(), call.timeoutMs);
  try {
    const res = await fetch(call.url, {
      method: call.method,
      headers: call.headers,
      // 3xx answers (to a login page) are the auth service's to hand to the client.
      redirect: "manual",
      signal: deadline.signal,
      client: call.client,
    });
    if (res.status > 599) {
      // HTTP/1.1 lets a server send any three digits, but no response can carry 600–999 on to
      // the client: it is no verdict at all, and fails closed like no answer.
      await res.body?.cancel();
      return {
        kind: "unavailable",
        reason: "invalid_answer",
        error: `the auth service answered with status ${res.status}`,
      };
    }
    if (res.status >= 200 && res.status < 300) {
      await res.body?.cancel();
      return { kind: "allow", headers: res.headers };
    }
    const body = await readBounded(res.body, MAX_DENIAL_BODY_BYTES);
    return { kind: "deny", status: res.status, headers: res.headers, body };
  } catch (error) {
    const reason = deadline.signal.aborted ? "timeout" : "unreachable";
    return { kind: "unavailable", reason, error: describe(error) };
  } finally {
    clearTimeout(timer);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
