/**
 * Process gauges prom-client fills from `/proc/self`, which Deno lets a program read only under
 * `--allow-all`. Under narrower flags the read fails quietly and the gauge would say 0: an
 * "open file descriptors near the limit" alert would then never fire, and a dashboard would show
 * a flat line as if it were a measurement. Such a gauge must be real (above 0) or absent.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort, startTestGateway, startUpstream } from "../helpers/gateway.ts";
import { DenoProcess, MOD_TS, SERVE_FLAGS, SERVING_LINE, withTempDir } from "../helpers/process.ts";
import { scrapeMetrics } from "../helpers/reload.ts";

/** The gauges whose only source is a `/proc/self` file. */
const PROC_GAUGES = ["ferry_process_open_fds", "ferry_process_virtual_memory_bytes"];

/** Scrapes a `ferry start` process run with `flags`. */
async function scrapeServed(flags: readonly string[]): Promise<Map<string, number>> {
  return await withTempDir(async (dir) => {
    const file = join(dir, "ferry.config.ts");
    await Deno.writeTextFile(
      file,
      `export default ${
        JSON.stringify({
          listen: { hostname: "127.0.0.1", port: 0 },
          admin: { hostname: "127.0.0.1", port: 0 },
          upstreams: { api: { targets: [`http://127.0.0.1:${freePort()}`] } },
          routes: [{ name: "all", upstream: "api" }],
        })
      };\n`,
    );
    const proc = new DenoProcess(["run", ...flags, MOD_TS, "start", "--config", file]);
    try {
      const line = await proc.waitForStderr(SERVING_LINE, 60_000);
      const { admin } = JSON.parse(`{${line[0]}`) as { admin: string };
      return await scrapeMetrics(admin);
    } finally {
      proc.signal("SIGTERM");
      await proc.waitForExit(20_000);
      await proc.dispose();
    }
  });
}

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
  const m = await scrapeServed(SERVE_FLAGS);
  for (const name of PROC_GAUGES) assert.equal(m.get(name), undefined, name);
  assert.ok(m.get("ferry_process_resident_memory_bytes")! > 0);
});

Deno.test("under --allow-all the /proc-fed gauges are real figures", async () => {
  const m = await scrapeServed(["--allow-all"]);
  for (const name of PROC_GAUGES) assert.ok(m.get(name)! > 0, `${name} = ${m.get(name)}`);
  assert.ok(m.get("ferry_process_resident_memory_bytes")! > 0);
});
