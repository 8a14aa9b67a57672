/**
 * Which trace sink the environment selects. The cases that install Ferry's pipeline register
 * process-wide OpenTelemetry globals, so they run in child processes (tests/observe/tracing_test.ts);
 * here only the ones that install nothing.
 */
import assert from "node:assert/strict";
import { MemoryLogger } from "../../src/observe/logger.ts";
import { tracingFromEnvironment } from "../../src/observe/tracing_setup.ts";

const envOf = (vars: Record<string, string>) => (name: string) => vars[name];

Deno.test("tracing setup: no sink configured, tracing is off and nothing is logged", () => {
  const logger = new MemoryLogger();
  const tracing = tracingFromEnvironment(envOf({ OTEL_SERVICE_NAME: "x" }), logger);
  assert.equal(tracing.enabled, false);
  assert.equal(tracing.pipeline, undefined);
  assert.deepEqual(logger.lines, []);
});

Deno.test("tracing setup: OTEL_DENO=true leaves exporting to Deno", () => {
  const tracing = tracingFromEnvironment(
    envOf({ OTEL_DENO: "true", OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" }),
    new MemoryLogger(),
  );
  assert.equal(tracing.enabled, true);
  assert.equal(tracing.pipeline, undefined, "Ferry's own pipeline is not installed beside it");
});

Deno.test("tracing setup: invalid settings leave tracing off with an error naming the variable", () => {
  const cases: Record<string, string>[] = [
    { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" },
    { OTEL_EXPORTER_OTLP_ENDPOINT: "not a url" },
    { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318", OTEL_TRACES_SAMPLER: "sometimes" },
    {
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318",
      OTEL_TRACES_SAMPLER: "traceidratio",
      OTEL_TRACES_SAMPLER_ARG: "2",
    },
  ];
  for (const vars of cases) {
    const logger = new MemoryLogger();
    const tracing = tracingFromEnvironment(envOf(vars), logger);
    assert.equal(tracing.enabled, false, JSON.stringify(vars));
    assert.equal(logger.lines.length, 1);
    assert.equal(logger.lines[0].level, "error");
    const error = String(logger.lines[0].fields?.error);
    const named = Object.keys(vars).filter((name) => error.includes(name));
    assert.ok(named.length > 0, `${error} names none of ${Object.keys(vars)}`);
  }
});

Deno.test("tracing setup: a variable the process may not read counts as unset", () => {
  const tracing = tracingFromEnvironment((name) => {
    throw new Deno.errors.NotCapable(`no --allow-env for ${name}`);
  }, new MemoryLogger());
  assert.equal(tracing.enabled, false);
});
