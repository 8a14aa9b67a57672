/**
 * A config module that loops forever at import (synchronously: no event-loop turn ever comes)
 * times out like one that awaits forever. Deno 2.9.6 cannot stop such a thread: `terminate()`
 * on its Worker does not interrupt the loop, which keeps a core busy until the process exits
 * (README, Hot reload). So the load runs in a child process here, whose exit takes the spinning
 * thread with it; in the test process it would starve every later test of CPU.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeConfigDir, save } from "../helpers/reload.ts";

const POOL_URL = new URL("../../src/config/loader_worker_pool.ts", import.meta.url).href;

Deno.test("loader: a module that loops forever at import fails its load at the timeout", async () => {
  const dir = await makeConfigDir();
  try {
    const config = dir.path("ferry.config.ts");
    await save(config, `while (true) {}\nexport default { config: 1 };\n`);
    const script = join(dir.path("."), "load_once.ts");
    await save(
      script,
      `import { ConfigLoaderPool } from ${JSON.stringify(POOL_URL)};\n` +
        `const outcome = await new ConfigLoaderPool().load(${JSON.stringify(config)}, 300);\n` +
        `console.log(JSON.stringify(outcome));\n` +
        // The spinning thread cannot be stopped, only the process.
        `Deno.exit(0);\n`,
    );
    const { code, stdout } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", script],
      stdout: "piped",
      stderr: "null",
    }).output();
    assert.equal(code, 0);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(stdout)), {
      ok: false,
      message: "the config module did not load within 300 ms",
    });
  } finally {
    await dir.remove();
  }
});
