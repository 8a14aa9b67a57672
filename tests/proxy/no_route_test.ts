/**
 * A request no route takes is answered by the gateway itself: 404 as an RFC 9457 problem with
 * the request id, and no upstream is bothered.
 */
import assert from "node:assert/strict";
import { readProblem, startEchoUpstream, startTestGateway } from "../helpers/gateway.ts";

Deno.test("no matching route is a 404 problem+json with the request id", async () => {
  const upstream = startEchoUpstream();
  const gw = await startTestGateway({
    upstreams: { api: { targets: [upstream.url] } },
    routes: [{ match: { path: "/only/*" }, upstream: "api" }],
  });
  try {
    const res = await fetch(`${gw.url}/elsewhere?x=1`);
    assert.equal(res.status, 404);
    assert.equal(res.headers.get("content-type"), "application/problem+json");
    const problem = await readProblem(res);
    assert.equal(problem.type, "https://ferry.dev/problems/no-route");
    assert.equal(problem.status, 404);
    assert.equal(problem.requestId, res.headers.get("x-request-id"));

    // The control: the route itself works, so the 404 above came from routing.
    const routed = await fetch(`${gw.url}/only/here`);
    assert.equal(routed.status, 200);
    await routed.body?.cancel();
    assert.equal(upstream.received.length, 1);
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("a 404 keeps a sane client request id", async () => {
  const upstream = startEchoUpstream();
  const gw = await startTestGateway({
    upstreams: { api: { targets: [upstream.url] } },
    routes: [{ match: { path: "/only" }, upstream: "api" }],
  });
  try {
    const res = await fetch(`${gw.url}/nope`, { headers: { "x-request-id": "trace-404" } });
    assert.equal(res.status, 404);
    assert.equal((await readProblem(res)).requestId, "trace-404");
  } finally {
    await gw.close();
    await upstream.close();
  }
});
