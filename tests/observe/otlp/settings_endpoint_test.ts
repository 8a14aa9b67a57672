/**
 * Endpoint URLs with parts the exporter could mishandle: a query on the base endpoint (the
 * traces path belongs before it, not inside it) and credentials in the URL (which neither HTTP
 * client sends, so every export would be refused while tracing looks on).
 */
import assert from "node:assert/strict";
import { ROOT_CONTEXT } from "@opentelemetry/api";
import { otlpTraceSettings } from "../../../src/observe/otlp/settings.ts";
import { BatchSpanExporter } from "../../../src/observe/otlp/exporter.ts";
import { resourceAttributes } from "../../../src/observe/otlp/encode.ts";
import { createSampler } from "../../../src/observe/otlp/sampler.ts";
import { FerryTracerProvider } from "../../../src/observe/otlp/tracer.ts";

function parse(vars: Record<string, string>) {
  return otlpTraceSettings((name) => vars[name]);
}

Deno.test("the base endpoint's query stays a query: /v1/traces goes on the path", async () => {
  const seen: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    seen.push(url.pathname + url.search);
    await req.arrayBuffer();
    return Response.json({});
  });
  try {
    const result = parse({
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${server.addr.port}/otlp/?tenant=a`,
    });
    assert.ok(result.enabled, JSON.stringify(result));
    const exporter = new BatchSpanExporter({
      endpoint: result.settings.endpoint,
      resource: resourceAttributes("ferry-test", {}),
    });
    const provider = new FerryTracerProvider({
      sampler: createSampler({ kind: "always_on", ratio: 1 }),
      sink: exporter,
    });
    provider.getTracer("ferry").startSpan("one", {}, ROOT_CONTEXT).end();
    await exporter.shutdown();
    assert.deepEqual(seen, ["/otlp/v1/traces?tenant=a"]);
    assert.equal(exporter.exported, 1);
  } finally {
    await server.shutdown();
  }
});

Deno.test("the base endpoint still gets /v1/traces appended as before", () => {
  for (
    const [base, traces] of [
      ["http://collector:4318", "http://collector:4318/v1/traces"],
      ["http://collector:4318/", "http://collector:4318/v1/traces"],
      ["https://collector/otlp//", "https://collector/otlp/v1/traces"],
    ]
  ) {
    const result = parse({ OTEL_EXPORTER_OTLP_ENDPOINT: base });
    assert.ok(result.enabled, JSON.stringify(result));
    assert.equal(result.settings.endpoint, traces);
  }
});

for (const variable of ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]) {
  Deno.test(`${variable} with credentials in the URL is refused, without echoing them`, () => {
    const result = parse({ [variable]: "https://ferry:s3cret@collector:4318/v1/traces" });
    assert.equal(result.enabled, false, JSON.stringify(result));
    const error = result.error ?? "";
    assert.ok(error.startsWith(`${variable}:`), error);
    assert.match(error, /credentials/);
    assert.ok(!error.includes("s3cret"), error);
  });
}
