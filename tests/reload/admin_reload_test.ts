/**
 * Admin `POST /reload`: loopback callers may reload; other callers only with the bearer token
 * from `admin.tokenEnv`. The network test stays on loopback; the non-loopback cases call the
 * admin app directly with a made-up peer address (no packet leaves the machine).
 */
import assert from "node:assert/strict";
import { createAdminApp, type LoadStatus } from "../../src/server/admin.ts";
import { startUpstream } from "../helpers/gateway.ts";
import {
  type ConfigDir,
  type FileGateway,
  get,
  makeConfigDir,
  save,
  serveTestFile,
  versionedConfigText,
} from "../helpers/reload.ts";

const config = versionedConfigText;

/** A file-backed gateway (not watching: only the admin endpoint reloads) and its folder. */
async function withFileGateway(
  body: (gw: FileGateway, dir: ConfigDir, upstreamUrl: string) => Promise<void>,
) {
  const dir = await makeConfigDir();
  const upstream = startUpstream(() => new Response("ok"));
  let gw: FileGateway | undefined;
  try {
    await save(dir.path("ferry.config.ts"), config(upstream.url, 1));
    gw = await serveTestFile(dir.path("ferry.config.ts"), { watch: false });
    await body(gw, dir, upstream.url);
  } finally {
    await gw?.close();
    await upstream.close();
    await dir.remove();
  }
}

Deno.test("reload: admin POST /reload from loopback applies the saved file", async () => {
  await withFileGateway(async (gw, dir, upstreamUrl) => {
    await save(dir.path("ferry.config.ts"), config(upstreamUrl, 2));
    const res = await get(`${gw.adminUrl}/reload`, { method: "POST" });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(JSON.parse(res.text), { result: "success", version: 2 });
    assert.equal((await get(`${gw.url}/x`)).headers.get("x-version"), "2");

    // Nothing changed since: reported as such, version kept.
    const again = await get(`${gw.adminUrl}/reload`, { method: "POST" });
    assert.equal(again.status, 200);
    assert.deepEqual(JSON.parse(again.text), { result: "unchanged" });
    assert.equal(gw.snapshot.version, 2);

    // A broken file: 422 with the errors, and the old config still serving.
    await save(dir.path("ferry.config.ts"), "export default {");
    const broken = await get(`${gw.adminUrl}/reload`, { method: "POST" });
    assert.equal(broken.status, 422);
    const body = JSON.parse(broken.text);
    assert.equal(body.result, "error");
    assert.equal(body.errors[0].path, "(file)");
    assert.equal((await get(`${gw.url}/x`)).headers.get("x-version"), "2");
  });
});

Deno.test("reload: admin POST /reload from a non-loopback peer needs the bearer token", async () => {
  await withFileGateway(async (gw, dir, upstreamUrl) => {
    const lastLoad: LoadStatus = { at: new Date().toISOString(), result: "success" };
    const app = createAdminApp({
      current: () => gw.snapshot,
      metrics: gw.metrics,
      draining: () => false,
      lastLoad: () => lastLoad,
      reload: gw.reloadFile,
      token: "s3cret-token",
    });
    const post = (peer: string | undefined, authorization?: string) =>
      app.fetch(
        new Request("http://admin.test/reload", {
          method: "POST",
          headers: authorization ? { authorization } : {},
        }),
        peer === undefined ? undefined : { remoteAddr: { hostname: peer } },
      );
    await save(dir.path("ferry.config.ts"), config(upstreamUrl, 2));

    for (
      const [peer, auth] of [
        ["10.1.2.3", undefined],
        ["10.1.2.3", "Bearer wrong-token"],
        ["192.168.0.9", "Bearer s3cret-token-and-more"],
        [undefined, undefined], // no known peer is not trusted
      ] as const
    ) {
      const res = await post(peer, auth);
      assert.equal(res.status, 403, `${peer} ${auth}`);
      assert.equal((await res.json()).status, 403);
    }
    assert.equal(gw.snapshot.version, 1, "a refused request does not reload");

    const allowed = await post("10.1.2.3", "Bearer s3cret-token");
    assert.equal(allowed.status, 200);
    assert.deepEqual(await allowed.json(), { result: "success", version: 2 });
    assert.equal(gw.snapshot.version, 2);

    // Loopback peers need no token (IPv4, IPv6, IPv4-mapped IPv6).
    for (const peer of ["127.0.0.1", "127.9.8.7", "::1", "::ffff:127.0.0.1"]) {
      const res = await post(peer);
      assert.equal(res.status, 200, peer);
      assert.deepEqual(await res.json(), { result: "unchanged" });
    }
  });
});

Deno.test("reload: without a configured token, only loopback peers may reload", async () => {
  await withFileGateway(async (gw) => {
    const lastLoad: LoadStatus = { at: new Date().toISOString(), result: "success" };
    const app = createAdminApp({
      current: () => gw.snapshot,
      metrics: gw.metrics,
      draining: () => false,
      lastLoad: () => lastLoad,
      reload: gw.reloadFile,
    });
    const req = () =>
      new Request("http://admin.test/reload", {
        method: "POST",
        headers: { authorization: "Bearer undefined" },
      });
    const refused = await app.fetch(req(), { remoteAddr: { hostname: "10.1.2.3" } });
    assert.equal(refused.status, 403);
    await refused.body?.cancel();
    const local = await app.fetch(req(), { remoteAddr: { hostname: "127.0.0.1" } });
    assert.equal(local.status, 200);
    assert.deepEqual(await local.json(), { result: "unchanged" });
  });
});

Deno.test("reload: the admin token counts only as a Bearer credential", async () => {
  await withFileGateway(async (gw) => {
    const lastLoad: LoadStatus = { at: new Date().toISOString(), result: "success" };
    const app = createAdminApp({
      current: () => gw.snapshot,
      metrics: gw.metrics,
      draining: () => false,
      lastLoad: () => lastLoad,
      reload: gw.reloadFile,
      token: "s3cret-token",
    });
    // The documented form is `Authorization: Bearer <token>`; a bare token (or another scheme)
    // is not that credential and must be refused like any other unauthenticated call.
    for (const authorization of ["s3cret-token", "Basic s3cret-token"]) {
      const res = await app.fetch(
        new Request("http://admin.test/reload", { method: "POST", headers: { authorization } }),
        { remoteAddr: { hostname: "10.1.2.3" } },
      );
      await res.body?.cancel();
      assert.equal(res.status, 403, `Authorization: ${authorization}`);
    }
  });
});
