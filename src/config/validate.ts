/**
 * Config validation: every problem at once, each with its exact path, what was found and what
 * was expected; then, for a valid config, the normalized form with every default filled in.
 *
 * 1. The zod schema (`schema.ts`) checks shapes and single values.
 * 2. Cross-checks that need the whole config: references to upstreams and policies, route
 *    names, "exactly one of upstream / split / redirect", and policy options against the registry.
 *    They read the raw input defensively, so they run (and report) even when step 1 failed.
 * 3. With no errors: defaults, then warnings for routes that can never match.
 *
 * Nothing here throws for bad input, whatever its type: problems are returned.
 */
import type { z } from "zod";
import { policyDefinitions } from "../policies/registry.ts";
import { findShadowedRoutes } from "../routing/shadow.ts";
import { trafficWarnings } from "../traffic/config_warnings.ts";
import { upstreamWarnings } from "./upstream_warnings.ts";
import { parseDuration } from "./duration.ts";
import { describeValue, formatPath } from "./format_issues.ts";
import { findNonPlainValue, nonPlainMessage } from "./plain_data.ts";
import { mayBeSecret, withoutSecret } from "./secret_values.ts";
import type {
  ConfigIssue,
  NormalizedCanaryRule,
  NormalizedConfig,
  NormalizedHealthCheck,
  NormalizedMirror,
  NormalizedRetries,
  NormalizedRoute,
  NormalizedSplit,
  NormalizedUpstream,
  ValidationResult,
} from "./normalized.ts";
import { ferryConfigSchema, type ParsedConfig } from "./schema.ts";
import type { BalancerConfig, CanaryWhen, PolicyDescriptor } from "./types.ts";

type Path = PropertyKey[];
/** A problem before formatting: the path stays structured so problems sort by position. */
interface Problem {
  path: Path;
  message: string;
}
type ZodIssue = z.core.$ZodIssue;

/** Validates a config of unknown shape. Never throws. */
export function validateConfig(input: unknown): ValidationResult {
  try {
    return validate(input);
  } catch (e) {
    // A last resort for inputs no check foresaw (a Proxy that throws, a getter that throws):
    // name the value that broke the reading when it can be found.
    const found = findNonPlainValue(input);
    if (found) {
      const error: ConfigIssue = {
        path: formatPath(found.path),
        message: nonPlainMessage(found),
        severity: "error",
      };
      return { ok: false, errors: [error], warnings: [] };
    }
    const message = `the config could not be read: ${e instanceof Error ? e.message : String(e)}`;
    return { ok: false, errors: [{ path: "", message, severity: "error" }], warnings: [] };
  }
}

