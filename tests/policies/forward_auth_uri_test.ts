/**
 * What `forwardAuth` tells a real auth service about where a request was going when the client
 * sent its target as raw UTF-8 bytes (curl, scripts and many non-browser clients do): the
 * target percent-encoded as UTF-8, the way a browser sends it, never a refusal of the request.
 */
import assert from "node:assert/strict";
import { forwardAuth } from "../../src/policies/forward_auth.ts";
import { portOf, rawExchange, startEchoUpstream, startTestGateway } from "../helpers/gateway.ts";

/**
 * The `X-Forwarded-Uri` the auth service got, and the client's status, for a raw request with
 * `target` written as UTF-8. The auth service refuses with 401, so only it decides the answer.
 */
async function forwardedUri(target: string): Promise<{ status: number; uri: string | null }> {
  let uri: string | null = null;
  const auth = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    uri = req.headers.get("x-forwarded-uri");
    return new Response("sign in first", {
      status: 401,
      headers: { "www-authenticate": 'Bearer realm="app"' },
    });
  });
  const upstream = startEchoUpstream();
  try {
    const gw = await startTestGateway({
      upstreams: { api: { targets: [upstream.url] } },
      routes: [{
        name: "api",
        upstream: "api",
        use: [forwardAuth({ url: `http://127.0.0.1:${auth.addr.port}/verify` })],
      }],
    });
    try {
      const res = await rawExchange(
        portOf(gw),
        new TextEncoder().encode(
          `GET ${target} HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\n\r\n`,
        ),
      );
      return { status: res.status, uri };
    } finally {
      await gw.close();
    }
  } finally {
    await upstream.close();
    await auth.shutdown();
  }
}

Deno.test("a raw UTF-8 target beyond Latin-1 reaches the auth service percent-encoded, not a 500", async () => {
  assert.deepEqual(await forwardedUri("/docs/\u20ac/\u65e5\u672c?q=\u00fc"), {
    status: 401,
    uri: "/docs/%E2%82%AC/%E6%97%A5%E6%9C%AC?q=%C3%BC",
  });
});

Deno.test("a raw UTF-8 target within Latin-1 reaches the auth service as UTF-8 escapes, not Latin-1 bytes", async () => {
  assert.deepEqual(await forwardedUri("/caf\u00e9/menu"), {
    status: 401,
    uri: "/caf%C3%A9/menu",
  });
});

Deno.test("an ASCII target, escapes included, reaches the auth service as sent", async () => {
  assert.deepEqual(await forwardedUri("/caf%C3%A9/menu?a=1&b=%20"), {
    status: 401,
    uri: "/caf%C3%A9/menu?a=1&b=%20",
  });
});
