/**
 * A known admin endpoint asked with the wrong method answers 405 with `Allow`, not the 404 "no
 * admin endpoint" that sends an operator looking for a typo in the path (`curl .../reload`
 * without `-X POST` is the usual one).
 */
import assert from "node:assert/strict";
import { catchAll, startTestGateway } from "../helpers/gateway.ts";

const CASES: [method: string, path: string, allow: string][] = [
  ["GET", "/reload", "POST"],
  ["PUT", "/reload", "POST"],
  ["POST", "/healthz", "GET, HEAD"],
  ["DELETE", "/config", "GET, HEAD"],
  ["POST", "/upstreams", "GET, HEAD"],
  ["POST", "/metrics", "GET, HEAD"],
];

Deno.test("admin: a wrong method on a known endpoint is 405 with Allow", async () => {
  const gw = await startTestGateway(catchAll("http://127.0.0.1:9"));
  try {
    for (const [method, path, allow] of CASES) {
      const res = await fetch(`${gw.adminUrl}${path}`, { method });
      const body = await res.json();
      assert.equal(res.status, 405, `${method} ${path}`);
      assert.equal(res.headers.get("allow"), allow, `${method} ${path}`);
      assert.equal(body.status, 405);
      assert.match(body.detail, new RegExp(`${path} accepts ${allow}`));
    }
    // Unknown paths are still 404, and the right methods still work.
    const missing = await fetch(`${gw.adminUrl}/nope`, { method: "POST" });
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    const head = await fetch(`${gw.adminUrl}/healthz`, { method: "HEAD" });
    assert.equal(head.status, 200);
    await head.body?.cancel();
  } finally {
    await gw.close();
  }
});
