/**
 * An `X-Forwarded-For` entry that is no IP address (`unknown`, an RFC 7239 obfuscated name such
 * as `_hidden`, garbage) is never the client. Walking back from the peer through trusted
 * proxies, such an entry ends the walk at the last address before it, the proxy that wrote it,
 * as nginx's realip module does with `real_ip_recursive on`.
 */
import assert from "node:assert/strict";
import { ipFilter } from "../../src/policies/ip_filter.ts";
import { startEchoUpstream, startTestGateway } from "../helpers/gateway.ts";

const TRUST = { proxies: ["127.0.0.1/32", "10.0.0.0/8"] };

/** Status and headers the upstream saw for one request from 127.0.0.1 with `forwardedFor`. */
async function throughGateway(
  forwardedFor: string,
  use: unknown[] = [],
): Promise<{ status: number; seen?: Record<string, string> }> {
  const upstream = startEchoUpstream();
  const gw = await startTestGateway({
    upstreams: { api: { targets: [upstream.url] } },
    routes: [{ upstream: "api", use }],
    trust: TRUST,
  }, { admin: false });
  try {
    const res = await fetch(`${gw.url}/who`, { headers: { "x-forwarded-for": forwardedFor } });
    if (res.status !== 200) {
      await res.body?.cancel();
      return { status: res.status };
    }
    return { status: 200, seen: (await res.json()).headers };
  } finally {
    await gw.close();
    await upstream.close();
  }
}

Deno.test("an 'unknown' entry from a trusted proxy leaves that proxy as the client", async () => {
  const { seen } = await throughGateway("unknown");
  assert.equal(seen?.["x-real-ip"], "127.0.0.1");
  assert.equal(seen?.["x-forwarded-for"], "unknown, 127.0.0.1", "the chain is passed on as sent");
});

Deno.test("an obfuscated entry ends the walk at the trusted proxy that wrote it", async () => {
  const { seen } = await throughGateway("198.51.100.7, _hidden, 10.0.0.5");
  // 198.51.100.7 is left of an entry nobody can vouch for: it is not believed either.
  assert.equal(seen?.["x-real-ip"], "10.0.0.5");
});

Deno.test("garbage in X-Forwarded-For does not make an IP filter refuse the request", async () => {
  const allowInternal = [ipFilter({ allow: ["10.0.0.0/8"] })];
  assert.equal((await throughGateway("not-an-ip, 10.0.0.5", allowInternal)).status, 200);
  // A real client address right of the garbage is still the client, and still filtered.
  assert.equal((await throughGateway("not-an-ip, 198.51.100.7", allowInternal)).status, 403);
});

Deno.test("a client address right of the garbage is the client", async () => {
  const { seen } = await throughGateway("unknown, 203.0.113.9:4711, 10.0.0.5");
  assert.equal(seen?.["x-real-ip"], "203.0.113.9");
});
