/**
 * A request the gateway cannot put on the wire (a custom policy set an `upstreamPath` with a
 * space, or one that is not `/`-rooted) is the gateway's own fault, found before a byte is sent:
 * the client gets a 500 problem, and the upstream is not blamed (no outlier-detection failure, no
 * circuit-breaker failure) nor tried again.
 */
import assert from "node:assert/strict";
import { custom } from "../../mod.ts";
import { readProblem, startTestGateway, startUpstream } from "../helpers/gateway.ts";
import { scrapeMetrics } from "../helpers/reload.ts";

/** Writes a policy module that sets `upstreamPath` to `path` when the request has `x-break`. */
async function pathPolicy(dir: string, path: string): Promise<string> {
  const module = `${dir}/bad_path.ts`;
  await Deno.writeTextFile(
    module,
    `export default () => async (c, next) => {\n` +
      `  if (c.req.header("x-break")) c.var.proxy.upstreamPath = ${JSON.stringify(path)};\n` +
      `  await next();\n};\n`,
  );
  return module;
}

for (const path of ["/a b", "no-slash"]) {
  Deno.test(`an upstreamPath that cannot be sent (${JSON.stringify(path)}) answers 500 and leaves the upstream healthy`, async () => {
    const upstream = startUpstream(() => new Response("ok"));
    const dir = await Deno.makeTempDir({ prefix: "ferry-unencodable-" });
    try {
      const gw = await startTestGateway({
        upstreams: {
          api: {
            targets: [upstream.url],
            // One failure would eject the only target, and one would open the circuit.
            outlierDetection: { consecutiveFailures: 1 },
            circuitBreaker: { minRequests: 1, failurePercent: 1 },
          },
        },
        routes: [{ upstream: "api", use: [custom({ module: await pathPolicy(dir, path) })] }],
      });
      try {
        const bad = await fetch(`${gw.url}/anything`, { headers: { "x-break": "1" } });
        assert.equal(bad.status, 500);
        const problem = await readProblem(bad);
        assert.equal(problem.type.endsWith("internal-error"), true, problem.type);
        assert.equal(upstream.received.length, 0);

        const metrics = await scrapeMetrics(gw.adminUrl!);
        assert.equal(metrics.get(`ferry_upstream_retries_total{upstream="api"}`) ?? 0, 0);

        const good = await fetch(`${gw.url}/anything`);
        assert.equal(good.status, 200);
        assert.equal(await good.text(), "ok");
        assert.equal(upstream.received.length, 1);
      } finally {
        await gw.close();
      }
    } finally {
      await upstream.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}
