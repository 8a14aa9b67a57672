/**
 * `OTEL_EXPORTER_OTLP_HEADERS` values that percent-decode to something HTTP cannot carry (a
 * header name that is not a token, a value with a line break, a control character or a
 * character beyond Latin-1) must be refused when the settings are read, naming the variable:
 * accepted, they make the HTTP client refuse every export request, so tracing stays "on" while
 * silently exporting nothing, which is what reading the settings strictly is there to prevent.
 * Header names are case-insensitive, so a traces-specific header replaces a general one whatever
 * the case of either name.
 */
import assert from "node:assert/strict";
import { ROOT_CONTEXT } from "@opentelemetry/api";
import { otlpTraceSettings } from "../../../src/observe/otlp/settings.ts";
import { startOtlpReceiver } from "../../helpers/otlp_receiver.ts";
import { pipeline } from "./pipeline.ts";

function parse(vars: Record<string, string>) {
  return otlpTraceSettings((name) => vars[name]);
}

const BASE = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" };

for (
  const [what, variable, value, message] of [
    ["a name with a space", "OTEL_EXPORTER_OTLP_HEADERS", "x%20team=core", /"x team" is not/],
    ["a name with a colon", "OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x%3Ateam=core", /"x:team"/],
    ["a value with CR LF", "OTEL_EXPORTER_OTLP_HEADERS", "x-team=a%0D%0Ax-evil%3A%201", /x-team/],
    ["a value with NUL", "OTEL_EXPORTER_OTLP_HEADERS", "x-team=a%00b", /x-team/],
    ["a value beyond Latin-1", "OTEL_EXPORTER_OTLP_HEADERS", "x-price=%E2%82%AC5", /x-price/],
  ] as const
) {
  Deno.test(`${variable} with ${what} is refused with an error naming the variable`, () => {
    const result = parse({ ...BASE, [variable]: value });
    assert.equal(result.enabled, false, `accepted: ${JSON.stringify(result)}`);
    const error = result.error ?? "";
    assert.ok(error.startsWith(`${variable}:`), error);
    assert.match(error, message);
    // The error is logged; the value (often a credential) stays out of it.
    assert.ok(!error.includes(value), error);
  });
}

Deno.test("header values HTTP can carry are still accepted as decoded", () => {
  const result = parse({
    ...BASE,
    OTEL_EXPORTER_OTLP_HEADERS: "authorization=Basic%20dXNlcjpwdw%3D%3D,x-name=caf%C3%A9%09ok",
  });
  assert.ok(result.enabled, JSON.stringify(result));
  assert.deepEqual(result.settings.headers, {
    authorization: "Basic dXNlcjpwdw==",
    "x-name": "caf\u00e9\tok",
  });
});

Deno.test("accepted header values all reach the collector", async () => {
  // The accepted values above must really be sendable: a value the settings accept but the
  // HTTP client refuses would be the silent failure this file is about.
  const result = parse({
    ...BASE,
    OTEL_EXPORTER_OTLP_HEADERS: "authorization=Basic%20dXNlcjpwdw%3D%3D,x-name=caf%C3%A9%09ok",
  });
  assert.ok(result.enabled);
  const receiver = startOtlpReceiver();
  try {
    const { exporter, provider } = pipeline(receiver.endpoint, undefined, {
      headers: result.settings.headers,
    });
    provider.getTracer("ferry").startSpan("one", {}, ROOT_CONTEXT).end();
    await exporter.shutdown();
    assert.equal(exporter.failedExports, 0);
    assert.equal(exporter.exported, 1);
  } finally {
    await receiver.close();
  }
});

Deno.test("a traces-specific header replaces a general one whatever the names' case", async () => {
  const result = parse({
    ...BASE,
    OTEL_EXPORTER_OTLP_HEADERS: "Authorization=Bearer%20general,X-Tenant=a",
    OTEL_EXPORTER_OTLP_TRACES_HEADERS: "authorization=Bearer%20traces",
  });
  assert.ok(result.enabled, JSON.stringify(result));
  assert.deepEqual(result.settings.headers, {
    authorization: "Bearer traces",
    "x-tenant": "a",
  });
  // What a collector checking the credential sees: the one value, not both folded together.
  const seen: (string | null)[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    seen.push(req.headers.get("authorization"));
    await req.arrayBuffer();
    return Response.json({});
  });
  try {
    const { exporter, provider } = pipeline(`http://127.0.0.1:${server.addr.port}`, undefined, {
      headers: result.settings.headers,
    });
    provider.getTracer("ferry").startSpan("one", {}, ROOT_CONTEXT).end();
    await exporter.shutdown();
    assert.deepEqual(seen, ["Bearer traces"]);
  } finally {
    await server.shutdown();
  }
});
