/** The `basicAuth` policy's factory (config side: plain data, no dependencies). */
import type { Duration, PolicyDescriptor } from "../config/types.ts";
import { descriptor } from "./policy.ts";

/** One user: a name and an scrypt hash of the password. */
export interface BasicAuthUser {
  /** The user name: becomes the request's subject. No `:`, `,` or control characters. */
  name: string;
  /** `scrypt$N$r$p$<salt base64>$<hash base64>` (`hashPassword(password)` computes it). */
  hash: string;
}

/** Options of {@link basicAuth}, as validated (exactly one of `users` and `usersEnv`). */
export interface BasicAuthPolicyOptions {
  /** The protection space named in the challenge, shown by browsers in the login prompt. */
  realm: string;
  /** Accepted users, with hashed passwords. */
  users?: BasicAuthUser[];
  /**
   * Name of an environment variable holding `user:hash` entries separated by newlines or
   * commas, with the same hashes as `users`.
   */
  usersEnv?: string;
  /** Send the `Authorization` header on to the upstream. Default `false`: it is removed. */
  forward?: boolean;
  /**
   * How long a verified user name and password pair skips the scrypt check. Default `"60s"`;
   * `"0s"` checks every request.
   */
  cacheTtl?: Duration;
}

/** Where the users come from: the config, or an environment variable. */
export type BasicAuthSource = { users: BasicAuthUser[]; usersEnv?: never } | {
  usersEnv: string;
  users?: never;
};

/** Options of {@link basicAuth}. */
export type BasicAuthOptions = Omit<BasicAuthPolicyOptions, "users" | "usersEnv"> & BasicAuthSource;

/**
 * Requires HTTP Basic credentials (RFC 7617) checked against scrypt password hashes. The user
 * name becomes the request's subject. Missing or wrong credentials answer `401` problem+json
 * with `WWW-Authenticate: Basic realm="…", charset="UTF-8"`, counted in
 * `ferry_auth_failures_total`. Unknown users cost as much time as wrong passwords, as long as
 * every hash has the same cost (the gateway warns at load about users whose cost differs).
 *
 * @example
 * ```ts
 * basicAuth({ realm: "ops", users: [{ name: "ana", hash: "scrypt$32768$8$1$…$…" }] })
 * // Users from the environment: OPS_USERS="ana:scrypt$32768$8$1$…$…".
 * basicAuth({ realm: "ops", usersEnv: "OPS_USERS", cacheTtl: "5m" })
 * ```
 */
export function basicAuth(
  options: BasicAuthOptions,
): PolicyDescriptor<"basicAuth", BasicAuthPolicyOptions> {
  return descriptor("basicAuth", options);
}
