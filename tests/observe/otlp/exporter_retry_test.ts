/**
 * A collector that answers 429, 502, 503 or 504 is overloaded or restarting: the batch is sent
 * again (OTLP/HTTP spec), after its Retry-After or a backoff, within the export timeout, and never
 * while shutting down. Other refusals are final.
 */
import assert from "node:assert/strict";
import { ROOT_CONTEXT } from "@opentelemetry/api";
import { retryAfterMs, retryDelayMs } from "../../../src/observe/otlp/retry_policy.ts";
import { pipeline } from "./pipeline.ts";

/**
 * A collector answering each export with the next of `answers` (then 200), as a status and an
 * optional Retry-After. Counts requests; `first` resolves at the first one.
 */
function scriptedCollector(answers: { status: number; retryAfter?: string }[]) {
  let requests = 0;
  let arrived!: () => void;
  const first = new Promise<void>((resolve) => arrived = resolve);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    await req.arrayBuffer();
    const answer = answers[requests++] ?? { status: 200 };
    arrived();
    const headers: Record<string, string> = answer.retryAfter === undefined
      ? {}
      : { "retry-after": answer.retryAfter };
    return new Response("{}", { status: answer.status, headers });
  });
  return {
    endpoint: `http://127.0.0.1:${server.addr.port}`,
    first,
    get requests() {
      return requests;
    },
    close: () => server.shutdown(),
  };
}

const QUICK = { retryBackoff: { initialMs: 5, maxMs: 20 }, scheduledDelayMs: 600_000 };

Deno.test("503, 429 and 502 answers are retried until the collector takes the batch", async () => {
  const collector = scriptedCollector([
    { status: 503 },
    { status: 429, retryAfter: "0" },
    { status: 502 },
  ]);
  try {
    const { exporter, provider } = pipeline(collector.endpoint, undefined, QUICK);
    const tracer = provider.getTracer("ferry");
    for (let i = 0; i < 3; i++) tracer.startSpan(`s${i}`, {}, ROOT_CONTEXT).end();
    await exporter.forceFlush();
    await exporter.shutdown();
    assert.equal(collector.requests, 4);
    assert.equal(exporter.retries, 3);
    assert.equal(exporter.exported, 3);
    assert.equal(exporter.failedSpans, 0);
  } finally {
    await collector.close();
  }
});

Deno.test("a refusal that is not transient (400, 401, 500) is final: one request, spans failed", async () => {
  for (const status of [400, 401, 500]) {
    const collector = scriptedCollector([{ status }]);
    try {
      const { exporter, provider } = pipeline(collector.endpoint, undefined, QUICK);
      provider.getTracer("ferry").startSpan("s", {}, ROOT_CONTEXT).end();
      await exporter.forceFlush();
      assert.equal(collector.requests, 1, `status ${status}`);
      assert.equal(exporter.retries, 0);
      assert.equal(exporter.failedSpans, 1);
      await exporter.shutdown();
    } finally {
      await collector.close();
    }
  }
});

Deno.test("a Retry-After that ends past the export timeout is not waited for", async () => {
  const collector = scriptedCollector([{ status: 503, retryAfter: "30" }]);
  try {
    const { exporter, provider } = pipeline(collector.endpoint, undefined, {
      ...QUICK,
      exportTimeoutMs: 5_000,
    });
    provider.getTracer("ferry").startSpan("s", {}, ROOT_CONTEXT).end();
    await exporter.forceFlush();
    assert.equal(collector.requests, 1);
    assert.equal(exporter.retries, 0);
    assert.equal(exporter.failedSpans, 1);
    await exporter.shutdown();
  } finally {
    await collector.close();
  }
});

Deno.test("retries stop at the export timeout when the collector keeps refusing", async () => {
  const collector = scriptedCollector(Array(1000).fill({ status: 503 }));
  try {
    const { exporter, provider } = pipeline(collector.endpoint, undefined, {
      ...QUICK,
      exportTimeoutMs: 300,
    });
    provider.getTracer("ferry").startSpan("s", {}, ROOT_CONTEXT).end();
    await exporter.forceFlush();
    assert.ok(collector.requests >= 2, `${collector.requests} requests`);
    // Every attempt after the first is a retry. The last may be cut short by the timeout before
    // the collector counted it (it counts once the body is read).
    assert.ok(
      exporter.retries === collector.requests - 1 || exporter.retries === collector.requests,
      `${exporter.retries} retries, ${collector.requests} requests`,
    );
    assert.equal(exporter.failedSpans, 1);
    assert.equal(exporter.exported, 0);
    await exporter.shutdown();
  } finally {
    await collector.close();
  }
});

Deno.test("shutdown ends a wait for a retry: the batch is not sent again", async () => {
  // Retry-After 8 s fits the 10 s export timeout, so only shutdown can end the wait.
  const collector = scriptedCollector([{ status: 503, retryAfter: "8" }]);
  try {
    const { exporter, provider } = pipeline(collector.endpoint, undefined, {
      ...QUICK,
      exportTimeoutMs: 10_000,
      maxExportBatchSize: 1,
    });
    // A full batch starts its export at once.
    provider.getTracer("ferry").startSpan("s", {}, ROOT_CONTEXT).end();
    await collector.first;
    await exporter.shutdown();
    assert.equal(collector.requests, 1);
    assert.equal(exporter.retries, 0);
    assert.equal(exporter.failedSpans, 1);
  } finally {
    await collector.close();
  }
});

