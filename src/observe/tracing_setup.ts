/**
 * Chooses the gateway's trace sink from the environment, once per gateway:
 *
 * - `OTEL_DENO=true`: Deno's built-in exporter (traces, plus Deno's own metrics and logs; it
 *   instruments `Deno.serve` and `fetch` itself, which costs throughput even with sampling off).
 * - else an OTLP endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`):
 *   Ferry's own pipeline (`src/observe/otlp/`), traces only, OTLP/HTTP protobuf or JSON, made
 *   to cost little at a gateway's request rates.
 * - else tracing is off.
 *
 * A variable the process may not read (no `--allow-env` for it) counts as unset, and a bad value
 * leaves tracing off with an error in the log that names the variable: telemetry never keeps a
 * gateway from serving.
 */
import type { Logger } from "./logger.ts";
import { installOtlpTracing } from "./otlp/install.ts";
import { otlpTraceSettings } from "./otlp/settings.ts";
import { Tracing } from "./tracing.ts";

/** The gateway's tracing as the environment asks for it. */
export function tracingFromEnvironment(
  env: (name: string) => string | undefined,
  logger: Logger,
): Tracing {
  const read = (name: string) => {
    try {
      return env(name);
    } catch {
      return undefined; // not permitted to read it: as if unset
    }
  };
  // As Deno reads them (case-insensitive, untrimmed): with OTEL_DENO=TRUE Deno exports, and a
  // second exporter here would send every request twice; with OTEL_SDK_DISABLED=true it does not,
  // and tracing through its absent tracer would strip the caller's trace headers.
  if (isTrue(read("OTEL_SDK_DISABLED"))) return new Tracing(false);
  if (isTrue(read("OTEL_DENO"))) return new Tracing(true);
  const found = otlpTraceSettings(read);
  if ("error" in found && found.error !== undefined) {
    logger.log("error", "tracing is off: the OpenTelemetry settings are invalid", {
      error: found.error,
    });
    return new Tracing(false);
  }
  if (!found.enabled) return new Tracing(false);
  return new Tracing(true, installOtlpTracing(found.settings));
}

/** A boolean variable's "true", which the OpenTelemetry spec reads case-insensitively. */
function isTrue(value: string | undefined): boolean {
  return value?.toLowerCase() === "true";
}
