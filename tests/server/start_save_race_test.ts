/**
 * A config file saved after the gateway's first load but before its watch began sent no event
 * the watch could see. The first fingerprint must come from before that load, and the watch
 * must check the files once it runs; otherwise the saved config is never loaded (until some
 * later, unrelated save), while the file on disk says otherwise.
 *
 * The save is made at a known point inside that window, without timing: by a custom policy
 * module whose top-level code rewrites the config. The gateway imports it while applying the
 * first config, after the load and before the reloader takes its first fingerprint.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { MemoryLogger } from "../../src/observe/logger.ts";
import { serveFile } from "../../src/server/gateway.ts";
import { startEchoUpstream } from "../helpers/gateway.ts";
import { withTempDir } from "../helpers/process.ts";

function configText(upstreamUrl: string, routeName: string): string {
  return JSON.stringify({
    upstreams: { api: { targets: [upstreamUrl] } },
    routes: [{
      name: routeName,
      upstream: "api",
      use: [{ kind: "custom", options: { module: "./save_on_import.ts" } }],
    }],
  });
}

/** A pass-through policy module that, when first imported, saves `text` to `configPath`. */
function savingModule(configPath: string, text: string): string {
  return `await Deno.writeTextFile(${JSON.stringify(configPath)}, ${JSON.stringify(text)});
export default () => async (_c, next) => { await next(); };
`;
}

Deno.test("a config saved between the first load and the watch's start is loaded", async () => {
  await withTempDir(async (dir) => {
    const upstream = startEchoUpstream();
    const file = join(dir, "ferry.config.json");
    await Deno.writeTextFile(file, configText(upstream.url, "before"));
    await Deno.writeTextFile(
      join(dir, "save_on_import.ts"),
      savingModule(file, configText(upstream.url, "after")),
    );
    const logger = new MemoryLogger();
    const gw = await serveFile(file, {
      listen: { hostname: "127.0.0.1", port: 0 },
      admin: false,
      logger,
      demo: false,
    });
    try {
      assert.equal(
        JSON.parse(await Deno.readTextFile(file)).routes[0].name,
        "after",
        "the module saved the config during start-up",
      );
      assert.equal(gw.snapshot.config.routes[0].name, "after", "the saved config is served");
      assert.equal(gw.snapshot.version, 2);
    } finally {
      await gw.close();
      await upstream.close();
    }
  });
});
