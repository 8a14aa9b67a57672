import assert from "node:assert/strict";
import { SPAN_KIND, startOtlpReceiver } from "../../helpers/otlp_receiver.ts";
import { OTLP_ENV_VARS } from "../../../src/observe/otlp/install.ts";

Deno.test("installOtlpTracing makes the global api trace, propagate and export (subprocess)", async () => {
  const receiver = startOtlpReceiver();
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--allow-net=127.0.0.1",
        `--allow-env=${OTLP_ENV_VARS.join(",")}`,
        new URL("./install_child.ts", import.meta.url).pathname,
      ],
      clearEnv: true,
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_SERVICE_NAME: "ferry-install-test",
        ...inherited("PATH", "HOME", "DENO_DIR"),
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, stderr);
    const report = JSON.parse(new TextDecoder().decode(output.stdout));
    assert.equal(report.sameInstance, true);
    assert.deepEqual(report.registered, {
      contextManager: true,
      propagator: true,
      tracerProvider: true,
    });
    assert.equal(report.exported, 2);

    const spans = await receiver.waitFor("2 spans", (s) => s.length === 2 ? s : undefined);
    const server = spans.find((s) => s.kind === SPAN_KIND.server)!;
    const client = spans.find((s) => s.kind === SPAN_KIND.client)!;
    assert.equal(server.service, "ferry-install-test");
    assert.equal(server.traceId, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert.equal(server.parentSpanId, "00f067aa0ba902b7");
    assert.equal(client.parentSpanId, server.spanId); // active across the await
    assert.equal(report.injected.traceparent, `00-${server.traceId}-${client.spanId}-01`);
  } finally {
    await receiver.close();
  }
});

/** The named variables of this process that are set (so the child finds Deno's cache). */
function inherited(...names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = Deno.env.get(name);
    if (value !== undefined) out[name] = value;
  }
  return out;
}
