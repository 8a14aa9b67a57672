/** The `apiKey` policy's factory (config side: plain data, no dependencies). */
import type { PolicyDescriptor } from "../config/types.ts";
import { descriptor } from "./policy.ts";

/** One accepted key: the consumer's name and the key's SHA-256 digest. */
export interface ApiKeyEntry {
  /** Who the key belongs to: becomes the request's subject. Letters, digits and `._@~+-`. */
  name: string;
  /** `sha256:<64 hex digits>` of the key (`hashApiKey(key)` computes it). */
  hash: string;
}

/** Options of {@link apiKey}, as validated (exactly one of `keys` and `keysEnv`). */
export interface ApiKeyPolicyOptions {
  /** Header carrying the key. Default `"x-api-key"`, unless only `query` is given. */
  header?: string;
  /** Query parameter carrying the key (for clients that cannot set headers). */
  query?: string;
  /** Accepted keys, hashed. */
  keys?: ApiKeyEntry[];
  /**
   * Name of an environment variable holding plaintext keys as `name:key` entries separated by
   * commas or newlines (`mobile:k3y-one,batch:k3y-two`). Read when the config loads; the
   * gateway keeps only their digests.
   */
  keysEnv?: string;
  /** Send the key on to the upstream. Default `false`: it is removed from header and query. */
  forward?: boolean;
  /** Header set upstream to the key's name, replacing any value the client sent. */
  consumerHeader?: string;
}

/** Where the accepted keys come from: hashes in the config, or an environment variable. */
export type ApiKeySource = { keys: ApiKeyEntry[]; keysEnv?: never } | {
  keysEnv: string;
  keys?: never;
};

/** Options of {@link apiKey}. */
export type ApiKeyOptions = Omit<ApiKeyPolicyOptions, "keys" | "keysEnv"> & ApiKeySource;

/**
 * Requires an API key in a header (default `x-api-key`) or a query parameter. The key's name
 * becomes the request's subject (access log, traces) and, with `consumerHeader`, a header sent
 * upstream. A missing or unknown key answers `401` problem+json with
 * `WWW-Authenticate: ApiKey header="x-api-key"`, counted in `ferry_auth_failures_total`.
 *
 * @example
 * ```ts
 * // Keys hashed in the config: hashApiKey from src/identity/secret_hash.ts (see the README).
 * apiKey({ keys: [{ name: "mobile", hash: "sha256:9f86d0…" }], consumerHeader: "x-consumer" })
 * // Plaintext keys from the environment: API_KEYS="mobile:abc…,batch:def…".
 * apiKey({ keysEnv: "API_KEYS", query: "api_key" })
 * ```
 */
export function apiKey(options: ApiKeyOptions): PolicyDescriptor<"apiKey", ApiKeyPolicyOptions> {
  return descriptor("apiKey", options);
}
