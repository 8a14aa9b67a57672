/**
 * One GET to an identity provider (discovery document or JWKS) with the limits such calls need:
 * a timeout, a cap on the body size (a misbehaving provider must not make the gateway buffer
 * gigabytes), and cancellation when the gateway closes. Failures come out as
 * {@link IdpFetchError} carrying a bounded metric label.
 */
import { readBounded } from "../proxy/bytes.ts";

/** How a fetch failed, as a metric label. */
export type IdpFetchFailure = "error" | "timeout" | "invalid";

export class IdpFetchError extends Error {
  constructor(readonly result: IdpFetchFailure, message: string) {
    super(message);
    this.name = "IdpFetchError";
  }
}

/** Raised when the fetch was cancelled because its owner closed: not a failure to report. */
export class IdpFetchCancelled extends Error {
  constructor() {
    super("cancelled");
    this.name = "IdpFetchCancelled";
  }
}

/** Discovery documents and key sets are a few kilobytes; a megabyte is generous. */
export const MAX_IDP_BODY_BYTES = 1 << 20;

export interface BoundedGet {
  status: number;
  headers: Headers;
  /** The body as text (empty for 304). */
  text: string;
}

/**
 * GETs `url`, failing after `timeoutMs` or when `cancel` aborts. Only 200 and 304 are
 * answers; anything else is an `IdpFetchError`.
 */
export async function boundedGet(
  url: URL,
  init: { timeoutMs: number; cancel: AbortSignal; headers?: Record<string, string> },
): Promise<BoundedGet> {
  if (init.cancel.aborted) throw new IdpFetchCancelled();
  const controller = new AbortController();
  let timedOut = false;
  // A plain timer, cleared in `finally`: the gateway's tests run with timer sanitizers.
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, init.timeoutMs);
  const onCancel = () => controller.abort();
  init.cancel.addEventListener("abort", onCancel);
  try {
    const res = await fetch(url, {
      headers: { accept: "application/json", ...init.headers },
      redirect: "follow",
      signal: controller.signal,
    });
    if (res.status === 304) {
      await res.body?.cancel();
      return { status: 304, headers: res.headers, text: "" };
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new IdpFetchError("error", `${url} answered ${res.status}`);
    }
    return { status: 200, headers: res.headers, text: await readCapped(res, url) };
  } catch (e) {
    if (e instanceof IdpFetchError) throw e;
    if (init.cancel.aborted) throw new IdpFetchCancelled();
    if (timedOut) {
      throw new IdpFetchError("timeout", `${url} did not answer within ${init.timeoutMs} ms`);
    }
    throw new IdpFetchError("error", `${url} could not be fetched: ${describe(e)}`);
  } finally {
    clearTimeout(timer);
    init.cancel.removeEventListener("abort", onCancel);
  }
}

async function readCapped(res: Response, url: URL): Promise<string> {
  const declared = Number(res.headers.get("content-length") ?? "0");
  if (declared > MAX_IDP_BODY_BYTES) {
    await res.body?.cancel();
    throw new IdpFetchError("invalid", `${url} sent ${declared} bytes, over the 1 MiB limit`);
  }
  const bytes = await readBounded(res.body, MAX_IDP_BODY_BYTES);
  if (bytes === undefined) {
    throw new IdpFetchError("invalid", `${url} sent more than the 1 MiB limit`);
  }
  return new TextDecoder().decode(bytes);
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
