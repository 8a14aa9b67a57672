/**
 * The config as admin `/config` shows it. No token guards that endpoint, and a config holds
 * plaintext secrets wherever an operator must write one: a `headers` policy sending upstream
 * credentials (`authorization`, `x-api-key`), a custom policy's `token` option. Such values are
 * described (type and length) by the same rule that keeps them out of config error messages;
 * hashes, variable names and every other value are shown as they are.
 */
import { hiddenValue, mayBeSecret } from "../config/secret_values.ts";

/** A copy of `value` with every string that may be a secret replaced by its description. */
export function withoutSecretValues<T>(value: T): T {
  return redact(value, []) as T;
}

function redact(value: unknown, path: PropertyKey[]): unknown {
  if (typeof value === "string") return mayBeSecret(path, value) ? hiddenValue(value) : value;
  if (Array.isArray(value)) return value.map((item, i) => redact(item, [...path, i]));
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = redact(item, [...path, key]);
  return out;
}
