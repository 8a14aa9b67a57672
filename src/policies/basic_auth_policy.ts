/**
 * How the `basicAuth` policy validates its options and checks Basic credentials (RFC 7617)
 * against scrypt hashes, with a short cache of successes and a gateway-wide bound on how many
 * scrypt checks run at once.
 */
import { createHash } from "node:crypto";
import { Counter } from "prom-client";
import { z } from "zod";
import { parseDuration } from "../config/duration.ts";
import { authFailures, refuse } from "../identity/auth_failure.ts";
import { EnvSecretError, parseEnvEntries, readEnvSecret } from "../identity/env_secrets.ts";
import { envVarName, exactlyOneOf } from "../identity/option_schemas.ts";
import {
  checkPasswordHash,
  decoyForUsers,
  type PasswordHash,
  sameScryptCost,
  verifyPassword,
} from "../identity/secret_hash.ts";
import { Slots, SlotsFull } from "../identity/slots.ts";
import { VerifiedCache } from "../identity/verified_cache.ts";
import { recordRejection } from "../observe/tracing.ts";
import { problem } from "../proxy/problem.ts";
import { editableRequestHeaders, type ProxyState } from "../proxy/state.ts";
import type { BasicAuthPolicyOptions } from "./basic_auth.ts";
import type { PolicyDefinition, PolicyEnv } from "./policy.ts";

const KIND = "basicAuth";
const DEFAULT_CACHE_TTL = "60s";
const MAX_CACHE_TTL_MS = 3_600_000;
/** Verified pairs remembered per policy: enough for every active user of an internal tool. */
const CACHE_ENTRIES = 1024;
/**
 * scrypt checks running at once across the gateway. Each holds 128·N·r bytes (32 MiB with the
 * default cost), so this bounds the memory a flood of wrong passwords can take.
 */
const CONCURRENT_CHECKS = 4;
/**
 * scrypt checks waiting for one of those slots, across the gateway. At 0.1–0.3 s a check, 64
 * waiting is a wait of 2–5 s; a flood beyond that is refused at once (503 with `Retry-After`)
 * rather than queued without end, which would make every legitimate check wait behind it.
 * Pairs verified recently come from the cache and never wait.
 */
const WAITING_CHECKS = 64;

// RFC 7617: a user-id cannot contain ":". Commas separate entries in `usersEnv`.
// deno-lint-ignore no-control-regex -- control characters are exactly what the class excludes.
const USER_NAME = /^[^:,\x00-\x1f\x7f]{1,256}$/;
const USER_RULE = "must be 1 to 256 characters without ':', ',' or control characters";

const passwordHash = z.string().superRefine((text, ctx) => {
  const check = checkPasswordHash(text);
  if (!check.ok) ctx.addIssue({ code: "custom", message: check.message, input: text });
});

const schema = exactlyOneOf(
  z.strictObject({
    // The realm is a quoted-string in a header: printable ASCII, no quote or backslash.
    realm: z.string().regex(
      /^[\x20\x21\x23-\x5b\x5d-\x7e]{1,200}$/,
      "must be 1 to 200 printable ASCII characters, without double quotes or backslashes",
    ),
    users: z.array(z.strictObject({
      name: z.string().regex(USER_NAME, USER_RULE),
      hash: passwordHash,
    })).refine(
      (users) => users.length > 0,
      "must list at least one user: an empty list refuses every request",
    ).superRefine((users, ctx) => {
      const seen = new Map<string, number>();
      users.forEach((user, i) => {
        // Names are compared in NFC (RFC 7617), so two spellings of one name are one user.
        const name = user.name.normalize("NFC");
        const first = seen.get(name);
        if (first === undefined) seen.set(name, i);
        else {
          ctx.addIssue({
            code: "custom",
            path: [i, "name"],
            message: `is the same user as users[${first}]`,
          });
        }
      });
    }).optional(),
    usersEnv: envVarName.optional(),
    forward: z.boolean().optional(),
    cacheTtl: z.string().refine((text) => {
      const ms = parseDuration(text);
      return ms !== undefined && ms <= MAX_CACHE_TTL_MS;
    }, 'must be a duration like "30s" or "5m", at most "1h" ("0s" turns the cache off)')
      .optional(),
  }),
  "users",
  "usersEnv",
  "users",
) as z.ZodType<BasicAuthPolicyOptions>;

