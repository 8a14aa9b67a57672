/**
 * What the resilience machinery reports when health checks and outlier detection both act on
 * one target. A target that is ejected and then passes its health checks again is out of
 * rotation until the passing probe ends the ejection: that is one change, "up", and never a
 * "down" whose reason says the checks passed (it was logged as a warning and counted as a
 * target going down).
 */
import assert from "node:assert/strict";
import { normalize } from "../../src/server/gateway.ts";
import type { UpstreamEvents } from "../../src/upstream/resilience/events.ts";
import { Resilience } from "../../src/upstream/resilience/resilience.ts";
import { Target } from "../../src/upstream/target.ts";
import { within } from "../helpers/gateway.ts";

Deno.test("a target passing its checks again while ejected is reported up once, never down", async () => {
  const config = normalize({
    upstreams: {
      api: {
        targets: ["http://127.0.0.1:1", "http://127.0.0.1:2"],
        healthCheck: {
          path: "/healthz",
          interval: "1ms",
          jitter: "0ms",
          healthyThreshold: 1,
          unhealthyThreshold: 1,
        },
        outlierDetection: { consecutiveFailures: 1, baseEjectionTime: "5m", slowStart: "0ms" },
      },
    },
    routes: [{ upstream: "api" }],
  }).upstreams.api;
  const targets = config.targets.map((t) => new Target(t.url, t.weight));
  const [a] = targets;
  const changes: string[] = [];
  let wake = () => {};
  const events: UpstreamEvents = {
    retried() {},
    budgetExhausted() {},
    ejected: (_u, t) => changes.push(`ejected ${t}`),
    healthChanged: (_u, t, healthy, reason) => {
      changes.push(`${healthy ? "up" : "down"} ${t}: ${reason}`);
      wake();
    },
    circuitChanged() {},
  };
  // `a` fails its first probe, then passes; `b` always passes.
  let aProbes = 0;
  const probe = (t: Target) => Promise.resolve(t === a && aProbes++ === 0 ? 500 : 200);
  const waitFor = async (what: string, done: () => boolean) => {
    while (!done()) {
      await within(new Promise<void>((resolve) => wake = resolve), 5000, what);
    }
  };
  const resilience = new Resilience(config, targets, probe, events);
  try {
    await waitFor("a down", () => changes.some((c) => c.startsWith("down")));
    // While `a` fails its checks, its last in-flight request fails too: it is ejected.
    resilience.failed(a, Date.now(), 1, "status 502");
    assert.equal(a.ejected, true);
    await waitFor("a up", () => changes.some((c) => c.startsWith("up")));
    assert.equal(a.healthy, true);
    const about = changes.filter((c) => c.includes(a.url));
    assert.deepEqual(
      about.map((c) => c.split(" ")[0]),
      ["down", "ejected", "up"],
      about.join("\n"),
    );
  } finally {
    resilience.close();
  }
});