Deno.test("Retry-After reads delay-seconds and HTTP-dates; anything else falls back", () => {
  const now = Date.parse("Mon, 23 Nov 2026 10:00:00 GMT");
  assert.equal(retryAfterMs("7", now), 7000);
  assert.equal(retryAfterMs(" 0 ", now), 0);
  assert.equal(retryAfterMs("Mon, 23 Nov 2026 10:00:03 GMT", now), 3000);
  assert.equal(retryAfterMs("Mon, 23 Nov 2026 09:00:00 GMT", now), 0, "a date past is now");
  assert.equal(retryAfterMs("soon", now), undefined);
  assert.equal(retryAfterMs("-5", now), undefined);
  assert.equal(retryAfterMs(undefined, now), undefined);
});

Deno.test("the backoff doubles per attempt up to its cap, with at most half taken off by jitter", () => {
  const backoff = { initialMs: 100, maxMs: 1000 };
  const low = () => 0;
  const high = () => 0.999999;
  assert.equal(retryDelayMs(503, undefined, 0, backoff, low), 50);
  assert.ok(Math.abs(retryDelayMs(503, undefined, 0, backoff, high)! - 100) < 0.01);
  assert.equal(retryDelayMs(503, undefined, 2, backoff, low), 200);
  assert.equal(retryDelayMs(503, undefined, 10, backoff, low), 500, "capped at maxMs");
  assert.equal(retryDelayMs(429, "2", 5, backoff, low), 2000, "Retry-After wins");
  assert.equal(retryDelayMs(500, undefined, 0, backoff, low), undefined);
  assert.equal(retryDelayMs(404, "1", 0, backoff, low), undefined);
});

/**
 * A collector whose first `drops` connections are closed as soon as they are accepted (what a
 * collector going down mid-restart does), and whose later ones answer 200. Counts connections.
 */
function droppingCollector(drops: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let connections = 0;
  let accepted!: () => void;
  const first = new Promise<void>((resolve) => accepted = resolve);
  const served = (async () => {
    for await (const conn of listener) {
      connections++;
      accepted();
      if (connections <= drops) {
        conn.close();
        continue;
      }
      void answerOk(conn);
    }
  })();
  return {
    endpoint: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    /** Resolves when the first connection was accepted. */
    first,
    get connections() {
      return connections;
    },
    async close() {
      listener.close();
      await served;
    },
  };
}

/** Reads one request (head and Content-Length body) and answers 200, closing the connection. */
async function answerOk(conn: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(1 << 20);
  let read = 0;
  try {
    for (;;) {
      const n = await conn.read(buffer.subarray(read));
      if (n === null) return;
      read += n;
      const text = new TextDecoder().decode(buffer.subarray(0, read));
      const end = text.indexOf("\r\n\r\n");
      if (end < 0) continue;
      const length = Number(/content-length:\s*(\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
      if (read >= end + 4 + length) break;
    }
    await conn.write(
      new TextEncoder().encode(
        "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
      ),
    );
  } finally {
    conn.close();
  }
}

/**
 * Ends `spans` spans on an exporter (with `options`) to a collector that drops its first `drops`
 * connections, runs `step`, and returns what came of them.
 */
async function afterDrops(
  drops: number,
  options: Parameters<typeof pipeline>[2],
  spans: number,
  step: (
    exporter: ReturnType<typeof pipeline>["exporter"],
    collector: ReturnType<typeof droppingCollector>,
  ) => Promise<void>,
) {
  const collector = droppingCollector(drops);
  try {
    const { exporter, provider } = pipeline(collector.endpoint, undefined, options);
    const tracer = provider.getTracer("ferry");
    for (let i = 0; i < spans; i++) tracer.startSpan(`s${i}`, {}, ROOT_CONTEXT).end();
    await step(exporter, collector);
    const outcome = {
      connections: collector.connections,
      retries: exporter.retries,
      exported: exporter.exported,
      failedSpans: exporter.failedSpans,
    };
    await exporter.shutdown();
    return outcome;
  } finally {
    await collector.close();
  }
}

Deno.test("a connection the collector drops before answering is retried, and the batch gets through", async () => {
  assert.deepEqual(
    await afterDrops(2, QUICK, 3, (exporter) => exporter.forceFlush()),
    { connections: 3, retries: 2, exported: 3, failedSpans: 0 },
  );
});

Deno.test("while shutting down, a failed connection is not retried", async () => {
  assert.deepEqual(
    await afterDrops(1, QUICK, 1, (exporter) => exporter.shutdown()),
    { connections: 1, retries: 0, exported: 0, failedSpans: 1 },
  );
});

Deno.test("a flush without retries (the gateway's last) sends each batch once", async () => {
  assert.deepEqual(
    await afterDrops(1, QUICK, 1, (exporter) => exporter.forceFlush({ retries: false })),
    { connections: 1, retries: 0, exported: 0, failedSpans: 1 },
  );
});

Deno.test("a flush without retries ends a wait for a retry: the batch is not sent again", async () => {
  // The first retry would come 4-8 s after the dropped connection, well within the timeout; a
  // batch of one span is sent as soon as it is full.
  const slowRetry = {
    retryBackoff: { initialMs: 8_000, maxMs: 8_000 },
    exportTimeoutMs: 60_000,
    maxExportBatchSize: 1,
  };
  assert.deepEqual(
    await afterDrops(1, slowRetry, 1, async (exporter, collector) => {
      await collector.first;
      await exporter.forceFlush({ retries: false });
    }),
    { connections: 1, retries: 0, exported: 0, failedSpans: 1 },
  );
});
