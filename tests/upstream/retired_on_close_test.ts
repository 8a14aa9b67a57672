/**
 * A reload that changes an upstream retires its old runtime, which is closed only after the
 * stream grace period (in-flight requests may still use its pools). A gateway closed within that
 * period must close the retired runtime too: otherwise its active health checks go on probing
 * the upstream for good (their timers are unref'd, so nothing else notices) after `close()`.
 */
import assert from "node:assert/strict";
import { startTestGateway, startUpstream } from "../helpers/gateway.ts";

Deno.test("closing the gateway during the reload grace period closes retired upstreams", async () => {
  const probed = { old: Promise.withResolvers<void>(), fresh: Promise.withResolvers<void>() };
  const upstream = startUpstream((req) => {
    const path = new URL(req.url).pathname;
    if (path === "/healthz-old") probed.old.resolve();
    if (path === "/healthz-new") probed.fresh.resolve();
    return new Response("ok");
  });
  const config = (path: string) => ({
    upstreams: { api: { targets: [upstream.url], healthCheck: { path, interval: "10s" } } },
    routes: [{ upstream: "api" }],
    reload: { streamGrace: "60s" },
  });
  const gw = await startTestGateway(config("/healthz-old"));
  const retired = gw.snapshot.upstreams.get("api")!;
  const current = () => gw.snapshot.upstreams.get("api")!;
  try {
    await probed.old.promise;
    await gw.reload(config("/healthz-new"));
    assert.notEqual(current(), retired, "a changed upstream gets a new runtime");
    await probed.fresh.promise;
    assert.equal(retired.closed, false, "the retired runtime waits out the grace period");
  } finally {
    await gw.close();
    await upstream.close();
  }
  assert.equal(current().closed, true);
  assert.equal(retired.closed, true, "the retired runtime was left open (its probes run on)");
});
