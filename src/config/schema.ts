/**
 * Zod schemas for the config model of `types.ts`: shapes plus the checks of single values
 * (URLs, ports, durations, patterns, regexes) that types cannot express. Checks that compare
 * several parts of the config (references, duplicate names, policy options) live in
 * `validate.ts`, which also turns zod's issues into Ferry's messages.
 *
 * Why zod: the shapes are written once and TypeScript infers their types (checked against
 * `types.ts` below), every issue carries its exact path, one parse reports every issue at once
 * instead of stopping at the first, and it is a small, well-kept library that policies already
 * use for their options.
 *
 * Unknown keys are errors everywhere (`z.strictObject`): a typo in YAML or untyped JS must not
 * be silently ignored.
 */
import { z } from "zod";
import { caCertificates } from "./ca_certificate.ts";
import { ACCESS_LOG_FIELDS } from "../observe/access_log.ts";
import { parseCidr } from "../proxy/cidr.ts";
import { compilePathPattern, PatternError } from "../routing/path_pattern.ts";
import { parseDuration } from "./duration.ts";
import { MAX_TIMER_MS } from "./timer_limit.ts";
import { backtrackingProblem } from "./regex_safety.ts";
import { describeValue } from "./format_issues.ts";
import type { FerryConfig } from "./types.ts";

/** A schema-level error message: "expected <what>, got <found>", or "missing" when absent. */
function expected(what: string) {
  return (issue: { input?: unknown }): string =>
    issue.input === undefined
      ? `missing: expected ${what}`
      : `expected ${what}, got ${describeValue(issue.input)}`;
}

/** Adds a value check whose message says what to change; `undefined` means the value is fine. */
function checked<T extends z.ZodType>(
  schema: T,
  problem: (value: z.output<T>) => string | undefined,
) {
  return schema.superRefine((value, ctx) => {
    const message = problem(value);
    if (message !== undefined) ctx.addIssue({ code: "custom", message, input: value });
  });
}

/** RFC 9110 token characters: header names and method names. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

const DURATION = 'a duration like "250ms" or "5s"';
const duration = checked(
  z.string({ error: expected(DURATION) }),
  (text) => {
    const ms = parseDuration(text);
    if (ms === undefined) return `expected ${DURATION}, got ${describeValue(text)}`;
    // Longer, setTimeout fires after 1 ms: an idle timeout or a probe interval would spin.
    if (ms > MAX_TIMER_MS) {
      return `expected a duration of at most 596h (what a timer can wait), got ${
        describeValue(text)
      }`;
    }
    return undefined;
  },
);
/** A duration that must not be zero: how often something repeats. */
const period = checked(
  duration,
  (text) => parseDuration(text) === 0 ? `expected a duration above 0, got "${text}"` : undefined,
);
/** A duration that must be above zero; `why` says what zero would do, for the message. */
function aboveZero(why: string) {
  return checked(
    duration,
    (text) =>
      parseDuration(text) === 0 ? `expected a duration above 0, got "${text}": ${why}` : undefined,
  );
}
/**
 * How long to wait for something. Zero is refused: a deadline of 0 ms is never armed, so "0ms"
 * would wait forever (and a retry's share of a zero per-try timeout is 1 ms); there is no
 * "no timeout" setting.
 */
const timeout = aboveZero("a timeout of 0 would never fire");
/**
 * How long a target stays ejected (doubling up to the max). Zero would readmit it at once, half-
 * open, so every failure ejected and readmitted it in a loop; turning ejection off is `false`.
 */
const ejectionTime = aboveZero(
  "an ejection of 0 would end at once; to turn ejection off, set outlierDetection: false",
);
/**
 * How long an open circuit refuses (doubling up to the max). Zero would send the next request
 * through as a half-open probe at once: the breaker would never shed load.
 */
const openTime = aboveZero(
  "a circuit open for 0 refuses nothing; to turn the breaker off, set circuitBreaker: false",
);

const PORT = "a port number from 0 to 65535";
const port = checked(
  z.number({ error: expected(PORT) }),
  (n) => Number.isInteger(n) && n >= 0 && n <= 65535 ? undefined : `expected ${PORT}, got ${n}`,
);

const nonNegativeInteger = checked(
  z.number({ error: expected("a whole number") }),
  (n) => Number.isSafeInteger(n) && n >= 0 ? undefined : `expected a whole number ≥ 0, got ${n}`,
);