function validate(input: unknown): ValidationResult {
  const parsed = ferryConfigSchema.safeParse(input, PARSE_OPTIONS);
  const problems = parsed.success ? [] : fromZod(ferryConfigSchema, parsed.error.issues, []);
  problems.push(...crossCheck(input));
  if (!parsed.success || problems.length > 0) {
    return { ok: false, errors: toIssues(problems), warnings: [] };
  }
  const config = normalize(parsed.data);
  return {
    ok: true,
    config,
    warnings: [
      ...findShadowedRoutes(config.routes),
      ...trafficWarnings(config.routes),
      ...upstreamWarnings(config.upstreams),
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Step 1: zod issues → problems

/** `reportInput` lets messages say what was found; `error` words zod's generic issues. */
const PARSE_OPTIONS = { reportInput: true, error: genericMessage } as const;

const TYPE_NAMES: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  object: "an object",
  array: "a list",
  record: "an object",
  nonoptional: "a value",
};

/** Messages for issues whose schema gave none (policy option schemas, plain `z.string()`). */
function genericMessage(issue: z.core.$ZodRawIssue): string | undefined {
  const got = `got ${describeValue(issue.input)}`;
  switch (issue.code) {
    case "invalid_type": {
      const what = TYPE_NAMES[issue.expected] ?? issue.expected;
      return issue.input === undefined ? `missing: expected ${what}` : `expected ${what}, ${got}`;
    }
    case "invalid_value":
      return `expected ${issue.values.map((v) => describeValue(v)).join(" or ")}, ${got}`;
    case "too_small":
    case "too_big": {
      const bound = issue.code === "too_small" ? issue.minimum : issue.maximum;
      const word = issue.code === "too_small"
        ? (issue.inclusive ? "at least" : "more than")
        : (issue.inclusive ? "at most" : "less than");
      const unit = issue.origin === "array"
        ? " items"
        : issue.origin === "string"
        ? " characters"
        : "";
      return `expected ${word} ${bound}${unit}, ${got}`;
    }
    case "invalid_union":
      return `${got}, which matches none of the accepted forms`;
    case "invalid_format":
      return `expected ${
        issue.format === "regex" ? `text matching ${issue.pattern}` : `a valid ${issue.format}`
      }, ${got}`;
  }
  return undefined;
}

/** Converts zod issues of `root` (a schema) into problems located under `prefix`. */
function fromZod(root: z.ZodType, issues: readonly ZodIssue[], prefix: Path): Problem[] {
  const out: Problem[] = [];
  /** Records a problem; a value found where a secret may go is described, never shown. */
  const report = (path: Path, message: string, found: unknown) => {
    out.push({ path, message: mayBeSecret(path, found) ? withoutSecret(message, found) : message });
  };
  const visit = (issue: ZodIssue, base: Path) => {
    const at = [...base, ...issue.path];
    switch (issue.code) {
      case "unrecognized_keys": {
        // One problem per key, located at the key itself, with a suggestion from the schema.
        const known = knownKeys(root, at);
        for (const key of issue.keys) {
          out.push({ path: [...prefix, ...at, key], message: unknownKeyMessage(key, known) });
        }
        return;
      }
      case "invalid_union": {
        if (issue.discriminator !== undefined) {
          out.push({ path: [...prefix, ...at], message: discriminatorMessage(issue) });
          return;
        }
        // When the input clearly meant one form (say, an object among "string or object"),
        // report that form's own issues, which are precise, instead of "matches no form".
        const branch = bestBranch(issue.errors);
        if (branch) branch.forEach((inner) => visit(inner, at));
        else report([...prefix, ...at], issue.message, issue.input);
        return;
      }
      case "invalid_key":
        for (const inner of issue.issues) {
          report([...prefix, ...at], withFound(inner.message, inner.input), inner.input);
        }
        return;
      default:
        report([...prefix, ...at], withFound(issue.message, issue.input), issue.input);
    }
  };
  issues.forEach((issue) => visit(issue, []));
  return out;
}

/** Messages like "must be a valid HTTP header name" (from policy schemas) gain the value. */
function withFound(message: string, input: unknown): string {
  return message.startsWith("must ") && input !== undefined
    ? `${describeValue(input)} ${message}`
    : message;
}

/**
 * The union branch the input was aiming at: the only one with no issue at its root, or else the
 * only one whose root issues are just unknown keys (the type matched). `undefined` if unclear.
 */
function bestBranch(branches: readonly ZodIssue[][]): ZodIssue[] | undefined {
  const rootIssues = (b: ZodIssue[]) => b.filter((i) => i.path.length === 0);
  for (
    const fits of [
      (b: ZodIssue[]) => rootIssues(b).length === 0,
      (b: ZodIssue[]) => rootIssues(b).every((i) => i.code === "unrecognized_keys"),
    ]
  ) {
    const matching = branches.filter(fits);
    if (matching.length === 1) return matching[0];
    if (matching.length > 1) return undefined;
  }
  return undefined;
}

function discriminatorMessage(issue: z.core.$ZodIssueInvalidUnion): string {
  const options = ("options" in issue ? issue.options ?? [] : []).map((o) => describeValue(o));
  const allowed = options.length > 1
    ? `${options.slice(0, -1).join(", ")} or ${options[options.length - 1]}`
    : options.join("");
  const input = issue.input;
  const value = typeof input === "object" && input !== null && issue.discriminator !== undefined
    ? (input as Record<string, unknown>)[issue.discriminator]
    : undefined;
  return value === undefined
    ? `missing: expected ${allowed}`
    : `expected ${allowed}, got ${describeValue(value)}`;
}

function unknownKeyMessage(key: string, known: readonly string[]): string {
  const guess = closest(key, known);
  if (guess !== undefined) return `unknown key "${key}"; did you mean "${guess}"?`;
  return known.length > 0
    ? `unknown key "${key}"; expected one of ${quoteList(known)}`
    : `unknown key "${key}"`;
}

/** The shape of zod's internal definitions that the key lookup reads. */
interface SchemaDef {
  type: string;
  innerType?: z.ZodType;
  options?: readonly z.ZodType[];
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  valueType?: z.ZodType;
  getter?: () => z.ZodType;
}

/** Keys an object schema at `path` under `root` allows (all forms' keys for unions). */
function knownKeys(root: z.ZodType, path: readonly PropertyKey[]): string[] {
  let schemas = unwrap(root, 0);
  for (const segment of path) {
    schemas = schemas.flatMap((schema) => {
      const def = schema._zod.def as unknown as SchemaDef;
      const child = def.type === "object"
        ? def.shape?.[String(segment)]
        : def.type === "array"
        ? def.element
        : def.type === "record"
        ? def.valueType
        : undefined;
      return child ? unwrap(child, 0) : [];
    });
  }
  const keys = schemas.flatMap((s) =>
    Object.keys((s._zod.def as unknown as SchemaDef).shape ?? {})
  );
  return [...new Set(keys)];
}

/** The concrete schemas behind wrappers (optional, default, pipe, lazy) and unions. */
function unwrap(schema: z.ZodType, depth: number): z.ZodType[] {
  if (depth > 16) return [];
  const def = schema._zod.def as unknown as SchemaDef;
  if (def.innerType) return unwrap(def.innerType, depth + 1);
  if (def.type === "union" && def.options) return def.options.flatMap((o) => unwrap(o, depth + 1));
  if (def.type === "pipe" && def.in) return unwrap(def.in, depth + 1);
  if (def.type === "lazy" && def.getter) return unwrap(def.getter(), depth + 1);
  return [schema];
}

// ---------------------------------------------------------------------------------------------
// Step 2: checks across the config, on the raw input

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function crossCheck(input: unknown): Problem[] {
  const out: Problem[] = [];
  if (!isObject(input)) return out;
  // `undefined` when the section itself is malformed: zod reports that, and a reference into
  // it cannot be judged.
  const upstreams = isObject(input.upstreams) ? Object.keys(input.upstreams) : undefined;
  const policies = input.policies === undefined
    ? []
    : isObject(input.policies)
    ? Object.keys(input.policies)
    : undefined;
  if (isObject(input.policies)) {
    for (const [name, descriptor] of Object.entries(input.policies)) {
      checkDescriptor(descriptor, ["policies", name], out);
    }
  }
  if (isObject(input.upstreams)) {
    for (const [name, upstream] of Object.entries(input.upstreams)) {
      if (isObject(upstream)) checkUpstreamDurations(upstream, ["upstreams", name], out);
    }
  }
  checkListenerPorts(input, out);
  if (!Array.isArray(input.routes)) return out;

  const nameOwners = new Map<string, number>();
  input.routes.forEach((route: unknown, i) => {
    if (!isObject(route)) return;
    const at: Path = ["routes", i];
    const forwards = route.upstream !== undefined;
    // With a split, `checkTraffic` words the three-way choice.
    if (route.split === undefined && forwards === (route.redirect !== undefined)) {
      out.push({
        path: at,
        message: `a route needs exactly one of "upstream" (forward the request) or "redirect" ` +
          `(answer with a redirect), found ${forwards ? "both" : "neither"}`,
      });
    }
    if (typeof route.upstream === "string" && upstreams && !upstreams.includes(route.upstream)) {
      out.push({
        path: [...at, "upstream"],
        message: danglingMessage("upstream", route.upstream, upstreams),
      });
    }
    if (Array.isArray(route.use)) {
      route.use.forEach((entry: unknown, j) => {
        const entryAt = [...at, "use", j];
        if (typeof entry !== "string") checkDescriptor(entry, entryAt, out);
        else if (policies && !policies.includes(entry)) {
          out.push({ path: entryAt, message: danglingMessage("policy", entry, policies) });
        }
      });
    }
    checkRouteName(route, i, nameOwners, out);
    checkMirror(route, at, upstreams, out);
    checkTraffic(route, at, upstreams, out);
  });
  return out;
}

/** Where each listener goes when the config does not say (see types.ts). */
const DEFAULT_HOSTNAME = "127.0.0.1";
const DEFAULT_PORTS = { listen: 8080, admin: 9901, demo: 3000 } as const;

/** Addresses that take a port on every interface: they collide with any other address. */
const WILDCARD_HOSTS = new Set(["0.0.0.0", "::", "[::]"]);

/**
 * The admin and demo listeners must not take the gateway's own address and port (nor each
 * other's): the second to bind failed at start-up with "address in use" and no path. Port 0
 * (any free port) never collides; values of the wrong type are the schema's to report.
 */
function checkListenerPorts(input: Obj, out: Problem[]) {
  const listener = (section: unknown, hostname: string, port: number) => {
    const given = isObject(section) ? section : {};
    const host = given.hostname ?? hostname;
    const at = given.port ?? port;
    return typeof host === "string" && typeof at === "number"
      ? { host: host.toLowerCase() === "localhost" ? "127.0.0.1" : host.toLowerCase(), port: at }
      : undefined;
  };
  const listeners: { path: Path; host: string; port: number }[] = [];
  const add = (path: Path, found: { host: string; port: number } | undefined) => {
    if (found && found.port !== 0) listeners.push({ path, ...found });
  };
  add(["listen", "port"], listener(input.listen, DEFAULT_HOSTNAME, DEFAULT_PORTS.listen));
  if (!(isObject(input.admin) && input.admin.enabled === false)) {
    add(["admin", "port"], listener(input.admin, DEFAULT_HOSTNAME, DEFAULT_PORTS.admin));
  }
  if (isObject(input.demo)) {
    add(
      ["demo", "listen", "port"],
      listener(input.demo.listen, DEFAULT_HOSTNAME, DEFAULT_PORTS.demo),
    );
  }
  listeners.forEach((later, i) => {
    const taken = listeners.slice(0, i).find((earlier) =>
      earlier.port === later.port &&
      (earlier.host === later.host || WILDCARD_HOSTS.has(earlier.host) ||
        WILDCARD_HOSTS.has(later.host))
    );
    if (taken) {
      out.push({
        path: later.path,
        message: `port ${later.port} on "${later.host}" is already taken by ` +
          `${formatPath(taken.path)} (on "${taken.host}"): give each listener its own port`,
      });
    }
  });
}

/**
 * A split replaces `upstream`; canary rules need a forwarding default; every upstream a split or
 * rule names exists; a rule's color needs the route's color header to travel in.
 */
function checkTraffic(route: Obj, at: Path, upstreams: string[] | undefined, out: Problem[]) {
  const dangling = (name: unknown, path: Path) => {
    if (typeof name === "string" && upstreams && !upstreams.includes(name)) {
      out.push({ path: [...at, ...path], message: danglingMessage("upstream", name, upstreams) });
    }
  };
  if (route.split !== undefined) {
    const others = (["upstream", "redirect"] as const).filter((k) => route[k] !== undefined);
    if (others.length > 0) {
      out.push({
        path: at,
        message: `a route needs exactly one of "upstream" (one upstream), "split" (several, by ` +
          `weight) or "redirect", found "split" and ${others.map((k) => `"${k}"`).join(" and ")}`,
      });
    }
    const targets = isObject(route.split) ? route.split.targets : undefined;
    if (Array.isArray(targets)) {
      targets.forEach((t: unknown, j) => {
        if (isObject(t)) dangling(t.upstream, ["split", "targets", j, "upstream"]);
      });
    }
  }
  if (!Array.isArray(route.canary)) return;
  if (route.redirect !== undefined) {
    out.push({
      path: [...at, "canary"],
      message: `canary rules choose an upstream, and this route answers with a redirect: remove ` +
        `"canary", or forward with "upstream" or "split"`,
    });
  }
  route.canary.forEach((rule: unknown, j) => {
    if (!isObject(rule)) return;
    dangling(rule.upstream, ["canary", j, "upstream"]);
    if (rule.color !== undefined && route.color === undefined) {
      out.push({
        path: [...at, "canary", j, "color"],
        message: `a color needs a header to travel upstream in: add color: { header: "x-color" } ` +
          `to the route`,
      });
    }
  });
}

/**
 * Pairs of durations that must be ordered: `[section, shorter, longer, longer's default]`. A
 * shorter one left out defaults to at most the longer one (see `normalizeUpstream`); a longer one
 * left out is compared at its default, which the message then names.
 */
const ORDERED_DURATIONS = [
  ["timeouts", "perTry", "total", "30s"],
  ["retries", "backoff.base", "backoff.max", "250ms"],
  ["outlierDetection", "baseEjectionTime", "maxEjectionTime", "5m"],
  ["circuitBreaker", "openFor", "maxOpenFor", "60s"],
  ["healthCheck", "timeout", "interval", "5s"],
] as const;

/** Durations whose meaning needs one not to exceed the other (a per-try longer than total...). */
function checkUpstreamDurations(upstream: Obj, at: Path, out: Problem[]) {
  for (const [section, shorter, longer, longerDefault] of ORDERED_DURATIONS) {
    const settings = upstream[section];
    if (!isObject(settings)) continue;
    const read = (key: string): unknown =>
      key.split(".").reduce<unknown>((v, k) => isObject(v) ? v[k] : undefined, settings);
    const a = read(shorter), given = read(longer);
    const b = given ?? longerDefault;
    if (typeof a !== "string" || typeof b !== "string") continue;
    const aMs = parseDuration(a), bMs = parseDuration(b);
    if (aMs === undefined || bMs === undefined || aMs <= bMs) continue;
    const fix = given === undefined
      ? `make it at most "${b}", or raise ${longer}`
      : `make it at most "${b}"`;
    out.push({
      path: [...at, section, ...shorter.split(".")],
      message: `${shorter} "${a}" is longer than ${longer} "${b}"${
        given === undefined ? " (the default)" : ""
      }: ${fix}`,
    });
  }
}

/** A mirror names an existing upstream, and only a forwarding route has requests to copy. */
function checkMirror(route: Obj, at: Path, upstreams: string[] | undefined, out: Problem[]) {
  const mirror = route.mirror;
  if (!isObject(mirror)) return; // absent, or malformed (the schema reports that)
  if (route.redirect !== undefined) {
    out.push({
      path: [...at, "mirror"],
      message: `a redirect route forwards nothing to mirror: remove "mirror", or mirror on a ` +
        `route with "upstream"`,
    });
  }
  if (typeof mirror.upstream === "string" && upstreams && !upstreams.includes(mirror.upstream)) {
    out.push({
      path: [...at, "mirror", "upstream"],
      message: danglingMessage("upstream", mirror.upstream, upstreams),
    });
  }
}

/** Route names label metrics and logs, so two routes must never share one (defaults count). */
function checkRouteName(route: Obj, i: number, owners: Map<string, number>, out: Problem[]) {
  const explicit = route.name;
  if (explicit !== undefined && (typeof explicit !== "string" || explicit.trim() === "")) return;
  const name = explicit ?? `route-${i}`;
  const first = owners.get(name);
  if (first === undefined) {
    owners.set(name, i);
    return;
  }
  out.push(
    explicit === undefined
      ? {
        path: ["routes", i],
        message: `this route's default name "${name}" is already used by routes[${first}]: ` +
          `give one of them another name`,
      }
      : {
        path: ["routes", i, "name"],
        message: `route name "${name}" is already used by routes[${first}]: route names must ` +
          `be unique`,
      },
  );
}

/** Kind must be registered and options must satisfy that kind's schema. */
function checkDescriptor(value: unknown, at: Path, out: Problem[]) {
  if (!isObject(value) || typeof value.kind !== "string") return; // the schema reports these
  const definition = policyDefinitions.get(value.kind);
  if (!definition) {
    const kinds = [...policyDefinitions.keys()];
    const guess = closest(value.kind, kinds);
    out.push({
      path: [...at, "kind"],
      message: `unknown policy kind "${value.kind}" (kinds are ${quoteList(kinds)})` +
        (guess ? `; did you mean "${guess}"?` : ""),
    });
    return;
  }
  const result = definition.schema.safeParse(value.options, PARSE_OPTIONS);
  if (!result.success) {
    out.push(...fromZod(definition.schema, result.error.issues, [...at, "options"]));
  }
}

function danglingMessage(what: "upstream" | "policy", name: string, defined: string[]): string {
  const plural = what === "upstream" ? "upstreams" : "policies";
  const missing = `no ${what} named ${describeValue(name)}`;
  if (defined.length === 0) return `${missing}, and no ${plural} are defined`;
  const guess = closest(name, defined);
  return `${missing} (${plural}: ${quoteList(defined)})` +
    (guess ? `; did you mean "${guess}"?` : "");
}

function quoteList(names: readonly string[]): string {
  const shown = names.slice(0, 10).map((n) => JSON.stringify(n)).join(", ");
  return names.length > 10 ? `${shown}, …` : shown;
}

/** The candidate nearest to `name` by edit distance, if it is close enough to be a typo. */
function closest(name: string, candidates: readonly string[]): string | undefined {
  const limit = Math.max(1, Math.floor(name.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = candidate.toLowerCase() === name.toLowerCase() ? 0 : editDistance(name, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return bestDistance <= limit ? best : undefined;
}

/** Levenshtein distance where swapping two neighbours counts once ("atuh" → "auth" is 1). */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => {
    const row = new Array<number>(b.length + 1).fill(0);
    row[0] = i;
    return row;
  });
  for (let j = 0; j <= b.length; j++) rows[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      rows[i][j] = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        rows[i][j] = Math.min(rows[i][j], rows[i - 2][j - 2] + 1);
      }
    }
  }
  return rows[a.length][b.length];
}

/** Problems as issues, ordered by position (routes[2] before routes[10]), duplicates dropped. */
function toIssues(problems: Problem[]): ConfigIssue[] {
  const sorted = problems.map((p, order) => ({ ...p, order })).sort((x, y) =>
    comparePaths(x.path, y.path) || x.order - y.order
  );
  const seen = new Set<string>();
  const issues: ConfigIssue[] = [];
  for (const { path, message } of sorted) {
    const issue: ConfigIssue = { path: formatPath(path), message, severity: "error" };
    const key = `${issue.path}\n${message}`;
    if (!seen.has(key)) {
      seen.add(key);
      issues.push(issue);
    }
  }
  return issues;
}

function comparePaths(a: Path, b: Path): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i], y = b[i];
    if (x === y) continue;
    if (typeof x === "number" && typeof y === "number") return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return a.length - b.length;
}

