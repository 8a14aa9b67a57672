import assert from "node:assert/strict";
import {
  OTLP_ENV_VARS,
  type OtlpTraceSettings,
  otlpTraceSettings,
} from "../../../src/observe/otlp/settings.ts";

function parse(vars: Record<string, string>) {
  return otlpTraceSettings((name) => {
    // Every variable read must be declared, or `--allow-env=<list>` would miss it.
    assert.ok((OTLP_ENV_VARS as readonly string[]).includes(name), `undeclared ${name}`);
    return vars[name];
  });
}

function settings(vars: Record<string, string>): OtlpTraceSettings {
  const result = parse(vars);
  assert.ok(result.enabled, `expected enabled, got ${JSON.stringify(result)}`);
  return result.settings;
}

function error(vars: Record<string, string>): string {
  const result = parse(vars);
  assert.equal(result.enabled, false);
  assert.ok(result.error, `expected an error, got ${JSON.stringify(result)}`);
  return result.error;
}

const BASE = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" };

Deno.test("without an endpoint tracing is off, without an error", () => {
  assert.deepEqual(parse({}), { enabled: false });
  assert.deepEqual(parse({ OTEL_EXPORTER_OTLP_ENDPOINT: "" }), { enabled: false });
  assert.deepEqual(parse({ OTEL_TRACES_SAMPLER: "always_on" }), { enabled: false });
});

Deno.test("defaults", () => {
  assert.deepEqual(settings(BASE), {
    endpoint: "http://collector:4318/v1/traces",
    headers: {},
    serviceName: "ferry",
    resourceAttributes: {},
    sampler: { kind: "parentbased_always_on", ratio: 1 },
    protocol: "http/protobuf",
    maxQueueSize: 2048,
    maxExportBatchSize: 512,
    scheduledDelayMs: 5000,
    exportTimeoutMs: 10_000,
    caCerts: [],
  });
});

Deno.test("the base endpoint gets /v1/traces without a double slash", () => {
  assert.equal(
    settings({ OTEL_EXPORTER_OTLP_ENDPOINT: "https://c.example/otlp/" }).endpoint,
    "https://c.example/otlp/v1/traces",
  );
});

