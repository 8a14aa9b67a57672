/**
 * Half-open probe accounting through the real gateway: a probe permit must come back exactly
 * once whichever way its request ends, or the circuit stays half-open refusing everyone.
 */
import assert from "node:assert/strict";
import { portOf, RawSocket, startTestGateway, startUpstream, within } from "../helpers/gateway.ts";

const circuitConfig = (url: string, halfOpenProbes: number) => ({
  upstreams: {
    api: {
      targets: [url],
      circuitBreaker: { minRequests: 2, failurePercent: 50, openFor: "60s", halfOpenProbes },
      outlierDetection: false,
      retries: false,
    },
  },
  routes: [{ upstream: "api" }],
});

async function status(url: string, init?: RequestInit): Promise<number> {
  const res = await fetch(url, init);
  await res.body?.cancel();
  return res.status;
}

Deno.test("half-open: a probe whose client drops mid-upload gives its permit back", async () => {
  const arrived = Promise.withResolvers<void>();
  const bodyEnded = Promise.withResolvers<void>();
  const upstream = startUpstream(async (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/fail") return new Response("down", { status: 500 });
    if (path === "/upload") {
      arrived.resolve();
      try {
        await req.arrayBuffer();
      } catch { /* the gateway gave up on the body */ }
      bodyEnded.resolve();
      // Should the gateway still take this answer, it would count as a failed probe.
      return new Response("partial", { status: 500 });
    }
    return new Response("ok");
  });
  const gw = await startTestGateway(circuitConfig(upstream.url, 1));
  try {
    assert.equal(await status(`${gw.url}/fail`), 500);
    assert.equal(await status(`${gw.url}/fail`), 500);
    assert.equal(await status(`${gw.url}/ok`), 503, "the circuit opened");
    const circuit = gw.snapshot.upstreams.get("api")!.resilience.circuit!;
    circuit.openUntil = 0; // the open time is over: the next request is the one probe

    const client = new RawSocket(await Deno.connect({ hostname: "127.0.0.1", port: portOf(gw) }));
    try {
      await client.write(
        "POST /upload HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n",
      );
      await within(arrived.promise, 5000, "probe never reached the upstream");
      assert.equal(circuit.state, "half_open");
      assert.equal(await status(`${gw.url}/ok`), 503, "the only probe permit is taken");
    } finally {
      client.close(); // the client goes away in the middle of its body
    }
    await within(bodyEnded.promise, 5000, "the upstream never saw the body end");
    // Nothing was learnt about the upstream: the permit is free for the next request.
    const next = await within(status(`${gw.url}/ok`), 5000, "next request");
    assert.equal(next, 200, "the dropped probe's permit was never given back");
    assert.equal(circuit.state, "closed");
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("half-open: concurrent requests get exactly halfOpenProbes probes; their success closes it", async () => {
  const held: (() => void)[] = [];
  const twoArrived = Promise.withResolvers<void>();
  const upstream = startUpstream((req) => {
    const path = new URL(req.url).pathname;
    if (path === "/fail") return new Response("down", { status: 500 });
    if (path === "/hold") {
      const { promise, resolve } = Promise.withResolvers<Response>();
      held.push(() => resolve(new Response("ok")));
      if (held.length === 2) twoArrived.resolve();
      return promise;
    }
    return new Response("ok");
  });
  const gw = await startTestGateway(circuitConfig(upstream.url, 2));
  try {
    assert.equal(await status(`${gw.url}/fail`), 500);
    assert.equal(await status(`${gw.url}/fail`), 500);
    const circuit = gw.snapshot.upstreams.get("api")!.resilience.circuit!;
    circuit.openUntil = 0;
    const probes = [status(`${gw.url}/hold`), status(`${gw.url}/hold`)];
    await within(twoArrived.promise, 5000, "two probes never arrived");
    assert.equal(await status(`${gw.url}/ok`), 503, "a third request while both probes run");
    for (const release of held) release();
    assert.deepEqual(await Promise.all(probes), [200, 200]);
    assert.equal(circuit.state, "closed");
    assert.equal(await status(`${gw.url}/ok`), 200);
  } finally {
    for (const release of held) release();
    await gw.close();
    await upstream.close();
  }
});
