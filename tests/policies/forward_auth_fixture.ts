/**
 * A gateway whose one route goes through `forwardAuth` to an auth service that vouches for "bob"
 * (`x-user-id: bob`, 204) whatever the client claims, in front of an echo upstream.
 */
import assert from "node:assert/strict";
import { forwardAuth, type ForwardAuthOptions } from "../../src/policies/forward_auth.ts";
import { startEchoUpstream, startTestGateway } from "../helpers/gateway.ts";

/** The headers the upstream got for one request with `sent`, the auth service vouching "bob". */
export async function forwardAuthUpstreamHeaders(
  options: Omit<ForwardAuthOptions, "url">,
  sent: Record<string, string>,
): Promise<Record<string, string>> {
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
      const res = await fetch(`${gw.url}/orders`, { headers: sent });
      assert.equal(res.status, 200);
      return (await res.json()).headers;
    } finally {
      await gw.close();
    }
  } finally {
    await upstream.close();
    await auth.shutdown();
  }
}
