/**
 * Ferry's OTLP trace export configured from the standard `OTEL_*` variables. Reading is strict:
 * a value Ferry cannot honour (another protocol, an unknown sampler, a bad number) is an error
 * naming the variable and its value, so a misconfiguration fails at start-up instead of
 * silently exporting nothing.
 */
import type { OtlpProtocol } from "./span_batch.ts";
import { SAMPLER_KINDS, type SamplerKind, type SamplerSpec } from "./sampler.ts";

/** Everything the exporter, sampler and resource need. */
export interface OtlpTraceSettings {
  /** The URL export requests are POSTed to. */
  endpoint: string;
  headers: Record<string, string>;
  serviceName: string;
  /** `OTEL_RESOURCE_ATTRIBUTES`, decoded (service.name is {@link serviceName}). */
  resourceAttributes: Record<string, string>;
  sampler: SamplerSpec;
  /** `OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL`: `http/protobuf` unless set to `http/json`. */
  protocol: OtlpProtocol;
  maxQueueSize: number;
  maxExportBatchSize: number;
  scheduledDelayMs: number;
  exportTimeoutMs: number;
}

export type OtlpTraceSettingsResult =
  | { enabled: false; error?: undefined }
  | { enabled: true; settings: OtlpTraceSettings }
  | { enabled: false; error: string };

/** Every variable {@link otlpTraceSettings} reads (for `--allow-env`). */
export const OTLP_ENV_VARS = [
  "OTEL_SDK_DISABLED",
  "OTEL_TRACES_EXPORTER",
  "OTEL_EXPORTER_OTLP_ENDPOINT",
  "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
  "OTEL_EXPORTER_OTLP_PROTOCOL",
  "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
  "OTEL_EXPORTER_OTLP_HEADERS",
  "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
  "OTEL_EXPORTER_OTLP_TIMEOUT",
  "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
  "OTEL_SERVICE_NAME",
  "OTEL_RESOURCE_ATTRIBUTES",
  "OTEL_TRACES_SAMPLER",
  "OTEL_TRACES_SAMPLER_ARG",
  "OTEL_BSP_MAX_QUEUE_SIZE",
  "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
  "OTEL_BSP_SCHEDULE_DELAY",
  "OTEL_BSP_EXPORT_TIMEOUT",
] as const;

/** Thrown inside this module only, to turn a bad value into the result's `error`. */
class SettingError extends Error {}

/** Reads the trace export settings through `env` (e.g. `(name) => Deno.env.get(name)`). */
export function otlpTraceSettings(
  env: (name: string) => string | undefined,
): OtlpTraceSettingsResult {
  // The spec treats an empty value like an unset one.
  const read = (name: string): string | undefined => {
    const value = env(name)?.trim();
    return value === "" ? undefined : value;
  };
  try {
    if (read("OTEL_SDK_DISABLED")?.toLowerCase() === "true") return { enabled: false };
    const exporter = read("OTEL_TRACES_EXPORTER");
    if (exporter === "none") return { enabled: false };
    if (exporter !== undefined && exporter !== "otlp") {
      fail("OTEL_TRACES_EXPORTER", exporter, "Ferry exports traces with otlp (or none)");
    }
    const endpoint = readEndpoint(read);
    if (endpoint === undefined) return { enabled: false };

    const protocolVar = read("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") !== undefined
      ? "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
      : "OTEL_EXPORTER_OTLP_PROTOCOL";
    // OTLP's default protocol is http/protobuf; grpc is the one Ferry does not speak.
    const protocol = read(protocolVar) ?? "http/protobuf";
    if (protocol !== "http/protobuf" && protocol !== "http/json") {
      fail(
        protocolVar,
        protocol,
        "Ferry's exporter speaks http/protobuf (the default) or http/json",
      );
    }

    const resourceAttributes = readPairs(read, "OTEL_RESOURCE_ATTRIBUTES");
    const serviceName = read("OTEL_SERVICE_NAME") ?? resourceAttributes["service.name"] ??
      "ferry";
    delete resourceAttributes["service.name"];

    const maxQueueSize = readPositiveInt(read, "OTEL_BSP_MAX_QUEUE_SIZE", 2048);
    const maxExportBatchSize = readPositiveInt(read, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512);
    if (maxExportBatchSize > maxQueueSize) {
      fail(
        "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
        String(maxExportBatchSize),
        `a batch cannot exceed the queue (OTEL_BSP_MAX_QUEUE_SIZE=${maxQueueSize})`,
      );
    }
    // The exporter has one bound per request; the batch processor's wins when both are set.
    const otlpTimeout = readPositiveInt(
      read,
      "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
      readPositiveInt(read, "OTEL_EXPORTER_OTLP_TIMEOUT", 10_000),
    );
    return {
      enabled: true,
      settings: {
        endpoint,
        headers: {
          ...readPairs(read, "OTEL_EXPORTER_OTLP_HEADERS"),
          ...readPairs(read, "OTEL_EXPORTER_OTLP_TRACES_HEADERS"),
        },
        serviceName,
        resourceAttributes,
        sampler: readSampler(read),
        protocol,
        maxQueueSize,
        maxExportBatchSize,
        scheduledDelayMs: readPositiveInt(read, "OTEL_BSP_SCHEDULE_DELAY", 5000),
        exportTimeoutMs: readPositiveInt(read, "OTEL_BSP_EXPORT_TIMEOUT", otlpTimeout),
      },
    };
  } catch (e) {
    if (e instanceof SettingError) return { enabled: false, error: e.message };
    throw e;
  }
}

