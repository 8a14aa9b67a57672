/**
 * An `https:` collector whose certificate a private CA signed: the spec's
 * `OTEL_EXPORTER_OTLP_[TRACES_]CERTIFICATE` names the CA's PEM file, and spans then reach the
 * collector over verified TLS. A file that cannot be read or holds no certificate leaves tracing
 * off with an error naming the variable, like every other invalid setting.
 */
import assert from "node:assert/strict";
import { ROOT_CONTEXT } from "@opentelemetry/api";
import { otlpTraceSettings } from "../../../src/observe/otlp/settings.ts";
import { LOCALHOST_KEY, startTlsUpstream, TEST_CA } from "../../upstream/servers/tls.ts";
import { pipeline } from "./pipeline.ts";

async function withFile(
  text: string,
  run: (path: string) => void | Promise<void>,
): Promise<void> {
  const path = await Deno.makeTempFile({ suffix: ".pem" });
  try {
    await Deno.writeTextFile(path, text);
    await run(path);
  } finally {
    await Deno.remove(path);
  }
}

/** An https collector counting the export requests it was sent. */
function httpsCollector() {
  let exports = 0;
  const server = startTlsUpstream((req) => {
    if (req.method === "POST" && new URL(req.url).pathname === "/v1/traces") exports++;
    return new Response(null, { status: 200 });
  });
  return Object.assign(server, { exports: () => exports });
}

/** Exports one span through settings read from `vars`; the exporter's failed-span count. */
async function exportOne(vars: Record<string, string>): Promise<number> {
  const found = otlpTraceSettings((name) => vars[name]);
  assert.ok(found.enabled, JSON.stringify(found));
  const endpoint = found.settings.endpoint.replace(/\/v1\/traces$/, "");
  const { exporter, provider } = pipeline(endpoint, undefined, {
    caCerts: found.settings.caCerts,
    exportTimeoutMs: 5_000,
  });
  provider.getTracer("ferry").startSpan("one", {}, ROOT_CONTEXT).end();
  await exporter.shutdown();
  return exporter.failedSpans;
}

Deno.test("OTEL_EXPORTER_OTLP_CERTIFICATE: spans reach an https collector a private CA signed", async () => {
  const collector = httpsCollector();
  try {
    await withFile(TEST_CA, async (path) => {
      const failed = await exportOne({
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
        OTEL_EXPORTER_OTLP_CERTIFICATE: path,
      });
      assert.equal(failed, 0);
      assert.equal(collector.exports(), 1);
    });
  } finally {
    await collector.close();
  }
});

Deno.test("without the collector's CA, the export fails and is counted, nothing reaches it", async () => {
  const collector = httpsCollector();
  try {
    const failed = await exportOne({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.url });
    assert.equal(failed, 1);
    assert.equal(collector.exports(), 0);
  } finally {
    await collector.close();
  }
});

Deno.test("a certificate file that cannot be read, or holds a key, leaves tracing off naming the variable", async () => {
  const missing = otlpTraceSettings((name) =>
    ({
      OTEL_EXPORTER_OTLP_ENDPOINT: "https://collector.test:4318",
      OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: "/nonexistent/ca.pem",
    })[name]
  );
  assert.equal(missing.enabled, false);
  assert.match(
    missing.error ?? "",
    /^OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE="\/nonexistent\/ca\.pem": cannot read it: /,
  );
  await withFile(LOCALHOST_KEY, (path) => {
    const key = otlpTraceSettings((name) =>
      ({
        OTEL_EXPORTER_OTLP_ENDPOINT: "https://collector.test:4318",
        OTEL_EXPORTER_OTLP_CERTIFICATE: path,
      })[name]
    );
    assert.equal(key.enabled, false);
    assert.match(key.error ?? "", /OTEL_EXPORTER_OTLP_CERTIFICATE=.*got a private key/);
    assert.ok(!(key.error ?? "").includes(LOCALHOST_KEY.split("\n")[1]));
  });
});
