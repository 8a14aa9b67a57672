import assert from "node:assert/strict";
import { ROOT_CONTEXT, type Tracer } from "@opentelemetry/api";
import { type OtlpReceiver, startOtlpReceiver } from "../../helpers/otlp_receiver.ts";
import { closedPortEndpoint, pipeline } from "./pipeline.ts";

function endSpans(tracer: Tracer, count: number, prefix = "s"): void {
  for (let i = 0; i < count; i++) tracer.startSpan(`${prefix}${i}`, {}, ROOT_CONTEXT).end();
}

/** A server answering every request with `status`; counts the requests. */
function statusServer(status: number) {
  let requests = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    requests++;
    await req.arrayBuffer();
    return new Response("collector trouble", { status });
  });
  return {
    endpoint: `http://127.0.0.1:${server.addr.port}`,
    get requests() {
      return requests;
    },
    close: () => server.shutdown(),
  };
}

/** A test body given a fresh OTLP receiver on 127.0.0.1, closed after it however it ends. */
function withReceiver(body: (receiver: OtlpReceiver) => Promise<void>): () => Promise<void> {
  return async () => {
    const receiver = startOtlpReceiver();
    try {
      await body(receiver);
    } finally {
      await receiver.close();
    }
  };
}

Deno.test(
  "a full queue drops new spans and counts them exactly",
  withReceiver(async (receiver) => {
    const { exporter, provider } = pipeline(receiver.endpoint, undefined, {
      maxQueueSize: 4,
      maxExportBatchSize: 3,
      scheduledDelayMs: 60_000,
    });
    // All ended in one go: the export that the third span schedules cannot run in between.
    endSpans(provider.getTracer("ferry"), 10);
    assert.equal(exporter.queued, 4);
    assert.equal(exporter.dropped, 6);
    await exporter.shutdown();
    assert.equal(exporter.exported, 4);
    assert.equal(receiver.traceExports, 2); // a full batch of 3, then the flushed 1
    assert.deepEqual(receiver.spans.map((s) => s.name), ["s0", "s1", "s2", "s3"]);
  }),
);

Deno.test(
  "a full batch is exported without waiting for the scheduled delay",
  withReceiver(async (receiver) => {
    const { exporter, provider } = pipeline(receiver.endpoint, undefined, {
      maxExportBatchSize: 5,
      scheduledDelayMs: 600_000,
    });
    endSpans(provider.getTracer("ferry"), 7);
    // Only the full batch goes: the remaining 2 wait for the (10-minute) timer or a flush.
    await receiver.waitFor("a batch of 5", (s) => s.length === 5 ? s : undefined);
    assert.equal(receiver.traceExports, 1);
    assert.equal(exporter.queued, 2);
    await exporter.shutdown();
    assert.equal(receiver.spans.length, 7);
    assert.equal(exporter.exported, 7);
  }),
);

Deno.test(
  "a partial batch is exported when the scheduled delay passes",
  withReceiver(async (receiver) => {
    const { exporter, provider } = pipeline(receiver.endpoint, undefined, {
      scheduledDelayMs: 1,
    });
    endSpans(provider.getTracer("ferry"), 2);
    await receiver.waitFor("both spans, unflushed", (s) => s.length === 2 ? s : undefined);
    assert.equal(exporter.queued, 0);
    await exporter.shutdown();
  }),
);

Deno.test(
  "forceFlush exports everything queued, in batches, and resolves after",
  withReceiver(async (receiver) => {
    const { exporter, provider } = pipeline(receiver.endpoint, undefined, {
      maxExportBatchSize: 4,
      scheduledDelayMs: 600_000,
    });
    endSpans(provider.getTracer("ferry"), 10);
    await exporter.forceFlush();
    assert.equal(receiver.spans.length, 10);
    assert.equal(receiver.traceExports, 3); // 4 + 4 + 2
    assert.equal(exporter.exported, 10);
    // Nothing queued: resolves at once, exports nothing.
    await exporter.forceFlush();
    assert.equal(receiver.traceExports, 3);
    await exporter.shutdown();
  }),
);