// ---------------------------------------------------------------------------------------------
// Step 3: defaults

const ms = (text: string): number => parseDuration(text)!;

function normalize(c: ParsedConfig): NormalizedConfig {
  const policies: Record<string, PolicyDescriptor> = {};
  for (const [name, d] of Object.entries(c.policies ?? {})) policies[name] = resolvePolicy(d);
  const upstreams: Record<string, NormalizedUpstream> = {};
  for (const [name, u] of Object.entries(c.upstreams)) upstreams[name] = normalizeUpstream(name, u);
  const config: NormalizedConfig = {
    listen: {
      hostname: c.listen?.hostname ?? DEFAULT_HOSTNAME,
      port: c.listen?.port ?? DEFAULT_PORTS.listen,
    },
    admin: {
      enabled: c.admin?.enabled ?? true,
      hostname: c.admin?.hostname ?? DEFAULT_HOSTNAME,
      port: c.admin?.port ?? DEFAULT_PORTS.admin,
      ...(c.admin?.tokenEnv ? { tokenEnv: c.admin.tokenEnv } : {}),
    },
    upstreams,
    policies,
    routes: c.routes.map((r, i) => normalizeRoute(r, i, policies)),
    trust: { proxies: [...(c.trust?.proxies ?? [])] },
    accessLog: {
      to: c.accessLog?.to ?? "off",
      sample: c.accessLog?.sample ?? 1,
      ...(c.accessLog?.fields ? { fields: [...new Set(c.accessLog.fields)] } : {}),
    },
    coloring: { headers: [...new Set((c.coloring?.headers ?? []).map((h) => h.toLowerCase()))] },
    limits: {
      maxBodyBytes: c.limits?.maxBodyBytes ?? 10_485_760,
      drainTimeoutMs: ms(c.limits?.drainTimeout ?? "10s"),
    },
    reload: {
      debounceMs: ms(c.reload?.debounce ?? "100ms"),
      streamGraceMs: ms(c.reload?.streamGrace ?? "30s"),
    },
  };
  if (c.demo) {
    config.demo = {
      hostname: c.demo.listen?.hostname ?? DEFAULT_HOSTNAME,
      port: c.demo.listen?.port ?? DEFAULT_PORTS.demo,
    };
  }
  return config;
}

