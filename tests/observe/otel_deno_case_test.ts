/**
 * Ferry must read `OTEL_DENO` and `OTEL_SDK_DISABLED` as Deno does (case-insensitively, as the
 * OpenTelemetry spec reads booleans), since Deno's built-in exporter follows them:
 *
 * - `OTEL_DENO=TRUE` turns Deno's exporter on. Ferry must leave the tracing to it; installing its
 *   own exporter as well exports each request twice, as two server spans.
 * - `OTEL_SDK_DISABLED=true` keeps Deno's exporter off even with `OTEL_DENO=true`. Ferry must not
 *   trace through Deno's absent tracer, which strips the caller's trace headers: it traces
 *   nothing, and they pass through.
 *
 * Ferry runs as a real process (Deno reads these variables at start-up) exporting OTLP/HTTP JSON
 * to a receiver here; spans are read after SIGTERM, when every exporter has sent all it holds.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startUpstream, type TestUpstream } from "../helpers/gateway.ts";
import {
  describeSpan,
  type OtlpReceiver,
  SPAN_KIND,
  startOtlpReceiver,
} from "../helpers/otlp_receiver.ts";
import { DenoProcess, MOD_TS, SERVE_FLAGS, SERVING_LINE, withTempDir } from "../helpers/process.ts";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

/**
 * Starts Ferry with `env` (and an OTLP endpoint at a receiver) in front of an "ok" upstream,
 * sends one request with {@link TRACEPARENT}, stops Ferry with SIGTERM, and hands what the
 * receiver and the upstream got to `check`.
 */
async function oneTracedRequest(
  env: Record<string, string>,
  check: (receiver: OtlpReceiver, api: TestUpstream) => void,
): Promise<void> {
  await withTempDir(async (dir) => {
    const receiver = startOtlpReceiver();
    const api = startUpstream(() => new Response("ok"));
    const file = join(dir, "ferry.config.ts");
    const config = {
      listen: { hostname: "127.0.0.1", port: 0 },
      admin: { hostname: "127.0.0.1", port: 0 },
      upstreams: { api: { targets: [api.url] } },
      routes: [{ name: "all", upstream: "api" }],
    };
    await Deno.writeTextFile(file, `export default ${JSON.stringify(config)};\n`);
    const proc = new DenoProcess(["run", ...SERVE_FLAGS, MOD_TS, "start", "--config", file], {
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_SERVICE_NAME: "ferry-test",
        ...env,
      },
    });
    try {
      const line = await proc.waitForStderr(SERVING_LINE, 60_000);
      const { url } = JSON.parse(`{${line[0]}`) as { url: string };
      const res = await fetch(`${url}/x`, { headers: { traceparent: TRACEPARENT } });
      await res.body?.cancel();
      assert.equal(res.status, 200);
      proc.signal("SIGTERM");
      const exit = await proc.waitForExit(20_000);
      assert.equal(exit.code, 0, proc.stderr);
      check(receiver, api);
    } finally {
      await proc.dispose();
      await Promise.all([receiver.close(), api.close()]);
    }
  });
}

Deno.test("OTEL_DENO=TRUE leaves tracing to Deno: one server span per request", async () => {
  await oneTracedRequest({ OTEL_DENO: "TRUE" }, (receiver) => {
    const servers = receiver.spans.filter((s) =>
      s.traceId === TRACE_ID && s.kind === SPAN_KIND.server
    );
    assert.equal(servers.length, 1, servers.map(describeSpan).join("\n"));
    assert.equal(servers[0].name, "GET all");
  });
});

Deno.test("OTEL_SDK_DISABLED=true with OTEL_DENO=true: no spans, trace headers pass through", async () => {
  await oneTracedRequest({ OTEL_DENO: "true", OTEL_SDK_DISABLED: "true" }, (receiver, api) => {
    assert.equal(receiver.spans.length, 0, receiver.spans.map(describeSpan).join("\n"));
    assert.equal(api.received.length, 1);
    assert.equal(api.received[0].headers.get("traceparent"), TRACEPARENT);
  });
});
