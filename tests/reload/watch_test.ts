/**
 * The file watch: saves are picked up whether the editor writes in place or renames a temp file
 * over the config (new inode), for the config and for a module it imports (also one imported
 * only after a reload, and through a ConfigMap-style symlink swap); a save that changes no byte
 * reloads nothing; a burst of saves is debounced into at most two reloads; a reload that changes
 * `reload.debounce` applies it to the running watch.
 */
import assert from "node:assert/strict";
import {
  type ConfigDir,
  type FileGateway,
  linesWith,
  MOD_URL,
  reloadCount,
  save,
  type SaveStyle,
  stampedConfigText,
  stampPolicyText,
  untilServed,
  withConfigFileGateway,
} from "../helpers/reload.ts";

function withWatchedGateway(
  body: (
    gw: FileGateway,
    files: { config: string; policy: string },
    upstreamUrl: string,
  ) => Promise<void>,
  debounce = "100ms",
) {
  return withConfigFileGateway(
    async (dir, upstreamUrl) => {
      await save(dir.path("policy.ts"), stampPolicyText(1));
      await save(dir.path("ferry.config.ts"), stampedConfigText(upstreamUrl, 1, debounce));
      return dir.path("ferry.config.ts");
    },
    (gw, dir, config, upstreamUrl) =>
      body(gw, { config, policy: dir.path("policy.ts") }, upstreamUrl),
  );
}

/** Polls the gateway until a response carries `header: value`. */
Deno.test("reload: saves in place and by rename are picked up, for the config and an imported module", async () => {
  await withWatchedGateway(async (gw, files, upstreamUrl) => {
    const styles: SaveStyle[] = ["rename", "in-place", "rename", "rename", "in-place"];
    let version = 1;
    for (const style of styles) {
      version++;
      await save(files.config, stampedConfigText(upstreamUrl, version), style);
      await untilServed(gw, "x-version", String(version));
      await save(files.policy, stampPolicyText(version), style);
      await untilServed(gw, "x-policy-version", String(version));
    }
    assert.equal(gw.snapshot.version, 1 + 2 * styles.length);
  });
});

Deno.test("reload: a save that rewrites identical bytes reloads nothing", async () => {
  await withWatchedGateway(async (gw, files, upstreamUrl) => {
    const admin = gw.adminUrl;
    assert.equal(await reloadCount(admin, "success"), 1);
    for (const style of ["in-place", "rename"] as const) {
      await save(files.config, stampedConfigText(upstreamUrl, 1), style);
      await save(files.policy, stampPolicyText(1), style);
    }
    // Proving that nothing happens needs a window: 10 debounce periods (100 ms) in which the
    // count, the version and the log must stay put.
    const end = performance.now() + 1_000;
    while (performance.now() < end) {
      assert.equal(await reloadCount(admin, "success"), 1);
      assert.equal(await reloadCount(admin, "error"), 0);
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(gw.snapshot.version, 1);
    assert.equal(linesWith(gw.logger, "config reloaded").length, 0);

    // The watch is still alive: a real change after the no-op saves applies, as version 2.
    await save(files.config, stampedConfigText(upstreamUrl, 2));
    await untilServed(gw, "x-version", "2");
    assert.equal(gw.snapshot.version, 2);
    assert.equal(await reloadCount(admin, "success"), 2);
  });
});

Deno.test("reload: a burst of 10 rapid saves causes at most 2 reloads", async () => {
  await withWatchedGateway(async (gw, files, upstreamUrl) => {
    const admin = gw.adminUrl;
    assert.equal(await reloadCount(admin, "success"), 1);
    for (let v = 2; v <= 11; v++) {
      await save(files.config, stampedConfigText(upstreamUrl, v), v % 2 ? "rename" : "in-place");
    }
    await untilServed(gw, "x-version", "11");
    // Once the last content is served, any later reload finds nothing new: the count is final.
    const reloads = (await reloadCount(admin, "success")) - 1;
    console.log(`burst of 10 saves → ${reloads} reload(s)`);
    assert.ok(reloads >= 1 && reloads <= 2, `${reloads} reloads for one burst`);
    assert.equal(gw.snapshot.version, 1 + reloads);
    assert.equal(
      await reloadCount(admin, "error"),
      0,
      "no half-written intermediate state was loaded",
    );
  });
});

Deno.test("reload: a reload that changes reload.debounce applies it to the running watch", async () => {
  // Start with a debounce so long that the watch would never fire within the test.
  await withWatchedGateway(async (gw, files, upstreamUrl) => {
    await save(files.config, stampedConfigText(upstreamUrl, 2, "20ms"));
    assert.deepEqual(await gw.reloadFile!(), { result: "success", version: 2 });
    assert.equal(gw.snapshot.config.reload.debounceMs, 20);
    // With the new 20 ms debounce, a save applies promptly; with the old 10 min, never.
    await save(files.config, stampedConfigText(upstreamUrl, 3, "20ms"));
    await untilServed(gw, "x-version", "3");
  }, "10m");
});

Deno.test("reload: a module imported only after a reload, in a subfolder, is watched too", async () => {
  await withWatchedGateway(async (gw, files, upstreamUrl) => {
    const extra = files.config.replace(/ferry\.config\.ts$/, "extra/tag.ts");
    await Deno.mkdir(extra.replace(/\/tag\.ts$/, ""));
    const tagText = (tag: string) =>
      `import { headers } from "${MOD_URL}";
export const tag = headers({ response: { set: { "x-tag": "${tag}" } } });
`;
    await save(extra, tagText("first"));
    const withTag = stampedConfigText(upstreamUrl, 2)
      .replace(
        'import { stamp } from "./policy.ts";',
        'import { stamp } from "./policy.ts";\nimport { tag } from "./extra/tag.ts";',
      )
      .replace("stamp],", "stamp, tag],");
    await save(files.config, withTag);
    await untilServed(gw, "x-tag", "first");
    // The new import's folder is watched now: editing only that module reloads.
    await save(extra, tagText("second"), "rename");
    await untilServed(gw, "x-tag", "second");
  });
});

Deno.test("reload: a Kubernetes-style ConfigMap swap (symlinked folder replaced) is picked up", async () => {
  // The kubelet's layout: files are symlinks through `..data`, which points at a timestamped
  // folder; an update writes a new folder and renames a new `..data` link over the old one.
  const publish = async (
    dir: ConfigDir,
    upstreamUrl: string,
    generation: number,
    version: number,
  ) => {
    const folder = `..gen_${generation}`;
    await Deno.mkdir(dir.path(folder));
    await Deno.writeTextFile(dir.path(`${folder}/policy.ts`), stampPolicyText(version));
    await Deno.writeTextFile(
      dir.path(`${folder}/ferry.config.ts`),
      stampedConfigText(upstreamUrl, version),
    );
    await Deno.symlink(folder, dir.path("..data_tmp"));
    await Deno.rename(dir.path("..data_tmp"), dir.path("..data"));
  };
  await withConfigFileGateway(async (dir, upstreamUrl) => {
    await publish(dir, upstreamUrl, 1, 1);
    await Deno.symlink("..data/ferry.config.ts", dir.path("ferry.config.ts"));
    await Deno.symlink("..data/policy.ts", dir.path("policy.ts"));
    return dir.path("ferry.config.ts");
  }, async (gw, dir, _file, upstreamUrl) => {
    await untilServed(gw, "x-version", "1");
    await publish(dir, upstreamUrl, 2, 2);
    await untilServed(gw, "x-version", "2");
    await untilServed(gw, "x-policy-version", "2");
  });
});
