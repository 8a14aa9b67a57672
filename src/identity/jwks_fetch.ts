/**
 * One JWKS fetch: a conditional GET (an `ETag` from the previous answer makes an unchanged set
 * cost a 304), parsed into a {@link KeySet}, with the provider's `Cache-Control` freshness.
 */
import { boundedGet, IdpFetchError } from "./bounded_fetch.ts";
import { InvalidKeySetError, type KeySet, keySetFromText } from "./jwks_key_set.ts";

export type JwksAnswer =
  | { kind: "fresh"; keys: KeySet; etag?: string; maxAgeMs?: number }
  | { kind: "not_modified"; maxAgeMs?: number };

/** Fetches the JWKS at `url`; throws `IdpFetchError` (or `IdpFetchCancelled`). */
export async function fetchJwks(
  url: URL,
  init: { timeoutMs: number; cancel: AbortSignal; etag?: string },
): Promise<JwksAnswer> {
  const headers: Record<string, string> = {
    accept: "application/jwk-set+json, application/json",
  };
  if (init.etag) headers["if-none-match"] = init.etag;
  const answer = await boundedGet(url, { ...init, headers });
  const maxAgeMs = freshnessMs(answer.headers.get("cache-control"));
  if (answer.status === 304) return { kind: "not_modified", maxAgeMs };
  let keys: KeySet;
  try {
    keys = keySetFromText(answer.text);
  } catch (e) {
    if (e instanceof InvalidKeySetError) throw new IdpFetchError("invalid", `${url}: ${e.message}`);
    throw e;
  }
  return { kind: "fresh", keys, etag: answer.headers.get("etag") ?? undefined, maxAgeMs };
}

/**
 * The freshness lifetime a `Cache-Control` value grants, in ms: `max-age` (or 0 for
 * `no-cache`/`no-store`, which the cache then bounds to its floor); `undefined` when it says
 * nothing about freshness.
 */
export function freshnessMs(cacheControl: string | null): number | undefined {
  if (!cacheControl) return undefined;
  let maxAge: number | undefined;
  for (const part of cacheControl.toLowerCase().split(",")) {
    const [name, value] = part.trim().split("=", 2);
    if (name === "no-store" || name === "no-cache") return 0;
    if (name === "max-age" && value !== undefined && /^\d+$/.test(value.replace(/"/g, ""))) {
      maxAge = Number(value.replace(/"/g, "")) * 1000;
    }
  }
  return maxAge;
}
