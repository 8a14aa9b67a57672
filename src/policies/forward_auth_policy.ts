/**
 * How the `forwardAuth` policy validates its options and asks the auth service about each
 * request: 2xx lets it through (with the auth service's headers), any other answer goes back to
 * the client as it was sent, and no answer at all refuses the request (fail closed).
 */
import { z } from "zod";
import { caCertificates } from "../config/ca_certificate.ts";
import { parseDuration } from "../config/duration.ts";
import { authFailures } from "../identity/auth_failure.ts";
import { recordRejection } from "../observe/tracing.ts";
import { callAuthService } from "../identity/forward_auth_call.ts";
import { denialResponse } from "../identity/forward_auth_denial.ts";
import { VouchedHeaders } from "../identity/vouched_headers.ts";
import { HOP_BY_HOP } from "../proxy/hop_by_hop.ts";
import { cookieField } from "../proxy/outbound_headers.ts";
import { problem } from "../proxy/problem.ts";
import { editableRequestHeaders, type ProxyState } from "../proxy/state.ts";
import { splitUrl } from "../routing/request_view.ts";
import type { ForwardAuthOptions } from "./forward_auth.ts";
import { headerName } from "./header_field_schemas.ts";
import type { PolicyDefinition, PolicyEnv, PolicyMiddleware } from "./policy.ts";
import { MAX_TIMER_MS } from "../config/timer_limit.ts";

const KIND = "forwardAuth";
const DEFAULT_REQUEST_HEADERS = ["authorization", "cookie"];
const DEFAULT_TIMEOUT_MS = 2_000;

/**
 * Headers a list may not name: connection-specific ones, and those the policy or the forwarder
 * set themselves, whose configured copy would be dropped or overwritten without a word.
 */
const RESERVED = new Set([
  ...HOP_BY_HOP,
  "host",
  "content-length",
  "expect",
  "x-forwarded-method",
  "x-forwarded-uri",
  "x-forwarded-host",
  "x-forwarded-proto",
  "x-forwarded-for",
  "x-request-id",
]);

// Messages start with "must": validation puts the value found in front of them.
const headerList = z.array(
  headerName.refine(
    (name) => !RESERVED.has(name.toLowerCase()),
    "must not be a hop-by-hop header or one Ferry sets itself (host, content-length, expect, " +
      "x-forwarded-*, x-request-id)",
  ),
);

/**
 * A `responseCookies` entry: a cookie name (an RFC 6265 token, `*` aside), optionally followed by
 * `*` to take every name it starts, or `*` alone.
 */
