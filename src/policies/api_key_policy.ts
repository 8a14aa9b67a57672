/**
 * How the `apiKey` policy validates its options and checks keys.
 *
 * Keys are found by the SHA-256 digest of what the client sent, in a Map. The Map's lookup
 * time may depend on how that digest compares with stored digests, but learning about a
 * digest teaches nothing about a key: turning a digest back into a long random key is a
 * preimage search, and a client cannot steer the digest of its guess toward a stored one
 * byte by byte. So the timing a lookup leaks is about values that are safe to leak, and the
 * cost stays O(1) with any number of keys (a constant-time scan of every key would be O(n)).
 */
import { z } from "zod";
import { authFailures, refuse } from "../identity/auth_failure.ts";
import { EnvSecretError, parseEnvEntries, readEnvSecret } from "../identity/env_secrets.ts";
import { envVarName, exactlyOneOf, headerName } from "../identity/option_schemas.ts";
import { apiKeyDigest, parseApiKeyHash } from "../identity/secret_hash.ts";
import { VouchedHeaders } from "../identity/vouched_headers.ts";
import { editableRequestHeaders } from "../proxy/state.ts";
import type { ApiKeyPolicyOptions } from "./api_key.ts";
import type { PolicyDefinition, PolicyEnv } from "./policy.ts";

const KIND = "apiKey";
const DEFAULT_HEADER = "x-api-key";
// Names go into a header (consumerHeader) and the access log: a safe, bounded alphabet.
const KEY_NAME = /^[A-Za-z0-9._@~+-]{1,128}$/;
const NAME_RULE = "must be 1 to 128 letters, digits or . _ @ ~ + -";
// A key from the environment cannot hold whitespace: entries are split on commas and lines.
const PLAIN_KEY = /^[\x21-\x7e]{1,512}$/;

const keyEntry = z.strictObject({
  name: z.string().regex(KEY_NAME, NAME_RULE),
  hash: z.string().refine(
    (text) => parseApiKeyHash(text) !== undefined,
    'must be "sha256:" followed by 64 hex digits (the SHA-256 of the key)',
  ),
});

