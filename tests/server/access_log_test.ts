/**
 * The JSON access log written to a file: one line per request, flushed by `close()`, each line
 * tying a response (by its x-request-id) to the route, target and client that produced it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startEchoUpstream, startTestGateway } from "../helpers/gateway.ts";
import { withTempDir } from "../helpers/process.ts";

Deno.test("the access log file gets one JSON line per request with its fields", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "access.log");
    const upstream = startEchoUpstream();
    const gw = await startTestGateway({
      upstreams: { api: { targets: [upstream.url] } },
      routes: [{ name: "items", match: { path: "/items/:id" }, upstream: "api" }],
      accessLog: { to: { file } },
    });
    const sent: { id: string; path: string; status: number; agent: string }[] = [];
    try {
      for (let i = 0; i < 4; i++) {
        const path = `/items/${i}`;
        const agent = `access-log-test/${i}`;
        const res = await fetch(`${gw.url}${path}?q=${i}`, { headers: { "user-agent": agent } });
        await res.body?.cancel();
        sent.push({ id: res.headers.get("x-request-id")!, path, status: res.status, agent });
      }
      // One that no route takes: logged too, with no upstream target.
      const miss = await fetch(`${gw.url}/missing`, { headers: { "user-agent": "miss" } });
      await miss.body?.cancel();
      sent.push({
        id: miss.headers.get("x-request-id")!,
        path: "/missing",
        status: 404,
        agent: "miss",
      });
    } finally {
      await gw.close();
      await upstream.close();
    }

    const lines = (await Deno.readTextFile(file)).split("\n").filter((l) => l !== "");
    assert.equal(lines.length, sent.length, lines.join("\n"));
    const entries = lines.map((l) => JSON.parse(l));
    for (const [i, expected] of sent.entries()) {
      assert.ok(expected.id, "response had no x-request-id");
      const entry = entries.find((e) => e.requestId === expected.id);
      assert.ok(entry, `no line for request id ${expected.id}`);
      const hit = expected.status !== 404;
      assert.equal(entry.route, hit ? "items" : "no_route");
      assert.equal(entry.method, "GET");
      assert.equal(entry.path, expected.path, "path without the query");
      assert.equal(entry.status, expected.status);
      assert.equal(typeof entry.durationMs, "number");
      assert.ok(entry.durationMs >= 0);
      assert.equal(entry.upstreamTarget, hit ? upstream.url : undefined);
      assert.equal(entry.clientIp, "127.0.0.1");
      assert.equal(entry.userAgent, expected.agent);
      assert.ok(!Number.isNaN(Date.parse(entry.time)), `line ${i} time ${entry.time}`);
    }
    assert.equal(new Set(entries.map((e) => e.requestId)).size, sent.length, "ids are unique");
  });
});
