/**
 * A flush against a collector that does not answer (a hung process, or a host gone without a
 * reset, where connecting waits out the timeout) must cost one export timeout, not one per
 * queued batch: the gateway flushes at close, and with the defaults (2048 queued, batches of 512,
 * 10 s) a timeout per batch is 40 s of shutdown, longer than most orchestrators wait.
 */
import assert from "node:assert/strict";
import { ROOT_CONTEXT } from "@opentelemetry/api";
import { pipeline } from "./pipeline.ts";

/** A collector that takes every export and answers none until `release` (counts requests). */
function hungCollector() {
  let requests = 0;
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    requests++;
    await req.arrayBuffer();
    await released;
    return Response.json({});
  });
  return {
    endpoint: `http://127.0.0.1:${server.addr.port}`,
    get requests() {
      return requests;
    },
    close: async () => {
      release();
      await server.shutdown();
    },
  };
}

Deno.test("a flush stops sending once an export got no answer, and counts the rest failed", async () => {
  const collector = hungCollector();
  try {
    const { exporter, provider } = pipeline(collector.endpoint, undefined, {
      maxExportBatchSize: 2,
      scheduledDelayMs: 600_000,
      exportTimeoutMs: 100,
    });
    const tracer = provider.getTracer("ferry");
    // Seven spans: three full batches and a partial one, all ended before any export runs.
    for (let i = 0; i < 7; i++) tracer.startSpan(`s${i}`, {}, ROOT_CONTEXT).end();
    await exporter.forceFlush();
    assert.equal(collector.requests, 1);
    assert.equal(exporter.failedExports, 1);
    assert.equal(exporter.failedSpans, 7);
    assert.equal(exporter.queued, 0);
    // Spans ended after that flush are tried again: the collector gets its next chance.
    tracer.startSpan("later", {}, ROOT_CONTEXT).end();
    await exporter.shutdown();
    assert.equal(collector.requests, 2);
    assert.equal(exporter.failedSpans, 8);
  } finally {
    await collector.close();
  }
});
