/**
 * Process gauges prom-client fills from `/proc/self`, which Deno lets a program read only under
 * `--allow-all`. Under narrower flags the read fails quietly and the gauge would say 0: an
 * "open file descriptors near the limit" alert would then never fire, and a dashboard would show
 * a flat line as if it were a measurement. Such a gauge must be real (above 0) or absent.
 */
import assert from "node:assert/strict";
import { startTestGateway, startUpstream } from "../helpers/gateway.ts";
import { SERVE_FLAGS } from "../helpers/process.ts";
import { scrapeMetrics } from "../helpers/reload.ts";
import { scrapeServedGateway } from "./served_metrics.ts";

/** The gauges whose only source is a `/proc/self` file. */
const PROC_GAUGES = ["ferry_process_open_fds", "ferry_process_virtual_memory_bytes"];

Deno.test("/proc-fed process gauges are absent, not 0, when Deno may not read /proc/self", async () => {
  // The test runner's flags (broad --allow-read, no --allow-all) are the case to check: the
  // gateway runs in this process.
  const api = startUpstream(() => new Response("ok"));
  const gw = await startTestGateway({
    upstreams: { api: { targets: [api.url] } },
    routes: [{ upstream: "api" }],
  });
  try {
    const m = await scrapeMetrics(gw.adminUrl!);
    for (const name of PROC_GAUGES) {
      const value = m.get(name);
      assert.ok(value === undefined || value > 0, `${name} = ${value}`);
    }
    // The memory figures Ferry takes from Deno itself stay.
    assert.ok(m.get("ferry_process_resident_memory_bytes")! > 0);
    assert.ok(m.get("ferry_process_heap_bytes")! > 0);
  } finally {
    await gw.close();
    await api.close();
  }
});

Deno.test("under the serve flags the /proc-fed gauges are left out", async () => {
  const m = await scrapeServedGateway(SERVE_FLAGS);
  for (const name of PROC_GAUGES) assert.equal(m.get(name), undefined, name);
  assert.ok(m.get("ferry_process_resident_memory_bytes")! > 0);
});

Deno.test("under --allow-all the /proc-fed gauges are real figures", async () => {
  const m = await scrapeServedGateway(["--allow-all"]);
  for (const name of PROC_GAUGES) assert.ok(m.get(name)! > 0, `${name} = ${m.get(name)}`);
  assert.ok(m.get("ferry_process_resident_memory_bytes")! > 0);
});
