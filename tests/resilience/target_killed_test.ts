/**
 * Issue 4 acceptance: a target killed under steady load. With retries on, clients see < 0.5%
 * failed requests while the gateway detects the death and none once the target is out of
 * rotation. Revived, the target is readmitted within two health-check intervals (counted in
 * probes) and ramps its share back up (slow start) instead of taking a third at once.
 */
import assert from "node:assert/strict";
import { FlakyUpstream } from "../helpers/flaky_upstream.ts";
import { startTestGateway } from "../helpers/gateway.ts";
import { Load, type LoadRecord } from "../helpers/load.ts";
import { pollFor } from "../helpers/reload.ts";

const INTERVAL_MS = 200;
const HEALTHY_THRESHOLD = 2;

Deno.test("resilience: a target killed under load, then revived", async () => {
  const [a, b, c] = ["a", "b", "c"].map((name) => FlakyUpstream.start(name));
  const gw = await startTestGateway({
    upstreams: {
      app: {
        targets: [a.url, b.url, c.url],
        healthCheck: {
          path: "/healthz",
          interval: `${INTERVAL_MS}ms`,
          jitter: "20ms",
          timeout: "100ms",
          healthyThreshold: HEALTHY_THRESHOLD,
          unhealthyThreshold: 2,
        },
        outlierDetection: { consecutiveFailures: 3, baseEjectionTime: "30s", slowStart: "1s" },
      },
    },
    routes: [{ upstream: "app" }],
  });
  const load = new Load(`${gw.url}/work`, 16, { maxMs: 40_000, maxRequests: 200_000 });
  const removed = () =>
    gw.logger.lines.find((l) =>
      (l.message === "upstream target ejected" || l.message === "upstream target down") &&
      l.fields?.target === c.url
    );
  try {
    await load.reached(500);
    const killedAt = performance.now();
    c.kill();
    // Detection: the first log line that takes c out of rotation.
    await pollFor("c taken out of rotation", () => removed(), { timeoutMs: 5_000 });
    const removedAt = performance.now();
    const afterRemoval = load.records.length + 1_000;
    await load.reached(afterRemoval);

    // In flight at the kill, or sent before c was out of rotation.
    const detecting = load.records.filter((r) => r.end >= killedAt && r.start < removedAt);
    // Requests sent before removal may finish after it; "after" counts requests sent later.
    const after = load.records.filter((r) => r.start >= removedAt);
    const failed = (rs: LoadRecord[]) => rs.filter((r) => r.status !== 200).length;
    const detectFailRate = failed(detecting) / Math.max(1, detecting.length);
    console.log(
      `killed c: removed after ${(removedAt - killedAt).toFixed(0)} ms (${
        removed()!.message
      }); during detection ${failed(detecting)}/${detecting.length} failed (${
        (detectFailRate * 100).toFixed(3)
      }%); after removal ${failed(after)}/${after.length} failed, ` +
        `${after.filter((r) => r.upstream === "c").length} served by c`,
    );
    assert.ok(detectFailRate < 0.005, `${(detectFailRate * 100).toFixed(3)}% failed`);
    assert.equal(failed(after), 0);
    assert.equal(after.filter((r) => r.upstream === "c").length, 0);

    // Revive: count c's probes before its first real request.
    const probesBefore = c.count("/healthz");
    const realBefore = c.count("/work");
    const revivedAt = performance.now();
    c.revive();
    await pollFor("c serves real traffic again", () => c.count("/work") > realBefore || undefined, {
      timeoutMs: 5_000,
      intervalMs: 5,
    });
    const readmittedAt = performance.now();
    const firstReal = c.seen.findIndex((r, i) =>
      i >= probesBefore + realBefore && r.path === "/work"
    );
    const probesToReadmit = c.seen.slice(probesBefore + realBefore, firstReal)
      .filter((r) => r.path === "/healthz").length;
    console.log(
      `revived c: readmitted after ${probesToReadmit} probes, ${
        (readmittedAt - revivedAt).toFixed(0)
      } ms (interval ${INTERVAL_MS} ms)`,
    );
    assert.ok(
      probesToReadmit <= HEALTHY_THRESHOLD,
      `readmitted after ${probesToReadmit} probes, more than ${HEALTHY_THRESHOLD} intervals`,
    );

    // Ramp: c's share right after readmission is small, and a full third once slow start ends.
    const rampStart = load.records.length;
    await load.reached(rampStart + 100);
    const early = share(load.records.slice(rampStart, rampStart + 100), "c");
    await pollFor("c's weight back to 1", async () => {
      const [app] = await (await fetch(`${gw.adminUrl}/upstreams`)).json();
      return app.targets[2].weight === 1 || undefined;
    }, { timeoutMs: 5_000, intervalMs: 50 });
    const fullStart = load.records.length;
    await load.reached(fullStart + 600);
    const full = share(load.records.slice(fullStart, fullStart + 600), "c");
    console.log(
      `slow start: c served ${(early * 100).toFixed(1)}% of the first 100 requests after ` +
        `readmission, ${(full * 100).toFixed(1)}% once ramped`,
    );
    assert.ok(early < 0.2, `c took ${(early * 100).toFixed(1)}% at once`);
    assert.ok(full > 0.28 && full < 0.39, `c's share once ramped: ${(full * 100).toFixed(1)}%`);
    assert.equal(failed(load.records.slice(rampStart)), 0);
  } finally {
    await load.stop();
    await gw.close();
    await Promise.all([a, b, c].map((u) => u.close()));
  }
});

function share(records: LoadRecord[], upstream: string): number {
  return records.filter((r) => r.upstream === upstream).length / records.length;
}
