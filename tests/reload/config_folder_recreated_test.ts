/**
 * The config's own folder deleted and recreated, as a deploy that replaces the whole tree
 * (`rm -rf conf && cp -r new conf`) does: the removal is a rejected load (the old config keeps
 * serving), the new tree is the next good save, and edits in it are seen afterwards.
 */
import {
  pollFor,
  reloadCount,
  save,
  stampedConfigText,
  stampPolicyText,
  untilServed,
  withConfigFileGateway,
} from "../helpers/reload.ts";

Deno.test("reload: the config's own folder deleted and recreated is loaded and watched again", async () => {
  await withConfigFileGateway(async (dir, upstreamUrl) => {
    await Deno.mkdir(dir.path("conf"));
    await save(dir.path("conf/policy.ts"), stampPolicyText(1));
    await save(dir.path("conf/ferry.config.ts"), stampedConfigText(upstreamUrl, 1));
    return dir.path("conf/ferry.config.ts");
  }, async (gw, dir, file, upstreamUrl) => {
    await untilServed(gw, "x-version", "1");
    await Deno.remove(dir.path("conf"), { recursive: true });
    await pollFor(
      "a rejected load",
      async () => (await reloadCount(gw.adminUrl, "error")) >= 1 ? true : undefined,
    );
    await untilServed(gw, "x-version", "1");
    await Deno.mkdir(dir.path("conf"));
    await save(dir.path("conf/policy.ts"), stampPolicyText(2));
    await save(file, stampedConfigText(upstreamUrl, 2));
    await untilServed(gw, "x-version", "2");
    await untilServed(gw, "x-policy-version", "2");
    // The watch moved to the new folder: an edit of the imported module alone is seen.
    await save(dir.path("conf/policy.ts"), stampPolicyText(3), "rename");
    await untilServed(gw, "x-policy-version", "3");
  });
});
