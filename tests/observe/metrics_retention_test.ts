/**
 * A closed gateway's metrics must be collectable. prom-client's GC-duration collector registers
 * a `PerformanceObserver` that is never disconnected, which keeps its registry, and through the
 * scrape-time gauges the registry holds, the closed gateway's upstreams, live connections and
 * mirrors, for the life of the process: one whole gateway per `createGateway` in a test suite.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { runDeno } from "../helpers/process.ts";

const CHILD = fileURLToPath(new URL("./gateway_retention_child.ts", import.meta.url));

Deno.test("closed gateways leave no metric registry behind", async () => {
  const result = await runDeno(
    ["run", "--allow-net", "--allow-read", "--v8-flags=--expose-gc", CHILD],
    { timeoutMs: 60_000 },
  );
  assert.equal(result.code, 0, result.stderr);
  const { created, alive } = JSON.parse(result.stdout.trim()) as {
    created: number;
    alive: number;
  };
  assert.equal(created, 10);
  assert.equal(alive, 0, `${alive} of ${created} closed gateways' registries still held`);
});
