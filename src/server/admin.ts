/**
 * The admin app (loopback by default): liveness, readiness, metrics, the config being served,
 * the compiled routes, upstream health and circuit state, and reload. It is a separate listener so it never competes with proxy
 * routes. Endpoints that change state accept loopback callers, and others only with the token.
 */
import { Hono } from "hono";
import type { GatewayMetrics } from "../observe/metrics.ts";
import { describeRoutes } from "../routing/describe.ts";
import { describeUpstreams } from "../upstream/describe.ts";
import { describeMirrors } from "../traffic/mirror_summary.ts";
import { foreignOrigin } from "./cross_origin.ts";
import { foreignLoopbackHost, isLoopback } from "./loopback_host.ts";
import { withoutSecretValues } from "./redacted_config.ts";
import type { ReloadOutcome } from "./reloader.ts";
import type { Snapshot } from "./snapshot.ts";

/** The last attempt to load a config, for `/config`. */
export interface LoadStatus {
  at: string;
  result: "success" | "error";
  errors?: { path: string; message: string }[];
}

/** What the admin app reads. */
export interface AdminDeps {
  current(): Snapshot;
  metrics: GatewayMetrics;
  draining(): boolean;
  lastLoad(): LoadStatus;
  /** Reloads the config file; absent for gateways not started from a file. */
  reload?: () => Promise<ReloadOutcome>;
  /** Bearer token that lets non-loopback callers change state. */
  token?: string;
  /**
   * The listener is bound to loopback: only a `Host` of `localhost` or a loopback address is
   * answered (see `loopback_host.ts`).
   */
  loopbackOnly?: boolean;
}

/** Compares secrets in time that does not depend on where they differ. */
export function sameSecret(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/** Builds the admin Hono app. */
export function createAdminApp(deps: AdminDeps): Hono {
  const app = new Hono();
  if (deps.loopbackOnly) {
    app.use(async (c, next) => {
      const host = foreignLoopbackHost(c.req.header("host"));
      if (host === undefined) return await next();
      return c.json({
        title: "Forbidden",
        status: 403,
        detail: `the admin API listens on loopback and answers only Host localhost or a ` +
          `loopback address, not ${JSON.stringify(host.slice(0, 100))}: a web page can point ` +
          "its own name at 127.0.0.1 (DNS rebinding)",
      }, 403);
    });
  }
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get(
    "/readyz",
    (c) =>
      deps.draining()
        ? c.json({ status: "draining" }, 503)
        : c.json({ status: "ready", version: deps.current().version }),
  );
  app.get("/metrics", async (c) => {
    return c.body(await deps.metrics.text(), 200, { "content-type": deps.metrics.contentType });
  });
  app.get("/config", (c) => {
    const s = deps.current();
    return c.json({
      version: s.version,
      hash: s.hash,
      source: s.source,
      loadedAt: s.loadedAt.toISOString(),
      lastLoad: deps.lastLoad(),
      // No token guards `/config`: values that may be secrets are described, not shown.
      config: withoutSecretValues(s.config),
    });
  });
  app.get("/routes", (c) => c.json(describeRoutes(deps.current().table)));
  app.get(
    "/upstreams",
    (c) => c.json(describeUpstreams(deps.current().upstreams.values(), Date.now())),
  );
  app.get("/mirror", (c) => {
    const s = deps.current();
    return c.json(describeMirrors(s.config.routes, s.mirrors));
  });
  app.post("/reload", async (c) => {
    const origin = foreignOrigin(c.req.raw);
    if (origin !== undefined) {
      return c.json({
        title: "Forbidden",
        status: 403,
        detail: `reload refuses a request a browser sent from another origin (${origin}): ` +
          "a web page must not reload the gateway; use curl or another non-browser client",
      }, 403);
    }
    const peer = (c.env as { remoteAddr?: { hostname?: string } } | undefined)?.remoteAddr
      ?.hostname;
    const bearer = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
    const allowed = isLoopback(peer) ||
      (deps.token !== undefined && bearer !== undefined && sameSecret(bearer, deps.token));
    if (!allowed) {
      return c.json({
        title: "Forbidden",
        status: 403,
        detail: "reload is allowed from loopback, or with the admin token (admin.tokenEnv)",
      }, 403);
    }
    if (!deps.reload) {
      return c.json({
        title: "Not reloadable",
        status: 409,
        detail: "this gateway was not started from a config file",
      }, 409);
    }
    const outcome = await deps.reload();
    return c.json(outcome, outcome.result === "error" ? 422 : 200);
  });
  // A known path asked with another method is 405, not the 404 that suggests a typo in the path.
  const readOnly = [
    "/healthz",
    "/readyz",
    "/metrics",
    "/config",
    "/routes",
    "/upstreams",
    "/mirror",
  ];
  for (const path of [...readOnly, "/reload"]) {
    const allow = path === "/reload" ? "POST" : "GET, HEAD";
    app.all(path, (c) =>
      c.json(
        {
          title: "Method not allowed",
          status: 405,
          detail: `${path} accepts ${allow}, not ${c.req.method}`,
        },
        405,
        { allow },
      ));
  }
  app.notFound((c) =>
    c.json({ title: "Not found", status: 404, detail: `no admin endpoint ${c.req.path}` }, 404)
  );
  return app;
}
