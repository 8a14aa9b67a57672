/**
 * SIGTERM on a real `ferry start` process: in-flight requests finish, new connections are
 * refused, and the process exits 0; a stream that never ends is cut at the drain timeout so
 * shutdown cannot hang. The upstream runs in this test process, so the test decides exactly
 * when the slow response is released.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort, startUpstream, type TestUpstream } from "../helpers/gateway.ts";
import {
  DenoProcess,
  MOD_TS,
  pollUntil,
  SERVE_FLAGS,
  SERVING_LINE,
  waitForRefusal,
  withTempDir,
} from "../helpers/process.ts";

const DRAIN_TIMEOUT_MS = 1_000;
/** Beyond the drain timeout: process start-up of nothing, plus the 2 s the gateway allows itself. */
const EXIT_GRACE_MS = 10_000;

/** Writes a JSON config serving `upstream` on fixed free ports, and starts `ferry start`. */
async function startFerry(dir: string, upstream: TestUpstream) {
  const port = freePort();
  const adminPort = freePort();
  const file = join(dir, "ferry.config.json");
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      listen: { hostname: "127.0.0.1", port },
      admin: { hostname: "127.0.0.1", port: adminPort },
      upstreams: { api: { targets: [upstream.url] } },
      routes: [{ name: "all", upstream: "api" }],
      limits: { drainTimeout: `${DRAIN_TIMEOUT_MS / 1000}s` },
    }),
  );
  const proc = new DenoProcess(["run", ...SERVE_FLAGS, MOD_TS, "start", "--config", file]);
  try {
    await proc.waitForStderr(SERVING_LINE);
  } catch (e) {
    await proc.dispose();
    throw e;
  }
  return { proc, url: `http://127.0.0.1:${port}`, port, adminUrl: `http://127.0.0.1:${adminPort}` };
}

/** Waits until the admin API reports draining, i.e. the SIGTERM has been handled. */
function untilDraining(adminUrl: string) {
  return pollUntil("readyz reports draining", async () => {
    const res = await fetch(`${adminUrl}/readyz`);
    await res.body?.cancel();
    return res.status === 503;
  });
}

Deno.test("SIGTERM lets an in-flight request finish, refuses new connections, exits 0", async () => {
  const arrived = Promise.withResolvers<void>();
  const release = Promise.withResolvers<void>();
  const upstream = startUpstream(async (req) => {
    if (new URL(req.url).pathname !== "/slow") return new Response("fast");
    arrived.resolve();
    await release.promise;
    return new Response("slow done");
  });
  try {
    await withTempDir(async (dir) => {
      const ferry = await startFerry(dir, upstream);
      try {
        const inFlight = fetch(`${ferry.url}/slow`);
        await arrived.promise;

        ferry.proc.signal("SIGTERM");
        await untilDraining(ferry.adminUrl);
        await waitForRefusal(ferry.port);
        assert.equal(ferry.proc.exited, false, "exited before the in-flight request finished");

        release.resolve();
        const res = await inFlight;
        assert.equal(res.status, 200);
        assert.equal(await res.text(), "slow done");

        const exit = await ferry.proc.waitForExit(DRAIN_TIMEOUT_MS + EXIT_GRACE_MS);
        assert.deepEqual(exit, { code: 0, signal: null, killed: false }, ferry.proc.stderr);
        assert.match(ferry.proc.stderr, /"message":"ferry stopped","drained":true/);
      } finally {
        release.resolve();
        await ferry.proc.dispose();
      }
    });
  } finally {
    await upstream.close();
  }
});

Deno.test("SIGTERM with a never-ending SSE stream open still exits 0 after the drain timeout", async () => {
  const streamOpen = Promise.withResolvers<void>();
  const upstream = startUpstream(() => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("data: hello\n\n"));
        streamOpen.resolve();
        // Never closed: only the gateway's drain timeout can end this response.
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
  try {
    await withTempDir(async (dir) => {
      const ferry = await startFerry(dir, upstream);
      let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
      try {
        const res = await fetch(`${ferry.url}/events`);
        assert.equal(res.status, 200);
        assert.equal(res.headers.get("content-type"), "text/event-stream");
        reader = res.body!.getReader();
        const first = await reader.read();
        assert.equal(new TextDecoder().decode(first.value), "data: hello\n\n");
        await streamOpen.promise;

        ferry.proc.signal("SIGTERM");
        const exit = await ferry.proc.waitForExit(DRAIN_TIMEOUT_MS + EXIT_GRACE_MS);
        assert.deepEqual(exit, { code: 0, signal: null, killed: false }, ferry.proc.stderr);
        assert.match(ferry.proc.stderr, /drain timeout reached/);

        // The client's stream ended (cleanly or with an error), it did not hang.
        const rest = await reader.read().then((r) => r.done, () => true);
        assert.equal(rest, true);
      } finally {
        await reader?.cancel().catch(() => {});
        await ferry.proc.dispose();
      }
    });
  } finally {
    await upstream.close();
  }
});
