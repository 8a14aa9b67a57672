/**
 * Kubernetes ConfigMap (and Secret) volumes, updated the way the kubelet's AtomicWriter does
 * it: the files are written into a new timestamped folder (`..2026_11_23_10_00_00.123`), a
 * symlink `..data_tmp` to it is renamed over `..data`, the user-visible symlinks (`name ->
 * ..data/name`, for a key with a folder in its path `dir -> ..data/dir`) are created if missing,
 * and the old timestamped folder is deleted. Every update must be served, nested imports
 * included (never a cached old module), and the watch must keep going for the next one, whether
 * the config lives in the mount or only imports from it.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import {
  reloadCount,
  stampedConfigText,
  stampPolicyText,
  untilServed,
  withConfigFileGateway,
} from "../helpers/reload.ts";

/** A ConfigMap volume at `root`, written as the kubelet writes one. */
class ConfigMapVolume {
  #generation = 0;
  #current: string | undefined;

  constructor(readonly root: string) {}

  /** Publishes `files` (path inside the volume → text) as one atomic update. */
  async publish(files: Record<string, string>): Promise<void> {
    // The kubelet's name: `..` + a timestamp + a random suffix; a counter keeps them distinct.
    const stamp = `..2026_11_23_10_00_${String(++this.#generation).padStart(2, "0")}.${
      100 + this.#generation
    }`;
    const folder = join(this.root, stamp);
    await Deno.mkdir(folder, { recursive: true });
    for (const [name, text] of Object.entries(files)) {
      await Deno.mkdir(dirname(join(folder, name)), { recursive: true });
      await Deno.writeTextFile(join(folder, name), text);
    }
    await Deno.symlink(stamp, join(this.root, "..data_tmp"));
    await Deno.rename(join(this.root, "..data_tmp"), join(this.root, "..data"));
    // User-visible links: one per top-level name (a key `lib/a.ts` shows as `lib -> ..data/lib`).
    for (const top of new Set(Object.keys(files).map((name) => name.split("/")[0]))) {
      const link = join(this.root, top);
      try {
        await Deno.lstat(link);
      } catch {
        await Deno.symlink(`..data/${top}`, link);
      }
    }
    if (this.#current) await Deno.remove(join(this.root, this.#current), { recursive: true });
    this.#current = stamp;
  }
}

/** A config that stamps `x-version` and uses the `stamp` policy exported by `policyImport`. */
function configImporting(upstreamUrl: string, version: number, policyImport: string): string {
  return stampedConfigText(upstreamUrl, version).replace('"./policy.ts"', `"${policyImport}"`);
}

Deno.test("reload: a config in a ConfigMap volume is reloaded on every kubelet update, nested import included", async () => {
  let volume: ConfigMapVolume;
  await withConfigFileGateway(async (dir, upstreamUrl) => {
    await Deno.mkdir(dir.path("volume"));
    volume = new ConfigMapVolume(dir.path("volume"));
    await volume.publish({
      "ferry.config.ts": stampedConfigText(upstreamUrl, 1),
      "policy.ts": stampPolicyText(1),
    });
    return dir.path("volume/ferry.config.ts");
  }, async (gw, _dir, _file, upstreamUrl) => {
    await untilServed(gw, "x-version", "1");
    // Both files, then only the imported module, then only the config: each one is served.
    const updates: [number, number][] = [[2, 2], [2, 3], [4, 3], [5, 5]];
    for (const [config, policy] of updates) {
      await volume.publish({
        "ferry.config.ts": stampedConfigText(upstreamUrl, config),
        "policy.ts": stampPolicyText(policy),
      });
      await untilServed(gw, "x-version", String(config));
      await untilServed(gw, "x-policy-version", String(policy));
    }
    assert.equal(await reloadCount(gw.adminUrl, "error"), 0);
  });
});

Deno.test("reload: a config importing from a ConfigMap volume mounted beside it sees every update", async () => {
  let volume: ConfigMapVolume;
  await withConfigFileGateway(async (dir, upstreamUrl) => {
    await Deno.mkdir(dir.path("policies"));
    volume = new ConfigMapVolume(dir.path("policies"));
    await volume.publish({ "stamp.ts": stampPolicyText(1) });
    await Deno.writeTextFile(
      dir.path("ferry.config.ts"),
      configImporting(upstreamUrl, 1, "./policies/stamp.ts"),
    );
    return dir.path("ferry.config.ts");
  }, async (gw) => {
    await untilServed(gw, "x-policy-version", "1");
    for (let version = 2; version <= 4; version++) {
      await volume.publish({ "stamp.ts": stampPolicyText(version) });
      await untilServed(gw, "x-policy-version", String(version));
    }
    assert.equal(await reloadCount(gw.adminUrl, "error"), 0);
  });
});

Deno.test("reload: a ConfigMap key with a folder in its path (items[].path: lib/stamp.ts) is reloaded on every update", async () => {
  let volume: ConfigMapVolume;
  await withConfigFileGateway(async (dir, upstreamUrl) => {
    await Deno.mkdir(dir.path("volume"));
    volume = new ConfigMapVolume(dir.path("volume"));
    await volume.publish({ "lib/stamp.ts": stampPolicyText(1) });
    await Deno.writeTextFile(
      dir.path("ferry.config.ts"),
      configImporting(upstreamUrl, 1, "./volume/lib/stamp.ts"),
    );
    return dir.path("ferry.config.ts");
  }, async (gw) => {
    await untilServed(gw, "x-policy-version", "1");
    for (let version = 2; version <= 4; version++) {
      await volume.publish({ "lib/stamp.ts": stampPolicyText(version) });
      await untilServed(gw, "x-policy-version", String(version));
    }
    assert.equal(await reloadCount(gw.adminUrl, "error"), 0);
  });
});

Deno.test("reload: a config in a folder of a ConfigMap volume (items[].path: conf/ferry.config.ts) is reloaded on every update", async () => {
  let volume: ConfigMapVolume;
  await withConfigFileGateway(async (dir, upstreamUrl) => {
    await Deno.mkdir(dir.path("volume"));
    volume = new ConfigMapVolume(dir.path("volume"));
    await volume.publish({
      "conf/ferry.config.ts": stampedConfigText(upstreamUrl, 1),
      "conf/policy.ts": stampPolicyText(1),
    });
    return dir.path("volume/conf/ferry.config.ts");
  }, async (gw, _dir, _file, upstreamUrl) => {
    await untilServed(gw, "x-version", "1");
    for (let version = 2; version <= 4; version++) {
      await volume.publish({
        "conf/ferry.config.ts": stampedConfigText(upstreamUrl, version),
        "conf/policy.ts": stampPolicyText(version),
      });
      await untilServed(gw, "x-version", String(version));
      await untilServed(gw, "x-policy-version", String(version));
    }
    assert.equal(await reloadCount(gw.adminUrl, "error"), 0);
  });
});
