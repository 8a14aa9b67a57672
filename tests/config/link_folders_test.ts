/**
 * `linkFolders`: the folders holding the symlinks on a path's way, where a swap of one of them
 * shows up, and the real folder of a file that is itself a link.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { linkFolders } from "../../src/config/link_folders.ts";

async function withTree(body: (root: string) => Promise<void>): Promise<void> {
  // The real path: a temp folder reached through a link (macOS's /tmp) would add its own.
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "ferry-links-" }));
  try {
    await body(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("linkFolders: a path without links has none", async () => {
  await withTree(async (root) => {
    await Deno.writeTextFile(join(root, "a.ts"), "");
    assert.deepEqual(await linkFolders(join(root, "a.ts")), []);
  });
});

Deno.test("linkFolders: a ConfigMap key in a folder names the volume, and the file link's real folder", async () => {
  await withTree(async (root) => {
    await Deno.mkdir(join(root, "vol/..2026_11_23/conf"), { recursive: true });
    await Deno.writeTextFile(join(root, "vol/..2026_11_23/conf/c.ts"), "");
    await Deno.symlink("..2026_11_23", join(root, "vol/..data"));
    await Deno.symlink("..data/conf", join(root, "vol/conf"));
    assert.deepEqual(await linkFolders(join(root, "vol/conf/c.ts")), [join(root, "vol")]);
    await Deno.symlink("conf/c.ts", join(root, "vol/top.ts"));
    assert.deepEqual((await linkFolders(join(root, "vol/top.ts"))).sort(), [
      join(root, "vol"),
      join(root, "vol/..2026_11_23/conf"),
    ]);
  });
});

Deno.test("linkFolders: a loop of links or a missing part stops the walk without throwing", async () => {
  await withTree(async (root) => {
    await Deno.symlink("b", join(root, "a"));
    await Deno.symlink("a", join(root, "b"));
    assert.deepEqual(await linkFolders(join(root, "a/c.ts")), [root]);
    assert.deepEqual(await linkFolders(join(root, "missing/c.ts")), []);
  });
});

Deno.test("linkFolders: with read access to the volume only, as `--allow-read` grants it, the links are still found", async () => {
  await withTree(async (root) => {
    await Deno.mkdir(join(root, "vol/..2026_11_23/conf"), { recursive: true });
    await Deno.writeTextFile(join(root, "vol/..2026_11_23/conf/c.ts"), "");
    await Deno.symlink("..2026_11_23", join(root, "vol/..data"));
    await Deno.symlink("..data/conf", join(root, "vol/conf"));
    // The folders above the volume (/tmp, ...) cannot be read: they must be passed over.
    const module = new URL("../../src/config/link_folders.ts", import.meta.url).href;
    const probe = join(root, "probe.ts");
    await Deno.writeTextFile(
      probe,
      `import { linkFolders } from "${module}";\n` +
        `console.log(JSON.stringify(await linkFolders(${
          JSON.stringify(join(root, "vol/conf/c.ts"))
        })));\n`,
    );
    // Loading modules needs no read access: only the volume is granted.
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-lock", "--no-config", `--allow-read=${join(root, "vol")}`, probe],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    assert.deepEqual(JSON.parse(new TextDecoder().decode(stdout)), [join(root, "vol")]);
  });
});
