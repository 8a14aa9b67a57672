/**
 * The Host header sent upstream: the client's by default, the target's authority with
 * `host: "target"`, and any other string verbatim. Raw requests, so the client's Host can be
 * something other than the gateway's own address.
 */
import assert from "node:assert/strict";
import { portOf, rawExchange, startEchoUpstream, startTestGateway } from "../helpers/gateway.ts";

/** The Host the upstream saw for a request sent with `Host: client.example:8443`. */
async function hostSeen(host: string | undefined): Promise<{ seen: string; target: string }> {
  const upstream = startEchoUpstream();
  const gw = await startTestGateway({
    upstreams: { api: { targets: [upstream.url], ...(host === undefined ? {} : { host }) } },
    routes: [{ upstream: "api" }],
  });
  try {
    const res = await rawExchange(
      portOf(gw),
      "GET /h HTTP/1.1\r\nHost: client.example:8443\r\nConnection: close\r\n\r\n",
    );
    assert.equal(res.status, 200);
    return { seen: JSON.parse(res.text()).headers.host, target: new URL(upstream.url).host };
  } finally {
    await gw.close();
    await upstream.close();
  }
}

Deno.test("the client's Host is preserved by default", async () => {
  assert.equal((await hostSeen(undefined)).seen, "client.example:8443");
});

Deno.test('host: "preserve" forwards the client\'s Host', async () => {
  assert.equal((await hostSeen("preserve")).seen, "client.example:8443");
});

Deno.test('host: "target" sends the target\'s host:port', async () => {
  const { seen, target } = await hostSeen("target");
  assert.equal(seen, target);
  assert.match(seen, /^127\.0\.0\.1:\d+$/);
});

Deno.test("any other host string is sent as is", async () => {
  assert.equal((await hostSeen("internal.svc.cluster.local")).seen, "internal.svc.cluster.local");
});
