/**
 * A request whose upstream attempt failed is logged with the reason (`upstreamError`): the
 * client's problem says only "unreachable", and without it an operator had no per-request cause.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startTestGateway } from "../helpers/gateway.ts";
import { withTempDir } from "../helpers/process.ts";

/** A port nothing listens on: bound, then closed. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

Deno.test("a failed upstream attempt is logged with its reason; a served request has none", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "access.log");
    const gw = await startTestGateway({
      upstreams: {
        down: {
          targets: [`http://127.0.0.1:${closedPort()}`],
          retries: false,
          outlierDetection: false,
          circuitBreaker: false,
        },
      },
      routes: [
        { name: "down", match: { path: "/down" }, upstream: "down" },
        { name: "home", match: { path: "/home" }, redirect: { to: "/down" } },
      ],
      accessLog: { to: { file }, fields: ["path", "status", "upstreamError"] },
    }, { admin: false });
    try {
      const res = await fetch(`${gw.url}/down`);
      assert.equal(res.status, 502);
      assert.doesNotMatch(await res.text(), /refused/i, "the client sees no internal reason");
      await (await fetch(`${gw.url}/home`, { redirect: "manual" })).body?.cancel();
    } finally {
      await gw.close();
    }
    const [failed, served] = (await Deno.readTextFile(file)).trimEnd().split("\n")
      .map((line) => JSON.parse(line));
    assert.equal(failed.path, "/down");
    assert.match(failed.upstreamError, /^connect: /);
    assert.deepEqual(Object.keys(served), ["path", "status"]);
  });
});