Deno.test(
  "forceFlush called twice concurrently resolves both after one export each",
  withReceiver(async (receiver) => {
    const { exporter, provider } = pipeline(receiver.endpoint);
    const tracer = provider.getTracer("ferry");
    endSpans(tracer, 3, "a");
    const first = exporter.forceFlush();
    endSpans(tracer, 2, "b");
    const second = exporter.forceFlush();
    await Promise.all([first, second]);
    assert.equal(exporter.exported, 5);
    assert.equal(receiver.spans.length, 5);
    await exporter.shutdown();
  }),
);

Deno.test(
  "after shutdown new spans are refused and counted as dropped",
  withReceiver(async (receiver) => {
    const { exporter, provider } = pipeline(receiver.endpoint);
    const tracer = provider.getTracer("ferry");
    endSpans(tracer, 2);
    await exporter.shutdown();
    assert.equal(exporter.exported, 2);
    endSpans(tracer, 3);
    assert.equal(exporter.dropped, 3);
    assert.equal(exporter.queued, 0);
    await exporter.forceFlush();
    assert.equal(receiver.spans.length, 2);
  }),
);

Deno.test("an export to a closed port is retried until the export timeout, then counted failed", async () => {
  const { exporter, provider } = pipeline(closedPortEndpoint(), undefined, {
    exportTimeoutMs: 200,
    retryBackoff: { initialMs: 5, maxMs: 20 },
  });
  endSpans(provider.getTracer("ferry"), 3);
  await exporter.forceFlush();
  assert.ok(exporter.retries >= 1, `${exporter.retries} retries`);
  assert.equal(exporter.failedExports, 1);
  assert.equal(exporter.failedSpans, 3);
  assert.equal(exporter.exported, 0);
  assert.equal(exporter.queued, 0);
  await exporter.shutdown();
});

Deno.test("a collector answering 500 is counted as a failed export, without retries", async () => {
  const collector = statusServer(500);
  try {
    const { exporter, provider } = pipeline(collector.endpoint, undefined, {
      maxExportBatchSize: 2,
    });
    endSpans(provider.getTracer("ferry"), 3);
    await exporter.shutdown();
    assert.equal(collector.requests, 2);
    assert.equal(exporter.failedExports, 2);
    assert.equal(exporter.failedSpans, 3);
    assert.equal(exporter.exported, 0);
  } finally {
    await collector.close();
  }
});

Deno.test("a redirect is a failed export: spans never follow it elsewhere", async () => {
  // Telemetry can carry request data: a collector (or something answering in its place) must
  // not be able to send it on to another address. Point the endpoint at the collector itself.
  const paths: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    paths.push(new URL(req.url).pathname);
    await req.arrayBuffer();
    return new Response(null, { status: 308, headers: { location: "/elsewhere/v1/traces" } });
  });
  try {
    const { exporter, provider } = pipeline(`http://127.0.0.1:${server.addr.port}`);
    endSpans(provider.getTracer("ferry"), 2);
    await exporter.shutdown();
    assert.deepEqual(paths, ["/v1/traces"]);
    assert.equal(exporter.failedExports, 1);
    assert.equal(exporter.failedSpans, 2);
    assert.equal(exporter.exported, 0);
  } finally {
    await server.shutdown();
  }
});

Deno.test("an export that outlives its timeout is abandoned and counted as failed", async () => {
  let arrived!: () => void;
  const requestArrived = new Promise<void>((resolve) => arrived = resolve);
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  // Answers only after the exporter has given up on the request.
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    arrived();
    await req.arrayBuffer();
    await released;
    return new Response(null, { status: 200 });
  });
  try {
    const { exporter, provider } = pipeline(`http://127.0.0.1:${server.addr.port}`, undefined, {
      exportTimeoutMs: 50,
    });
    endSpans(provider.getTracer("ferry"), 1);
    const flushed = exporter.forceFlush();
    await requestArrived;
    await flushed;
    assert.equal(exporter.failedExports, 1);
    assert.equal(exporter.exported, 0);
    await exporter.shutdown();
  } finally {
    release();
    await server.shutdown();
  }
});

