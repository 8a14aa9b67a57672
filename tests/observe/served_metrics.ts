/**
 * Admin `/metrics` of a real `ferry start` child process. Process metrics depend on what Deno
 * lets the program read (prom-client reads `/proc/self`), so they are measured under the flags
 * of a served gateway, not under the test runner's own.
 */
import { join } from "node:path";
import { freePort } from "../helpers/gateway.ts";
import { DenoProcess, MOD_TS, SERVING_LINE, withTempDir } from "../helpers/process.ts";
import { scrapeMetrics } from "../helpers/reload.ts";

/**
 * Starts `ferry start` run with `flags` (one catch-all route to a port nothing listens on),
 * scrapes its admin `/metrics` once it serves, and stops it.
 */
export async function scrapeServedGateway(
  flags: readonly string[],
): Promise<Map<string, number>> {
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
