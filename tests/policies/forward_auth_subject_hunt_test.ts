/**
 * `forwardAuth`'s `subjectHeader` names who the caller is. A client that sent that header
 * itself (`x-user-id: admin`) used to have its value reach the upstream whenever the header was
 * not also listed in `responseHeaders`, while the access log showed the auth service's subject.
 * Through a real auth service, gateway and echo upstream on 127.0.0.1.
 */
import assert from "node:assert/strict";
import { forwardAuth, type ForwardAuthOptions } from "../../src/policies/forward_auth.ts";
import { startEchoUpstream, startTestGateway } from "../helpers/gateway.ts";

/** Upstream headers for one request sent as mallory claiming to be admin. */
async function upstreamHeadersFor(options: Omit<ForwardAuthOptions, "url">) {
  // The auth service vouches for "bob", whatever the client claims.
  const auth = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response(null, { status: 204, headers: { "x-user-id": "bob" } }),
  );
  const upstream = startEchoUpstream();
  try {
    const gw = await startTestGateway({
      upstreams: { api: { targets: [upstream.url] } },
      routes: [{
        name: "api",
        upstream: "api",
        use: [forwardAuth({ url: `http://127.0.0.1:${auth.addr.port}/verify`, ...options })],
      }],
    });
    try {
      const res = await fetch(`${gw.url}/orders`, {
        headers: { "x-user-id": "admin", "x-other": "kept" },
      });
      assert.equal(res.status, 200);
      return (await res.json()).headers as Record<string, string>;
    } finally {
      await gw.close();
    }
  } finally {
    await upstream.close();
    await auth.shutdown();
  }
}

Deno.test("forwardAuth: a client-sent copy of subjectHeader never reaches the upstream", async () => {
  const headers = await upstreamHeadersFor({ subjectHeader: "x-user-id" });
  assert.equal(headers["x-user-id"], undefined, "the client's claim to be admin is dropped");
  assert.equal(headers["x-other"], "kept", "unrelated headers pass");
});

Deno.test("forwardAuth: subjectHeader also in responseHeaders carries the auth service's value", async () => {
  const headers = await upstreamHeadersFor({
    subjectHeader: "X-User-Id",
    responseHeaders: ["x-user-id"],
  });
  assert.equal(headers["x-user-id"], "bob");
});