/**
 * Counts checks by how they were answered: `cache` (a recent success, no scrypt) or `scrypt`
 * (a full verification, unknown users included). A low cache share under steady traffic means
 * the TTL is too short, or someone is guessing passwords.
 */
function passwordChecks(env: PolicyEnv): Counter<"check"> {
  return env.shared("metric:ferry_basic_auth_checks_total", () =>
    new Counter({
      name: "ferry_basic_auth_checks_total",
      help: "Basic credentials checked, by how: a cached recent success, or a full scrypt run.",
      labelNames: ["check"],
      registers: [env.metrics],
    }));
}

/** NFC user name → parsed hash, from the config or the environment. */
function loadUsers(options: BasicAuthPolicyOptions, env: PolicyEnv): Map<string, PasswordHash> {
  const users = new Map<string, PasswordHash>();
  if (options.users) {
    for (const user of options.users) {
      const check = checkPasswordHash(user.hash);
      if (check.ok) users.set(user.name.normalize("NFC"), check.value);
    }
    return users;
  }
  const source = { policy: KIND, option: "usersEnv", variable: options.usersEnv! };
  for (const entry of parseEnvEntries(readEnvSecret(env, source), source)) {
    const where = `${KIND}.usersEnv: environment variable ${source.variable}, entry ${entry.index}`;
    if (!USER_NAME.test(entry.name)) throw new EnvSecretError(`${where}: the name ${USER_RULE}`);
    const name = entry.name.normalize("NFC");
    if (users.has(name)) throw new EnvSecretError(`${where}: user "${name}" is listed twice`);
    const check = checkPasswordHash(entry.secret);
    if (!check.ok) throw new EnvSecretError(`${where}: the hash ${check.message}`);
    users.set(name, check.value);
  }
  return users;
}

/** A digest of every user name and password hash, and the TTL: equal only when all are. */
function usersFingerprint(users: ReadonlyMap<string, PasswordHash>, ttlMs: number): string {
  const digest = createHash("sha256").update(`${ttlMs}`);
  for (const [name, { N, r, p, salt, hash }] of users) {
    // Lengths first, so that no two different lists can feed the same bytes.
    digest.update(`|${name.length}:${name}|${N}:${r}:${p}:${salt.length}:${hash.length}|`);
    digest.update(salt).update(hash);
  }
  return digest.digest("base64");
}

/**
 * Users whose hash costs more or less than the decoy answer a wrong password in another time
 * than an unknown name does, which tells a prober that those names exist: worth a warning at
 * load, naming who to rehash (the names are the operator's own config, not secrets).
 */
function warnOfMixedCosts(
  users: ReadonlyMap<string, PasswordHash>,
  decoy: PasswordHash,
  realm: string,
  env: PolicyEnv,
): void {
  const others = [...users].filter(([, hash]) => !sameScryptCost(hash, decoy));
  if (others.length === 0) return;
  env.logger.log(
    "warn",
    "basicAuth password hashes use different scrypt costs: timing tells these users' names " +
      "from unknown ones; rehash them with the same cost as the others",
    {
      realm,
      decoyCost: `N=${decoy.N},r=${decoy.r},p=${decoy.p}`,
      usersWithOtherCosts: others.map(([name, h]) => `${name} (N=${h.N},r=${h.r},p=${h.p})`),
    },
  );
}

/** What an `Authorization` header holds for this policy. */
export type BasicCredentials =
  | { user: string; password: string }
  | { missing: true }
  | { malformed: true };

const decoder = new TextDecoder("utf-8", { fatal: true });

