/**
 * An embedded gateway's `close()` with a request still waiting on an upstream that never
 * answers: past the drain timeout, that request must end (the client gets an answer or loses
 * the connection), the upstream request must be aborted, and `close()` must resolve. Without
 * this, the exchange runs on until its per-try timeout (30 s by default, here 120 s), holding
 * the upstream connection and a timer after the gateway said it was closed.
 */
import assert from "node:assert/strict";
import { startRawUpstream, startTestGateway, within } from "../helpers/gateway.ts";
import { createGateway } from "../../src/server/gateway.ts";
import { MemoryLogger } from "../../src/observe/logger.ts";

/** Guards against a hang only; each step takes milliseconds when the gateway works. */
const GUARD_MS = 10_000;

/**
 * An upstream that reads a request and never answers: it notes when one arrives, and when the
 * gateway gives up on it by closing the connection (how an HTTP/1.1 request is aborted).
 */
function startSilentUpstream() {
  const arrived = Promise.withResolvers<void>();
  const aborted = Promise.withResolvers<void>();
  const upstream = startRawUpstream(async (socket) => {
    if (await socket.readHead() === null) return;
    arrived.resolve();
    await socket.waitForClose();
    aborted.resolve();
  });
  return { upstream, arrived: arrived.promise, aborted: aborted.promise };
}

function config(upstreamUrl: string) {
  return {
    upstreams: { api: { targets: [upstreamUrl], timeouts: { perTry: "120s", total: "120s" } } },
    routes: [{ name: "all", upstream: "api" }],
    limits: { drainTimeout: "50ms" },
  };
}

/** A gateway under test: how to send it the waiting request, and how to close it. */
interface Embedded {
  send(): Promise<Response>;
  close(): Promise<void>;
}

/**
 * Sends one request through `gateway` to the silent upstream, closes the gateway once the
 * request arrived there, and checks that the upstream request is aborted and the caller gets an
 * error status or a failure (`send` rejecting), not an answer that never comes.
 */
async function closeWhileWaiting(
  open: (upstreamUrl: string) => Promise<Embedded>,
): Promise<void> {
  const silent = startSilentUpstream();
  const gw = await open(silent.upstream.url);
  let closed: Promise<void> | undefined;
  try {
    const answer = gw.send().then(
      async (res) => {
        await res.body?.cancel();
        return res.status;
      },
      () => "failed",
    );
    await within(silent.arrived, GUARD_MS, "request reaching the upstream");
    closed = gw.close();
    await within(closed, GUARD_MS, "close()");
    await within(silent.aborted, GUARD_MS, "the upstream request being aborted");
    const outcome = await within(answer, GUARD_MS, "the caller's answer");
    assert.ok(
      outcome === "failed" || (typeof outcome === "number" && outcome >= 500),
      `the caller got ${outcome}`,
    );
  } finally {
    await (closed ?? gw.close());
    await silent.upstream.close();
  }
}

Deno.test("startGateway close(): a request waiting past the drain timeout is aborted upstream", async () => {
  const client = new AbortController();
  try {
    await closeWhileWaiting(async (url) => {
      const gw = await startTestGateway(config(url), { admin: false });
      return {
        send: () => fetch(`${gw.url}/wait`, { signal: client.signal }),
        close: () => gw.close(),
      };
    });
  } finally {
    client.abort();
  }
});

Deno.test("createGateway close(): a request still waiting on its upstream is aborted", async () => {
  await closeWhileWaiting(async (url) => {
    const gw = await createGateway(config(url), { logger: new MemoryLogger() });
    return {
      send: () => gw.fetch(new Request("http://gateway.test/wait")),
      close: () => gw.close(),
    };
  });
});
