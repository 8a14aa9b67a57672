/**
 * The JSON access log written to a real file by a real gateway: exact sampling (every n-th
 * request), field selection in the configured order, traffic-coloring headers under `colors`,
 * and byte counts equal to the bodies sent and received. Lines are written off the request
 * path; closing the gateway flushes them, so the file is read after `close()`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startTestGateway, startUpstream } from "../helpers/gateway.ts";
import { withTempDir } from "../helpers/process.ts";

const RESPONSE_BODY = "r".repeat(42);

async function readLines(path: string): Promise<Record<string, unknown>[]> {
  const text = await Deno.readTextFile(path);
  assert.ok(text.endsWith("\n"), "every line is terminated");
  return text.trimEnd().split("\n").map((l) => JSON.parse(l));
}

Deno.test("sample 0.5 logs exactly every 2nd request, with the selected fields in order", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "access.log");
    const fields = [
      "requestId",
      "route",
      "method",
      "path",
      "status",
      "traceId",
      "durationMs",
      "upstreamMs",
      "upstreamTarget",
      "bytesIn",
      "bytesOut",
      "colors",
    ];
    const api = startUpstream(async (req) => {
      await req.arrayBuffer();
      return new Response(RESPONSE_BODY);
    });
    const gw = await startTestGateway({
      upstreams: { api: { targets: [api.url] } },
      routes: [{ name: "orders", match: { path: "/orders/*" }, upstream: "api" }],
      coloring: { headers: ["x-env", "x-trace-color"] },
      accessLog: { to: { file }, sample: 0.5, fields },
    }, { admin: false });
    const sent: { path: string; bytes: number; requestId: string | null }[] = [];
    try {
      // Colors on the 2nd and 6th requests (both logged), none on the 4th (logged too).
      const colors: Record<number, Record<string, string>> = {
        2: { "x-env": "canary", "x-trace-color": "blue" },
        6: { "x-env": "dev" },
      };
      for (let i = 1; i <= 6; i++) {
        const body = "b".repeat(10 + i); // a Content-Length body of 11..16 bytes
        const res = await fetch(`${gw.url}/orders/${i}`, {
          method: "POST",
          body,
          headers: colors[i] ?? {},
        });
        assert.equal(await res.text(), RESPONSE_BODY);
        sent.push({
          path: `/orders/${i}`,
          bytes: body.length,
          requestId: res.headers.get("x-request-id"),
        });
      }
    } finally {
      await gw.close(); // flushes the log
      await api.close();
    }

    const lines = await readLines(file);
    assert.deepEqual(lines.map((l) => l.path), ["/orders/2", "/orders/4", "/orders/6"]);
    const expectedKeys = fields.filter((f) => f !== "traceId"); // untraced: no trace id at all
    for (const [n, line] of lines.entries()) {
      const request = sent[2 * n + 1];
      const keys = request.path === "/orders/4"
        ? expectedKeys.filter((k) => k !== "colors") // no color header, no `colors`
        : expectedKeys;
      assert.deepEqual(Object.keys(line), keys, "selected fields only, in the configured order");
      assert.equal(line.requestId, request.requestId);
      assert.equal(line.route, "orders");
      assert.equal(line.method, "POST");
      assert.equal(line.status, 200);
      assert.equal(line.upstreamTarget, api.url);
      assert.equal(line.bytesIn, request.bytes, "the Content-Length the client sent");
      assert.equal(line.bytesOut, RESPONSE_BODY.length, "the body the client got");
      assert.equal(typeof line.upstreamMs, "number");
      assert.equal(typeof line.durationMs, "number");
      assert.ok((line.upstreamMs as number) >= 0);
      assert.ok((line.upstreamMs as number) <= (line.durationMs as number), "a part of the total");
    }
    assert.deepEqual(lines[0].colors, { "x-env": "canary", "x-trace-color": "blue" });
    assert.deepEqual(lines[2].colors, { "x-env": "dev" });
    // Color headers are ordinary headers to the upstream: they travel on.
    assert.equal(api.received[1].headers.get("x-trace-color"), "blue");
  });
});

Deno.test("without field selection a line has every field that has a value", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "access.log");
    const key = "k3y-for-the-log";
    const digest = new Uint8Array(
      await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key)),
    );
    const hash = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
    const api = startUpstream(() => new Response(RESPONSE_BODY));
    const gw = await startTestGateway({
      upstreams: { api: { targets: [api.url] } },
      routes: [{
        name: "secure",
        match: { path: "/secure" },
        upstream: "api",
        use: [{ kind: "apiKey", options: { keys: [{ name: "mobile", hash: `sha256:${hash}` }] } }],
      }],
      accessLog: { to: { file } },
    }, { admin: false });
    try {
      const ok = await fetch(`${gw.url}/secure?q=1`, {
        headers: { "x-api-key": key, "user-agent": "log-test/1" },
      });
      assert.equal(await ok.text(), RESPONSE_BODY);
      const missing = await fetch(`${gw.url}/missing`, { headers: { "user-agent": "log-test/1" } });
      await missing.body?.cancel();
      assert.equal(missing.status, 404);
    } finally {
      await gw.close();
      await api.close();
    }

    const [served, unmatched] = await readLines(file);
    assert.deepEqual(Object.keys(served).sort(), [
      "bytesOut",
      "clientIp",
      "durationMs",
      "method",
      "path",
      "requestId",
      "route",
      "status",
      "subject",
      "time",
      "upstreamMs",
      "upstreamTarget",
      "userAgent",
    ]);
    assert.ok(!Number.isNaN(Date.parse(served.time as string)));
    assert.equal(served.path, "/secure", "the path without the query");
    assert.equal(served.subject, "mobile");
    assert.equal(served.clientIp, "127.0.0.1");
    assert.equal(served.userAgent, "log-test/1");
    assert.equal(served.bytesOut, RESPONSE_BODY.length);
    // A request the gateway answered itself has no upstream fields.
    assert.equal(unmatched.route, "no_route");
    assert.equal(unmatched.status, 404);
    for (const absent of ["upstreamMs", "upstreamTarget", "subject", "traceId"]) {
      assert.ok(!(absent in unmatched), `${absent} in ${JSON.stringify(unmatched)}`);
    }
  });
});