type ParsedUpstream = ParsedConfig["upstreams"][string];
type ParsedRoute = ParsedConfig["routes"][number];

function normalizeUpstream(name: string, u: ParsedUpstream): NormalizedUpstream {
  const totalMs = ms(u.timeouts?.total ?? "30s");
  const outlier = u.outlierDetection || undefined;
  const breaker = u.circuitBreaker || undefined;
  const maxEjectionMs = ms(outlier?.maxEjectionTime ?? "5m");
  const maxOpenForMs = ms(breaker?.maxOpenFor ?? "60s");
  return {
    name,
    targets: u.targets.map((t) => {
      const { url, weight } = typeof t === "string" ? { url: t, weight: undefined } : t;
      return { url: new URL(url).origin, weight: weight ?? 1 };
    }),
    balancer: normalizeBalancer(u.balancer),
    host: u.host ?? "preserve",
    timeouts: {
      connectMs: ms(u.timeouts?.connect ?? "5s"),
      perTryMs: shorterOf(u.timeouts?.perTry, "30s", totalMs),
      totalMs,
      idleMs: ms(u.timeouts?.idle ?? "60s"),
    },
    pool: {
      maxIdlePerTarget: u.pool?.maxIdlePerTarget ?? 128,
      idleTimeoutMs: ms(u.pool?.idleTimeout ?? "60s"),
    },
    tls: {
      caCerts: u.tls?.caCerts ?? [],
      // `[::1]` as a listen address is written; TLS takes the bare address.
      serverName: u.tls?.serverName?.replace(/^\[(.*)\]$/, "$1") ?? null,
    },
    healthCheck: u.healthCheck ? normalizeHealthCheck(u.healthCheck) : null,
    outlierDetection: u.outlierDetection === false ? null : {
      consecutiveFailures: u.outlierDetection?.consecutiveFailures ?? 5,
      baseEjectionMs: shorterOf(u.outlierDetection?.baseEjectionTime, "30s", maxEjectionMs),
      maxEjectionMs,
      maxEjectedPercent: u.outlierDetection?.maxEjectedPercent ?? 50,
      slowStartMs: ms(u.outlierDetection?.slowStart ?? "10s"),
    },
    circuitBreaker: u.circuitBreaker === false ? null : {
      failurePercent: u.circuitBreaker?.failurePercent ?? 50,
      minRequests: u.circuitBreaker?.minRequests ?? 20,
      windowMs: ms(u.circuitBreaker?.window ?? "10s"),
      openForMs: shorterOf(u.circuitBreaker?.openFor, "5s", maxOpenForMs),
      maxOpenForMs,
      halfOpenProbes: u.circuitBreaker?.halfOpenProbes ?? 3,
    },
    retries: normalizeRetries(u.retries),
  };
}

