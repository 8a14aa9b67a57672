/**
 * The cache of verified Basic credentials across hot reloads: a reload that leaves a policy's
 * users as they were keeps it (otherwise every reload, even of an unrelated route, sends every
 * active user through a full scrypt check at once), and a reload that changes them starts
 * empty, so a changed password takes effect at once. Real gateway, real upstream.
 */
import assert from "node:assert/strict";
import { hashPassword } from "../../src/identity/secret_hash.ts";
import { basicAuth } from "../../src/policies/basic_auth.ts";
import { startEchoUpstream, startTestGateway } from "../helpers/gateway.ts";
import { scrapeMetrics } from "../helpers/reload.ts";

const CHEAP = { N: 1024 };
const PASSWORD = "tr0ub4dor & 3";
const NEW_PASSWORD = "correct horse battery staple";

function basic(user: string, password: string): string {
  return `Basic ${btoa(`${user}:${password}`)}`;
}

Deno.test("a reload keeps the verified-credentials cache of unchanged users, and drops it when they change", async () => {
  const upstream = startEchoUpstream();
  const ana = { name: "ana", hash: await hashPassword(PASSWORD, CHEAP) };
  const config = (users: { name: string; hash: string }[], extraRoute: boolean) => ({
    upstreams: { api: { targets: [upstream.url] } },
    routes: [
      {
        name: "ops",
        match: { path: "/ops/*" },
        upstream: "api",
        use: [basicAuth({ realm: "ops", users })],
      },
      ...(extraRoute ? [{ name: "other", match: { path: "/other/*" }, upstream: "api" }] : []),
    ],
  });
  const gw = await startTestGateway(config([ana], false));
  const checks = async () => {
    const metrics = await scrapeMetrics(gw.adminUrl!);
    const by = (check: string) =>
      metrics.get(`ferry_basic_auth_checks_total{check="${check}"}`) ?? 0;
    return { scrypt: by("scrypt"), cache: by("cache") };
  };
  const call = async (password: string) => {
    const res = await fetch(`${gw.url}/ops/x`, {
      headers: { authorization: basic("ana", password) },
    });
    await res.body?.cancel();
    return res.status;
  };
  try {
    assert.equal(await call(PASSWORD), 200);
    assert.equal(await call(PASSWORD), 200);
    assert.deepEqual(await checks(), { scrypt: 1, cache: 1 });

    // An unrelated change: the basicAuth policy is rebuilt, its users are the same.
    await gw.reload(config([ana], true));
    assert.equal(await call(PASSWORD), 200);
    assert.deepEqual(await checks(), { scrypt: 1, cache: 2 }, "no new scrypt check");

    // The password changed: the old one must fail at once, however recently it was verified.
    const changed = { name: "ana", hash: await hashPassword(NEW_PASSWORD, CHEAP) };
    await gw.reload(config([changed], true));
    assert.equal(await call(PASSWORD), 401);
    assert.equal(await call(NEW_PASSWORD), 200);
  } finally {
    await gw.close();
    await upstream.close();
  }
});
