/**
 * `close()` of an in-process gateway drains like the listener's does: a request `gw.fetch` is
 * still handling gets its upstream's answer (within the drain timeout), and a request made after
 * `close()` is refused instead of being sent on to upstreams whose pools are already closed.
 */
import assert from "node:assert/strict";
import { createGateway } from "../../mod.ts";
import { MemoryLogger } from "../../src/observe/logger.ts";
import { startTestGateway, startUpstream, within } from "../helpers/gateway.ts";

/** Guards against a hang only; each step takes milliseconds when the gateway works. */
const GUARD_MS = 10_000;

/** An upstream that holds each request until `release()`. */
function startHeldUpstream() {
  const arrived = Promise.withResolvers<void>();
  const released = Promise.withResolvers<void>();
  const upstream = startUpstream(async () => {
    arrived.resolve();
    await released.promise;
    return new Response("answered");
  });
  return { upstream, arrived: arrived.promise, release: () => released.resolve() };
}

function config(upstreamUrl: string) {
  return {
    upstreams: { api: { targets: [upstreamUrl] } },
    routes: [{ name: "all", upstream: "api" }],
    limits: { drainTimeout: "30s" },
  };
}

/** Closes `gw` while one request is at the upstream, then lets the upstream answer. */
async function answerDuringClose(
  send: () => Promise<Response>,
  gw: { close(): Promise<void> },
  held: ReturnType<typeof startHeldUpstream>,
): Promise<string> {
  const answer = send().then(async (res) => `${res.status} ${await res.text()}`);
  await within(held.arrived, GUARD_MS, "the request reaching the upstream");
  const closed = gw.close();
  held.release();
  await within(closed, GUARD_MS, "close()");
  return await within(answer, GUARD_MS, "the answer");
}

Deno.test("served and in-process gateways both let a request in flight at close() finish", async () => {
  const heldServed = startHeldUpstream();
  const served = await startTestGateway(config(heldServed.upstream.url), { admin: false });
  const heldInProcess = startHeldUpstream();
  const gw = await createGateway(config(heldInProcess.upstream.url), {
    demo: false,
    logger: new MemoryLogger(),
  });
  try {
    assert.equal(
      await answerDuringClose(() => fetch(`${served.url}/x`), served, heldServed),
      "200 answered",
    );
    assert.equal(
      await answerDuringClose(
        () => gw.fetch(new Request("http://api.example.com/x")),
        gw,
        heldInProcess,
      ),
      "200 answered",
    );
  } finally {
    await served.close();
    await gw.close();
    await heldServed.upstream.close();
    await heldInProcess.upstream.close();
  }
});

Deno.test("gw.fetch after close() rejects, as a request to a stopped listener does", async () => {
  const held = startHeldUpstream();
  held.release();
  const gw = await createGateway(config(held.upstream.url), {
    demo: false,
    logger: new MemoryLogger(),
  });
  await gw.close();
  try {
    await assert.rejects(
      () => gw.fetch(new Request("http://api.example.com/x")),
      (e: Error) => e.name === "GatewayClosedError",
    );
    assert.equal(held.upstream.received.length, 0, "nothing was sent upstream");
    await gw.close(); // a second close is a no-op
  } finally {
    await held.upstream.close();
  }
});
