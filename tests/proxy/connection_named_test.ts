/**
 * Fields a client names in `Connection` are hop-by-hop (RFC 9110 §7.6.1): the client's copies
 * are not forwarded. What the gateway's own policies set is not the client's, so naming a field
 * in `Connection` must not strip what a policy put there (a tenant, an authenticated user).
 */
import assert from "node:assert/strict";
import { headers } from "../../mod.ts";
import {
  portOf,
  rawExchange,
  type RawUpstream,
  startRawUpstream,
  startTestGateway,
} from "../helpers/gateway.ts";

/** A raw upstream answering 200 "ok" to every request, keeping each request head. */
function okUpstream(): RawUpstream {
  return startRawUpstream(async (socket) => {
    while ((await socket.readHead()) !== null) {
      await socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    }
  });
}

/** Lower-cased `name: value` lines of a request head. */
function fields(head: string): string[] {
  return head.split("\r\n").slice(1).filter((l) => l.length > 0).map((l) => l.toLowerCase());
}

Deno.test("a client naming a policy-set header in Connection does not remove the gateway's value", async () => {
  const upstream = okUpstream();
  const gw = await startTestGateway({
    upstreams: { api: { targets: [upstream.url] } },
    routes: [{
      upstream: "api",
      use: [headers({ request: { set: { "x-tenant": "acme" }, add: { "x-via-ferry": "1" } } })],
    }],
  });
  try {
    const res = await rawExchange(
      portOf(gw),
      "GET /a HTTP/1.1\r\nhost: x\r\nx-tenant: evil\r\nx-client: mine\r\n" +
        "connection: close, X-Tenant, x-via-ferry, x-client\r\n\r\n",
    );
    assert.equal(res.status, 200);
    const sent = fields(upstream.heads[0]);
    assert.ok(sent.includes("x-tenant: acme"), `the policy's x-tenant is forwarded: ${sent}`);
    assert.ok(!sent.includes("x-tenant: evil"), "the client's x-tenant is not");
    assert.ok(sent.includes("x-via-ferry: 1"), "an added field is forwarded");
    assert.ok(!sent.some((l) => l.startsWith("x-client:")), "the client's own named field goes");
    assert.ok(!sent.some((l) => l.startsWith("connection:")), "Connection itself goes");
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("without a policy edit, fields named in Connection are still dropped and the rest kept", async () => {
  const upstream = okUpstream();
  const gw = await startTestGateway({
    upstreams: { api: { targets: [upstream.url] } },
    routes: [{ upstream: "api" }],
  });
  try {
    const res = await rawExchange(
      portOf(gw),
      "GET /a HTTP/1.1\r\nhost: x\r\nx-secret-hop: 1\r\nx-keep: 2\r\n" +
        "connection: x-secret-hop, keep-alive, close\r\n\r\n",
    );
    assert.equal(res.status, 200);
    const sent = fields(upstream.heads[0]);
    assert.ok(!sent.some((l) => l.startsWith("x-secret-hop:")), `dropped: ${sent}`);
    assert.ok(sent.includes("x-keep: 2"));
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("a Connection token that is no field name is ignored, not a 500", async () => {
  const upstream = okUpstream();
  const gw = await startTestGateway({
    upstreams: { api: { targets: [upstream.url] } },
    routes: [{ upstream: "api" }],
  });
  try {
    const res = await rawExchange(
      portOf(gw),
      "GET /a HTTP/1.1\r\nhost: x\r\nx-hop: 1\r\nconnection: a/b, x-hop, (c)\r\n\r\n",
    );
    assert.equal(res.status, 200);
    assert.ok(!fields(upstream.heads[0]).some((l) => l.startsWith("x-hop:")));
  } finally {
    await gw.close();
    await upstream.close();
  }
});
