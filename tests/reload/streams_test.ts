/**
 * Long-lived exchanges across reloads: a WebSocket or SSE stream on a route the reload did not
 * change keeps going; one on a route the reload changed is ended after `reload.streamGrace`
 * (WebSocket close code 1001, SSE body ended cleanly), and not before the reload.
 */
import assert from "node:assert/strict";
import { startUpstream, type TestUpstream, within } from "../helpers/gateway.ts";
import {
  type ConfigDir,
  type FileGateway,
  linesWith,
  makeConfigDir,
  MOD_URL,
  openSocket,
  save,
  serveTestFile,
  type TestSocket,
  websocketEchoResponse,
  wsUrl,
} from "../helpers/reload.ts";

const GRACE_MS = 300;
/** A hang guard for "the stream ends": far beyond the grace period. */
const END_BOUND_MS = 10_000;

/**
 * Four routes; `generation` changes only the routes named in `changing` (by adding a query
 * condition that never fails, so the route still takes the same requests), and the routes named
 * in `removed` are left out.
 */
function configText(
  upstreamUrl: string,
  generation: number,
  changing: string[],
  removed: string[] = [],
): string {
  const route = (name: string, path: string) => {
    if (removed.includes(name)) return "";
    const gen = changing.includes(name)
      ? `, query: { "absent-${generation}": { present: false } }`
      : "";
    return `    { name: "${name}", match: { path: "${path}"${gen} }, upstream: "api" },`;
  };
  return `import { defineConfig } from "${MOD_URL}";
export default defineConfig({
  reload: { streamGrace: "${GRACE_MS}ms" },
  upstreams: { api: { targets: ["${upstreamUrl}"] } },
  routes: [
${route("ws-stable", "/ws/stable")}
${route("ws-changing", "/ws/changing")}
${route("sse-stable", "/sse/stable")}
${route("sse-changing", "/sse/changing")}
  ],
});
`;
}