function nonEmptyString(what: string) {
  return checked(
    z.string({ error: expected(what) }),
    (s) => s.trim() === "" ? `expected ${what}, got ${describeValue(s)}` : undefined,
  );
}

const HOSTNAME = 'a hostname or IP address like "127.0.0.1"';
/**
 * A listen address as `Deno.listen` takes it: a name of letters, digits, "-", "_" and dots, an
 * IPv4 address, or an IPv6 literal with or without brackets. Anything else failed only at
 * start-up ("invalid host … invalid char found in FQDN"), with no config path.
 */
const hostname = checked(z.string({ error: expected(HOSTNAME) }), (s) => {
  const shown = describeValue(s);
  if (s === "" || /\s/.test(s)) return `expected ${HOSTNAME}, got ${shown}`;
  if (s.includes("/")) return `expected ${HOSTNAME} (no scheme or path), got ${shown}`;
  if (s.includes(":")) {
    const ipv6 = s.startsWith("[") && s.endsWith("]") ? s.slice(1, -1) : s;
    if (ipv6.includes(":") && isIpv6(ipv6)) return undefined;
    const withPort = /^(\[[^\]]*\]|[^:[\]]+):\d+$/.exec(s);
    return withPort
      ? `expected ${HOSTNAME}, got ${shown}: the port goes in "port", as in ` +
        `{ hostname: "${withPort[1]}", port: ${s.slice(withPort[1].length + 1)} }`
      : `expected ${HOSTNAME}, got ${shown}`;
  }
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?$/.test(s)) {
    return `expected ${HOSTNAME}, got ${shown}`;
  }
  return undefined;
});

function isIpv6(text: string): boolean {
  try {
    return new URL(`http://[${text}]/`).hostname !== "";
  } catch {
    return false;
  }
}

const listen = z.strictObject({ hostname: hostname.optional(), port: port.optional() });

const admin = z.strictObject({
  enabled: z.boolean({ error: expected("true or false") }).optional(),
  hostname: hostname.optional(),
  port: port.optional(),
  tokenEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name")
    .optional(),
});

/** What is wrong with a target URL and what to change, or `undefined` when it is an origin. */
export function targetUrlProblem(text: string): string | undefined {
  const shown = describeValue(text);
  if (!/^https?:\/\//i.test(text)) {
    return /^[a-z][a-z0-9+.-]*:\/\//i.test(text)
      ? `expected an http:// or https:// URL, got ${shown}`
      : `expected an absolute URL like "http://127.0.0.1:3000", got ${shown}: add the scheme, ` +
        `as in ${describeValue(`http://${text}`)}`;
  }
  const port = /^[^:]+:\/\/[^/?#]*:(\d+)(?:[/?#]|$)/.exec(text)?.[1];
  if (port !== undefined && Number(port) > 65535) {
    return `${shown} has the port ${port}: expected a port number from 0 to 65535`;
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `expected a URL like "http://host:port", got ${shown}, which is not a valid URL`;
  }
  if (url.username || url.password) {
    return `${shown} holds credentials: remove "user:password@", a target is only scheme, ` +
      `host and port`;
  }
  if (text.includes("?") || text.includes("#")) {
    return `${shown} holds a query or fragment: remove it, a target is only scheme, host and port`;
  }
  if (url.pathname !== "/") {
    return `${shown} has the path "${url.pathname}": a target is only scheme, host and port ` +
      `("${url.origin}"); to forward under a path, use rewrite({ addPrefix: "${url.pathname}" })`;
  }
  return undefined;
}

const targetUrl = checked(
  z.string({ error: expected('a URL like "http://127.0.0.1:3000"') }),
  targetUrlProblem,
);

const weight = checked(
  z.number({ error: expected("a positive number") }),
  (n) => Number.isFinite(n) && n > 0 ? undefined : `expected a positive number, got ${n}`,
);

const target = z.union([targetUrl, z.strictObject({ url: targetUrl, weight: weight.optional() })], {
  error: expected("a URL string or { url, weight }"),
});

const targets = checked(
  z.array(target, {
    error: (issue) =>
      typeof issue.input === "string"
        ? `expected a list of targets, got the single target ${describeValue(issue.input)}: ` +
          `write it as [${describeValue(issue.input)}]`
        : expected('a list of targets like ["http://127.0.0.1:3000"]')(issue),
  }),
  (list) =>
    list.length === 0 ? 'expected at least one target, like ["http://127.0.0.1:3000"]' : undefined,
).superRefine((list, ctx) => {
  // The same origin twice would split its health and pool state; a weight says "more traffic".
  const seen = new Map<string, number>();
  list.forEach((t, i) => {
    const url = typeof t === "string" ? t : t.url;
    if (targetUrlProblem(url) !== undefined) return; // reported on the target itself
    const origin = new URL(url).origin;
    const first = seen.get(origin);
    if (first === undefined) seen.set(origin, i);
    else {
      ctx.addIssue({
        code: "custom",
        path: [i],
        input: t,
        message: `"${origin}" is already targets[${first}]: list it once and raise its weight ` +
          `to send it more traffic`,
      });
    }
  });
});

const headerName = checked(
  z.string({ error: expected("a header name") }),
  (s) =>
    TOKEN.test(s) ? undefined : `expected a header name like "x-user-id", got ${describeValue(s)}`,
);

const hashKey = z.strictObject({
  header: headerName.optional(),
  cookie: nonEmptyString("a cookie name").optional(),
  clientIp: z.literal(true, { error: expected("true") }).optional(),
}, { error: expected('one of { header: "name" }, { cookie: "name" } or { clientIp: true }') })
  .superRefine((key, ctx) => {
    const given = (["header", "cookie", "clientIp"] as const).filter((k) => key[k] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({
        code: "custom",
        input: key,
        message: `expected exactly one of "header", "cookie" or "clientIp", got ${
          given.length === 0 ? "none" : given.map((k) => `"${k}"`).join(" and ")
        }`,
      });
    }
  });

const balancer = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("round_robin") }),
  z.strictObject({ type: z.literal("least_request") }),
  z.strictObject({ type: z.literal("consistent_hash"), key: hashKey }),
], { error: expected('{ type: "round_robin" | "least_request" | "consistent_hash" }') });

