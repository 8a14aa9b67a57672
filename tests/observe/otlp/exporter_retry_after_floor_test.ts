/**
 * A collector's `Retry-After` may lengthen the wait before a batch is sent again, never shorten
 * it below the backoff: `Retry-After: 0`, or an HTTP-date already past (a collector whose clock
 * is behind), must not turn the retries into back-to-back requests for the whole export timeout.
 *
 * The backoff here (at least 30 s) is longer than the export timeout (1 s): honouring it leaves
 * no retry that fits, so the batch gets exactly one request however fast the machine is.
 */
import assert from "node:assert/strict";
import { ROOT_CONTEXT } from "@opentelemetry/api";
import { pipeline } from "./pipeline.ts";

/** A collector answering every export 503 with `retryAfter`; counts the requests. */
function overloadedCollector(retryAfter: string) {
  let requests = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    await req.arrayBuffer();
    requests++;
    return new Response("{}", { status: 503, headers: { "retry-after": retryAfter } });
  });
  return {
    endpoint: `http://127.0.0.1:${server.addr.port}`,
    get requests() {
      return requests;
    },
    close: () => server.shutdown(),
  };
}

const SLOW_BACKOFF = {
  retryBackoff: { initialMs: 60_000, maxMs: 60_000 },
  exportTimeoutMs: 1000,
  scheduledDelayMs: 600_000,
};

for (
  const [what, retryAfter] of [
    ["Retry-After: 0", "0"],
    ["a Retry-After date already past", "Mon, 01 Jan 2024 00:00:00 GMT"],
  ]
) {
  Deno.test(`${what} does not resend the batch sooner than the backoff`, async () => {
    const collector = overloadedCollector(retryAfter);
    try {
      const { exporter, provider } = pipeline(collector.endpoint, undefined, SLOW_BACKOFF);
      const tracer = provider.getTracer("ferry");
      for (let i = 0; i < 3; i++) tracer.startSpan(`s${i}`, {}, ROOT_CONTEXT).end();
      await exporter.forceFlush();
      await exporter.shutdown();
      assert.equal(collector.requests, 1, "no retry fits in the export timeout after the backoff");
      assert.equal(exporter.retries, 0);
      assert.equal(exporter.failedSpans, 3);
      assert.equal(exporter.exported, 0);
    } finally {
      await collector.close();
    }
  });
}
