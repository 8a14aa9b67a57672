/**
 * Closing a gateway while a reload is still loading (a save or SIGHUP just before SIGTERM, or a
 * test that closes right after an edit) must leave nothing running. A config applied to a
 * closed gateway builds a snapshot and upstream pools nobody will close and starts the
 * `streamGrace` timer (30 s by default), which keeps an embedding process alive that long after
 * `close()` resolved. So the late reload must apply nothing.
 */
import assert from "node:assert/strict";
import { startUpstream } from "../helpers/gateway.ts";
import { makeConfigDir, save, serveTestFile, versionedConfigText } from "../helpers/reload.ts";

const config = versionedConfigText;

Deno.test("reload: a reload that finishes after close() applies nothing", async () => {
  const dir = await makeConfigDir();
  const upstream = startUpstream(() => new Response("ok"));
  try {
    const path = dir.path("ferry.config.ts");
    await save(path, config(upstream.url, 1));
    const gw = await serveTestFile(path, { watch: false });
    await save(path, config(upstream.url, 2));
    const pending = gw.reloadFile!(); // loads in a Worker: takes far longer than close()
    await gw.close();
    const outcome = await pending;
    assert.notEqual(
      outcome.result,
      "success",
      `a closed gateway applied a new config: ${JSON.stringify(outcome)}`,
    );
    assert.equal(gw.snapshot.version, 1);
  } finally {
    await upstream.close();
    await dir.remove();
  }
});
