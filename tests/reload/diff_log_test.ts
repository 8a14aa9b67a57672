/**
 * Start-up and every reload log what changed, by name, so an operator reading the log can tell
 * which routes a save added, changed or removed.
 */
import assert from "node:assert/strict";
import { startUpstream } from "../helpers/gateway.ts";
import { linesWith, makeConfigDir, MOD_URL, save, serveTestFile } from "../helpers/reload.ts";

/** Routes given as name → path; giving a route another path changes its definition. */
function routesConfig(upstreamUrl: string, routes: Record<string, string>): string {
  const list = Object.entries(routes)
    .map(([name, path]) => `    { name: "${name}", match: { path: "${path}" }, upstream: "api" },`)
    .join("\n");
  return `import { defineConfig } from "${MOD_URL}";
export default defineConfig({
  upstreams: { api: { targets: ["${upstreamUrl}"] } },
  routes: [
${list}
  ],
});
`;
}

Deno.test("reload: start-up and reload log lines carry the added, changed and removed routes", async () => {
  const dir = await makeConfigDir();
  const upstream = startUpstream(() => new Response("ok"));
  try {
    const path = dir.path("ferry.config.ts");
    await save(
      path,
      routesConfig(upstream.url, { kept: "/kept", edited: "/edited", gone: "/gone" }),
    );
    const gw = await serveTestFile(path, { watch: false });
    try {
      const loaded = linesWith(gw.logger, "config loaded");
      assert.equal(loaded.length, 1);
      assert.equal(loaded[0].level, "info");
      assert.deepEqual(loaded[0].fields?.changes, {
        routes: "+kept +edited +gone",
        upstreams: "+api",
        policies: "(unchanged)",
      });

      await save(
        path,
        routesConfig(upstream.url, { kept: "/kept", edited: "/edited/v2", added: "/added" }),
      );
      assert.deepEqual(await gw.reloadFile!(), { result: "success", version: 2 });
      const reloaded = linesWith(gw.logger, "config reloaded");
      assert.equal(reloaded.length, 1);
      assert.equal(reloaded[0].level, "info");
      assert.equal(reloaded[0].fields?.version, 2);
      assert.deepEqual(reloaded[0].fields?.changes, {
        routes: "+added ~edited -gone",
        upstreams: "(unchanged)",
        policies: "(unchanged)",
      });
    } finally {
      await gw.close();
    }
  } finally {
    await upstream.close();
    await dir.remove();
  }
});
