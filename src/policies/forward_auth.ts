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
  /**
   * Cookies of a 2xx answer that go on to the client with the response, whatever it is (the
   * upstream's, an error, another policy's refusal), like Traefik's `addAuthCookiesToResponse`
   * and nginx's `auth_request_set $c $upstream_http_set_cookie; add_header Set-Cookie $c`:
   * oauth2-proxy refreshes its session cookie on the 202 it answers, and a dropped refresh sends
   * users back to the login page when the old cookie expires. Names are case-sensitive; one
   * ending in `*` takes every cookie whose name starts with the rest (`"_oauth2_proxy*"` also
   * takes the `_oauth2_proxy_0`, `_oauth2_proxy_1` parts oauth2-proxy splits a large session
   * into), and `"*"` takes them all. Each `Set-Cookie` line is copied as sent, on its own line;
   * the upstream's own cookies are kept, except one with the name of a cookie the auth service
   * set, which the auth service's replaces. Default: none. (A denial's cookies always reach the
   * client, with the rest of the denial.)
   */
  responseCookies?: string[];
  /** How long the auth service may take, answer body included. Default `"2s"`. */
  timeout?: Duration;
  /** TLS to an `https:` auth service. Default: Deno's default roots only. */
  tls?: ForwardAuthTlsOptions;
}

/** TLS settings of {@link ForwardAuthOptions.tls}. */
export interface ForwardAuthTlsOptions {
  /**
   * PEM certificates of private CAs the auth service's certificate may chain to, besides Deno's
   * default roots (`Deno.readTextFileSync("/etc/ferry/internal-ca.pem")`, under `--allow-read`
   * for that file), as an upstream's `tls.caCerts`. `DENO_CERT` or `DENO_TLS_CA_STORE=system`
   * extend the roots for the whole process instead.
   */
  caCerts?: string[];
}

/**
 * Lets a request through only when an external auth service says so.
 *
 * - A 2xx answer allows it: `responseHeaders` are copied onto the request sent upstream,
 *   `subjectHeader` names the subject, and the `responseCookies` it sets go to the client with
 *   the response.
 * - Any other answer (a 401 with `WWW-Authenticate`, a 302 to a login page, a 403) is returned
 *   to the client as the auth service sent it: status, headers (minus hop-by-hop ones) and body
 *   (up to 64 KiB).
 * - No answer within `timeout`, or no connection at all (an `https:` certificate no trusted CA
 *   signed among them), fails closed: the client gets a 503 problem and the upstream never sees
 *   the request.
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
 *   responseCookies: ["_oauth2_proxy*"],
 *   timeout: "500ms",
 * })
 * ```
 */
export function forwardAuth(
  options: ForwardAuthOptions,
): PolicyDescriptor<"forwardAuth", ForwardAuthOptions> {
  return descriptor("forwardAuth", options);
}
