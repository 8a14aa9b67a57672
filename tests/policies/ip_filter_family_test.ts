/**
 * `ipFilter` ranges match by address family. IPv4 addresses are held mapped into
 * ::ffff:0:0/96, so an IPv6 range such as `::/0` used to contain every IPv4 address: a route
 * with `deny: ["::/0"]` (turn IPv6 away) refused all IPv4 clients too, and `allow: ["::/0"]`
 * let every IPv4 client in. Run through a real gateway and upstream; the test client connects
 * from 127.0.0.1, and plays a trusted proxy to present IPv6 clients.
 */
import assert from "node:assert/strict";
import { ipFilter } from "../../src/policies/ip_filter.ts";
import { AddressRanges, ipPasses } from "../../src/policies/ip_filter_policy.ts";
import { startIdentityGateway } from "./identity_harness.ts";

/** GET / with `headers`; the status (the body is consumed). */
async function statusOf(url: string, headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(`${url}/`, { headers });
  await res.body?.cancel();
  return res.status;
}

Deno.test("deny ::/0 turns IPv6 clients away and lets an IPv4 client through", async () => {
  const gw = await startIdentityGateway(ipFilter({ deny: ["::/0"] }), {
    trust: { proxies: ["127.0.0.1/32"] },
  });
  try {
    assert.equal(await statusOf(gw.url), 200, "the direct IPv4 peer is not an IPv6 address");
    assert.equal(await statusOf(gw.url, { "x-forwarded-for": "203.0.113.7" }), 200);
    assert.equal(await statusOf(gw.url, { "x-forwarded-for": "2001:db8::7" }), 403);
    assert.equal(gw.upstreamCalls, 2);
    assert.equal(await gw.failures("ipFilter", "ip_denied"), 1);
  } finally {
    await gw.close();
  }
});

Deno.test("allow ::/0 admits IPv6 clients only, not every IPv4 address", async () => {
  const gw = await startIdentityGateway(ipFilter({ allow: ["::/0"] }), {
    trust: { proxies: ["127.0.0.1/32"] },
  });
  try {
    assert.equal(await statusOf(gw.url, { "x-forwarded-for": "2001:db8::7" }), 200);
    assert.equal(await statusOf(gw.url, { "x-forwarded-for": "203.0.113.7" }), 403);
    assert.equal(await statusOf(gw.url, { "x-forwarded-for": "::ffff:203.0.113.7" }), 403);
    assert.equal(gw.upstreamCalls, 1);
  } finally {
    await gw.close();
  }
});

Deno.test("IPv4 ranges, and IPv6 ranges inside ::ffff:0:0/96, still match IPv4 clients", () => {
  const ranges = new AddressRanges(["10.0.0.0/8", "::ffff:192.0.2.0/120", "::/0"]);
  const none = new AddressRanges([]);
  assert.equal(ipPasses("10.1.2.3", ranges, none), true);
  assert.equal(ipPasses("::ffff:10.1.2.3", ranges, none), true, "IPv4-mapped IPv6 is IPv4");
  assert.equal(ipPasses("192.0.2.9", ranges, none), true, "a mapped range is an IPv4 range");
  assert.equal(ipPasses("198.51.100.1", ranges, none), false, "::/0 holds no IPv4 address");
  assert.equal(ipPasses("2001:db8::1", ranges, none), true);
  assert.equal(ipPasses("::1", ranges, none), true);
  // Every IPv4 address, and only those.
  const allIpv4 = new AddressRanges(["0.0.0.0/0"]);
  assert.equal(ipPasses("198.51.100.1", allIpv4, none), true);
  assert.equal(ipPasses("2001:db8::1", allIpv4, none), false);
  assert.equal(ipPasses("not-an-address", undefined, none), false, "fails closed");
});