const schema = exactlyOneOf(
  z.strictObject({
    header: headerName.optional(),
    query: z.string().regex(/^[^&=#?\s]{1,64}$/, "must be a query parameter name").optional(),
    keys: z.array(keyEntry).refine(
      (keys) => keys.length > 0,
      "must list at least one key: an empty list refuses every request",
    ).superRefine((keys, ctx) => {
      const seen = new Map<string, number>();
      keys.forEach((key, i) => {
        const digest = parseApiKeyHash(key.hash);
        if (digest === undefined) return;
        const first = seen.get(digest);
        if (first === undefined) seen.set(digest, i);
        else {
          ctx.addIssue({
            code: "custom",
            path: [i, "hash"],
            message: `is the same key as keys[${first}]: one key cannot have two names`,
          });
        }
      });
    }).optional(),
    keysEnv: envVarName.optional(),
    forward: z.boolean().optional(),
    consumerHeader: headerName.optional(),
  }),
  "keys",
  "keysEnv",
  "keys",
);

/** Digest → name, from the config's hashes or the environment's plaintext keys. */
function loadKeys(options: ApiKeyPolicyOptions, env: PolicyEnv): Map<string, string> {
  const byDigest = new Map<string, string>();
  if (options.keys) {
    for (const key of options.keys) byDigest.set(parseApiKeyHash(key.hash)!, key.name);
    return byDigest;
  }
  const source = { policy: KIND, option: "keysEnv", variable: options.keysEnv! };
  for (const entry of parseEnvEntries(readEnvSecret(env, source), source)) {
    const where = `${KIND}.keysEnv: environment variable ${source.variable}, entry ${entry.index}`;
    if (!KEY_NAME.test(entry.name)) throw new EnvSecretError(`${where}: the name ${NAME_RULE}`);
    if (!PLAIN_KEY.test(entry.secret)) {
      throw new EnvSecretError(`${where}: the key must be 1 to 512 visible ASCII characters`);
    }
    const digest = apiKeyDigest(entry.secret);
    const other = byDigest.get(digest);
    if (other !== undefined) {
      throw new EnvSecretError(`${where}: the same key is also given to "${other}"`);
    }
    byDigest.set(digest, entry.name);
  }
  return byDigest;
}

/** A presented key, or why there is none. */
type Presented = { key: string } | { missing: true } | { ambiguous: true };

function presentedKey(req: Request, header?: string, query?: string): Presented {
  const fromHeader = header ? req.headers.get(header) : null;
  if (fromHeader) return { key: fromHeader };
  if (query) {
    const values = new URL(req.url).searchParams.getAll(query).filter((v) => v !== "");
    if (values.length > 1) return { ambiguous: true };
    if (values.length === 1) return { key: values[0] };
  }
  return { missing: true };
}

/**
 * `pathAndQuery` without any `name=…` parameter. Other parameters keep their exact bytes
 * (nothing is re-encoded), so the upstream sees the rest of the query as the client sent it.
 */
export function withoutQueryParam(pathAndQuery: string, name: string): string {
  const q = pathAndQuery.indexOf("?");
  if (q < 0) return pathAndQuery;
  const kept = pathAndQuery.slice(q + 1).split("&").filter((part) => {
    const eq = part.indexOf("=");
    const raw = (eq < 0 ? part : part.slice(0, eq)).replaceAll("+", " ");
    try {
      return decodeURIComponent(raw) !== name;
    } catch {
      return raw !== name; // Malformed percent-encoding: compare as written.
    }
  });
  const path = pathAndQuery.slice(0, q);
  return kept.length ? `${path}?${kept.join("&")}` : path;
}

/** The challenge of a refusal: no scheme is registered for API keys (see the README). */
function challengeFor(header?: string, query?: string): string {
  const params = [];
  if (header) params.push(`header="${header}"`);
  if (query) params.push(`query="${query}"`);
  return `ApiKey ${params.join(", ")}`;
}

/** Definition of the `apiKey` policy. */
export const apiKeyPolicy: PolicyDefinition<"apiKey", ApiKeyPolicyOptions> = {
  kind: KIND,
  schema,
  create(options, env) {
    const keys = loadKeys(options, env);
    const failures = authFailures(env);
    const header = options.header ?? (options.query ? undefined : DEFAULT_HEADER);
    const { query, forward = false, consumerHeader } = options;
    const challenge = challengeFor(header, query);
    const consumerCopies = new VouchedHeaders(consumerHeader ? [consumerHeader] : []);
    const where = [header && `the "${header}" header`, query && `the "${query}" query parameter`]
      .filter(Boolean).join(" or ");
    return async (c, next) => {
      const state = c.get("proxy");
      const presented = presentedKey(c.req.raw, header, query);
      if ("missing" in presented) {
        return refuse(failures, KIND, state, {
          status: 401,
          reason: "missing_credentials",
          detail: `this route needs an API key in ${where}`,
          challenge,
        });
      }
      const name = "key" in presented ? keys.get(apiKeyDigest(presented.key)) : undefined;
      if (name === undefined) {
        return refuse(failures, KIND, state, {
          status: 401,
          reason: "invalid_credentials",
          detail: "ambiguous" in presented
            ? `send one API key, not several "${query}" parameters`
            : "the API key is not valid",
          challenge,
        });
      }
      state.subject = name;
      if (!forward || consumerHeader) {
        const outgoing = editableRequestHeaders(state, c.req.raw.headers);
        if (!forward && header) outgoing.delete(header);
        // A client must not be able to name itself as another consumer: its copies go, under
        // underscore spellings too (`x_consumer`), and the key's name is set.
        if (consumerHeader) {
          consumerCopies.removeFrom(outgoing);
          outgoing.set(consumerHeader, name);
        }
      }
      if (!forward && query) state.upstreamPath = withoutQueryParam(state.upstreamPath, query);
      await next();
    };
  },
};
