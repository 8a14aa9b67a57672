/**
 * SIGHUP reloads the config of a running `ferry start` (here with `--no-watch`, so the signal is
 * the only trigger), and SIGTERM afterwards still stops it cleanly with exit code 0.
 */
import assert from "node:assert/strict";
import { freePort, startUpstream } from "../helpers/gateway.ts";
import { DenoProcess, MOD_TS, SERVE_FLAGS, SERVING_LINE } from "../helpers/process.ts";
import { get, makeConfigDir, MOD_URL, pollFor, save } from "../helpers/reload.ts";

function config(upstreamUrl: string, port: number, version: number): string {
  return `import { defineConfig, headers } from "${MOD_URL}";
export default defineConfig({
  listen: { hostname: "127.0.0.1", port: ${port} },
  admin: { enabled: false },
  upstreams: { api: { targets: ["${upstreamUrl}"] } },
  routes: [
    { name: "main", upstream: "api", use: [headers({ response: { set: { "x-version": "${version}" } } })] },
  ],
});
`;
}

Deno.test("reload: SIGHUP reloads a gateway started with --no-watch; SIGTERM then exits 0", async () => {
  const dir = await makeConfigDir();
  const upstream = startUpstream(() => new Response("ok"));
  let proc: DenoProcess | undefined;
  try {
    const port = freePort();
    const path = dir.path("ferry.config.ts");
    await save(path, config(upstream.url, port, 1));
    proc = new DenoProcess([
      "run",
      ...SERVE_FLAGS,
      MOD_TS,
      "start",
      "--config",
      path,
      "--no-watch",
    ]);
    await proc.waitForStderr(SERVING_LINE);
    const url = `http://127.0.0.1:${port}/x`;
    const first = await get(url);
    assert.equal(first.status, 200);
    assert.equal(first.headers.get("x-version"), "1");

    await save(path, config(upstream.url, port, 2));
    proc.signal("SIGHUP");
    await pollFor("the SIGHUP reload to take effect", async () => {
      const res = await get(url);
      assert.equal(res.status, 200, "the gateway keeps answering during the reload");
      return res.headers.get("x-version") === "2" ? true : undefined;
    }, { timeoutMs: 10_000 });
    assert.match(proc.stderr, /"message":"config reloaded"[^\n]*"version":2/);

    proc.signal("SIGTERM");
    const exit = await proc.waitForExit(15_000);
    assert.deepEqual(exit, { code: 0, signal: null, killed: false }, proc.stderr);
  } finally {
    await proc?.dispose();
    await upstream.close();
    await dir.remove();
  }
});