const positiveInteger = checked(
  z.number({ error: expected("a whole number ≥ 1") }),
  (n) => Number.isSafeInteger(n) && n >= 1 ? undefined : `expected a whole number ≥ 1, got ${n}`,
);

const percent = checked(
  z.number({ error: expected("a percentage from 0 to 100") }),
  (n) => n >= 0 && n <= 100 ? undefined : `expected a percentage from 0 to 100, got ${n}`,
);

const STATUS_CLASS = /^[1-5]xx$/;
const statusMatch = checked(
  z.union([z.number(), z.string()], { error: expected('a status like 200 or a class like "2xx"') }),
  (v) =>
    typeof v === "number"
      ? Number.isInteger(v) && v >= 100 && v <= 599
        ? undefined
        : `expected a status from 100 to 599, got ${v}`
      : STATUS_CLASS.test(v)
      ? undefined
      : `expected a status like 200 or a class like "2xx", got ${describeValue(v)}`,
);

const probePath = checked(
  z.string({ error: expected('a path like "/healthz"') }),
  (s) =>
    s.startsWith("/") && !/[\s#]/.test(s)
      ? undefined
      : `expected a path like "/healthz" (starting with "/", no spaces), got ${describeValue(s)}`,
);

const healthCheck = z.strictObject({
  path: probePath,
  // Zero would probe without pause, and the probe timeout (capped by the interval) be zero too.
  interval: period.optional(),
  jitter: duration.optional(),
  timeout: timeout.optional(),
  expectStatus: z.array(statusMatch, { error: expected("a list of statuses") }).min(1, {
    error: 'expected at least one status, like ["2xx"]',
  }).optional(),
  healthyThreshold: positiveInteger.optional(),
  unhealthyThreshold: positiveInteger.optional(),
  host: nonEmptyString("a Host value").optional(),
}, { error: expected('a health check like { path: "/healthz" }') });

const outlierDetection = z.union([
  z.literal(false),
  z.strictObject({
    consecutiveFailures: positiveInteger.optional(),
    baseEjectionTime: ejectionTime.optional(),
    maxEjectionTime: ejectionTime.optional(),
    maxEjectedPercent: percent.optional(),
    slowStart: duration.optional(),
  }),
], { error: expected("outlier detection settings or false") });

const circuitBreaker = z.union([
  z.literal(false),
  z.strictObject({
    failurePercent: checked(
      z.number({ error: expected("a percentage above 0, at most 100") }),
      (n) => n > 0 && n <= 100 ? undefined : `expected a percentage above 0, at most 100, got ${n}`,
    ).optional(),
    minRequests: positiveInteger.optional(),
    // The failure rate is judged over this span; for 0 the sliding window would quietly count
    // over ten 1 ms buckets instead (its smallest), a window nobody asked for.
    window: aboveZero("a window of 0 spans no attempts to judge").optional(),
    openFor: openTime.optional(),
    maxOpenFor: openTime.optional(),
    halfOpenProbes: positiveInteger.optional(),
  }),
], { error: expected("circuit breaker settings or false") });

const RETRY_ON = '"connect", "reset", "timeout" or a status from 500 to 599';
const retryOn = checked(
  z.union([z.string(), z.number()], { error: expected(RETRY_ON) }),
  (v) =>
    v === "connect" || v === "reset" || v === "timeout" ||
      (typeof v === "number" && Number.isInteger(v) && v >= 500 && v <= 599)
      ? undefined
      : `expected ${RETRY_ON}, got ${describeValue(v)}`,
);

const retries = z.union([
  z.literal(false),
  z.strictObject({
    maxRetries: nonNegativeInteger.optional(),
    on: z.array(retryOn, { error: expected("a list of retry conditions") }).optional(),
    backoff: z.strictObject({ base: duration.optional(), max: duration.optional() }).optional(),
    budget: z.strictObject({
      percent: percent.optional(),
      minPerSecond: checked(
        z.number({ error: expected("a number ≥ 0") }),
        (n) => n >= 0 && Number.isFinite(n) ? undefined : `expected a number ≥ 0, got ${n}`,
      ).optional(),
    }).optional(),
    maxBufferedBodyBytes: nonNegativeInteger.optional(),
  }),
], { error: expected("retry settings or false") });

const upstreamTls = z.strictObject({
  caCerts: caCertificates.optional(),
  serverName: hostname.optional(),
});

const upstream = z.strictObject({
  targets,
  balancer: balancer.optional(),
  host: nonEmptyString('"preserve", "target" or a Host value').optional(),
  timeouts: z.strictObject({
    connect: timeout.optional(),
    perTry: timeout.optional(),
    total: timeout.optional(),
    idle: timeout.optional(),
  }).optional(),
  pool: z.strictObject({
    maxIdlePerTarget: nonNegativeInteger.optional(),
    idleTimeout: duration.optional(),
  }).optional(),
  tls: upstreamTls.optional(),
  healthCheck: healthCheck.optional(),
  outlierDetection: outlierDetection.optional(),
  circuitBreaker: circuitBreaker.optional(),
  retries: retries.optional(),
});

/** The problem with a host match pattern, or `undefined` for `api.example.com` / `*.example.com`. */
function hostPatternProblem(host: string): string | undefined {
  const shown = describeValue(host);
  const hint = '"api.example.com" or "*.example.com"';
  if (host === "" || /[\s/]/.test(host)) return `expected a host like ${hint}, got ${shown}`;
  const star = host.indexOf("*");
  if (star < 0) return undefined;
  if (star !== 0 || !host.startsWith("*.") || host.length === 2 || host.indexOf("*", 1) >= 0) {
    return `"*" is only allowed as a whole first label (like "*.example.com"), got ${shown}`;
  }
  return undefined;
}

/** Why a condition regex is unusable: it does not compile, or it can backtrack catastrophically. */
function regexProblem(source: string): string | undefined {
  try {
    new RegExp(source);
  } catch (e) {
    return `${describeValue(source)} is not a valid regular expression: ${(e as Error).message}`;
  }
  return backtrackingProblem(source);
}

const regex = checked(z.string({ error: expected("a regular expression") }), regexProblem);

const HOST = 'a host like "api.example.com" or "*.example.com"';
const hostPattern = checked(z.string({ error: expected(HOST) }), hostPatternProblem);

const pathPattern = checked(
  z.string({ error: expected('a path pattern like "/api/*"') }),
  (source) => {
    try {
      compilePathPattern(source);
      return undefined;
    } catch (e) {
      if (e instanceof PatternError) return e.message;
      throw e;
    }
  },
);

const method = checked(
  z.string({ error: expected('a method like "GET"') }),
  (s) => TOKEN.test(s) ? undefined : `expected a method like "GET", got ${describeValue(s)}`,
);

const valueMatch = z.union([
  z.string(),
  z.strictObject({ equals: z.string({ error: expected("a string") }) }),
  z.strictObject({ regex }),
  z.strictObject({ present: z.boolean({ error: expected("true or false") }) }),
], {
  error: expected('a string, { equals: "…" }, { regex: "…" } or { present: true | false }'),
});

function oneOrMany<T extends z.ZodType>(item: T, what: string) {
  return z.union([item, z.array(item)], { error: expected(`${what} or a list of them`) });
}

const headerConditions = z.record(headerName, valueMatch, {
  error: expected("an object of header conditions by name"),
}).superRefine((headers, ctx) => {
  // Header names are case-insensitive: two spellings of one name would silently overwrite.
  const seen = new Map<string, string>();
  for (const name of Object.keys(headers)) {
    const lower = name.toLowerCase();
    const first = seen.get(lower);
    if (first === undefined) seen.set(lower, name);
    else {
      ctx.addIssue({
        code: "custom",
        path: [name],
        input: name,
        message: `header "${name}" is the same header as "${first}" (names are ` +
          `case-insensitive): merge the two conditions`,
      });
    }
  }
});

const match = z.strictObject({
  host: oneOrMany(hostPattern, HOST).optional(),
  path: pathPattern.optional(),
  method: oneOrMany(method, 'a method like "GET"').optional(),
  headers: headerConditions.optional(),
  query: z.record(nonEmptyString("a query parameter name"), valueMatch, {
    error: expected("an object of query conditions by name"),
  }).optional(),
});

const REDIRECT_TO = 'an absolute URL like "https://example.com{path}" or a path starting with "/"';
/** Why a redirect target is unusable, or `undefined` when it is fine. */
function redirectProblem(to: string): string | undefined {
  const shown = describeValue(to);
  if (to.startsWith("//")) {
    return `${shown} starts with "//", which browsers read as another host: write ` +
      `"https:${to}" for another host or a single "/" for a path here`;
  }
  if (to.startsWith("/")) return undefined;
  // Placeholders are filled per request; fill them with something neutral to check the rest.
  const sample = to.replaceAll("{path}", "/").replaceAll("{query}", "")
    .replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, "x");
  try {
    const url = new URL(sample);
    if (url.protocol === "http:" || url.protocol === "https:") return undefined;
  } catch {
    // Not a URL at all: fall through to the message below.
  }
  return `expected ${REDIRECT_TO}, got ${shown}`;
}

