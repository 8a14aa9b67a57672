/**
 * X-Forwarded-For/-Proto/-Host: the gateway tells the upstream who asked and how, and believes
 * the client's own forwarded headers only when the peer is a configured trusted proxy.
 */
import assert from "node:assert/strict";
import { catchAll, startEchoUpstream, startTestGateway } from "../helpers/gateway.ts";

/** Sends a GET through a gateway with `extra` config and returns the headers the upstream saw. */
async function upstreamHeaders(
  extra: Record<string, unknown>,
  headers: Record<string, string>,
): Promise<{ seen: Record<string, string>; gatewayHost: string }> {
  const upstream = startEchoUpstream();
  const gw = await startTestGateway(catchAll(upstream.url, extra));
  try {
    const res = await fetch(`${gw.url}/who`, { headers });
    assert.equal(res.status, 200);
    const echoed = await res.json();
    return { seen: echoed.headers, gatewayHost: new URL(gw.url).host };
  } finally {
    await gw.close();
    await upstream.close();
  }
}

Deno.test("X-Forwarded-For/-Proto/-Host are set for a direct client", async () => {
  const { seen, gatewayHost } = await upstreamHeaders({}, {});
  assert.equal(seen["x-forwarded-for"], "127.0.0.1");
  assert.equal(seen["x-forwarded-proto"], "http");
  assert.equal(seen["x-forwarded-host"], gatewayHost);
  assert.equal(seen["x-real-ip"], "127.0.0.1");
});

Deno.test("forwarded headers from an untrusted peer are replaced, not appended to", async () => {
  const { seen, gatewayHost } = await upstreamHeaders({}, {
    "x-forwarded-for": "203.0.113.9",
    "x-forwarded-proto": "https",
    "x-forwarded-host": "spoofed.example",
    "forwarded": "for=203.0.113.9;proto=https",
    "x-real-ip": "203.0.113.9",
  });
  assert.equal(seen["x-forwarded-for"], "127.0.0.1");
  assert.equal(seen["x-real-ip"], "127.0.0.1", "an untrusted X-Real-IP was passed on");
  assert.equal(seen["x-forwarded-proto"], "http");
  assert.equal(seen["x-forwarded-host"], gatewayHost);
  assert.equal(seen["forwarded"], undefined, "an untrusted RFC 7239 Forwarded was passed on");
});

Deno.test("a trusted proxy's chain is kept with the peer appended, and its proto/host kept", async () => {
  const { seen } = await upstreamHeaders({ trust: { proxies: ["127.0.0.1/32"] } }, {
    "x-forwarded-for": "203.0.113.9, 10.0.0.1",
    "x-forwarded-proto": "https",
    "x-forwarded-host": "public.example",
    "forwarded": "for=203.0.113.9;proto=https",
  });
  assert.equal(seen["x-forwarded-for"], "203.0.113.9, 10.0.0.1, 127.0.0.1");
  // Walking back from the peer, 10.0.0.1 is the first address not in trust.proxies.
  assert.equal(seen["x-real-ip"], "10.0.0.1");
  assert.equal(seen["x-forwarded-proto"], "https");
  assert.equal(seen["x-forwarded-host"], "public.example");
  assert.equal(seen["forwarded"], "for=203.0.113.9;proto=https");
});

Deno.test("a trust list that does not contain the peer still replaces the chain", async () => {
  const { seen } = await upstreamHeaders({ trust: { proxies: ["10.0.0.0/8"] } }, {
    "x-forwarded-for": "203.0.113.9",
    "x-forwarded-proto": "https",
  });
  assert.equal(seen["x-forwarded-for"], "127.0.0.1");
  assert.equal(seen["x-forwarded-proto"], "http");
});

Deno.test("X-Forwarded-For entries with a port are read as their address", async () => {
  const { seen } = await upstreamHeaders(
    { trust: { proxies: ["127.0.0.1/32", "10.0.0.0/8"] } },
    { "x-forwarded-for": "[2001:db8::7]:443, 203.0.113.9:4711, 10.0.0.1:80" },
  );
  // 10.0.0.1 is a trusted proxy, so the client is the next address back, without its port.
  assert.equal(seen["x-real-ip"], "203.0.113.9");
  assert.equal(seen["x-forwarded-for"], "2001:db8::7, 203.0.113.9, 10.0.0.1, 127.0.0.1");
});
