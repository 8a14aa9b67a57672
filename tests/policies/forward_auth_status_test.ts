/**
 * An auth service answering with a status no HTTP response can carry on (HTTP/1.1 lets a
 * server send any three digits; `Response` takes only 200–599) used to crash the policy into a
 * generic 500. It is no verdict: the request fails closed with a 503 that says why. The auth
 * service is a raw TCP server on 127.0.0.1, since `Deno.serve` cannot send such a status.
 */
import assert from "node:assert/strict";
import { forwardAuth } from "../../src/policies/forward_auth.ts";
import { readProblem, startEchoUpstream, startTestGateway } from "../helpers/gateway.ts";
import { scrapeMetrics } from "../helpers/reload.ts";

/** Answers every connection with `statusLine` and a short body, then closes it. */
function startRawAuthService(statusLine: string) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const answer = new TextEncoder().encode(
    `HTTP/1.1 ${statusLine}\r\ncontent-length: 4\r\nconnection: close\r\n\r\nnope`,
  );
  const serving = (async () => {
    for await (const conn of listener) {
      try {
        await conn.read(new Uint8Array(16 * 1024)); // the request head: small, one read
        await conn.write(answer);
      } finally {
        conn.close();
      }
    }
  })();
  return {
    url: `http://127.0.0.1:${listener.addr.port}/verify`,
    async close() {
      listener.close();
      await serving.catch(() => {}); // the loop ends with the listener
    },
  };
}

Deno.test("an auth service answering status 999 fails closed with a 503 naming the status", async () => {
  const auth = startRawAuthService("999 Odd");
  const upstream = startEchoUpstream();
  const gw = await startTestGateway({
    upstreams: { api: { targets: [upstream.url] } },
    routes: [{ name: "api", upstream: "api", use: [forwardAuth({ url: auth.url })] }],
  });
  try {
    const res = await fetch(`${gw.url}/x`);
    assert.equal(res.status, 503);
    const body = await readProblem(res);
    assert.equal(body.type, "https://ferry.dev/problems/auth-unavailable");
    assert.match(body.detail, /status 999/);
    assert.equal(upstream.received.length, 0, "fails closed: the upstream never sees it");
    const metrics = await scrapeMetrics(gw.adminUrl!);
    assert.equal(
      metrics.get('ferry_auth_failures_total{policy="forwardAuth",reason="invalid_answer"}'),
      1,
    );
  } finally {
    await gw.close();
    await upstream.close();
    await auth.close();
  }
});
