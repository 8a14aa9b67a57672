/**
 * A config folder that is never quiet: the access log written next to the config (a common
 * layout in a container's /app or a dev checkout) gets a batch every 100 ms under steady
 * traffic. The watch's debounce waited for a quiet period that never came, so no edit of the
 * config was ever applied while traffic lasted.
 */
import assert from "node:assert/strict";
import {
  get,
  pollFor,
  reloadCount,
  save,
  stampedConfigText,
  stampPolicyText,
  withConfigFileGateway,
} from "../helpers/reload.ts";

/** The stamped config, with a debounce longer than the access log's 100 ms flush interval. */
function configText(upstreamUrl: string, version: number, accessLog: string): string {
  return stampedConfigText(upstreamUrl, version, "300ms").replace(
    "  upstreams:",
    `  accessLog: { to: { file: ${JSON.stringify(accessLog)} } },\n  upstreams:`,
  );
}

Deno.test("reload: an edit is applied while the access log in the config's folder keeps being written", async () => {
  await withConfigFileGateway(async (dir, upstreamUrl) => {
    await save(dir.path("policy.ts"), stampPolicyText(1));
    await save(dir.path("ferry.config.ts"), configText(upstreamUrl, 1, dir.path("access.log")));
    return dir.path("ferry.config.ts");
  }, async (gw, dir, file, upstreamUrl) => {
    await save(file, configText(upstreamUrl, 2, dir.path("access.log")), "rename");
    // The poll is the steady traffic: a request every 10 ms, so the access log gets a batch
    // every 100 ms and the folder never stays quiet for the 300 ms debounce.
    await pollFor("a response with x-version: 2", async () => {
      const res = await get(`${gw.url}/x`);
      assert.equal(res.status, 200);
      return res.headers.get("x-version") === "2" ? true : undefined;
    }, { timeoutMs: 15_000, attempts: 15_000 });
    assert.ok((await Deno.stat(dir.path("access.log"))).size > 0, "the access log was written");
    assert.equal(await reloadCount(gw.adminUrl, "error"), 0);
  });
});