const redirect = z.strictObject({
  to: checked(z.string({ error: expected(REDIRECT_TO) }), redirectProblem),
  status: z.literal([301, 302, 303, 307, 308], {
    error: expected("a redirect status: 301, 302, 303, 307 or 308"),
  }).optional(),
});

/** A policy descriptor; its kind and options are checked against the registry in `validate.ts`. */
export const policyDescriptorSchema = z.strictObject({
  kind: z.string({ error: expected('a policy kind like "headers"') }),
  // Checked against the kind's own schema in `validate.ts`, which also reports it missing.
  options: z.unknown().optional(),
}, { error: expected("a policy descriptor { kind, options }") });

const name = (what: string) =>
  checked(nonEmptyString(what), (s) => s === "__proto__" ? `"__proto__" is reserved` : undefined);

const JSON_PATH = 'a dotted JSON field path like "timestamp" or "meta.requestId"';
const jsonFieldPath = checked(
  z.string({ error: expected(JSON_PATH) }),
  (s) =>
    s.split(".").every((part) => part.trim() !== "")
      ? undefined
      : `expected ${JSON_PATH}, got ${describeValue(s)}`,
);

const mirrorDiff = z.strictObject({
  headers: z.array(headerName, { error: expected('a list of header names, or ["*"]') }).optional(),
  ignoreHeaders: z.array(headerName, { error: expected("a list of header names") }).optional(),
  ignoreJsonFields: z.array(jsonFieldPath, { error: expected("a list of JSON field paths") })
    .optional(),
}, { error: expected('diff settings like { headers: ["content-type"] }') });

