/**
 * The `ipFilter` policy through a real gateway and a real upstream: allowed addresses reach the
 * upstream; denied ones get 403 (reason `ip_denied`, no challenge) and never do. The address is
 * the one the gateway resolved: `X-Forwarded-For` counts only from a peer in `trust.proxies`.
 */
import assert from "node:assert/strict";
import { ipFilter } from "../../src/policies/ip_filter.ts";
import { ipPasses } from "../../src/policies/ip_filter_policy.ts";
import { CidrSet } from "../../src/proxy/cidr.ts";
import {
  AT,
  type Echo,
  readRefusal,
  startIdentityGateway,
  validationErrors,
} from "./identity_harness.ts";

/** Sends GET / with `headers`; returns the status (the body is consumed). */
async function statusOf(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/`, { headers });
  await res.body?.cancel();
  return res.status;
}

Deno.test("an allowed direct peer reaches the upstream", async () => {
  const gw = await startIdentityGateway(ipFilter({ allow: ["10.0.0.0/8", "127.0.0.0/8"] }));
  let log;
  let id = "";
  try {
    const res = await fetch(`${gw.url}/reports`);
    assert.equal(res.status, 200);
    id = res.headers.get("x-request-id")!;
    assert.equal((await res.json() as Echo).path, "/reports");
    assert.equal(gw.upstreamCalls, 1);
    assert.equal(await gw.failures("ipFilter", "ip_denied"), 0);
  } finally {
    log = await gw.close();
  }
  assert.equal(log.get(id)?.clientIp, "127.0.0.1");
  assert.equal(log.get(id)?.subject, undefined, "an address is not an identity");
});

Deno.test("a direct peer outside the allow list: 403 ip_denied, no challenge, not forwarded", async () => {
  const gw = await startIdentityGateway(ipFilter({ allow: ["10.0.0.0/8", "2001:db8::/32"] }));
  try {
    const refusal = await readRefusal(await fetch(`${gw.url}/reports`));
    assert.equal(refusal.status, 403);
    assert.equal(refusal.type, "https://ferry.dev/problems/forbidden");
    assert.equal(refusal.challenge, null, "no credential would change a 403 by address");
    assert.equal(refusal.cacheControl, "no-store");
    assert.equal(refusal.detail, "client address 127.0.0.1 may not use this route");
    assert.equal(gw.upstreamCalls, 0);
    assert.equal(await gw.failures("ipFilter", "ip_denied"), 1);
  } finally {
    await gw.close();
  }
});

Deno.test("deny refuses a listed peer, and wins over allow", async () => {
  for (
    const options of [
      { deny: ["127.0.0.1"] },
      { allow: ["127.0.0.0/8"], deny: ["127.0.0.1/32"] },
    ]
  ) {
    const gw = await startIdentityGateway(ipFilter(options));
    try {
      assert.equal(await statusOf(gw.url), 403, JSON.stringify(options));
      assert.equal(gw.upstreamCalls, 0);
      assert.equal(await gw.failures("ipFilter", "ip_denied"), 1);
    } finally {
      await gw.close();
    }
  }
  // A deny list alone lets every other address in.
  const gw = await startIdentityGateway(ipFilter({ deny: ["10.0.0.0/8"] }));
  try {
    assert.equal(await statusOf(gw.url), 200);
    assert.equal(gw.upstreamCalls, 1);
  } finally {
    await gw.close();
  }
});

Deno.test("behind a trusted proxy, the client named in X-Forwarded-For is filtered", async () => {
  // The test client connects from 127.0.0.1: here it plays a load balancer Ferry trusts.
  const gw = await startIdentityGateway(
    ipFilter({ allow: ["203.0.113.0/24", "2001:db8::/32"], deny: ["203.0.113.66"] }),
    { trust: { proxies: ["127.0.0.1/32"] } },
  );
  const ids: Record<string, string> = {};
  let log;
  try {
    const cases: [string, number][] = [
      ["203.0.113.7", 200],
      ["2001:db8::7", 200],
      ["198.51.100.9, 203.0.113.8", 200], // the right-most untrusted hop is the client
      ["198.51.100.9", 403],
      ["203.0.113.66", 403], // allowed range, but denied
      ["not-an-address", 403], // fails closed
    ];
    for (const [xff, expected] of cases) {
      const res = await fetch(`${gw.url}/`, { headers: { "x-forwarded-for": xff } });
      assert.equal(res.status, expected, xff);
      ids[xff] = res.headers.get("x-request-id")!;
      await res.body?.cancel();
    }
    assert.equal(gw.upstreamCalls, 3);
    assert.equal(await gw.failures("ipFilter", "ip_denied"), 3);
  } finally {
    log = await gw.close();
  }
  assert.equal(log.get(ids["203.0.113.7"])?.clientIp, "203.0.113.7");
  assert.equal(log.get(ids["198.51.100.9"])?.clientIp, "198.51.100.9");
});

Deno.test("from an untrusted peer, a spoofed X-Forwarded-For is ignored", async () => {
  // Ferry trusts only 10.0.0.0/8 as proxies; the test client (127.0.0.1) is not one of them.
  const trust = { proxies: ["10.0.0.0/8"] };
  const allowOnly = await startIdentityGateway(ipFilter({ allow: ["203.0.113.0/24"] }), { trust });
  try {
    // Claiming an allowed address does not get the client in…
    assert.equal(await statusOf(allowOnly.url, { "x-forwarded-for": "203.0.113.7" }), 403);
    assert.equal(allowOnly.upstreamCalls, 0);
  } finally {
    await allowOnly.close();
  }
  const denyPeer = await startIdentityGateway(ipFilter({ deny: ["127.0.0.1"] }), { trust });
  let log;
  let id = "";
  try {
    // …and claiming another address does not get a denied client out.
    const res = await fetch(`${denyPeer.url}/`, { headers: { "x-forwarded-for": "198.51.100.1" } });
    assert.equal(res.status, 403);
    id = res.headers.get("x-request-id")!;
    await res.body?.cancel();
    assert.equal(denyPeer.upstreamCalls, 0);
  } finally {
    log = await denyPeer.close();
  }
  assert.equal(log.get(id)?.clientIp, "127.0.0.1");
});

Deno.test("ipPasses: deny first, then allow; IPv4-mapped IPv6 matches IPv4 ranges", () => {
  const allow = new CidrSet(["10.0.0.0/8", "2001:db8::/32"]);
  const deny = new CidrSet(["10.9.0.0/16"]);
  assert.equal(ipPasses("10.1.2.3", allow, deny), true);
  assert.equal(ipPasses("::ffff:10.1.2.3", allow, deny), true);
  assert.equal(ipPasses("10.9.2.3", allow, deny), false);
  assert.equal(ipPasses("2001:db8:1::1", allow, deny), true);
  assert.equal(ipPasses("2001:db9::1", allow, deny), false);
  assert.equal(ipPasses("192.0.2.1", allow, deny), false);
  assert.equal(ipPasses("192.0.2.1", undefined, deny), true);
  assert.equal(ipPasses("", undefined, deny), false, "an unparseable address fails closed");
  assert.equal(ipPasses("unknown", undefined, new CidrSet([])), false);
});

Deno.test("validation names the exact path and the fix for each bad option", () => {
  const range = 'must be an IP address or a CIDR range such as "10.0.0.0/8" or "2001:db8::/32"';
  const cases: [unknown, Record<string, string>][] = [
    [{}, { [AT]: 'needs "allow", "deny" or both: an ipFilter without either lets everyone in' }],
    [
      { allow: ["10.0.0.0/8", "10.0.0.300/8"] },
      { [`${AT}.allow[1]`]: `"10.0.0.300/8" ${range}` },
    ],
    [{ deny: ["10.0.0.0/33"] }, { [`${AT}.deny[0]`]: `"10.0.0.0/33" ${range}` }],
    [{ deny: ["2001:db8::/129"] }, { [`${AT}.deny[0]`]: `"2001:db8::/129" ${range}` }],
    [{ allow: ["localhost"] }, { [`${AT}.allow[0]`]: `"localhost" ${range}` }],
    [
      { allow: [] },
      {
        [`${AT}.allow`]:
          '[] must list at least one range (leave "allow" out to allow every address not denied)',
      },
    ],
    [
      { allow: ["10.0.0.0/8"], deny: [] },
      {
        [`${AT}.deny`]: '[] must list at least one range (leave "deny" out when nothing is denied)',
      },
    ],
    [{ allow: "10.0.0.0/8" }, { [`${AT}.allow`]: 'expected a list, got "10.0.0.0/8"' }],
    [
      { allow: ["10.0.0.0/8"], alow: ["x"] },
      { [`${AT}.alow`]: 'unknown key "alow"; did you mean "allow"?' },
    ],
  ];
  for (const [options, expected] of cases) {
    assert.deepEqual(validationErrors("ipFilter", options), expected, JSON.stringify(options));
  }
});

Deno.test("the factory's type requires allow, deny or both", () => {
  // @ts-expect-error: neither allow nor deny.
  const neither = ipFilter({});
  assert.deepEqual(Object.keys(validationErrors("ipFilter", neither.options)), [AT]);
});
