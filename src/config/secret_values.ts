/**
 * Keeping secrets out of config error messages. Messages are printed by `ferry check`, logged at
 * start-up and on every failed reload, so a value that may be a secret is described, never
 * shown: a plaintext API key or password pasted where its hash goes, a token written where its
 * variable's name goes (`tokenEnv`), a header value set for `Authorization`.
 */
import { describeValue } from "./format_issues.ts";

/** Names of fields and header names whose values may be secrets. */
const SECRET_FIELD =
  /secret|passw|token|hash|credential|authorization|api[-_]?key|^keys?(env)?$|^users(env)?$/i;

/** What a password or key hash looks like: showing one does not give the secret away. */
const HASH_SHAPE = /^(?:scrypt\$|\$2[abxy]?\$|\$argon2|\$scrypt\$|sha256:)/i;
/** What an environment variable name written wrong looks like ("API-KEYS"), not a token. */
const ENV_NAME_SHAPE = /^[A-Z0-9_.-]{1,64}$/;

/**
 * Whether `found`, the value at `path`, may be a secret: judged by the last named segment of
 * the path. A value shaped like a hash (in a hash field) or an upper-case variable name (in a
 * field naming a variable, like `tokenEnv`) is shown: the message is clearer with it.
 */
export function mayBeSecret(path: readonly PropertyKey[], found: unknown): boolean {
  const name = path.findLast((segment) => typeof segment === "string");
  if (typeof name !== "string" || !SECRET_FIELD.test(name)) return false;
  if (typeof found !== "string") return true;
  if (/hash/i.test(name)) return !HASH_SHAPE.test(found);
  if (/env$/i.test(name)) return !ENV_NAME_SHAPE.test(found);
  return true;
}

/** A description of `value` that tells its type and size, not its content. */
export function hiddenValue(value: unknown): string {
  const hidden = "(not shown: it may be a secret)";
  if (typeof value === "string") return `a string of ${value.length} characters ${hidden}`;
  if (Array.isArray(value)) return `a list of ${value.length} items ${hidden}`;
  if (typeof value === "object" && value !== null) return `an object ${hidden}`;
  return `a ${typeof value} ${hidden}`;
}

/**
 * `message` with every rendering of `found` replaced by `hiddenValue(found)`: the quoted
 * preview messages are built with (`describeValue`) and, for strings long enough not to be
 * mistaken for a word of the message, the raw text.
 */
export function withoutSecret(message: string, found: unknown): string {
  if (found === undefined || found === null || typeof found === "boolean") return message;
  const hidden = hiddenValue(found);
  const shown = describeValue(found);
  // A short number or `[]` is no secret, and replacing "1" would garble the rest of the message.
  let out = typeof found === "string" || shown.length >= 4
    ? message.replaceAll(shown, hidden)
    : message;
  if (typeof found === "string" && found.length >= 6) out = out.replaceAll(found, hidden);
  return out;
}
