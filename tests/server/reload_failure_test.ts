/**
 * A reload that fails for a reason other than a validation error (here: the access log moved to
 * a folder that does not exist, which only fails when the file is opened) must be reported like
 * any rejected config, never escape as a rejection: from the file watch or SIGHUP that would be
 * an unhandled rejection, which ends the gateway process.
 */
import assert from "node:assert/strict";
import { ConfigError } from "../../src/config/config_error.ts";
import { MemoryLogger } from "../../src/observe/logger.ts";
import { createGateway } from "../../src/server/gateway.ts";
import {
  type ConfigDir,
  type FileGateway,
  get,
  MOD_URL,
  pollFor,
  reloadCount,
  save,
  withConfigFileGateway,
} from "../helpers/reload.ts";

function configText(upstreamUrl: string, version: number, accessLog = ""): string {
  return `import { defineConfig, headers } from "${MOD_URL}";
export default defineConfig({
  ${accessLog}
  upstreams: { api: { targets: ["${upstreamUrl}"] } },
  routes: [
    { name: "main", upstream: "api",
      use: [headers({ response: { set: { "x-version": "${version}" } } })] },
  ],
});
`;
}

/** A file-backed gateway serving version 1 of `configText`, watched or not. */
function withFileGateway(
  watch: boolean,
  body: (gw: FileGateway, dir: ConfigDir, file: string, upstreamUrl: string) => Promise<void>,
) {
  return withConfigFileGateway(
    async (dir, upstreamUrl) => {
      const file = dir.path("ferry.config.ts");
      await save(file, configText(upstreamUrl, 1));
      return file;
    },
    body,
    { watch },
  );
}

function unopenableLog(dir: ConfigDir): string {
  return `accessLog: { to: { file: ${JSON.stringify(dir.path("missing/folder/access.log"))} } },`;
}

Deno.test("reload: a config whose access log cannot be opened is rejected, not thrown", async () => {
  await withFileGateway(false, async (gw, dir, file, upstreamUrl) => {
    await save(file, configText(upstreamUrl, 2, unopenableLog(dir)));
    const outcome = await gw.reloadFile!();
    assert.equal(outcome.result, "error");
    assert.match(JSON.stringify(outcome), /access\.log/);
    // Named at its config path, as a config error.
    assert.equal(outcome.result === "error" && outcome.errors[0].path, "accessLog.to");

    // Admin reload answers 422 with the problem, not a bare 500.
    const res = await fetch(`${gw.adminUrl}/reload`, { method: "POST" });
    assert.equal(res.status, 422);
    assert.equal((await res.json()).result, "error");

    // Still serving version 1; the next good save recovers.
    assert.equal((await get(`${gw.url}/x`)).headers.get("x-version"), "1");
    await save(file, configText(upstreamUrl, 3));
    assert.deepEqual(await gw.reloadFile!(), { result: "success", version: 2 });
    assert.equal((await get(`${gw.url}/x`)).headers.get("x-version"), "3");
  });
});

Deno.test("reload: the file watch survives a save whose access log cannot be opened", async () => {
  await withFileGateway(true, async (gw, dir, file, upstreamUrl) => {
    await save(file, configText(upstreamUrl, 2, unopenableLog(dir)));
    // Before the fix, the watch's reload rejected unhandled and the test runner failed here.
    await pollFor("a rejected reload", async () => {
      return (await reloadCount(gw.adminUrl, "error")) >= 1 ? true : undefined;
    });
    await save(file, configText(upstreamUrl, 3));
    await pollFor("version 3 served", async () => {
      const res = await get(`${gw.url}/x`);
      return res.headers.get("x-version") === "3" ? true : undefined;
    });
  });
});

Deno.test("reload: a deleted config file is a rejected reload; writing it again recovers", async () => {
  await withFileGateway(true, async (gw, _dir, file, upstreamUrl) => {
    await Deno.remove(file);
    await pollFor("a rejected reload", async () => {
      return (await reloadCount(gw.adminUrl, "error")) >= 1 ? true : undefined;
    });
    assert.equal((await get(`${gw.url}/x`)).headers.get("x-version"), "1");
    await save(file, configText(upstreamUrl, 2));
    await pollFor("version 2 served", async () => {
      const res = await get(`${gw.url}/x`);
      return res.headers.get("x-version") === "2" ? true : undefined;
    });
  });
});

Deno.test("start: an access log that cannot be opened is a config error at accessLog.to", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ferry-access-log-" });
  try {
    await assert.rejects(
      createGateway({
        accessLog: { to: { file: `${dir}/missing/folder/access.log` } },
        upstreams: { api: { targets: ["http://127.0.0.1:9"] } },
        routes: [{ upstream: "api" }],
      }, { logger: new MemoryLogger() }),
      (error: Error) => {
        assert.ok(error instanceof ConfigError);
        assert.deepEqual(error.issues.map((i) => i.path), ["accessLog.to"]);
        assert.match(error.message, /cannot open the access log/);
        return true;
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
