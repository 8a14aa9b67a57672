/**
 * X-Request-Id: one id per request, the same on the upstream request and on the response; a
 * sane incoming id is kept, anything else is replaced by a generated one.
 */
import assert from "node:assert/strict";
import {
  catchAll,
  startEchoUpstream,
  startTestGateway,
  startUpstream,
} from "../helpers/gateway.ts";

/** Sends one request and returns the id the upstream saw and the id the client got back. */
async function ids(sent?: string): Promise<{ upstream: string; response: string | null }> {
  const upstream = startEchoUpstream();
  const gw = await startTestGateway(catchAll(upstream.url));
  try {
    const res = await fetch(`${gw.url}/id`, {
      headers: sent === undefined ? {} : { "x-request-id": sent },
    });
    const echoed = await res.json();
    return { upstream: echoed.headers["x-request-id"], response: res.headers.get("x-request-id") };
  } finally {
    await gw.close();
    await upstream.close();
  }
}

Deno.test("a request id is generated when absent, sent upstream and echoed back", async () => {
  const { upstream, response } = await ids();
  assert.ok(upstream && upstream.length > 0, "the upstream got no x-request-id");
  assert.equal(response, upstream);
});

Deno.test("generated request ids differ between requests", async () => {
  const [a, b] = [await ids(), await ids()];
  assert.notEqual(a.upstream, b.upstream);
});

Deno.test("a sane incoming request id is kept end to end", async () => {
  const { upstream, response } = await ids("client-abc_123:7");
  assert.equal(upstream, "client-abc_123:7");
  assert.equal(response, "client-abc_123:7");
});

for (
  const [what, insane] of [
    ["300 characters", "x".repeat(300)],
    ["a space", "two words"],
    ["a non-ASCII character", "caf\u00e9"],
  ] as const
) {
  Deno.test(`an incoming request id with ${what} is replaced`, async () => {
    const { upstream, response } = await ids(insane);
    assert.notEqual(upstream, insane);
    assert.ok(upstream.length > 0 && upstream.length <= 200);
    assert.doesNotMatch(upstream, /\s/);
    assert.equal(response, upstream);
  });
}

Deno.test("an upstream's own x-request-id does not override the gateway's", async () => {
  const upstream = startUpstream(() =>
    new Response("ok", { headers: { "x-request-id": "from-upstream" } })
  );
  const gw = await startTestGateway(catchAll(upstream.url));
  try {
    const res = await fetch(`${gw.url}/`, { headers: { "x-request-id": "from-client" } });
    assert.equal(await res.text(), "ok");
    assert.equal(res.headers.get("x-request-id"), "from-client");
  } finally {
    await gw.close();
    await upstream.close();
  }
});
