/**
 * A policy that misbehaves (throws after `next()`, answers over the upstream's response, or
 * drops `next()`'s promise) costs the client a 500 or gets its own answer through, and never
 * leaves an upstream response unread nor turns an error into an unhandled rejection, which
 * would end the gateway's process. Real custom modules on disk, a real gateway and upstream.
 */
import assert from "node:assert/strict";
import { MemoryLogger } from "../../src/observe/logger.ts";
import { createGateway, type Gateway } from "../../src/server/gateway.ts";
import { startUpstream, type TestUpstream } from "../helpers/gateway.ts";

/** Where the test modules leave the upstream's response they saw, for the test to inspect. */
const STASH = "__ferryChainTestStash";
type Stash = { [STASH]?: Response };

/** Writes `modules` (name → source) to a temp folder; passes their paths to `fn`. */
async function withModules(
  modules: Record<string, string>,
  fn: (path: (name: string) => string) => Promise<void>,
) {
  const dir = await Deno.makeTempDir({ prefix: "ferry-chain-" });
  try {
    for (const [name, source] of Object.entries(modules)) {
      await Deno.writeTextFile(`${dir}/${name}`, source);
    }
    await fn((name) => `${dir}/${name}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
    delete (globalThis as Stash)[STASH];
  }
}

/** An upstream that streams one chunk and then holds the response open until cancelled. */
function startStreamingUpstream(): TestUpstream & { cancelled: Promise<void> } {
  let cancelled!: () => void;
  const whenCancelled = new Promise<void>((resolve) => cancelled = resolve);
  const upstream = startUpstream(() =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode("first chunk"));
        },
        cancel() {
          cancelled();
        },
      }),
      // Headers that describe this body only: they must not end up on a policy's own answer.
      { headers: { "content-encoding": "gzip", etag: '"upstream-v1"' } },
    )
  );
  return Object.assign(upstream, { cancelled: whenCancelled });
}

/** Whether the stashed upstream response's body was cancelled (reading it ends at once). */
async function stashedBodyCancelled(): Promise<boolean> {
  const seen = (globalThis as Stash)[STASH];
  assert.ok(seen?.body, "the policy saw the upstream's response");
  const reader = seen.body.getReader();
  try {
    return (await reader.read()).done;
  } finally {
    // Releases the upstream if the gateway did not: the test must end either way.
    await reader.cancel();
  }
}

async function gatewayWith(upstream: TestUpstream, modules: string[]) {
  return await createGateway({
    upstreams: { api: { targets: [upstream.url] } },
    routes: [{
      name: "all",
      upstream: "api",
      use: modules.map((module) => ({ kind: "custom", options: { module } })),
    }],
  }, { logger: new MemoryLogger() });
}

Deno.test("a policy throwing after next() gets a 500 and the upstream's response is cancelled", async () => {
  const upstream = startStreamingUpstream();
  await withModules({
    "throws.ts": `export default () => async (c, next) => {
      await next();
      globalThis.${STASH} = c.res;
      throw new Error("boom after next");
    };`,
  }, async (path) => {
    const gw = await gatewayWith(upstream, [path("throws.ts")]);
    try {
      const res = await gw.fetch(new Request("http://gw.test/x"));
      assert.equal(res.status, 500);
      assert.equal((await res.json()).title, "Internal gateway error");
      assert.ok(await stashedBodyCancelled(), "the gateway cancelled the unread upstream body");
      await upstream.cancelled; // and the upstream saw it: its connection is free again
    } finally {
      await gw.close();
      await upstream.close();
    }
  });
});

Deno.test("a policy answering over the upstream's response gets its answer sent and the upstream's cancelled", async () => {
  const upstream = startStreamingUpstream();
  await withModules({
    "replaces.ts": `export default () => async (c, next) => {
      await next();
      globalThis.${STASH} = c.res;
      return new Response("replaced by the policy", { status: 503 });
    };`,
  }, async (path) => {
    const gw = await gatewayWith(upstream, [path("replaces.ts")]);
    try {
      const res = await gw.fetch(new Request("http://gw.test/x"));
      assert.equal(res.status, 503);
      assert.equal(res.headers.get("content-encoding"), null, "not the upstream body's coding");
      assert.equal(res.headers.get("etag"), null, "not the upstream body's validator");
      assert.equal(await res.text(), "replaced by the policy");
      assert.ok(await stashedBodyCancelled(), "the gateway cancelled the unread upstream body");
      await upstream.cancelled;
    } finally {
      await gw.close();
      await upstream.close();
    }
  });
});

/** A gateway whose one route runs the custom policies `drops.ts`, then `throws.ts`. */
function dropThenThrowGateway(
  upstreamUrl: string,
  path: (name: string) => string,
  logger: MemoryLogger,
): Promise<Gateway> {
  return createGateway({
    upstreams: { api: { targets: [upstreamUrl] } },
    routes: [{
      name: "all",
      upstream: "api",
      use: [
        { kind: "custom", options: { module: path("drops.ts") } },
        { kind: "custom", options: { module: path("throws.ts") } },
      ],
    }],
  }, { logger });
}

/** Sends one request that must fail with a 500, and returns the error the gateway logged. */
async function failedRequest(gw: Gateway, logger: MemoryLogger): Promise<string> {
  const res = await gw.fetch(new Request("http://gw.test/x"));
  assert.equal(res.status, 500);
  await res.body?.cancel();
  const failure = logger.lines.find((e) => e.message === "request failed inside the gateway");
  return String(failure?.fields?.error);
}

Deno.test("a policy that does not await next() gets a clear 500, and the upstream's response is cancelled", async () => {
  const upstream = startStreamingUpstream();
  const logger = new MemoryLogger();
  await withModules({
    // Drops next()'s promise: the policy after it then fails with nobody awaiting it.
    "drops.ts": "export default () => (c, next) => { next(); };",
    "throws.ts": `export default () => async (c, next) => {
      await next();
      throw new Error("boom in a later policy, after the gateway answered");
    };`,
  }, async (path) => {
    const gw = await dropThenThrowGateway(upstream.url, path, logger);
    try {
      const failure = await failedRequest(gw, logger);
      assert.match(failure, /all\.use\[0\].*must `await next\(\)`/);
      // The upstream's answer, arriving after the 500, is not left unread.
      await upstream.cancelled;
    } finally {
      await gw.close();
      await upstream.close();
    }
  });
});

Deno.test("an error next() returned to a policy that dropped it is the request's 500", async () => {
  const upstream = startUpstream(() => new Response("ok"));
  const logger = new MemoryLogger();
  await withModules({
    "drops.ts": "export default () => (c, next) => { next(); };",
    "throws.ts": 'export default () => () => { throw new Error("boom in a later policy"); };',
  }, async (path) => {
    const gw = await dropThenThrowGateway(upstream.url, path, logger);
    try {
      const failure = await failedRequest(gw, logger);
      assert.match(failure, /boom in a later policy/);
      assert.equal(upstream.received.length, 0);
    } finally {
      await gw.close();
      await upstream.close();
    }
  });
});
