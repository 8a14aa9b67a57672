/**
 * The OpenTelemetry environment spec reads enum values case-insensitively: a gateway configured
 * with `OTEL_TRACES_EXPORTER=OTLP`, `OTEL_EXPORTER_OTLP_PROTOCOL=HTTP/JSON` and
 * `OTEL_TRACES_SAMPLER=ALWAYS_ON` traces as it would with the lower-case spellings, instead of
 * logging an error and leaving tracing off.
 *
 * The gateway runs in this process (Ferry's pipeline is installed once per process, so this file
 * holds one gateway test) and exports to a real OTLP receiver when it closes.
 */
import assert from "node:assert/strict";
import { startTestGateway, startUpstream } from "../../helpers/gateway.ts";
import { SPAN_KIND, startOtlpReceiver } from "../../helpers/otlp_receiver.ts";

Deno.test("upper-case exporter, protocol and sampler values still turn tracing on", async () => {
  const receiver = startOtlpReceiver();
  const api = startUpstream(() => new Response("ok"));
  try {
    const gw = await startTestGateway({
      upstreams: { api: { targets: [api.url] } },
      routes: [{ name: "all", upstream: "api" }],
    }, {
      admin: false,
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_TRACES_EXPORTER: "OTLP",
        OTEL_EXPORTER_OTLP_PROTOCOL: "HTTP/JSON",
        // An unsampled caller: only always_on (not the parent-based default) records this trace.
        OTEL_TRACES_SAMPLER: "ALWAYS_ON",
      },
    });
    try {
      const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
      const res = await fetch(`${gw.url}/x`, {
        headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-00` },
      });
      await res.body?.cancel();
      assert.equal(res.status, 200);
    } finally {
      await gw.close(); // exports what the gateway's tracing holds
    }
    assert.deepEqual(gw.logger.lines.filter((e) => e.level === "error"), []);
    const server = receiver.spans.find((span) => span.kind === SPAN_KIND.server);
    assert.ok(server, "the gateway exported its server span");
    assert.equal(server.traceId, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert.ok(receiver.contentTypes.length > 0);
    for (const type of receiver.contentTypes) assert.equal(type, "application/json");
  } finally {
    await api.close();
    await receiver.close();
  }
});
