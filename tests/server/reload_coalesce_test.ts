/**
 * Reload requests made while a reload runs share one follow-up run. When an explicit request
 * (admin, SIGHUP) joins a follow-up first asked for by the file watch, the follow-up must still
 * load the file: "the file did not change" is no reason to skip a reload an operator asked for
 * (for instance after creating the folder the access log goes to).
 */
import assert from "node:assert/strict";
import type { ImportOutcome } from "../../src/config/load.ts";
import { importInWorker } from "../../src/config/worker_import.ts";
import { MemoryLogger } from "../../src/observe/logger.ts";
import { GatewayCore } from "../../src/server/gateway_core.ts";
import { ConfigReloader } from "../../src/server/reloader.ts";
import { makeConfigDir, MOD_URL, save } from "../helpers/reload.ts";

function configText(accessLogFile?: string): string {
  const accessLog = accessLogFile
    ? `accessLog: { to: { file: ${JSON.stringify(accessLogFile)} } },`
    : "";
  return `import { defineConfig } from "${MOD_URL}";
export default defineConfig({
  ${accessLog}
  upstreams: { api: { targets: ["http://127.0.0.1:9"] } },
  routes: [{ name: "main", upstream: "api" }],
});
`;
}

Deno.test("an admin reload joining a file-triggered follow-up still reloads", async () => {
  const dir = await makeConfigDir();
  const core = new GatewayCore(new MemoryLogger(), () => undefined);
  // Imports after the first wait for their gate: that holds a reload "in progress".
  const gates: PromiseWithResolvers<void>[] = [];
  let imports = 0;
  const importer = async (path: string): Promise<ImportOutcome> => {
    const n = imports++;
    if (n > 0) await (gates[n] ??= Promise.withResolvers()).promise;
    return await importInWorker(path);
  };
  const gate = (n: number) => (gates[n] ??= Promise.withResolvers()).resolve();
  const reloader = new ConfigReloader(dir.path("ferry.config.ts"), core, importer);
  try {
    await save(reloader.path, configText());
    assert.equal((await reloader.reload("start")).result, "success");

    const logFile = dir.path("logs/access.log"); // its folder does not exist yet
    await save(reloader.path, configText(logFile));
    const first = reloader.reload("file"); // held at its import
    const fromWatch = reloader.reload("file"); // a second event meanwhile: the follow-up
    const fromAdmin = reloader.reload("admin"); // the operator asks too, and joins it
    gate(1);
    assert.equal((await first).result, "error"); // no folder for the access log

    await Deno.mkdir(dir.path("logs")); // the operator fixes the cause
    gate(2);
    assert.deepEqual(await fromAdmin, { result: "success", version: 2 });
    assert.deepEqual(await fromWatch, { result: "success", version: 2 });
  } finally {
    for (let i = 0; i < 4; i++) gate(i);
    await reloader.close();
    await core.close();
    await dir.remove();
  }
});
