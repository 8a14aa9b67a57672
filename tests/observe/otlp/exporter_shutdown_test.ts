/**
 * `shutdown` may be reached more than once (an embedder's own stop path plus a signal handler,
 * say); the second call must be a no-op, whichever client the endpoint's scheme picked.
 */
import assert from "node:assert/strict";
import { ROOT_CONTEXT } from "@opentelemetry/api";
import { closedPortEndpoint, pipeline } from "./pipeline.ts";

for (const scheme of ["http", "https"] as const) {
  Deno.test(`${scheme}: a second shutdown resolves and changes nothing`, async () => {
    // Nothing listens there: the export fails at once, without any TLS setup.
    const endpoint = closedPortEndpoint().replace(/^http:/, `${scheme}:`);
    const { exporter, provider } = pipeline(endpoint);
    provider.getTracer("ferry").startSpan("one", {}, ROOT_CONTEXT).end();
    await exporter.shutdown();
    assert.equal(exporter.failedSpans, 1);
    await exporter.shutdown();
    assert.equal(exporter.failedSpans, 1);
    assert.equal(exporter.failedExports, 1);
  });

  Deno.test(`${scheme}: concurrent shutdowns both resolve`, async () => {
    const { exporter, provider } = pipeline(closedPortEndpoint().replace(/^http:/, `${scheme}:`));
    provider.getTracer("ferry").startSpan("one", {}, ROOT_CONTEXT).end();
    await Promise.all([exporter.shutdown(), exporter.shutdown()]);
    assert.equal(exporter.failedSpans, 1);
  });
}
