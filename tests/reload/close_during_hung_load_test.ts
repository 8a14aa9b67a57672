/**
 * Closing a gateway while its config module hangs at import (a top-level `await fetch(...)` to a
 * service that does not answer) stops that load instead of waiting it out. Before, `close()`
 * first waited for the loader's 10 s timeout, and only then stopped accepting and began to
 * drain: a SIGTERM during such a reload held shutdown 10 s longer.
 */
import assert from "node:assert/strict";
import { startUpstream } from "../helpers/gateway.ts";
import { makeConfigDir, MOD_URL, save, serveTestFile } from "../helpers/reload.ts";

function config(upstreamUrl: string, preamble = ""): string {
  return `import { defineConfig } from "${MOD_URL}";
${preamble}
export default defineConfig({
  upstreams: { api: { targets: ["${upstreamUrl}"] } },
  routes: [{ name: "main", upstream: "api" }],
});
`;
}

/** A server that holds every request open until it is aborted or the test releases it. */
function startHoldServer() {
  const arrived = Promise.withResolvers<void>();
  const aborted = Promise.withResolvers<void>();
  const release = Promise.withResolvers<void>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    req.signal.addEventListener("abort", () => aborted.resolve(), { once: true });
    arrived.resolve();
    await release.promise;
    return new Response("late");
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    arrived: arrived.promise,
    aborted: aborted.promise,
    async close() {
      release.resolve();
      await server.shutdown();
    },
  };
}

Deno.test("reload: close() stops a config load that hangs instead of waiting out its timeout", async () => {
  const dir = await makeConfigDir();
  const upstream = startUpstream(() => new Response("ok"));
  const hold = startHoldServer();
  let guard: ReturnType<typeof setTimeout> | undefined;
  let closing: Promise<void> | undefined;
  try {
    const path = dir.path("ferry.config.ts");
    await save(path, config(upstream.url));
    const gw = await serveTestFile(path, { watch: false });
    await save(path, config(upstream.url, `await (await fetch("${hold.url}")).text();`));
    const pending = gw.reloadFile!();
    await hold.arrived; // the new config's module is now stuck in its loader Worker
    // Not a measurement: a bound that turns "close() waits for the load" into a failure
    // rather than a 10 s pause, far above the few ms close() takes here.
    const stuck = new Promise<"stuck">((r) => guard = setTimeout(() => r("stuck"), 5_000));
    closing = gw.close();
    const closed = await Promise.race([closing.then(() => "closed" as const), stuck]);
    assert.equal(closed, "closed", "close() waited for the hung config load");
    // The Worker running the module was stopped, so its request to the held server is gone.
    await hold.aborted;
    assert.deepEqual(await pending, { result: "unchanged" });
    assert.equal(gw.snapshot.version, 1);
  } finally {
    clearTimeout(guard);
    await hold.close();
    await closing;
    await upstream.close();
    await dir.remove();
  }
});