/**
 * A duration bounded by another: the given value (validation already ensured it fits), or the
 * default lowered to the bound, so that setting only the longer one never breaks the pair.
 */
function shorterOf(given: string | undefined, fallback: string, bound: number): number {
  return given !== undefined ? ms(given) : Math.min(ms(fallback), bound);
}

type ParsedHealthCheck = NonNullable<ParsedUpstream["healthCheck"]>;

function normalizeHealthCheck(h: ParsedHealthCheck): NormalizedHealthCheck {
  const intervalMs = ms(h.interval ?? "5s");
  return {
    path: h.path,
    intervalMs,
    jitterMs: h.jitter ? ms(h.jitter) : Math.round(intervalMs / 10),
    timeoutMs: shorterOf(h.timeout, "2s", intervalMs),
    expectStatus: (h.expectStatus ?? ["2xx"]).map((s): [number, number] => {
      if (typeof s === "number") return [s, s];
      const base = Number(s[0]) * 100;
      return [base, base + 99];
    }),
    healthyThreshold: h.healthyThreshold ?? 2,
    unhealthyThreshold: h.unhealthyThreshold ?? 3,
    host: h.host ?? null,
  };
}

const DEFAULT_RETRY_ON = ["connect", "reset", 502, 503, 504] as const;

function normalizeRetries(parsed: ParsedUpstream["retries"]): NormalizedRetries {
  const r = parsed === false ? undefined : parsed;
  const on: readonly (string | number)[] = parsed === false ? [] : r?.on ?? DEFAULT_RETRY_ON;
  const backoffMaxMs = ms(r?.backoff?.max ?? "250ms");
  return {
    maxRetries: parsed === false ? 0 : r?.maxRetries ?? 2,
    on: {
      connect: on.includes("connect"),
      reset: on.includes("reset"),
      timeout: on.includes("timeout"),
      statuses: [...new Set(on.filter((x): x is number => typeof x === "number"))].sort(),
    },
    backoffBaseMs: shorterOf(r?.backoff?.base, "25ms", backoffMaxMs),
    backoffMaxMs,
    budgetPercent: r?.budget?.percent ?? 20,
    budgetMinPerSecond: r?.budget?.minPerSecond ?? 3,
    maxBufferedBodyBytes: r?.maxBufferedBodyBytes ?? 65_536,
  };
}

