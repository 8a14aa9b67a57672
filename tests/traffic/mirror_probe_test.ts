/**
 * A mirror must not take a half-open probe of its shadow's circuit breaker while it is
 * still reading the client's request body. The shadow is often the next version, which real
 * traffic also reaches (a canary route). Had the copy of a slowly uploaded request taken the one
 * probe, the canary's own requests would be refused with 503 circuit-open for as long as that
 * client kept uploading, and the circuit could not close in the meantime.
 */
import assert from "node:assert/strict";
import { portOf, startTestGateway, startUpstream } from "../helpers/gateway.ts";
import { mirrorSummary, pollMirror } from "./mirror_helpers.ts";

const OPEN_FOR_MS = 200;

Deno.test("mirror: a slow upload's copy holds no half-open probe of the shadow's circuit", async () => {
  let failing = true;
  const v1 = startUpstream(() => new Response("v1"));
  const v2 = startUpstream(async (req) => {
    await req.body?.cancel();
    return failing ? new Response("down", { status: 503 }) : new Response("v2");
  });
  const gw = await startTestGateway({
    upstreams: {
      v1: { targets: [v1.url] },
      v2: {
        targets: [v2.url],
        outlierDetection: false,
        retries: false,
        circuitBreaker: {
          failurePercent: 50,
          minRequests: 2,
          openFor: `${OPEN_FOR_MS}ms`,
          halfOpenProbes: 1,
        },
      },
    },
    routes: [
      { name: "canary", match: { path: "/v2/*" }, upstream: "v2" },
      {
        name: "orders",
        match: { path: "/orders/*" },
        upstream: "v1",
        mirror: { upstream: "v2", maxBodyBytes: 4096 },
      },
    ],
  });
  let upload: Deno.Conn | undefined;
  try {
    // Two failures open v2's circuit.
    for (let i = 0; i < 2; i++) await (await fetch(`${gw.url}/v2/a`)).arrayBuffer();
    const tripped = Date.now();
    const refused = await fetch(`${gw.url}/v2/a`);
    await refused.arrayBuffer();
    assert.equal(refused.status, 503, "the circuit is open");
    failing = false;
    // The circuit's own clock: half-open is reached by time passing, nothing to await instead.
    await new Promise((resolve) => setTimeout(resolve, tripped + OPEN_FOR_MS + 50 - Date.now()));

    // A client starts a mirrored upload and sends only part of its body.
    upload = await Deno.connect({ hostname: "127.0.0.1", port: portOf(gw) });
    await upload.write(
      new TextEncoder().encode(
        "POST /orders/1 HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n" + "a".repeat(10),
      ),
    );
    // The copy has been chosen (its slot taken) and waits for the rest of the body.
    await pollMirror(gw.adminUrl!, "orders", (s) => s.inFlight === 1);

    // Real traffic to v2 is the half-open probe; v2 is well again, so it is served.
    const canary = await fetch(`${gw.url}/v2/b`);
    const text = await canary.text();
    assert.equal(canary.status, 200, `the canary was refused: ${text}`);
    assert.equal(text, "v2");

    // The upload completes; the primary answers and the copy goes to the (now closed) circuit.
    await upload.write(new TextEncoder().encode("a".repeat(990)));
    const head = new Uint8Array(256);
    const n = await upload.read(head);
    assert.match(new TextDecoder().decode(head.subarray(0, n ?? 0)), /^HTTP\/1\.1 200/);
    upload.close();
    upload = undefined;
    const s = await pollMirror(gw.adminUrl!, "orders", (s) => s.inFlight === 0);
    assert.deepEqual(s.requests, { sent: 1, dropped: 0, skipped: 0, error: 0 });
    assert.equal((await mirrorSummary(gw.adminUrl!, "orders")).lastError, undefined);
  } finally {
    upload?.close();
    await gw.close();
    await v2.close();
    await v1.close();
  }
});
