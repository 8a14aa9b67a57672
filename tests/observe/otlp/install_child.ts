/**
 * Run by install_test.ts in its own process (installOtlpTracing sets process-wide globals):
 * installs Ferry's tracing from the environment, traces one request-shaped flow through the
 * global api only, flushes, and prints what the parent checks as one JSON line.
 */
import { context, propagation, SpanKind, trace } from "@opentelemetry/api";
import { installOtlpTracing, otlpTraceSettings } from "../../../src/observe/otlp/install.ts";

const result = otlpTraceSettings((name) => Deno.env.get(name));
if (!result.enabled) throw new Error(`tracing not enabled: ${JSON.stringify(result)}`);
const tracing = installOtlpTracing(result.settings);
const again = installOtlpTracing(result.settings);

const tracer = trace.getTracer("ferry", "test");
const incoming = propagation.extract(context.active(), {
  traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
});
const injected = await context.with(
  incoming,
  () =>
    tracer.startActiveSpan("GET /x", { kind: SpanKind.SERVER }, async (server) => {
      // The server span must still be active after an await (the context manager's job).
      await new Promise((resolve) => setTimeout(resolve, 0));
      const client = tracer.startSpan("GET upstream", { kind: SpanKind.CLIENT });
      const headers: Record<string, string> = {};
      propagation.inject(trace.setSpan(context.active(), client), headers);
      client.end();
      server.end();
      return headers;
    }),
);
await tracing.forceFlush();
console.log(JSON.stringify({
  injected,
  sameInstance: again === tracing,
  registered: tracing.registered,
  exported: tracing.exporter.exported,
}));
await tracing.shutdown();