for (
  const [protocol, contentType] of [
    ["http/protobuf", "application/x-protobuf"],
    ["http/json", "application/json"],
  ] as const
) {
  Deno.test(`${protocol}: exports go out with the configured headers and ${contentType}`, async () => {
    const seen: Headers[] = [];
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      seen.push(req.headers);
      await req.arrayBuffer();
      return Response.json({});
    });
    try {
      const { exporter, provider } = pipeline(`http://127.0.0.1:${server.addr.port}`, undefined, {
        protocol,
        headers: { authorization: "Bearer t0ken", "x-tenant": "a b" },
      });
      endSpans(provider.getTracer("ferry"), 1);
      await exporter.shutdown();
      assert.equal(seen.length, 1);
      assert.equal(seen[0].get("content-type"), contentType);
      assert.equal(seen[0].get("authorization"), "Bearer t0ken");
      assert.equal(seen[0].get("x-tenant"), "a b");
      assert.equal(exporter.exported, 1);
    } finally {
      await server.shutdown();
    }
  });

  Deno.test(
    `${protocol}: spans of several tracers in several batches all arrive`,
    withReceiver(async (receiver) => {
      const { exporter, provider } = pipeline(receiver.endpoint, undefined, {
        protocol,
        maxExportBatchSize: 4,
        scheduledDelayMs: 60_000,
      });
      for (let i = 0; i < 10; i++) {
        provider.getTracer(i % 2 ? "odd" : "even").startSpan(`s${i}`, {}, ROOT_CONTEXT).end();
      }
      await exporter.shutdown();
      assert.equal(receiver.traceExports, 3); // 4 + 4 + the flushed 2
      assert.deepEqual(receiver.contentTypes, Array(3).fill(contentType));
      assert.deepEqual(
        receiver.spans.map((s) => `${s.scope}:${s.name}`).sort(),
        Array.from({ length: 10 }, (_, i) => `${i % 2 ? "odd" : "even"}:s${i}`).sort(),
      );
      assert.equal(receiver.undecodable, 0);
    }),
  );
}

Deno.test(
  "a span that cannot be encoded is dropped and counted; the request path never throws",
  withReceiver(async (receiver) => {
    const { exporter, provider } = pipeline(receiver.endpoint, undefined, {
      scheduledDelayMs: 60_000,
    });
    const tracer = provider.getTracer("ferry");
    const bad = tracer.startSpan("bad", {}, ROOT_CONTEXT);
    // Not an AttributeValue, but JavaScript callers can pass anything: an invalid Date has no
    // ISO form, and encoding it throws.
    bad.setAttribute("when", new Date(NaN) as unknown as string);
    bad.end();
    tracer.startSpan("good", {}, ROOT_CONTEXT).end();
    assert.equal(exporter.dropped, 1);
    assert.equal(exporter.queued, 1);
    await exporter.shutdown();
    assert.deepEqual(receiver.spans.map((s) => s.name), ["good"]);
    assert.equal(receiver.traceExports, 1);
  }),
);

Deno.test(
  "a batch whose only span could not be encoded sends no empty export",
  withReceiver(async (receiver) => {
    const { exporter, provider } = pipeline(receiver.endpoint, undefined, {
      scheduledDelayMs: 60_000,
    });
    const bad = provider.getTracer("ferry").startSpan("bad", {}, ROOT_CONTEXT);
    bad.setAttribute("when", new Date(NaN) as unknown as string);
    bad.end();
    await exporter.forceFlush();
    await exporter.shutdown();
    assert.equal(exporter.dropped, 1);
    assert.equal(receiver.traceExports, 0);
  }),
);
