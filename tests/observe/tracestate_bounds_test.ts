/**
 * A traced gateway passes the caller's `tracestate` on to the upstream as W3C Trace Context asks
 * of a participant: members in the order received, and, past the bounds (32 members, 512
 * characters), cut by whole members from the end (those over 128 characters first), never
 * reversed or dropped as a whole.
 *
 * The gateway runs in this process with Ferry's own exporter (an OTLP endpoint in its
 * environment). The caller's `traceparent` says "not sampled", so with the default
 * `parentbased_always_on` no span is recorded and nothing is exported: the endpoint is a port
 * where nothing listens, and only propagation is under test.
 */
import assert from "node:assert/strict";
import { startTestGateway, startUpstream } from "../helpers/gateway.ts";
import { closedPortEndpoint } from "./otlp/pipeline.ts";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN = "00f067aa0ba902b7";

/** The `tracestate` the upstream gets when a caller sends `tracestate` through the gateway. */
async function forwardedTracestate(tracestate: string): Promise<string | null> {
  const api = startUpstream(() => new Response("ok"));
  const gw = await startTestGateway({
    upstreams: { api: { targets: [api.url] } },
    routes: [{ name: "all", upstream: "api" }],
  }, { admin: false, env: { OTEL_EXPORTER_OTLP_ENDPOINT: closedPortEndpoint() } });
  try {
    const res = await fetch(`${gw.url}/x`, {
      headers: { traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-00`, tracestate },
    });
    await res.body?.cancel();
    assert.equal(res.status, 200);
    assert.equal(api.received.length, 1);
    const traceparent = api.received[0].headers.get("traceparent") ?? "";
    assert.equal(traceparent.split("-")[1], TRACE_ID, "the gateway continues the caller's trace");
    assert.notEqual(traceparent.split("-")[2], CALLER_SPAN, "under the gateway's own span");
    return api.received[0].headers.get("tracestate");
  } finally {
    await gw.close();
    await api.close();
  }
}

Deno.test("a tracestate of more than 32 members reaches the upstream as its first 32, in order", async () => {
  const members = Array.from({ length: 34 }, (_, i) => `k${i}=v${i}`);
  assert.equal(await forwardedTracestate(members.join(",")), members.slice(0, 32).join(","));
});

Deno.test("a tracestate over 512 characters loses whole members from the end, not everything", async () => {
  // Six vendors of ~97 characters each: 587 characters in all.
  const members = Array.from({ length: 6 }, (_, i) => `vendor${i}=${"x".repeat(90)}`);
  assert.ok(members.join(",").length > 512);
  assert.equal(await forwardedTracestate(members.join(",")), members.slice(0, 5).join(","));
});

Deno.test("a too-long tracestate loses its members over 128 characters first", async () => {
  const small = Array.from({ length: 4 }, (_, i) => `vendor${i}=${"s".repeat(60)}`);
  const large = `big=${"b".repeat(200)}`;
  const sent = [small[0], large, small[1], small[2], small[3], `tail=${"t".repeat(100)}`];
  assert.ok(sent.join(",").length > 512);
  assert.equal(
    await forwardedTracestate(sent.join(", ")),
    [small[0], small[1], small[2], small[3], sent[5]].join(","),
  );
});

Deno.test("a tracestate within the bounds reaches the upstream unchanged", async () => {
  const members = Array.from({ length: 32 }, (_, i) => `v${i}@tenant=${i}`);
  assert.equal(await forwardedTracestate(members.join(",")), members.join(","));
});
