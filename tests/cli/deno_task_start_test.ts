/**
 * `deno task start`, exactly as a newcomer runs it: the real task from deno.json with its narrow
 * permission flags, serving routes.config.ts on 127.0.0.1:8080 (admin 9901, demo upstream 3000).
 * The README's curl examples must answer, and SIGTERM must end it with exit code 0.
 *
 * The fixed ports may be held on a shared machine; the serving test is then skipped (with the
 * reason in its name) rather than failing on someone else's process.
 */
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { rawRequest } from "../helpers/gateway.ts";
import {
  busyPorts,
  DenoProcess,
  REPO_ROOT,
  SERVING_LINE,
  waitForPort,
} from "../helpers/process.ts";

const denoJson = JSON.parse(await Deno.readTextFile(`${REPO_ROOT}/deno.json`));
const startTask: string = denoJson.tasks.start;
const busy = busyPorts([8080, 9901, 3000]);

Deno.test("the start task has narrow permission flags", () => {
  const words = startTask.split(/\s+/);
  assert.ok(!words.includes("-A") && !words.includes("--allow-all"), startTask);
  assert.ok(!words.some((w) => /^--allow-(read|env)$/.test(w)), `unscoped flag in: ${startTask}`);
  assert.ok(words.some((w) => /^--allow-read=\S+/.test(w)), startTask);
  assert.ok(words.some((w) => /^--allow-env=\S+/.test(w)), startTask);
  assert.ok(words.includes("mod.ts") && words.includes("start"), startTask);
});

Deno.test({
  name: busy.length
    ? `deno task start serves the README examples (SKIPPED: ports ${busy.join(", ")} are busy)`
    : "deno task start serves the README examples and exits 0 on SIGTERM",
  ignore: busy.length > 0,
  async fn() {
    const proc = new DenoProcess(["task", "start"], { cwd: REPO_ROOT });
    try {
      await proc.waitForStderr(SERVING_LINE, 60_000);
      await waitForPort(8080);
      await waitForPort(9901);

      const user = await fetch("http://127.0.0.1:8080/api/users/7");
      assert.equal(user.status, 200);
      assert.match(user.headers.get("content-type") ?? "", /^application\/json/);
      assert.equal((await user.json()).id, 7);

      const legacy = await fetch("http://127.0.0.1:8080/v1/users/7", { redirect: "manual" });
      assert.equal(legacy.status, 308);
      assert.equal(legacy.headers.get("location"), "/api/users/7");
      await legacy.body?.cancel();

      // Raw bytes, so nothing on our side decompresses: the gzip body must pass through as is.
      const gzip = await rawRequest(
        8080,
        "GET /gzip HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: close\r\n\r\n",
      );
      assert.match(gzip, /^HTTP\/1\.1 200 /);
      assert.match(gzip, /\r\ncontent-encoding: gzip\r\n/i);
      const gzipRes = await fetch("http://127.0.0.1:8080/gzip", {
        headers: { "accept-encoding": "gzip" },
      });
      const bytes = new Uint8Array(await gzipRes.arrayBuffer());
      // fetch may already have decoded it; either way the JSON must come out intact.
      const text = bytes[0] === 0x1f && bytes[1] === 0x8b
        ? new TextDecoder().decode(gunzipSync(bytes))
        : new TextDecoder().decode(bytes);
      assert.equal(JSON.parse(text).compressed, true);

      const health = await fetch("http://127.0.0.1:9901/healthz");
      assert.equal(health.status, 200);
      await health.body?.cancel();
      const metrics = await fetch("http://127.0.0.1:9901/metrics");
      assert.equal(metrics.status, 200);
      const text2 = await metrics.text();
      assert.match(
        text2,
        /^ferry_requests_total\{route="user-by-id",method="GET",status_class="2xx"\} 1$/m,
      );

      proc.signal("SIGTERM");
      const exit = await proc.waitForExit(20_000);
      assert.deepEqual(exit, { code: 0, signal: null, killed: false }, proc.stderr);
      assert.match(proc.stderr, /"message":"ferry stopped"/);
    } finally {
      await proc.dispose();
    }
  },
});
