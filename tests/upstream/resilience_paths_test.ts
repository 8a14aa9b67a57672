/**
 * Resilience paths through the real gateway and real upstreams: health probes that hang or
 * stream without end, every target out of rotation, and least-request in-flight counts that
 * must return to zero on every way an exchange ends.
 */
import assert from "node:assert/strict";
import { type LogLevel, MemoryLogger } from "../../src/observe/logger.ts";
import { startTestGateway, startUpstream, within } from "../helpers/gateway.ts";

/** A memory logger that resolves `down` when a target is logged leaving rotation. */
class DownWatcher extends MemoryLogger {
  readonly down = Promise.withResolvers<void>();

  override log(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    super.log(level, message, fields);
    if (message === "upstream target down") this.down.resolve();
  }
}

Deno.test("health probe: a target that accepts TCP but never answers fails its probes and leaves rotation", async () => {
  // A listener that accepts and then says nothing: the probe must give up at its timeout.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    try {
      for await (const conn of listener) held.push(conn);
    } catch { /* closed */ }
  })();
  const url = `http://127.0.0.1:${listener.addr.port}`;
  const logger = new DownWatcher();
  const gw = await startTestGateway({
    upstreams: {
      api: {
        targets: [url],
        healthCheck: { path: "/healthz", interval: "30ms", timeout: "20ms", unhealthyThreshold: 2 },
      },
    },
    routes: [{ upstream: "api" }],
  }, { logger });
  try {
    await within(logger.down.promise, 5000, "the silent target never left rotation");
    assert.equal(gw.snapshot.upstreams.get("api")!.targets[0].healthy, false);
    const res = await fetch(`${gw.url}/x`);
    const body = await res.json();
    assert.equal(res.status, 503);
    assert.equal(body.type.endsWith("no-healthy-target"), true, JSON.stringify(body));
  } finally {
    await gw.close();
    listener.close();
    await accepting;
    for (const c of held) c.close();
  }
});

Deno.test("health probe: a never-ending 200 body passes and is cancelled, so probing goes on", async () => {
  let probes = 0;
  const cancelled: Promise<void>[] = [];
  const second = Promise.withResolvers<void>();
  const upstream = startUpstream(() => {
    if (++probes >= 2) second.resolve();
    const done = Promise.withResolvers<void>();
    cancelled.push(done.promise);
    let timer: ReturnType<typeof setTimeout> | undefined;
    return new Response(
      new ReadableStream({
        pull(c) {
          c.enqueue(new Uint8Array(16 * 1024));
          return new Promise<void>((r) => timer = setTimeout(r, 1));
        },
        cancel() {
          clearTimeout(timer);
          done.resolve();
        },
      }),
    );
  });
  const gw = await startTestGateway({
    upstreams: {
      api: { targets: [upstream.url], healthCheck: { path: "/healthz", interval: "10ms" } },
    },
    routes: [{ upstream: "api" }],
  });
  try {
    await within(second.promise, 5000, "no second probe");
    await within(cancelled[0], 5000, "first probe body never cancelled");
    const target = gw.snapshot.upstreams.get("api")!.targets[0];
    assert.equal(target.healthy, true);
  } finally {
    await gw.close();
    await Promise.all(cancelled.map((p) => within(p, 5000, "probe body never cancelled")));
    await upstream.close();
  }
});

Deno.test("least request: in-flight counts return to zero after streams, retries, HEAD and 204", async () => {
  let n = 0;
  const handler = (req: Request) => {
    const path = new URL(req.url).pathname;
    if (path === "/flaky" && n++ % 2 === 0) {
      return new Response(
        new ReadableStream({
          start(c) {
            c.enqueue(new TextEncoder().encode("bad"));
          },
        }),
        { status: 503 },
      );
    }
    if (path === "/empty") return new Response(null, { status: 204 });
    return new Response(
      new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode("x".repeat(1000)));
          c.close();
        },
      }),
    );
  };
  const upstream = startUpstream(handler);
  const other = startUpstream(handler);
  const gw = await startTestGateway({
    upstreams: {
      api: {
        targets: [upstream.url, other.url],
        balancer: { type: "least_request" },
        retries: { maxRetries: 1, on: [503], backoff: { base: "1ms", max: "1ms" } },
      },
    },
    routes: [{ upstream: "api" }],
  });
  try {
    for (
      const [method, path] of [
        ["GET", "/a"],
        ["HEAD", "/a"],
        ["GET", "/empty"],
        [
          "GET",
          "/flaky",
        ],
        ["GET", "/flaky"],
        ["GET", "/flaky"],
      ]
    ) {
      const res = await fetch(`${gw.url}${path}`, { method });
      await res.body?.cancel();
      await res.arrayBuffer().catch(() => {});
    }
    const targets = gw.snapshot.upstreams.get("api")!.targets;
    assert.deepEqual(targets.map((t) => t.inflight), [0, 0]);
  } finally {
    await gw.close();
    await upstream.close();
    await other.close();
  }
});
