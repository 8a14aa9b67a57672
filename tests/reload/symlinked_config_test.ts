/**
 * Configs reached through symlinks outside the config's own folder: a config file that is a
 * link into another folder (a dotfiles or shared checkout, edited there), and a deploy that
 * swaps a `current -> releases/N` folder link (Capistrano-style). Both updates happen where the
 * config's folder watch cannot see them: in the link target's folder, and in the folder that
 * holds the `current` link.
 */
import assert from "node:assert/strict";
import {
  reloadCount,
  save,
  stampedConfigText,
  stampPolicyText,
  untilServed,
  withConfigFileGateway,
} from "../helpers/reload.ts";

Deno.test("reload: a config file that is a symlink into another folder is reloaded when its target is edited", async () => {
  await withConfigFileGateway(async (dir, upstreamUrl) => {
    await Deno.mkdir(dir.path("shared"));
    await Deno.mkdir(dir.path("etc"));
    await save(dir.path("shared/ferry.config.ts"), stampedConfigText(upstreamUrl, 1));
    await save(dir.path("etc/policy.ts"), stampPolicyText(1));
    await Deno.symlink("../shared/ferry.config.ts", dir.path("etc/ferry.config.ts"));
    return dir.path("etc/ferry.config.ts");
  }, async (gw, dir, _file, upstreamUrl) => {
    await untilServed(gw, "x-version", "1");
    // In place and by rename, in the folder the link points into.
    await save(dir.path("shared/ferry.config.ts"), stampedConfigText(upstreamUrl, 2), "in-place");
    await untilServed(gw, "x-version", "2");
    await save(dir.path("shared/ferry.config.ts"), stampedConfigText(upstreamUrl, 3), "rename");
    await untilServed(gw, "x-version", "3");
    assert.equal(await reloadCount(gw.adminUrl, "error"), 0);
  });
});

Deno.test("reload: a deploy that swaps a current -> releases/N folder link is reloaded, every time", async () => {
  await withConfigFileGateway(async (dir, upstreamUrl) => {
    await Deno.mkdir(dir.path("app/releases/1"), { recursive: true });
    await save(dir.path("app/releases/1/ferry.config.ts"), stampedConfigText(upstreamUrl, 1));
    await save(dir.path("app/releases/1/policy.ts"), stampPolicyText(1));
    await Deno.symlink("releases/1", dir.path("app/current"));
    return dir.path("app/current/ferry.config.ts");
  }, async (gw, dir, _file, upstreamUrl) => {
    await untilServed(gw, "x-version", "1");
    for (let release = 2; release <= 4; release++) {
      await Deno.mkdir(dir.path(`app/releases/${release}`));
      await save(
        dir.path(`app/releases/${release}/ferry.config.ts`),
        stampedConfigText(upstreamUrl, release),
      );
      await save(dir.path(`app/releases/${release}/policy.ts`), stampPolicyText(release));
      // `ln -sfn` done atomically, as deploy tools do: a new link renamed over `current`.
      await Deno.symlink(`releases/${release}`, dir.path("app/current.new"));
      await Deno.rename(dir.path("app/current.new"), dir.path("app/current"));
      await untilServed(gw, "x-version", String(release));
      await untilServed(gw, "x-policy-version", String(release));
    }
    assert.equal(await reloadCount(gw.adminUrl, "error"), 0);
  });
});