/** An SSE stream the upstream serves, which the test feeds by hand. */
interface FedStream {
  controller: ReadableStreamDefaultController<Uint8Array>;
  cancelled: Promise<void>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** WebSocket echo on /ws/*, hand-fed SSE streams on /sse/<name>. */
function startStreamingUpstream(streams: Map<string, FedStream>): TestUpstream {
  return startUpstream((req) => {
    const path = new URL(req.url).pathname;
    if (req.headers.get("upgrade")?.toLowerCase() === "websocket") {
      return websocketEchoResponse(req);
    }
    const cancelled = Promise.withResolvers<void>();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        streams.set(path, { controller, cancelled: cancelled.promise });
        controller.enqueue(encoder.encode("data: hello\n\n"));
      },
      cancel() {
        cancelled.resolve();
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
}

interface Setup {
  gw: FileGateway;
  path: string;
  upstreamUrl: string;
  streams: Map<string, FedStream>;
}

async function withStreamingGateway(body: (s: Setup) => Promise<void>) {
  const streams = new Map<string, FedStream>();
  let dir: ConfigDir | undefined;
  let upstream: TestUpstream | undefined;
  let gw: FileGateway | undefined;
  try {
    dir = await makeConfigDir();
    upstream = startStreamingUpstream(streams);
    const path = dir.path("ferry.config.ts");
    await save(path, configText(upstream.url, 0, []));
    // Reloads are triggered by reloadFile(), so each one is known to have happened.
    gw = await serveTestFile(path, { watch: false });
    await body({ gw, path, upstreamUrl: upstream.url, streams });
  } finally {
    await gw?.close();
    for (const s of streams.values()) {
      try {
        s.controller.close();
      } catch {
        // already closed or cancelled
      }
    }
    await upstream?.close();
    await dir?.remove();
  }
}

Deno.test("reload: a WebSocket on an unchanged route survives 20 reloads of another route", async () => {
  await withStreamingGateway(async ({ gw, path, upstreamUrl }) => {
    const sockets: TestSocket[] = [];
    try {
      const stable = await openSocket(`${wsUrl(gw.url)}/ws/stable`);
      sockets.push(stable);
      assert.equal(await stable.roundTrip("before"), "echo:before");
      let canary: TestSocket | undefined;
      for (let i = 1; i <= 20; i++) {
        if (i === 20) {
          // A socket on the changed route: its 1001 close tells when the last grace timer ran.
          canary = await openSocket(`${wsUrl(gw.url)}/ws/changing`);
          sockets.push(canary);
        }
        await save(path, configText(upstreamUrl, i, ["ws-changing"]));
        assert.deepEqual(await gw.reloadFile!(), { result: "success", version: i + 1 });
        assert.equal(await stable.roundTrip(`ping ${i}`), `echo:ping ${i}`);
      }
      const canaryClose = await within(canary!.closed, END_BOUND_MS, "the canary's close");
      assert.equal(canaryClose.code, 1001);
      // Every grace period has run out; the stable socket is still open and still echoes.
      assert.equal(stable.closedAt, undefined, "the stable socket was closed");
      assert.equal(stable.socket.readyState, WebSocket.OPEN);
      assert.equal(await stable.roundTrip("after 20 reloads"), "echo:after 20 reloads");
    } finally {
      for (const s of sockets) await s.close();
    }
  });
});

Deno.test("reload: a WebSocket on a changed route is closed with 1001 after the grace period", async () => {
  await withStreamingGateway(async ({ gw, path, upstreamUrl }) => {
    const socket = await openSocket(`${wsUrl(gw.url)}/ws/changing`);
    try {
      assert.equal(await socket.roundTrip("before"), "echo:before");
      await save(path, configText(upstreamUrl, 1, ["ws-changing"]));
      const reloadStarted = performance.now();
      assert.deepEqual(await gw.reloadFile!(), { result: "success", version: 2 });
      const reloadApplied = performance.now();
      // Within the grace period the socket still works.
      assert.equal(await socket.roundTrip("during grace"), "echo:during grace");

      const closed = await within(socket.closed, END_BOUND_MS, "the changed route's socket close");
      assert.equal(closed.code, 1001);
      assert.equal(closed.reason, "route changed by a reload");
      const after = socket.closedAt! - reloadStarted;
      const afterApplied = socket.closedAt! - reloadApplied;
      console.log(
        `changed-route WebSocket closed ${after.toFixed(0)} ms after the reload began, ` +
          `${afterApplied.toFixed(0)} ms after it was applied (grace ${GRACE_MS} ms)`,
      );
      // The timer starts after the reload began, so the close cannot come sooner than the grace.
      assert.ok(after >= GRACE_MS - 1, `closed ${after} ms after the reload, grace ${GRACE_MS} ms`);
      assert.equal(linesWith(gw.logger, "closed streams of changed routes").length, 1);
    } finally {
      await socket.close();
    }
  });
});

Deno.test("reload: a WebSocket on a route the reload removed is closed with 1001 after the grace period", async () => {
  await withStreamingGateway(async ({ gw, path, upstreamUrl }) => {
    const sockets: TestSocket[] = [];
    try {
      const doomed = await openSocket(`${wsUrl(gw.url)}/ws/changing`);
      sockets.push(doomed);
      const stable = await openSocket(`${wsUrl(gw.url)}/ws/stable`);
      sockets.push(stable);
      await save(path, configText(upstreamUrl, 0, [], ["ws-changing"]));
      assert.deepEqual(await gw.reloadFile!(), { result: "success", version: 2 });
      assert.equal(await doomed.roundTrip("grace"), "echo:grace");
      const closed = await within(doomed.closed, END_BOUND_MS, "the removed route's socket close");
      assert.equal(closed.code, 1001);
      assert.equal(stable.closedAt, undefined);
      assert.equal(await stable.roundTrip("stable"), "echo:stable");
    } finally {
      for (const s of sockets) await s.close();
    }
  });
});

Deno.test("reload: a WebSocket opened on the new definition during the grace period is not closed by it", async () => {
  await withStreamingGateway(async ({ gw, path, upstreamUrl }) => {
    const sockets: TestSocket[] = [];
    try {
      const old = await openSocket(`${wsUrl(gw.url)}/ws/changing`);
      sockets.push(old);
      await save(path, configText(upstreamUrl, 1, ["ws-changing"]));
      assert.deepEqual(await gw.reloadFile!(), { result: "success", version: 2 });
      // Opened after the swap: it runs on the route as the new config defines it.
      const fresh = await openSocket(`${wsUrl(gw.url)}/ws/changing`);
      sockets.push(fresh);
      assert.equal(await fresh.roundTrip("new"), "echo:new");

      const closed = await within(old.closed, END_BOUND_MS, "the old socket's close");
      assert.equal(closed.code, 1001);
      // The grace timer has run; it was for exchanges that began on the old definition only.
      assert.equal(fresh.closedAt, undefined, "a socket on the new definition was closed");
      assert.equal(await fresh.roundTrip("still"), "echo:still");
    } finally {
      for (const s of sockets) await s.close();
    }
  });
});

Deno.test("reload: an SSE stream on a changed route ends cleanly after the grace period; one on an unchanged route keeps flowing", async () => {
  await withStreamingGateway(async ({ gw, path, upstreamUrl, streams }) => {
    const readers: ReadableStreamDefaultReader<Uint8Array>[] = [];
    try {
      const open = async (name: string) => {
        const res = await fetch(`${gw.url}/sse/${name}`);
        assert.equal(res.status, 200);
        assert.equal(res.headers.get("content-type"), "text/event-stream");
        const reader = res.body!.getReader();
        readers.push(reader);
        assert.equal(decoder.decode((await reader.read()).value), "data: hello\n\n");
        return reader;
      };
      const stable = await open("stable");
      const changing = await open("changing");

      await save(path, configText(upstreamUrl, 1, ["sse-changing"]));
      const reloadStarted = performance.now();
      assert.deepEqual(await gw.reloadFile!(), { result: "success", version: 2 });
      // Within the grace period the changed route's stream still carries events.
      streams.get("/sse/changing")!.controller.enqueue(encoder.encode("data: during\n\n"));
      assert.equal(decoder.decode((await changing.read()).value), "data: during\n\n");

      // Then it ends: a clean end of body (done), not an error, and not before the grace.
      const end = await within(changing.read(), END_BOUND_MS, "the changed route's stream end");
      const after = performance.now() - reloadStarted;
      assert.deepEqual(end, { done: true, value: undefined });
      assert.ok(after >= GRACE_MS - 1, `ended ${after} ms after the reload, grace ${GRACE_MS} ms`);
      // The gateway let go of the upstream side too.
      await within(streams.get("/sse/changing")!.cancelled, END_BOUND_MS, "upstream cancel");

      // The unchanged route's stream keeps flowing after the grace period.
      streams.get("/sse/stable")!.controller.enqueue(encoder.encode("data: still here\n\n"));
      const next = await within(stable.read(), END_BOUND_MS, "the stable stream's next event");
      assert.equal(decoder.decode(next.value), "data: still here\n\n");
    } finally {
      for (const r of readers) await r.cancel().catch(() => {});
    }
  });
});