const mirror = z.strictObject({
  upstream: z.string({ error: expected("the name of the shadow upstream") }),
  percent: percent.optional(),
  maxConcurrent: positiveInteger.optional(),
  maxBodyBytes: nonNegativeInteger.optional(),
  diff: mirrorDiff.optional(),
}, { error: expected('mirror settings like { upstream: "shadow" }') });

/**
 * Adds an issue unless exactly one of `keys` is set; returns that key when it is. For objects
 * whose keys are alternatives (a sticky key, a canary condition).
 */
function exactlyOneOf<K extends string>(
  keys: readonly K[],
  value: Partial<Record<K, unknown>>,
  ctx: z.RefinementCtx,
): K | undefined {
  const given = keys.filter((k) => value[k] !== undefined);
  if (given.length === 1) return given[0];
  // A misspelt key ("clientIP") is reported with a suggestion; "got none" would only be noise.
  const misspelt = ctx.issues.some((i) => i.code === "unrecognized_keys" && !i.path?.length);
  if (given.length === 0 && misspelt) return undefined;
  const names = keys.map((k) => `"${k}"`);
  ctx.addIssue({
    code: "custom",
    input: value,
    message: `expected exactly one of ${names.slice(0, -1).join(", ")} or ${names.at(-1)}, got ${
      given.length === 0 ? "none" : given.map((k) => `"${k}"`).join(" and ")
    }`,
  });
  return undefined;
}

