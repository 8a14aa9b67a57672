/**
 * A bad save never takes the gateway down. For each way a config file can be broken, a watched
 * gateway keeps serving the previous config and reports the failure in every place an operator
 * looks: the log (an error line), `ferry_config_reloads_total{result="error"}`,
 * `ferry_config_info` (still the old version) and admin `/config` (`lastLoad` with the errors and
 * their exact paths). The next good save recovers and bumps the version.
 */
import assert from "node:assert/strict";
import {
  adminConfig,
  configInfo,
  type FileGateway,
  get,
  linesWith,
  MOD_URL,
  pollFor,
  reloadCount,
  save,
  type SaveStyle,
  withConfigFileGateway,
} from "../helpers/reload.ts";

const REJECTED = "config rejected; still serving the previous one";

/** A one-route config whose responses carry `x-version: <version>`. */
function goodConfig(upstreamUrl: string, version: number, preamble = "", routeExtra = ""): string {
  return `import { defineConfig, headers } from "${MOD_URL}";
${preamble}
export default defineConfig({
  upstreams: { api: { targets: ["${upstreamUrl}"] } },
  routes: [
    {
      name: "main",${routeExtra}
      upstream: "api",
      use: [headers({ response: { set: { "x-version": "${version}" } } })],
    },
  ],
});
`;
}

interface BadCase {
  name: string;
  /** The broken file text, given the upstream URL and the config's path. */
  text(upstreamUrl: string): string;
  style: SaveStyle;
  /** The one error `/config` must show. */
  path: string;
  message: (configPath: string) => RegExp;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

const CASES: BadCase[] = [
  {
    name: "syntax error",
    text: (u) => goodConfig(u, 99).replace("routes: [", "routes: [ let = ;"),
    style: "rename",
    path: "(file)",
    // Where: the config file with line and column, so the editor can jump there.
    message: (p) =>
      new RegExp(`^syntax error in the config module: .+ \\(at ${escape(p)}:\\d+:\\d+\\)$`),
  },
  {
    name: "validation error (unknown upstream)",
    text: (u) => goodConfig(u, 99).replace('upstream: "api"', 'upstream: "nope"'),
    style: "in-place",
    path: "routes[0].upstream",
    message: () => /no upstream named "nope"/,
  },
  {
    name: "module that throws at top level",
    text: (u) => goodConfig(u, 99, 'throw new Error("config exploded");'),
    style: "rename",
    path: "(file)",
    message: (p) =>
      new RegExp(`failed while loading: config exploded \\(at ${escape(p)}:\\d+:\\d+\\)`),
  },
  {
    name: "missing import",
    text: (u) => goodConfig(u, 99, 'import "./missing_policy.ts";'),
    style: "in-place",
    path: "(file)",
    message: () => /imports something that cannot be found: .*missing_policy\.ts/,
  },
  {
    name: "half-written file (truncated mid-object)",
    text: (u) => {
      const full = goodConfig(u, 99);
      return full.slice(0, full.indexOf('upstream: "api"')); // inside the route object
    },
    style: "in-place",
    path: "(file)",
    message: (p) =>
      new RegExp(`^syntax error in the config module: .+ \\(at ${escape(p)}:\\d+:\\d+\\)$`),
  },
  {
    name: "config that is not plain data (a function inside)",
    text: (u) => goodConfig(u, 99, "", '\n      onRequest: () => "hi",'),
    style: "rename",
    path: "(file)",
    message: () => /^the config must be plain data \(objects, arrays, strings, numbers, booleans\)/,
  },
];

async function versionHeader(gw: FileGateway): Promise<string | null> {
  const res = await get(`${gw.url}/anything`);
  assert.equal(res.status, 200, res.text);
  return res.headers.get("x-version");
}

for (const bad of CASES) {
  Deno.test(`reload: a ${bad.name} keeps the old config serving, is reported, and the next good save recovers`, async () => {
    await withConfigFileGateway(async (dir, upstreamUrl) => {
      const path = dir.path("ferry.config.ts");
      await save(path, goodConfig(upstreamUrl, 1));
      return path;
    }, async (gw, _dir, path, upstreamUrl) => {
      const before = await adminConfig(gw.adminUrl);
      assert.equal(before.version, 1);
      assert.equal(await reloadCount(gw.adminUrl, "success"), 1, "the start-up load counts once");
      assert.equal(await reloadCount(gw.adminUrl, "error"), 0);

      // The bad save.
      await save(path, bad.text(upstreamUrl), bad.style);
      const admin = gw.adminUrl;
      await pollFor(
        "the bad save to be rejected",
        async () => (await reloadCount(admin, "error")) >= 1 ? true : undefined,
      );

      // Still serving the old config.
      assert.equal(await versionHeader(gw), "1");
      // The log: exactly one error line naming the path.
      const rejected = linesWith(gw.logger, REJECTED);
      assert.equal(rejected.length, 1, JSON.stringify(gw.logger.lines));
      assert.equal(rejected[0].level, "error");
      assert.equal(rejected[0].fields?.version, 1);
      const logged = rejected[0].fields?.errors as string[];
      assert.equal(logged.length, 1, JSON.stringify(logged));
      assert.ok(logged[0].startsWith(`${bad.path}: `), logged[0]);
      // The metrics: exact counts, and the served version unchanged.
      assert.equal(await reloadCount(admin, "error"), 1);
      assert.equal(await reloadCount(admin, "success"), 1);
      assert.deepEqual(await configInfo(admin), [{ version: "1", hash: before.hash }]);
      // /config: the error with its exact path, the served identity unchanged.
      const after = await adminConfig(admin);
      assert.equal(after.version, 1);
      assert.equal(after.hash, before.hash);
      assert.equal(after.lastLoad.result, "error");
      assert.equal(after.lastLoad.errors?.length, 1, JSON.stringify(after.lastLoad));
      assert.equal(after.lastLoad.errors![0].path, bad.path);
      assert.match(after.lastLoad.errors![0].message, bad.message(path));

      // The next good save recovers.
      await save(path, goodConfig(upstreamUrl, 2), bad.style);
      const recovered = await pollFor("the good save to be applied", async () => {
        const c = await adminConfig(admin);
        return c.version === 2 ? c : undefined;
      });
      assert.equal(recovered.lastLoad.result, "success");
      assert.equal(recovered.lastLoad.errors, undefined);
      assert.notEqual(recovered.hash, before.hash);
      assert.equal(await versionHeader(gw), "2");
      assert.equal(await reloadCount(admin, "success"), 2);
      assert.equal(await reloadCount(admin, "error"), 1);
      assert.deepEqual(await configInfo(admin), [{ version: "2", hash: recovered.hash }]);
    });
  });
}
