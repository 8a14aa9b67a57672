/**
 * The admin app (loopback by default): liveness, readiness, metrics, the config being served
 * and the compiled routes. It is a separate listener so it never competes with proxy routes.
 */
import { Hono } from "hono";
import type { GatewayMetrics } from "../observe/metrics.ts";
import { describeRoutes } from "../routing/describe.ts";
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
}

/** Builds the admin Hono app. */
export function createAdminApp(deps: AdminDeps): Hono {
  const app = new Hono();
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
      config: s.config,
    });
  });
  app.get("/routes", (c) => c.json(describeRoutes(deps.current().table)));
  app.notFound((c) =>
    c.json({ title: "Not found", status: 404, detail: `no admin endpoint ${c.req.path}` }, 404)
  );
  return app;
}
