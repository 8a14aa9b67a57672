/**
 * A SIGTERM that reaches `ferry start` while it is still starting (loading its config) must stop
 * it cleanly once start-up ends, with exit 0, as a supervisor that stops a fresh deploy
 * expects, rather than kill the process with Deno's default action. The config module waits on
 * a gate the test holds, so the signal arrives at a known point of start-up.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort, startUpstream } from "../helpers/gateway.ts";
import { DenoProcess, MOD_TS, SERVE_FLAGS, withTempDir } from "../helpers/process.ts";

const EXIT_BOUND_MS = 15_000;

Deno.test("SIGTERM during start-up stops ferry start cleanly with exit 0", async () => {
  const arrived = Promise.withResolvers<void>();
  const release = Promise.withResolvers<void>();
  const gate = startUpstream(async () => {
    arrived.resolve();
    await release.promise;
    return new Response("open");
  });
  try {
    await withTempDir(async (dir) => {
      const file = join(dir, "ferry.config.ts");
      const config = {
        listen: { hostname: "127.0.0.1", port: freePort() },
        admin: { hostname: "127.0.0.1", port: freePort() },
        upstreams: { api: { targets: [gate.url] } },
        routes: [{ name: "all", upstream: "api" }],
      };
      // Top-level await: start-up is held inside the config load until the test opens the gate.
      await Deno.writeTextFile(
        file,
        `await (await fetch(${JSON.stringify(`${gate.url}/gate`)})).text();\n` +
          `export default ${JSON.stringify(config)};\n`,
      );
      const proc = new DenoProcess(["run", ...SERVE_FLAGS, MOD_TS, "start", "--config", file]);
      try {
        await arrived.promise;
        proc.signal("SIGTERM");
        // kill(2) has delivered the signal before it returns; the default action would end the
        // process before it could read the gate's answer, so releasing now cannot mask it.
        release.resolve();
        const exit = await proc.waitForExit(EXIT_BOUND_MS);
        assert.equal(exit.killed, false, `did not exit after start-up:\n${proc.stderr}`);
        assert.equal(exit.signal, null, `killed by ${exit.signal} during start-up`);
        assert.equal(exit.code, 0, proc.stderr);
        assert.match(proc.stderr, /"message":"ferry stopped"/);
      } finally {
        await proc.dispose();
      }
    });
  } finally {
    release.resolve();
    await gate.close();
  }
});
