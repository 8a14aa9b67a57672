/**
 * A gateway listening on `::` (dual-stack, the usual way to accept IPv4 and IPv6 on one port)
 * sees its IPv4 clients as IPv4-mapped IPv6 addresses (`::ffff:203.0.113.7`). The upstream must
 * get the plain IPv4 address in X-Forwarded-For and X-Real-IP, as from an IPv4-only listener
 * (and as Traefik and Go proxies send it): most backends' allow-lists, rate limiters and geo-IP
 * lookups (Python's `ipaddress`, nginx `set_real_ip_from 10.0.0.0/8`) do not match an IPv4 range
 * against the mapped form.
 */
import assert from "node:assert/strict";
import { MemoryLogger } from "../../src/observe/logger.ts";
import { startGateway } from "../../src/server/gateway.ts";
import { catchAll, startEchoUpstream } from "../helpers/gateway.ts";

/** Sends a GET over IPv4 to a gateway on `::` and returns the headers the upstream saw. */
async function seenOverIpv4(
  extra: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<Record<string, string>> {
  const upstream = startEchoUpstream();
  const logger = new MemoryLogger();
  const gw = await startGateway(catchAll(upstream.url, extra), {
    listen: { hostname: "::", port: 0 },
    admin: false,
    logger,
    demo: false,
  });
  try {
    const port = new URL(gw.url).port;
    const res = await fetch(`http://127.0.0.1:${port}/who`, { headers });
    assert.equal(res.status, 200);
    return (await res.json()).headers;
  } finally {
    await gw.close();
    await upstream.close();
  }
}

Deno.test("an IPv4 client of a dual-stack listener is forwarded as its IPv4 address", async () => {
  const seen = await seenOverIpv4({});
  assert.equal(seen["x-forwarded-for"], "127.0.0.1");
  assert.equal(seen["x-real-ip"], "127.0.0.1");
});

Deno.test("a trusted IPv4 proxy on a dual-stack listener is appended as IPv4 and still trusted", async () => {
  const seen = await seenOverIpv4(
    { trust: { proxies: ["127.0.0.1/32"] } },
    { "x-forwarded-for": "::ffff:203.0.113.9, [::ffff:198.51.100.4]:443" },
  );
  assert.equal(seen["x-forwarded-for"], "203.0.113.9, 198.51.100.4, 127.0.0.1");
  assert.equal(seen["x-real-ip"], "198.51.100.4");
});
