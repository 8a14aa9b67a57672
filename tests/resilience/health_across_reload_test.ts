/**
 * Active health verdicts across a reload that changes the upstream but not its health check,
 * through the real gateway and real upstreams. Raising one target's weight (a canary ramp) built
 * new targets that all started healthy, so a target known to be down took traffic again until it
 * failed `unhealthyThreshold` fresh probes. A target that stays listed under the same health
 * check keeps its verdict, and must pass `healthyThreshold` probes to come back, as before.
 */
import assert from "node:assert/strict";
import { type LogLevel, MemoryLogger } from "../../src/observe/logger.ts";
import { startTestGateway, startUpstream, within } from "../helpers/gateway.ts";

/** A memory logger that resolves `down` when a target is logged leaving rotation. */
class DownWatcher extends MemoryLogger {
  readonly down = Promise.withResolvers<void>();

  override log(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    super.log(level, message, fields);
    if (message === "upstream target down") this.down.resolve();
  }
}

function config(good: string, sick: string, goodWeight: number, interval = "1h") {
  return {
    upstreams: {
      api: {
        targets: [{ url: good, weight: goodWeight }, sick],
        // One probe per target when the upstream is built; the next an hour later.
        healthCheck: { path: "/healthz", interval, jitter: "0ms", unhealthyThreshold: 1 },
        retries: false,
      },
    },
    routes: [{ upstream: "api" }],
  };
}

/**
 * Runs `fn` with a gateway over a good target and one whose health check fails, once the sick
 * target has left rotation (its first probe failed). Everything is stopped after `fn`.
 */
async function withSickTarget(
  fn: (
    gw: Awaited<ReturnType<typeof startTestGateway>>,
    good: string,
    sick: string,
  ) => Promise<void>,
): Promise<void> {
  const good = startUpstream(() => new Response("good"));
  const sick = startUpstream((req) =>
    new URL(req.url).pathname === "/healthz"
      ? new Response("down", { status: 503 })
      : new Response("sick")
  );
  const logger = new DownWatcher();
  const gw = await startTestGateway(config(good.url, sick.url, 1), { logger });
  try {
    await within(logger.down.promise, 5000, "the sick target never left rotation");
    await fn(gw, good.url, sick.url);
  } finally {
    await gw.close();
    await good.close();
    await sick.close();
  }
}

Deno.test("a weight change on reload keeps a target that fails its health checks out of rotation", async () => {
  await withSickTarget(async (gw, good, sick) => {
    const result = await gw.reload(config(good, sick, 2));
    assert.equal(result.changed, true);
    const targets = gw.snapshot.upstreams.get("api")!.targets;
    assert.equal(targets[0].configuredWeight, 2, "the reload is in effect");
    assert.equal(targets[1].health, "failing_health_checks");
    const bodies: string[] = [];
    for (let i = 0; i < 6; i++) bodies.push(await (await fetch(`${gw.url}/x${i}`)).text());
    assert.deepEqual(bodies, Array(6).fill("good"));
  });
});

Deno.test("a reload that changes the health check itself starts every target healthy", async () => {
  await withSickTarget(async (gw, good, sick) => {
    // New rules: the old verdict was reached under other ones.
    const result = await gw.reload(config(good, sick, 1, "2h"));
    assert.equal(result.changed, true);
    assert.equal(gw.snapshot.upstreams.get("api")!.targets[1].health, "healthy");
  });
});