const STICKY_KEYS = ["header", "cookie", "claim", "clientIp"] as const;
const stickyKey = z.strictObject({
  header: headerName.optional(),
  cookie: nonEmptyString("a cookie name").optional(),
  claim: nonEmptyString("a claim name").optional(),
  clientIp: z.literal(true, { error: expected("true") }).optional(),
}, {
  error: expected(
    'one of { header: "name" }, { cookie: "name" }, { claim: "name" } or ' +
      "{ clientIp: true }",
  ),
}).superRefine((key, ctx) => void exactlyOneOf(STICKY_KEYS, key, ctx));

const SPLIT_TARGETS = '[{ upstream: "v1", weight: 95 }, { upstream: "v2", weight: 5 }]';
const split = z.strictObject({
  targets: checked(
    z.array(
      z.strictObject({
        upstream: z.string({ error: expected("the name of an upstream") }),
        weight,
      }, { error: expected('a split target like { upstream: "v2", weight: 5 }') }),
      { error: expected(`a list of split targets like ${SPLIT_TARGETS}`) },
    ),
    (list) => list.length === 0 ? `expected at least one target, like ${SPLIT_TARGETS}` : undefined,
  ).superRefine((list, ctx) => {
    // One upstream twice would split its share in two for nothing: a weight says "more".
    const seen = new Map<string, number>();
    list.forEach((t, i) => {
      if (typeof t?.upstream !== "string") return; // reported on the target itself
      const first = seen.get(t.upstream);
      if (first === undefined) seen.set(t.upstream, i);
      else {
        ctx.addIssue({
          code: "custom",
          path: [i, "upstream"],
          input: t.upstream,
          message: `upstream "${t.upstream}" is already targets[${first}]: list each upstream ` +
            `once and give it the combined weight`,
        });
      }
    });
  }),
  sticky: stickyKey.optional(),
}, { error: expected(`a split like { targets: ${SPLIT_TARGETS} }`) });

const CANARY_KINDS = ["header", "cookie", "query", "claim"] as const;
const namedConditions = (what: string) =>
  z.record(nonEmptyString(`a ${what} name`), valueMatch, {
    error: expected(`an object of ${what} conditions by name`),
  });
const canaryWhen = z.strictObject({
  header: headerConditions.optional(),
  cookie: namedConditions("cookie").optional(),
  query: namedConditions("query parameter").optional(),
  claim: namedConditions("claim").optional(),
}, { error: expected('a condition like { header: { "x-env": "canary" } }') })
  .superRefine((when, ctx) => {
    const kind = exactlyOneOf(CANARY_KINDS, when, ctx);
    if (kind !== undefined && Object.keys(when[kind]!).length === 0) {
      ctx.addIssue({
        code: "custom",
        path: [kind],
        input: when[kind],
        message: `expected at least one ${kind} condition, like { "${
          kind === "header" ? "x-env" : kind === "claim" ? "tier" : "env"
        }": "canary" }`,
      });
    }
  });