const COOKIE_PATTERN = /^[!#$%&'+\-.^_`|~0-9A-Za-z]*\*?$/;
const cookiePatterns = z.array(
  z.string().refine(
    (pattern) => pattern !== "" && COOKIE_PATTERN.test(pattern),
    'must be a cookie name (letters, digits and !#$%&\'+-.^_`|~), optionally ending in "*" ' +
      "to take every cookie whose name starts with it",
  ),
);

function isServiceUrl(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const url = new URL(text);
  return (url.protocol === "http:" || url.protocol === "https:") && url.username === "" &&
    url.password === "";
}

const tls = z.strictObject({ caCerts: caCertificates.optional() });

const schema = z.strictObject({
  url: z.string().refine(
    isServiceUrl,
    'must be an absolute "http:" or "https:" URL without user or password',
  ),
  method: z.enum(["GET", "HEAD", "POST"]).optional(),
  requestHeaders: headerList.optional(),
  responseHeaders: headerList.optional(),
  subjectHeader: headerName.optional(),
  responseCookies: cookiePatterns.optional(),
  timeout: z.string().refine((text) => {
    const ms = parseDuration(text);
    return ms !== undefined && ms > 0 && ms <= MAX_TIMER_MS;
  }, 'must be a duration like "500ms" or "2s", above 0 and shorter than 24 days').optional(),
  tls: tls.optional(),
});

/** One route's forwardAuth, with its options resolved once. */
interface Settings {
  url: string;
  method: string;
  requestHeaders: readonly string[];
  responseHeaders: readonly string[];
  subjectHeader?: string;
  /** `responseHeaders` and `subjectHeader`: no client copy of them reaches the upstream. */
  vouched: VouchedHeaders;
  /** `responseCookies`, or `undefined` when none go to the client (nothing to do per request). */
  cookies?: CookieSelection;
  timeoutMs: number;
}

/** One `Set-Cookie` line of the auth service's answer, with its cookie's name. */
interface AuthCookie {
  name: string;
  line: string;
}

/** Which of the auth service's cookies go on to the client: `responseCookies`, compiled. */
class CookieSelection {
  readonly #names = new Set<string>();
  readonly #prefixes: string[] = [];

  constructor(patterns: readonly string[]) {
    for (const p of patterns) {
      if (p.endsWith("*")) this.#prefixes.push(p.slice(0, -1));
      else this.#names.add(p);
    }
  }

  /** The `Set-Cookie` lines of `answer` whose cookie is selected, each as it was sent. */
  pick(answer: Headers): AuthCookie[] {
    const picked: AuthCookie[] = [];
    for (const line of answer.getSetCookie()) {
      const name = cookieName(line);
      if (name !== undefined && this.#takes(name)) picked.push({ name, line });
    }
    return picked;
  }

  #takes(name: string): boolean {
    return this.#names.has(name) || this.#prefixes.some((prefix) => name.startsWith(prefix));
  }
}

/** The cookie name of a `Set-Cookie` line, `undefined` for a line without one (RFC 6265 §5.2). */
function cookieName(line: string): string | undefined {
  const pair = line.split(";", 1)[0];
  const eq = pair.indexOf("=");
  if (eq < 0) return undefined;
  const name = pair.slice(0, eq).trim();
  return name === "" ? undefined : name;
}

/**
 * Adds the auth service's cookies to `headers`, each on its own line. The response's own cookies
 * are kept, except those with the name of one of them: that name is the auth service's (a
 * session cookie), and the browser would keep whichever came last anyway. Traefik does the same.
 */
function addCookies(headers: Headers, cookies: readonly AuthCookie[]): void {
  const names = new Set(cookies.map((c) => c.name));
  const own = headers.getSetCookie();
  const kept = own.filter((line) => !names.has(cookieName(line) ?? ""));
  if (kept.length !== own.length) {
    headers.delete("set-cookie");
    for (const line of kept) headers.append("set-cookie", line);
  }
  for (const cookie of cookies) headers.append("set-cookie", cookie.line);
}

/**
 * `res` with the auth service's cookies. Ferry's own responses (the upstream's, its errors, the
 * policies') have mutable headers and are edited in place; a response whose headers are
 * immutable (a custom policy's `fetch` answer) is copied around the same body.
 */
function withCookies(res: Response, cookies: readonly AuthCookie[]): Response {
  try {
    addCookies(res.headers, cookies);
    return res;
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
  }
  const headers = new Headers(res.headers);
  addCookies(headers, cookies);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}

function settingsOf(options: ForwardAuthOptions): Settings {
  const responseHeaders = (options.responseHeaders ?? []).map((h) => h.toLowerCase());
  const subjectHeader = options.subjectHeader?.toLowerCase();
  return {
    url: options.url,
    method: options.method ?? "GET",
    requestHeaders: (options.requestHeaders ?? DEFAULT_REQUEST_HEADERS).map((h) => h.toLowerCase()),
    responseHeaders,
    subjectHeader,
    vouched: new VouchedHeaders(
      subjectHeader ? [...responseHeaders, subjectHeader] : responseHeaders,
    ),
    cookies: options.responseCookies?.length
      ? new CookieSelection(options.responseCookies)
      : undefined,
    timeoutMs: options.timeout ? parseDuration(options.timeout)! : DEFAULT_TIMEOUT_MS,
  };
}

/** What the auth service is told: the selected headers and where the request was going. */
function authRequestHeaders(settings: Settings, req: Request, state: ProxyState): Headers {
  // The request as policies before this one left it (a `headers` policy may add a credential).
  const current = state.requestHeaders ?? req.headers;
  const out = new Headers();
  for (const name of settings.requestHeaders) {
    const value = current.get(name);
    // A cookie a policy added is joined with ", " by `Headers`; Go's cookie parser
    // (oauth2-proxy) would read it into the value of the client's session cookie.
    if (value !== null) out.set(name, name === "cookie" ? cookieField(value) : value);
  }
  const url = splitUrl(req.url);
  out.set("x-forwarded-method", req.method);
  out.set("x-forwarded-proto", state.forwarded.forwardedProto);
  out.set("x-forwarded-host", state.forwarded.forwardedHost);
  // What the client asked for, before any rewrite: that is what access is decided on.
  // `splitUrl` gives the target as a browser sends it (raw UTF-8 percent-encoded): a header
  // can carry it, and the auth service reads the path the route was chosen on.
  out.set("x-forwarded-uri", url.query ? `${url.path}?${url.query}` : url.path);
  // Already resolved through the trusted proxies: the client's own header is never believed.
  out.set("x-forwarded-for", state.clientIp);
  out.set("x-request-id", state.requestId);
  return out;
}

/**
 * The pooled client that calls the auth service: one per set of trusted CAs, shared by every
 * route and reload that trusts the same ones. It lives in the gateway's shared state, which
 * closes it at shutdown, or once a reload leaves no forwardAuth trusting those CAs and the
 * requests still running on the old snapshot are done.
 */
function authClient(env: PolicyEnv, caCerts: readonly string[] | undefined): Deno.HttpClient {
  if (!caCerts?.length) {
    return env.shared("forwardAuth:http-client", () => Deno.createHttpClient({}));
  }
  // The certificates themselves are the key: a digest would be async, and two policies must
  // never share a client unless they trust exactly the same CAs. Certificates are public.
  return env.shared(
    `forwardAuth:http-client:${JSON.stringify(caCerts)}`,
    () => Deno.createHttpClient({ caCerts: [...caCerts] }),
  );
}

/** Builds the middleware of one use of the policy. */
export function createForwardAuthMiddleware(
  options: ForwardAuthOptions,
  env: PolicyEnv,
): PolicyMiddleware {
  const settings = settingsOf(options);
  const failures = authFailures(env);
  // Counted and put on the trace span like every identity policy's refusal (see `refuse`).
  const refused = (state: ProxyState, reason: string, status: number) => {
    failures.labels(KIND, reason).inc();
    recordRejection(state, KIND, reason, status);
  };
  const client = authClient(env, options.tls?.caCerts);
  // Logged on change only, so an outage is one line (and its end another), not one per request.
  let unavailable = false;

  return async (c, next) => {
    const state = c.get("proxy");
    const verdict = await callAuthService({
      url: settings.url,
      method: settings.method,
      headers: authRequestHeaders(settings, c.req.raw, state),
      timeoutMs: settings.timeoutMs,
      client,
    });

    if (verdict.kind === "unavailable") {
      refused(state, verdict.reason, 503);
      if (!unavailable) {
        unavailable = true;
        env.logger.log("warn", "forward auth service unavailable: refusing requests", {
          url: settings.url,
          reason: verdict.reason,
          error: verdict.error,
          requestId: state.requestId,
        });
      }
      const detail = verdict.reason === "timeout"
        ? `the auth service did not answer within ${settings.timeoutMs} ms, so the request ` +
          "was refused"
        : verdict.reason === "invalid_answer"
        ? `${verdict.error}, which is not an HTTP status, so the request was refused`
        : "the auth service could not be reached, so the request was refused";
      return problem(503, "auth-unavailable", detail, state.requestId, {
        "cache-control": "no-store",
      });
    }
    if (unavailable) {
      unavailable = false;
      env.logger.log("info", "forward auth service answering again", { url: settings.url });
    }

    if (verdict.kind === "deny") {
      // Bounded: one label per status class, whatever the auth service answers.
      refused(state, `denied_${Math.floor(verdict.status / 100)}xx`, verdict.status);
      if (verdict.body === undefined) {
        env.logger.log("warn", "forward auth denial body too large: sent without it", {
          url: settings.url,
          status: verdict.status,
          requestId: state.requestId,
        });
      }
      return denialResponse(verdict.status, verdict.headers, verdict.body, state.requestId);
    }

    const upstreamHeaders = editableRequestHeaders(state, c.req.raw.headers);
    // Whatever the client sent under these names (or their underscore spellings) is gone, set
    // by the auth service or not. That includes `subjectHeader`: the header that names who the
    // caller is must not reach the upstream with a value the client chose (`x-user-id: admin`),
    // only the auth service's, when it is also listed in `responseHeaders`.
    settings.vouched.removeFrom(upstreamHeaders);
    for (const name of settings.responseHeaders) {
      const value = verdict.headers.get(name);
      if (value !== null) upstreamHeaders.set(name, value);
    }
    if (settings.subjectHeader) {
      const subject = verdict.headers.get(settings.subjectHeader);
      if (subject) state.subject = subject;
    }
    const cookies = settings.cookies?.pick(verdict.headers);
    await next();
    if (!cookies?.length) return;
    const res = withCookies(c.res, cookies);
    if (res !== c.res) {
      // Replaced as the chain does: Hono's setter would put the old cookies back over ours.
      c.res = undefined;
      c.res = res;
    }
  };
}

/** Definition of the `forwardAuth` policy. */
export const forwardAuthPolicy: PolicyDefinition<"forwardAuth", ForwardAuthOptions> = {
  kind: KIND,
  // The schema checks durations at run time; their template-literal type only exists in TS.
  schema: schema as z.ZodType<ForwardAuthOptions>,
  create: (options, env) => createForwardAuthMiddleware(options, env),
};