function normalizeBalancer(b: ParsedUpstream["balancer"]): BalancerConfig {
  if (b?.type !== "consistent_hash") return { type: b?.type ?? "round_robin" };
  const key = b.key.header !== undefined
    ? { header: b.key.header.toLowerCase() }
    : b.key.cookie !== undefined
    ? { cookie: b.key.cookie }
    : { clientIp: true as const };
  return { type: "consistent_hash", key };
}

function normalizeRoute(
  r: ParsedRoute,
  index: number,
  policies: Record<string, PolicyDescriptor>,
): NormalizedRoute {
  const m = r.match ?? {};
  const route: NormalizedRoute = {
    index,
    name: r.name ?? `route-${index}`,
    match: {
      hosts: unique(list(m.host).map((h) => h.toLowerCase())),
      path: m.path ?? "/*",
      methods: unique(list(m.method).map((x) => x.toUpperCase())),
      headers: Object.fromEntries(
        Object.entries(m.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
      ),
      query: { ...m.query },
    },
    use: (r.use ?? []).map((entry) =>
      typeof entry === "string"
        ? { ref: entry, descriptor: policies[entry] }
        : { descriptor: resolvePolicy(entry) }
    ),
    retryNonIdempotent: r.retryNonIdempotent ?? false,
  };
  if (r.upstream !== undefined) route.upstream = r.upstream;
  if (r.mirror) route.mirror = normalizeMirror(r.mirror);
  if (r.split) route.split = normalizeSplit(r.split);
  if (r.canary?.length) route.canary = r.canary.map(normalizeCanaryRule);
  if (r.color) route.color = { header: r.color.header.toLowerCase() };
  if (r.redirect) route.redirect = { to: r.redirect.to, status: r.redirect.status ?? 308 };
  return route;
}

function normalizeMirror(m: NonNullable<ParsedRoute["mirror"]>): NormalizedMirror {
  const lower = (names: string[]) => unique(names.map((n) => n.toLowerCase()));
  return {
    upstream: m.upstream,
    percent: m.percent ?? 100,
    maxConcurrent: m.maxConcurrent ?? 64,
    maxBodyBytes: m.maxBodyBytes ?? 65_536,
    diff: m.diff
      ? {
        headers: lower(m.diff.headers ?? ["content-type"]),
        ignoreHeaders: lower(m.diff.ignoreHeaders ?? []),
        ignoreJsonFields: unique(m.diff.ignoreJsonFields ?? []),
      }
      : null,
  };
}

function normalizeSplit(split: NonNullable<ParsedRoute["split"]>): NormalizedSplit {
  const k = split.sticky;
  return {
    targets: split.targets.map(({ upstream, weight }) => ({ upstream, weight })),
    sticky: k === undefined
      ? null
      : k.header !== undefined
      ? { header: k.header.toLowerCase() }
      : k.cookie !== undefined
      ? { cookie: k.cookie }
      : k.claim !== undefined
      ? { claim: k.claim }
      : { clientIp: true },
  };
}

function normalizeCanaryRule(
  rule: NonNullable<ParsedRoute["canary"]>[number],
): NormalizedCanaryRule {
  const w = rule.when;
  const when: CanaryWhen = w.header !== undefined
    ? { header: Object.fromEntries(Object.entries(w.header).map(([k, v]) => [k.toLowerCase(), v])) }
    : w.cookie !== undefined
    ? { cookie: { ...w.cookie } }
    : w.query !== undefined
    ? { query: { ...w.query } }
    : { claim: { ...w.claim } };
  return { when, upstream: rule.upstream, color: rule.color ?? null };
}

/** The descriptor with options as its kind's schema parsed them (validated in step 2). */
function resolvePolicy(d: { kind: string; options?: unknown }): PolicyDescriptor {
  const definition = policyDefinitions.get(d.kind)!;
  return { kind: d.kind, options: definition.schema.parse(d.options) };
}

const list = <T>(v: T | T[] | undefined): T[] => v === undefined ? [] : Array.isArray(v) ? v : [v];
const unique = <T>(values: T[]): T[] => [...new Set(values)];
