/**
 * The `forwardAuth` policy's factory (config side: plain data, no dependencies). It asks an
 * external auth service about every request, like Traefik's ForwardAuth or nginx's
 * `auth_request`.
 */
import type { Duration, PolicyDescriptor } from "../config/types.ts";
import { descriptor } from "./policy.ts";

/** How the auth service is called. */
export type ForwardAuthMethod = "GET" | "HEAD" | "POST";

/** Options of {@link forwardAuth}. */
export interface ForwardAuthOptions {
  /** The auth service's endpoint, `http:` or `https:`, like `"http://127.0.0.1:9000/verify"`. */
  url: string;
  /** Method of the auth sub-request. Default `"GET"`. The client's body is never sent. */
  method?: ForwardAuthMethod;
  /**
   * Client headers sent to the auth service (case-insensitive). Default
   * `["authorization", "cookie"]`. `X-Forwarded-Method`, `-Uri`, `-Host`, `-Proto`, `-For` and
   * `X-Request-Id` are always sent.
   */
  requestHeaders?: string[];
  /**
   * Headers copied from a 2xx answer onto the request sent upstream, replacing the client's.
   * Copies sent by the client are always removed, even when the auth service sets none, so a
   * client cannot pretend to be someone; so are underscore spellings (`x_user_id`), which CGI,
   * WSGI, PHP and Rack read as the same header.
   */
  responseHeaders?: string[];
  /**
   * A header of the 2xx answer whose value is the authenticated subject (access log, traces).
   * A copy sent by the client is removed too: the upstream gets the auth service's value when
   * the header is also in `responseHeaders`, and none otherwise.
   */
  subjectHeader?: string;
  /** How long the auth service may take, answer body included. Default `"2s"`. */
  timeout?: Duration;
}

/**
 * Lets a request through only when an external auth service says so.
 *
 * - A 2xx answer allows it: `responseHeaders` are copied onto the request sent upstream and
 *   `subjectHeader` names the subject.
 * - Any other answer (a 401 with `WWW-Authenticate`, a 302 to a login page, a 403) is returned
 *   to the client as the auth service sent it: status, headers (minus hop-by-hop ones) and body
 *   (up to 64 KiB).
 * - No answer within `timeout`, or no connection at all, fails closed: the client gets a 503
 *   problem and the upstream never sees the request.
 *
 * Refusals and failures are counted in `ferry_auth_failures_total{policy="forwardAuth",reason}`.
 *
 * @example
 * ```ts
 * forwardAuth({
 *   url: "http://127.0.0.1:9000/verify",
 *   requestHeaders: ["authorization", "cookie"],
 *   responseHeaders: ["x-user-id", "x-user-roles"],
 *   subjectHeader: "x-user-id",
 *   timeout: "500ms",
 * })
 * ```
 */
export function forwardAuth(
  options: ForwardAuthOptions,
): PolicyDescriptor<"forwardAuth", ForwardAuthOptions> {
  return descriptor("forwardAuth", options);
}