/** Reads Basic credentials; another scheme counts as missing, since it is not Basic. */
export function parseBasicCredentials(header: string | null): BasicCredentials {
  const scheme = header?.match(/^\s*basic(?:\s+|$)/i);
  if (!header || !scheme) return { missing: true };
  const token = header.slice(scheme[0].length).trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(token) || token.length % 4 === 1) return { malformed: true };
  let text: string;
  try {
    const binary = atob(token);
    text = decoder.decode(Uint8Array.from(binary, (ch) => ch.charCodeAt(0)));
  } catch {
    return { malformed: true }; // Not base64, or not UTF-8.
  }
  const colon = text.indexOf(":");
  if (colon < 0) return { malformed: true };
  return {
    user: text.slice(0, colon).normalize("NFC"),
    password: text.slice(colon + 1).normalize("NFC"),
  };
}

/** Definition of the `basicAuth` policy. */
export const basicAuthPolicy: PolicyDefinition<"basicAuth", BasicAuthPolicyOptions> = {
  kind: KIND,
  schema,
  create(options, env) {
    const users = loadUsers(options, env);
    const decoy = decoyForUsers([...users.values()]);
    warnOfMixedCosts(users, decoy, options.realm, env);
    const failures = authFailures(env);
    const checks = passwordChecks(env);
    const slots = env.shared(
      "identity:scrypt-slots",
      () => new Slots(CONCURRENT_CHECKS, WAITING_CHECKS),
    );
    const ttlMs = parseDuration(options.cacheTtl ?? DEFAULT_CACHE_TTL)!;
    // Shared by builds with the same users and TTL, so a reload that leaves them alone keeps
    // what was verified (rebuilding it would send every active user through scrypt at once);
    // any change to a user or a hash is another key, so it starts empty.
    const cache = env.shared(
      `basicAuth-verified:${usersFingerprint(users, ttlMs)}`,
      () => new VerifiedCache(ttlMs, CACHE_ENTRIES),
    );
    const challenge = `Basic realm="${options.realm}", charset="UTF-8"`;
    const forward = options.forward ?? false;

    /** Whether the pair matches; unknown users cost a full check against a decoy hash. */
    const verify = async (user: string, password: string): Promise<boolean> => {
      const stored = users.get(user);
      const key = stored && cache.key(user, password);
      if (key !== undefined && cache.has(key)) {
        checks.labels("cache").inc();
        return true;
      }
      const matches = await slots.run(async () => {
        const result = await verifyPassword(password, stored ?? decoy);
        checks.labels("scrypt").inc(); // counted once scrypt really ran
        return result;
      });
      if (!matches || key === undefined) return false;
      cache.add(key);
      return true;
    };

    /** Too many checks already wait: not the client's credentials' fault, so not a 401. */
    const overloaded = (state: ProxyState) => {
      failures.labels(KIND, "overloaded").inc();
      recordRejection(state, KIND, "overloaded", 503);
      return problem(
        503,
        "auth-unavailable",
        "too many password checks are waiting; retry shortly",
        state.requestId,
        { "cache-control": "no-store", "retry-after": "1" },
      );
    };

    return async (c, next) => {
      const state = c.get("proxy");
      const credentials = parseBasicCredentials(c.req.raw.headers.get("authorization"));
      if ("missing" in credentials) {
        return refuse(failures, KIND, state, {
          status: 401,
          reason: "missing_credentials",
          detail: "this route needs a user name and password (HTTP Basic authentication)",
          challenge,
        });
      }
      if ("malformed" in credentials) {
        return refuse(failures, KIND, state, {
          status: 401,
          reason: "malformed_credentials",
          detail: 'the Basic credentials are not base64 of UTF-8 "user:password"',
          challenge,
        });
      }
      let verified: boolean;
      try {
        verified = await verify(credentials.user, credentials.password);
      } catch (e) {
        if (!(e instanceof SlotsFull)) throw e;
        return overloaded(state);
      }
      if (!verified) {
        return refuse(failures, KIND, state, {
          status: 401,
          reason: "invalid_credentials",
          // The same words for a wrong name and a wrong password: which names exist stays hidden.
          detail: "the user name or password is wrong",
          challenge,
        });
      }
      state.subject = credentials.user;
      if (!forward) editableRequestHeaders(state, c.req.raw.headers).delete("authorization");
      await next();
    };
  },
};