type Read = (name: string) => string | undefined;

function fail(name: string, value: string, why: string): never {
  throw new SettingError(`${name}=${JSON.stringify(value)}: ${why}`);
}

/** The traces URL: the signal-specific variable as it is, or the base one plus `/v1/traces`. */
function readEndpoint(read: Read): string | undefined {
  let name = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
  let value = read(name);
  let endpoint = value;
  if (value === undefined) {
    name = "OTEL_EXPORTER_OTLP_ENDPOINT";
    value = read(name);
    if (value === undefined) return undefined;
    endpoint = `${value.replace(/\/+$/, "")}/v1/traces`;
  }
  let url: URL | undefined;
  try {
    url = new URL(endpoint!);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
    fail(name, value, "not an http(s) URL");
  }
  return endpoint;
}

/** `k=v,k2=v2` with URL-encoded keys and values (headers, resource attributes). */
function readPairs(read: Read, name: string): Record<string, string> {
  const raw = read(name);
  const out: Record<string, string> = {};
  if (raw === undefined) return out;
  for (const entry of raw.split(",")) {
    if (entry.trim() === "") continue; // a trailing comma is harmless
    const eq = entry.indexOf("=");
    if (eq < 0) fail(name, raw, `"${entry.trim()}" is not key=value`);
    let key: string;
    let value: string;
    try {
      key = decodeURIComponent(entry.slice(0, eq).trim());
      value = decodeURIComponent(entry.slice(eq + 1).trim());
    } catch {
      fail(name, raw, `"${entry.trim()}" is not valid URL encoding`);
    }
    if (key === "") fail(name, raw, `"${entry.trim()}" has an empty key`);
    out[key] = value;
  }
  return out;
}

function readPositiveInt(read: Read, name: string, fallback: number): number {
  const raw = read(name);
  if (raw === undefined) return fallback;
  const value = /^[0-9]+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value <= 0) fail(name, raw, "not a positive integer");
  return value;
}

function readSampler(read: Read): SamplerSpec {
  const kind = read("OTEL_TRACES_SAMPLER") ?? "parentbased_always_on";
  if (!(SAMPLER_KINDS as readonly string[]).includes(kind)) {
    fail("OTEL_TRACES_SAMPLER", kind, `Ferry knows ${SAMPLER_KINDS.join(", ")}`);
  }
  let ratio = 1;
  const arg = read("OTEL_TRACES_SAMPLER_ARG");
  // Only the ratio samplers take an argument; the spec says to ignore it for the others.
  if (kind.endsWith("traceidratio") && arg !== undefined) {
    ratio = /^[0-9.eE+-]+$/.test(arg) ? Number(arg) : NaN;
    if (!(ratio >= 0 && ratio <= 1)) {
      fail("OTEL_TRACES_SAMPLER_ARG", arg, "the sampling ratio must be a number in [0, 1]");
    }
  }
  return { kind: kind as SamplerKind, ratio };
}
