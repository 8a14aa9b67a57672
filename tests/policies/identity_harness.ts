/**
 * A real gateway and a real echo upstream for the identity policy tests: one route ("guarded")
 * using the policy under test, the JSON access log written to a temp file (to read each
 * request's `subject`), and the admin `/metrics` for `ferry_auth_failures_total`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { validateConfig } from "../../src/config/validate.ts";
import { scrapeMetrics } from "../helpers/reload.ts";
import { startEchoUpstream, startTestGateway } from "../helpers/gateway.ts";

/** What the echo upstream reports about the request it received. */
export interface Echo {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
}

/** One access-log line, the fields these tests read. */
export interface AccessLine {
  requestId: string;
  status: number;
  clientIp: string;
  subject?: string;
}

export interface IdentityGateway {
  readonly url: string;
  /** Requests the upstream received (a refused request must not be among them). */
  readonly upstreamCalls: number;
  /** `ferry_auth_failures_total{policy,reason}`, 0 when the series does not exist. */
  failures(policy: string, reason: string): Promise<number>;
  /** The value of one series (`name{labels}`) on admin `/metrics`, 0 when it does not exist. */
  metric(series: string): Promise<number>;
  /** Stops gateway and upstream, then returns the access log by request id. */
  close(): Promise<Map<string, AccessLine>>;
}

/** Starts the upstream and a gateway whose route "guarded" uses `policy`. */
export async function startIdentityGateway(
  policy: { kind: string; options: unknown },
  options: { env?: Record<string, string>; trust?: { proxies: string[] } } = {},
): Promise<IdentityGateway> {
  const dir = await Deno.makeTempDir({ prefix: "ferry-identity-" });
  const file = join(dir, "access.log");
  const upstream = startEchoUpstream();
  let gw;
  try {
    gw = await startTestGateway({
      upstreams: { api: { targets: [upstream.url] } },
      routes: [{ name: "guarded", upstream: "api", use: [policy] }],
      accessLog: { to: { file } },
      ...(options.trust ? { trust: options.trust } : {}),
    }, { env: options.env });
  } catch (e) {
    await upstream.close();
    await Deno.remove(dir, { recursive: true });
    throw e;
  }
  const adminUrl = gw.adminUrl!;
  const handle = gw;
  const metric = async (series: string) => (await scrapeMetrics(adminUrl)).get(series) ?? 0;
  return {
    url: gw.url,
    get upstreamCalls() {
      return upstream.received.length;
    },
    metric,
    failures: (kind, reason) =>
      metric(`ferry_auth_failures_total{policy="${kind}",reason="${reason}"}`),
    async close() {
      try {
        await handle.close();
        await upstream.close();
        const text = await Deno.readTextFile(file).catch(() => "");
        const lines = text.split("\n").filter((l) => l !== "").map((l) =>
          JSON.parse(l) as AccessLine
        );
        return new Map(lines.map((l) => [l.requestId, l]));
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  };
}

/** A refusal as the client sees it: status, problem body, headers. */
export interface Refused {
  status: number;
  type: string;
  detail: string;
  requestId: string;
  challenge: string | null;
  cacheControl: string | null;
  /** The whole response (head and body) as text, to check no credential is echoed. */
  raw: string;
}

/** Reads a refusal, checking it is a well-formed Ferry problem. */
export async function readRefusal(res: Response): Promise<Refused> {
  const text = await res.text();
  assert.equal(res.headers.get("content-type"), "application/problem+json", text);
  const body = JSON.parse(text);
  assert.equal(body.status, res.status);
  assert.equal(body.requestId, res.headers.get("x-request-id"));
  return {
    status: res.status,
    type: body.type,
    detail: body.detail,
    requestId: body.requestId,
    challenge: res.headers.get("www-authenticate"),
    cacheControl: res.headers.get("cache-control"),
    raw: [...res.headers].map(([k, v]) => `${k}: ${v}`).join("\n") + "\n\n" + text,
  };
}

/** Validation errors (path → message) for a route using `kind` with `options`. */
export function validationErrors(kind: string, options: unknown): Record<string, string> {
  const result = validateConfig({
    upstreams: { api: { targets: ["http://127.0.0.1:9"] } },
    routes: [{ upstream: "api", use: [{ kind, options }] }],
  });
  assert.equal(result.ok, false, `expected ${JSON.stringify(options)} to be rejected`);
  return Object.fromEntries(result.ok ? [] : result.errors.map((e) => [e.path, e.message]));
}

/** Whether `options` validate for `kind`, failing with the errors when they do not. */
export function assertValid(kind: string, options: unknown): void {
  const result = validateConfig({
    upstreams: { api: { targets: ["http://127.0.0.1:9"] } },
    routes: [{ upstream: "api", use: [{ kind, options }] }],
  });
  assert.ok(result.ok, JSON.stringify(!result.ok && result.errors));
}

/** The path of the first route's first policy's options in validation errors. */
export const AT = "routes[0].use[0].options";
