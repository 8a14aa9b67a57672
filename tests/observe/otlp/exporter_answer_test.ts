/**
 * A collector's answer is tiny (an empty `ExportTraceServiceResponse`), but the exporter reads it
 * to its end for connection reuse. An answer that never ends — an endless body, or bytes that
 * keep trickling in just inside the idle timeout — must not hold the one export loop forever:
 * every later span would then be dropped, and `forceFlush` at gateway close would never return.
 */
import assert from "node:assert/strict";
import { ROOT_CONTEXT } from "@opentelemetry/api";
import { pipeline } from "./pipeline.ts";

/** Rejects with `what` if `promise` has not settled within `ms`: a hang fails the test. */
async function within<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still pending after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, guard]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A collector that answers 200 at once and then streams up to `limit` bytes for as long as the
 * reader pulls (`pace` runs before each chunk, and makes the chunks single bytes). The limit only
 * lets the server finish when an exporter does read everything, so a regression fails the test
 * instead of hanging it. Counts the bytes sent and resolves `cancelled` when the exporter hangs
 * up.
 */
function endlessCollector(limit: number, pace?: () => Promise<void>) {
  let sent = 0;
  let requests = 0;
  let hungUp!: () => void;
  const cancelled = new Promise<void>((resolve) => hungUp = resolve);
  const chunk = new Uint8Array(pace ? 1 : 64 * 1024).fill(0x20);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    requests++;
    await req.arrayBuffer();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent >= limit) return controller.close();
        if (pace) await pace();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
      cancel() {
        hungUp();
      },
    });
    return new Response(body, { headers: { "content-type": "application/json" } });
  });
  return {
    endpoint: `http://127.0.0.1:${server.addr.port}`,
    cancelled,
    get sent() {
      return sent;
    },
    get requests() {
      return requests;
    },
    close: () => server.shutdown(),
  };
}

Deno.test("an endless collector answer is cut short; later batches still go out", async () => {
  const collector = endlessCollector(256 * 1024 * 1024);
  try {
    const { exporter, provider } = pipeline(collector.endpoint, undefined, {
      scheduledDelayMs: 600_000,
    });
    const tracer = provider.getTracer("ferry");
    tracer.startSpan("first", {}, ROOT_CONTEXT).end();
    await within("forceFlush of the first batch", 10_000, exporter.forceFlush());
    await within("the collector seeing the exporter hang up", 10_000, collector.cancelled);
    // The answer said 200: the spans were accepted, whatever followed the status.
    assert.equal(exporter.exported, 1);
    // Far less than an endless stream: the exporter stopped reading, it did not drain it.
    assert.ok(collector.sent < 16 * 1024 * 1024, `read ${collector.sent} bytes of the answer`);
    tracer.startSpan("second", {}, ROOT_CONTEXT).end();
    await within("shutdown", 10_000, exporter.shutdown());
    assert.equal(collector.requests, 2);
  } finally {
    await collector.close();
  }
});

Deno.test("an answer trickling in forever is bounded by the export timeout", async () => {
  // One byte a millisecond, never silent long enough for the body's idle bound to fire. The pause
  // is the collector's behaviour under test (a slow trickle), not a wait standing in for an event;
  // its 2000-byte end only stops a regressed exporter from hanging the test.
  const collector = endlessCollector(2000, () => new Promise((resolve) => setTimeout(resolve, 1)));
  try {
    const { exporter, provider } = pipeline(collector.endpoint, undefined, {
      scheduledDelayMs: 600_000,
      exportTimeoutMs: 200,
    });
    provider.getTracer("ferry").startSpan("only", {}, ROOT_CONTEXT).end();
    await within("forceFlush", 10_000, exporter.forceFlush());
    await within("the collector seeing the exporter hang up", 10_000, collector.cancelled);
    await within("shutdown", 10_000, exporter.shutdown());
  } finally {
    await collector.close();
  }
});