Deno.test("the traces endpoint is used as it is, and wins over the base one", () => {
  assert.equal(
    settings({ ...BASE, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://t:1234/custom" }).endpoint,
    "http://t:1234/custom",
  );
});

Deno.test("OTEL_SDK_DISABLED=true and OTEL_TRACES_EXPORTER=none turn tracing off", () => {
  assert.deepEqual(parse({ ...BASE, OTEL_SDK_DISABLED: "true" }), { enabled: false });
  assert.deepEqual(parse({ ...BASE, OTEL_SDK_DISABLED: "TRUE" }), { enabled: false });
  assert.deepEqual(parse({ ...BASE, OTEL_TRACES_EXPORTER: "none" }), { enabled: false });
  // Disabled wins even over values that would be errors.
  assert.deepEqual(
    parse({ ...BASE, OTEL_SDK_DISABLED: "true", OTEL_TRACES_SAMPLER: "bogus" }),
    { enabled: false },
  );
  assert.equal(parse({ ...BASE, OTEL_SDK_DISABLED: "false" }).enabled, true);
  assert.equal(parse({ ...BASE, OTEL_TRACES_EXPORTER: "otlp" }).enabled, true);
});

Deno.test("headers and resource attributes are k=v lists, URL-decoded, traces headers win", () => {
  const s = settings({
    ...BASE,
    OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20abc, x-team=core,",
    OTEL_EXPORTER_OTLP_TRACES_HEADERS: "x-team=edge",
    OTEL_RESOURCE_ATTRIBUTES: "deployment.environment=prod,team=a%2Cb,service.name=from-attrs",
  });
  assert.deepEqual(s.headers, { authorization: "Bearer abc", "x-team": "edge" });
  assert.deepEqual(s.resourceAttributes, { "deployment.environment": "prod", team: "a,b" });
  assert.equal(s.serviceName, "from-attrs");
});

Deno.test("OTEL_SERVICE_NAME wins over service.name in the resource attributes", () => {
  const s = settings({
    ...BASE,
    OTEL_SERVICE_NAME: "edge-gw",
    OTEL_RESOURCE_ATTRIBUTES: "service.name=other",
  });
  assert.equal(s.serviceName, "edge-gw");
  assert.deepEqual(s.resourceAttributes, {});
});

Deno.test("sampler and ratio", () => {
  assert.deepEqual(
    settings({ ...BASE, OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.25" })
      .sampler,
    { kind: "traceidratio", ratio: 0.25 },
  );
  assert.deepEqual(
    settings({ ...BASE, OTEL_TRACES_SAMPLER: "parentbased_traceidratio" }).sampler,
    { kind: "parentbased_traceidratio", ratio: 1 },
  );
  // An argument for a sampler without one is ignored, as the spec says.
  assert.deepEqual(
    settings({ ...BASE, OTEL_TRACES_SAMPLER: "always_off", OTEL_TRACES_SAMPLER_ARG: "x" }).sampler,
    { kind: "always_off", ratio: 1 },
  );
});

Deno.test("batch processor numbers and timeouts", () => {
  const s = settings({
    ...BASE,
    OTEL_BSP_MAX_QUEUE_SIZE: "100",
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "10",
    OTEL_BSP_SCHEDULE_DELAY: "250",
    OTEL_EXPORTER_OTLP_TIMEOUT: "3000",
  });
  assert.deepEqual(
    [s.maxQueueSize, s.maxExportBatchSize, s.scheduledDelayMs, s.exportTimeoutMs],
    [100, 10, 250, 3000],
  );
  assert.equal(
    settings({
      ...BASE,
      OTEL_EXPORTER_OTLP_TIMEOUT: "3000",
      OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: "2000",
    })
      .exportTimeoutMs,
    2000,
  );
  assert.equal(
    settings({ ...BASE, OTEL_EXPORTER_OTLP_TIMEOUT: "3000", OTEL_BSP_EXPORT_TIMEOUT: "1000" })
      .exportTimeoutMs,
    1000,
  );
});

Deno.test("http/protobuf is the default, http/json is taken, anything else is refused", () => {
  assert.equal(settings(BASE).protocol, "http/protobuf");
  assert.equal(
    settings({ ...BASE, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" }).protocol,
    "http/json",
  );
  assert.equal(
    settings({ ...BASE, OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf" }).protocol,
    "http/protobuf",
  );
  const e = error({ ...BASE, OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" });
  assert.match(e, /OTEL_EXPORTER_OTLP_PROTOCOL="grpc"/);
  assert.match(e, /Ferry's exporter speaks http\/protobuf \(the default\) or http\/json/);
  // The traces-specific variable wins, both ways.
  assert.match(
    error({
      ...BASE,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "grpc",
    }),
    /OTEL_EXPORTER_OTLP_TRACES_PROTOCOL="grpc"/,
  );
  assert.equal(
    settings({
      ...BASE,
      OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/json",
    }).protocol,
    "http/json",
  );
});

const ERRORS: [string, Record<string, string>, RegExp][] = [
  ["unknown exporter", { OTEL_TRACES_EXPORTER: "zipkin" }, /OTEL_TRACES_EXPORTER="zipkin"/],
  [
    "base endpoint not a URL",
    { OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" },
    /OTEL_EXPORTER_OTLP_ENDPOINT="collector:4318": not an http\(s\) URL/,
  ],
  [
    "traces endpoint not http",
    { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "ftp://c/x" },
    /OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="ftp:\/\/c\/x"/,
  ],
  [
    "traces endpoint garbage",
    { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "::" },
    /OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="::"/,
  ],
  [
    "header without =",
    { OTEL_EXPORTER_OTLP_HEADERS: "a=1,broken" },
    /^OTEL_EXPORTER_OTLP_HEADERS: entry 2 of 2 is not key=value$/,
  ],
  [
    "header with empty key",
    { OTEL_EXPORTER_OTLP_TRACES_HEADERS: "=v" },
    /^OTEL_EXPORTER_OTLP_TRACES_HEADERS: entry 1 of 1 has an empty key$/,
  ],
  [
    "header bad escape",
    { OTEL_EXPORTER_OTLP_HEADERS: "a=%zz" },
    /^OTEL_EXPORTER_OTLP_HEADERS: entry 1 of 1 is not valid URL encoding/,
  ],
  [
    "resource attribute without =",
    { OTEL_RESOURCE_ATTRIBUTES: "env" },
    /^OTEL_RESOURCE_ATTRIBUTES: entry 1 of 1 is not key=value$/,
  ],
  [
    "unknown sampler",
    { OTEL_TRACES_SAMPLER: "jaeger_remote" },
    /OTEL_TRACES_SAMPLER="jaeger_remote"/,
  ],
  [
    "ratio above 1",
    { OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "1.5" },
    /OTEL_TRACES_SAMPLER_ARG="1.5"/,
  ],
  ["negative ratio", {
    OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
    OTEL_TRACES_SAMPLER_ARG: "-0.1",
  }, /OTEL_TRACES_SAMPLER_ARG="-0.1"/],
  [
    "ratio not a number",
    { OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "half" },
    /OTEL_TRACES_SAMPLER_ARG="half"/,
  ],
  [
    "queue size zero",
    { OTEL_BSP_MAX_QUEUE_SIZE: "0" },
    /OTEL_BSP_MAX_QUEUE_SIZE="0": not a positive integer/,
  ],
  [
    "batch size not a number",
    { OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "lots" },
    /OTEL_BSP_MAX_EXPORT_BATCH_SIZE="lots"/,
  ],
  ["batch larger than queue", {
    OTEL_BSP_MAX_QUEUE_SIZE: "10",
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "20",
  }, /OTEL_BSP_MAX_EXPORT_BATCH_SIZE="20".*OTEL_BSP_MAX_QUEUE_SIZE=10/],
  ["fractional delay", { OTEL_BSP_SCHEDULE_DELAY: "1.5" }, /OTEL_BSP_SCHEDULE_DELAY="1.5"/],
  ["negative bsp timeout", { OTEL_BSP_EXPORT_TIMEOUT: "-5" }, /OTEL_BSP_EXPORT_TIMEOUT="-5"/],
  [
    "otlp timeout with unit",
    { OTEL_EXPORTER_OTLP_TIMEOUT: "10s" },
    /OTEL_EXPORTER_OTLP_TIMEOUT="10s"/,
  ],
  [
    "traces timeout zero",
    { OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: "0" },
    /OTEL_EXPORTER_OTLP_TRACES_TIMEOUT="0"/,
  ],
];

for (const [what, vars, message] of ERRORS) {
  Deno.test(`error: ${what}`, () => {
    const endpoint = "OTEL_EXPORTER_OTLP_ENDPOINT" in vars ||
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" in vars
      ? {}
      : BASE;
    assert.match(error({ ...endpoint, ...vars }), message);
  });
}

Deno.test("errors in the header and resource variables never repeat their text (it may be a secret)", () => {
  const cases: Record<string, string>[] = [
    { OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20sk-SECRET,x-team" },
    { OTEL_EXPORTER_OTLP_HEADERS: "sk-SECRET" },
    { OTEL_EXPORTER_OTLP_TRACES_HEADERS: "authorization=Bearer%zzsk-SECRET" },
    { OTEL_EXPORTER_OTLP_HEADERS: "=sk-SECRET" },
    { OTEL_RESOURCE_ATTRIBUTES: "deployment=prod,sk-SECRET" },
  ];
  for (const vars of cases) {
    const message = error({ ...BASE, ...vars });
    assert.match(message, /entry \d of \d/, message);
    assert.doesNotMatch(message, /SECRET/, message);
  }
});

Deno.test("an endpoint that is no URL but may hold a password is not repeated in the error", () => {
  const message = error({ OTEL_EXPORTER_OTLP_ENDPOINT: "collector:sk-SECRET@10.0.0.1:4318" });
  assert.match(message, /^OTEL_EXPORTER_OTLP_ENDPOINT: not an http\(s\) URL$/);
});
