/**
 * The file watch follows folders that come and go: a custom policy module named in a folder
 * that does not exist yet is a config error at its path (not a dead watch), and writing that
 * folder later is the next good save; a folder of imports deleted and recreated is watched
 * again. Before, the first case closed the running watch and failed to open the new one, and
 * in the second the watch stayed on the deleted folder: either way every later save was
 * silently ignored.
 */
import assert from "node:assert/strict";
import {
  adminConfig,
  type FileGateway,
  get,
  MOD_URL,
  pollFor,
  reloadCount,
  save,
  withConfigFileGateway,
} from "../helpers/reload.ts";

/** A config stamping `x-version`, optionally with a custom policy or an imported stamp. */
function configText(
  upstreamUrl: string,
  version: number,
  extra: { customModule?: string; importStamp?: boolean } = {},
): string {
  const use = [`headers({ response: { set: { "x-version": "${version}" } } })`];
  if (extra.customModule) use.push(`custom({ module: "${extra.customModule}" })`);
  if (extra.importStamp) use.push("stamp");
  return `import { custom, defineConfig, headers } from "${MOD_URL}";
${extra.importStamp ? 'import { stamp } from "./lib/stamp.ts";' : ""}
export default defineConfig({
  upstreams: { api: { targets: ["${upstreamUrl}"] } },
  routes: [{ name: "main", upstream: "api", use: [${use.join(", ")}] }],
});
`;
}

const TENANT_MODULE = `export default () => async (c, next) => {
  await next();
  c.res.headers.set("x-tenant", "acme");
};
`;

function stampText(value: string): string {
  return `import { headers } from "${MOD_URL}";
export const stamp = headers({ response: { set: { "x-stamp": "${value}" } } });
`;
}

async function untilServed(gw: FileGateway, header: string, value: string): Promise<void> {
  await pollFor(`a response with ${header}: ${value}`, async () => {
    const res = await get(`${gw.url}/x`);
    return res.headers.get(header) === value ? true : undefined;
  });
}

async function untilErrors(gw: FileGateway, count: number): Promise<void> {
  await pollFor(
    `${count} rejected load(s)`,
    async () => (await reloadCount(gw.adminUrl, "error")) === count ? true : undefined,
  );
}

Deno.test("reload: a custom module in a missing folder is a config error, and the watch keeps going", async () => {
  await withConfigFileGateway(async (dir, upstreamUrl) => {
    await save(dir.path("ferry.config.ts"), configText(upstreamUrl, 1));
    return dir.path("ferry.config.ts");
  }, async (gw, _dir, file, upstreamUrl) => {
    await save(
      file,
      configText(upstreamUrl, 2, { customModule: "./policies/tenant.ts" }),
      "rename",
    );
    await untilErrors(gw, 1);
    const rejected = await adminConfig(gw.adminUrl);
    // Named where the config names the module, as for a missing module file in an existing
    // folder; before, "(reload)" with the OS's "No path was found" about the folder.
    assert.equal(rejected.lastLoad.errors?.length, 1, JSON.stringify(rejected.lastLoad));
    assert.equal(rejected.lastLoad.errors![0].path, "routes[0].use[1].options.module");
    assert.equal(rejected.version, 1);
    // A later save of the config alone is seen: the watch is alive.
    await save(file, configText(upstreamUrl, 3), "rename");
    await untilServed(gw, "x-version", "3");
  });
});

Deno.test("reload: writing the missing folder of a named custom module is the next good save", async () => {
  await withConfigFileGateway(async (dir, upstreamUrl) => {
    await save(dir.path("ferry.config.ts"), configText(upstreamUrl, 1));
    return dir.path("ferry.config.ts");
  }, async (gw, dir, file, upstreamUrl) => {
    await save(file, configText(upstreamUrl, 2, { customModule: "./policies/tenant.ts" }));
    await untilErrors(gw, 1);
    // The folder first, and a reload while it is still empty (the module is still missing);
    // the module written into it afterwards must be seen like any save.
    await Deno.mkdir(dir.path("policies"));
    assert.equal((await gw.reloadFile!()).result, "error");
    await save(dir.path("policies/tenant.ts"), TENANT_MODULE);
    await untilServed(gw, "x-tenant", "acme");
    assert.equal((await adminConfig(gw.adminUrl)).version, 2);
  });
});

Deno.test("reload: a folder of imports deleted and recreated is watched again", async () => {
  await withConfigFileGateway(async (dir, upstreamUrl) => {
    await Deno.mkdir(dir.path("lib"));
    await save(dir.path("lib/stamp.ts"), stampText("one"));
    await save(dir.path("ferry.config.ts"), configText(upstreamUrl, 1, { importStamp: true }));
    return dir.path("ferry.config.ts");
  }, async (gw, dir) => {
    await untilServed(gw, "x-stamp", "one");
    // A deploy that replaces the tree: the import is missing for a moment (a rejected load,
    // the old config keeps serving), then comes back in a new folder of the same name.
    await Deno.remove(dir.path("lib"), { recursive: true });
    await untilErrors(gw, 1);
    await Deno.mkdir(dir.path("lib"));
    await save(dir.path("lib/stamp.ts"), stampText("two"));
    await untilServed(gw, "x-stamp", "two");
    // Edits in the recreated folder are seen: the watch moved to the new folder.
    await save(dir.path("lib/stamp.ts"), stampText("three"), "rename");
    await untilServed(gw, "x-stamp", "three");
  });
});
