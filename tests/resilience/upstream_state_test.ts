/**
 * Per-target state is visible: admin `/upstreams` and the `ferry_upstream_*` metrics show a
 * target failing health checks, an ejected target, and an upstream whose state was carried
 * across a reload that did not change it.
 */
import assert from "node:assert/strict";
import { FlakyUpstream } from "../helpers/flaky_upstream.ts";
import { startTestGateway } from "../helpers/gateway.ts";
import { get, pollFor, scrapeMetrics } from "../helpers/reload.ts";

interface TargetView {
  url: string;
  healthy: boolean;
  health: string;
  ejections: number;
  lastHealthCheck?: string;
  ejectedUntil?: string;
}

async function targets(adminUrl: string, name: string): Promise<TargetView[]> {
  const all = await (await fetch(`${adminUrl}/upstreams`)).json();
  return all.find((u: { name: string }) => u.name === name).targets;
}

Deno.test("resilience: /upstreams and metrics show failing health checks", async () => {
  const [a, b] = [FlakyUpstream.start("a"), FlakyUpstream.start("b")];
  b.behave = (req) => req.path === "/healthz" ? { kind: "status", status: 500 } : { kind: "ok" };
  const config = {
    upstreams: {
      app: {
        targets: [a.url, b.url],
        healthCheck: { path: "/healthz", interval: "50ms", unhealthyThreshold: 2 },
      },
    },
    routes: [{ upstream: "app" }],
  };
  const gw = await startTestGateway(config);
  const admin = gw.adminUrl!;
  try {
    const [, bView] = await pollFor("b failing health checks", async () => {
      const t = await targets(admin, "app");
      return t[1].health === "failing_health_checks" ? t : undefined;
    });
    assert.equal(bView.healthy, false);
    assert.equal(bView.lastHealthCheck, "status 500");
    const metrics = await scrapeMetrics(admin);
    assert.equal(metrics.get(`ferry_upstream_healthy{upstream="app",target="${a.url}"}`), 1);
    assert.equal(metrics.get(`ferry_upstream_healthy{upstream="app",target="${b.url}"}`), 0);
    // Out of rotation means no real traffic.
    const before = b.count("/");
    for (let i = 0; i < 10; i++) assert.equal((await get(`${gw.url}/`)).text, "a");
    assert.equal(b.count("/"), before);
    assert.ok(gw.logger.lines.some((l) => l.message === "upstream target down"));

    // A reload that leaves the upstream unchanged keeps its state (no fresh "healthy" start).
    await gw.reload({ ...config, routes: [{ name: "renamed", upstream: "app" }] });
    const after = await targets(admin, "app");
    assert.equal(after[1].health, "failing_health_checks");

    // b recovers: two passing probes in a row readmit it.
    b.behave = () => ({ kind: "ok" });
    await pollFor("b healthy", async () => (await targets(admin, "app"))[1].healthy || undefined);
  } finally {
    await gw.close();
    await a.close();
    await b.close();
  }
});

Deno.test("resilience: an ejected target is shown with its ejection and counted", async () => {
  const [a, b] = [FlakyUpstream.start("a"), FlakyUpstream.start("b")];
  a.behave = () => ({ kind: "status", status: 502 });
  const gw = await startTestGateway({
    upstreams: {
      app: {
        targets: [a.url, b.url],
        outlierDetection: { consecutiveFailures: 2, baseEjectionTime: "1m" },
        retries: false,
        circuitBreaker: false,
      },
    },
    routes: [{ upstream: "app" }],
  });
  const admin = gw.adminUrl!;
  try {
    // Round-robin alternates a, b: a's second 502 ejects it.
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await get(`${gw.url}/`)).status);
    assert.deepEqual(statuses, [502, 200, 502, 200, 200, 200]);
    const [aView] = await targets(admin, "app");
    assert.equal(aView.health, "ejected");
    assert.equal(aView.ejections, 1);
    const until = Date.parse(aView.ejectedUntil!) - Date.now();
    assert.ok(until > 50_000 && until <= 60_000, `ejected for another ${until} ms`);
    const metrics = await scrapeMetrics(admin);
    assert.equal(
      metrics.get(`ferry_upstream_ejections_total{upstream="app",target="${a.url}"}`),
      1,
    );
    assert.equal(metrics.get(`ferry_upstream_healthy{upstream="app",target="${a.url}"}`), 0);
    const line = gw.logger.lines.find((l) => l.message === "upstream target ejected");
    assert.match(String(line?.fields?.reason), /2 consecutive failures, the last: status 502/);
  } finally {
    await gw.close();
    await a.close();
    await b.close();
  }
});