/** Headers the gateway itself writes upstream: a color there would be lost or break framing. */
const MANAGED_HEADERS = new Set([
  "host",
  "connection",
  "content-length",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "keep-alive",
  "x-request-id",
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-proto",
  "forwarded",
]);
const colorHeader = checked(
  headerName,
  (s) =>
    MANAGED_HEADERS.has(s.toLowerCase())
      ? `"${s}" is a header the gateway sets itself: pick a header of your own, like "x-color"`
      : undefined,
);

const COLOR = 'a color of visible ASCII characters like "canary"';
const canaryRule = z.strictObject({
  when: canaryWhen,
  upstream: z.string({ error: expected("the name of an upstream") }),
  color: checked(
    z.string({ error: expected(COLOR) }),
    (s) =>
      /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(s)
        ? undefined
        : `expected ${COLOR}, got ${describeValue(s)}`,
  ).optional(),
}, {
  error: expected('a canary rule like { when: { header: { "x-env": "canary" } }, upstream: "v2" }'),
});

const route = z.strictObject({
  name: name("a route name").optional(),
  match: match.optional(),
  upstream: z.string({ error: expected("the name of an upstream") }).optional(),
  redirect: redirect.optional(),
  use: z.array(
    z.union([z.string(), policyDescriptorSchema], {
      error: expected("a policy name or a policy descriptor { kind, options }"),
    }),
    { error: expected("a list of policies") },
  ).optional(),
  retryNonIdempotent: z.boolean({ error: expected("true or false") }).optional(),
  mirror: mirror.optional(),
  split: split.optional(),
  canary: z.array(canaryRule, { error: expected("a list of canary rules") }).optional(),
  color: z.strictObject({ header: colorHeader }, { error: expected('{ header: "x-color" }') })
    .optional(),
}, { error: expected("a route object") });

const trustProxy = checked(
  z.string({ error: expected('a CIDR like "10.0.0.0/8" or an IP address') }),
  (s) =>
    parseCidr(s) === undefined
      ? `expected a CIDR like "10.0.0.0/8" or "2001:db8::/32", or an IP address, got ${
        describeValue(s)
      }`
      : undefined,
);

const accessLog = z.strictObject({
  to: z.union([
    z.literal("off"),
    z.literal("stdout"),
    z.strictObject({ file: nonEmptyString("a file path") }),
  ], { error: expected('"off", "stdout" or { file: "path" }') }).optional(),
  sample: checked(
    z.number({ error: expected("a share from 0 to 1") }),
    (n) => n >= 0 && n <= 1 ? undefined : `expected a share from 0 to 1, got ${n}`,
  ).optional(),
  fields: z.array(
    z.enum(ACCESS_LOG_FIELDS, { error: expected(`one of ${ACCESS_LOG_FIELDS.join(", ")}`) }),
    { error: expected("a list of field names") },
  ).optional(),
});

/** The whole config. */
export const ferryConfigSchema = z.strictObject({
  listen: listen.optional(),
  admin: admin.optional(),
  upstreams: z.record(name("an upstream name"), upstream, {
    error: expected("an object of upstreams by name"),
  }),
  policies: z.record(name("a policy name"), policyDescriptorSchema, {
    error: expected("an object of policies by name"),
  }).optional(),
  routes: z.array(route, { error: expected("a list of routes") }),
  trust: z.strictObject({
    proxies: z.array(trustProxy, { error: expected("a list of CIDRs") }).optional(),
  }).optional(),
  accessLog: accessLog.optional(),
  coloring: z.strictObject({
    headers: z.array(headerName, { error: expected("a list of header names") }),
  }).optional(),
  limits: z.strictObject({
    maxBodyBytes: nonNegativeInteger.optional(),
    drainTimeout: duration.optional(),
  }).optional(),
  demo: z.strictObject({ listen: listen.optional() }).optional(),
  reload: z.strictObject({ debounce: duration.optional(), streamGrace: duration.optional() })
    .optional(),
}, { error: expected("a config object") });

/** The config as zod parsed it: user shapes, not yet defaulted. */
export type ParsedConfig = z.output<typeof ferryConfigSchema>;

// Every config the public types accept must fit the schema's shapes: this stops compiling when a
// field's type in `types.ts` changes and the schema does not follow. (A field added to types.ts
// but missing here is not caught by this, only by the "unknown key" error at run time.)
type Assert<T extends true> = T;
type SchemaAcceptsTypedConfigs = Assert<
  FerryConfig extends z.input<typeof ferryConfigSchema> ? true : false
>;
