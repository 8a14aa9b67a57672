/**
 * Ferry's OTLP trace export configured from the standard `OTEL_*` variables. Reading is strict:
 * a value Ferry cannot honour (another protocol, an unknown sampler, a bad number) is an error
 * naming the variable and its value, so a misconfiguration fails at start-up instead of
 * silently exporting nothing.
 */
import { caCertificateProblem } from "../../config/ca_certificate.ts";
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
  /** `OTEL_EXPORTER_OTLP_[TRACES_]CERTIFICATE`'s PEM: roots for an `https:` collector. */
  caCerts: string[];
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
  "OTEL_EXPORTER_OTLP_CERTIFICATE",
  "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
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

/**
 * Reads the trace export settings through `env` (e.g. `(name) => Deno.env.get(name)`), and the
 * certificate file a `*_CERTIFICATE` variable names through `readFile`.
 */
export function otlpTraceSettings(
  env: (name: string) => string | undefined,
  readFile: (path: string) => string = Deno.readTextFileSync,
): OtlpTraceSettingsResult {
  // The spec treats an empty value like an unset one.
  const read = (name: string): string | undefined => {
    const value = env(name)?.trim();
    return value === "" ? undefined : value;
  };
  // The spec reads enum values (exporter, protocol, sampler) case-insensitively: `OTLP`,
  // `HTTP/JSON` or `ParentBased_TraceIdRatio` must not leave tracing off.
  const readEnum = (name: string): string | undefined => read(name)?.toLowerCase();
  try {
    if (read("OTEL_SDK_DISABLED")?.toLowerCase() === "true") return { enabled: false };
    const exporter = readEnum("OTEL_TRACES_EXPORTER");
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
    const protocol = readEnum(protocolVar) ?? "http/protobuf";
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
          ...readHeaders(read, "OTEL_EXPORTER_OTLP_HEADERS"),
          ...readHeaders(read, "OTEL_EXPORTER_OTLP_TRACES_HEADERS"),
        },
        serviceName,
        resourceAttributes,
        sampler: readSampler(read, readEnum),
        protocol,
        maxQueueSize,
        maxExportBatchSize,
        scheduledDelayMs: readPositiveInt(read, "OTEL_BSP_SCHEDULE_DELAY", 5000),
        exportTimeoutMs: readPositiveInt(read, "OTEL_BSP_EXPORT_TIMEOUT", otlpTimeout),
        caCerts: readCertificate(read, readFile),
      },
    };
  } catch (e) {
    if (e instanceof SettingError) return { enabled: false, error: e.message };
    throw e;
  }
}

type Read = (name: string) => string | undefined;

/**
 * The trusted certificate file the spec's `OTEL_EXPORTER_OTLP_[TRACES_]CERTIFICATE` names (PEM),
 * for a collector whose certificate a private CA signed. Read once, at start-up: it needs
 * `--allow-read` for that file.
 */
function readCertificate(read: Read, readFile: (path: string) => string): string[] {
  const name = read("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE") !== undefined
    ? "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE"
    : "OTEL_EXPORTER_OTLP_CERTIFICATE";
  const path = read(name);
  if (path === undefined) return [];
  let pem: string;
  try {
    pem = readFile(path);
  } catch (e) {
    fail(name, path, `cannot read it: ${e instanceof Error ? e.message : String(e)}`);
  }
  const problem = caCertificateProblem(pem);
  if (problem !== undefined) fail(name, path, problem);
  return [pem];
}

function fail(name: string, value: string, why: string): never {
  throw new SettingError(`${name}=${JSON.stringify(value)}: ${why}`);
}

/**
 * The traces URL: the signal-specific variable as it is, or the base one with `/v1/traces`
 * appended to its path (before any query).
 */
function readEndpoint(read: Read): string | undefined {
  let name = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
  let value = read(name);
  const signalSpecific = value !== undefined;
  if (!signalSpecific) {
    name = "OTEL_EXPORTER_OTLP_ENDPOINT";
    value = read(name);
    if (value === undefined) return undefined;
  }
  let url: URL | undefined;
  try {
    url = new URL(value!);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
    // A value with "@" may hold a password (`user:pw@host`): it stays out of the logged message.
    if (value!.includes("@")) throw new SettingError(`${name}: not an http(s) URL`);
    fail(name, value!, "not an http(s) URL");
  }
  if (url.username !== "" || url.password !== "") {
    // Neither HTTP client sends URL credentials: the collector would refuse every export while
    // tracing looks on. The value stays out of the message, which is logged: it has a password.
    throw new SettingError(
      `${name}: credentials in the URL are not sent; ` +
        "give them as OTEL_EXPORTER_OTLP_HEADERS=authorization=Basic%20<base64> instead",
    );
  }
  if (!signalSpecific) url.pathname = `${url.pathname.replace(/\/+$/, "")}/v1/traces`;
  return signalSpecific ? value : url.href;
}

/**
 * `k=v,k2=v2` with URL-encoded keys and values (headers, resource attributes). Its errors name
 * the variable and the entry's position, never the text: these variables carry credentials
 * (`authorization=Bearer%20...`), the error reaches the log, and a malformed entry may be a bare
 * secret whose key was forgotten.
 */
function readPairs(read: Read, name: string): Record<string, string> {
  const raw = read(name);
  const out: Record<string, string> = {};
  if (raw === undefined) return out;
  const entries = raw.split(",");
  const bad = (index: number, why: string): never => {
    throw new SettingError(`${name}: entry ${index + 1} of ${entries.length} ${why}`);
  };
  entries.forEach((entry, index) => {
    if (entry.trim() === "") return; // a trailing comma is harmless
    const eq = entry.indexOf("=");
    if (eq < 0) bad(index, "is not key=value");
    let key = "";
    let value = "";
    try {
      key = decodeURIComponent(entry.slice(0, eq).trim());
      value = decodeURIComponent(entry.slice(eq + 1).trim());
    } catch {
      bad(index, "is not valid URL encoding (a % must start an escape like %20)");
    }
    if (key === "") bad(index, "has an empty key");
    out[key] = value;
  });
  return out;
}

/** An RFC 9110 token: what a field name may be. */
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** What a field value may not hold: controls (but HTAB), DEL, anything beyond Latin-1. */
// deno-lint-ignore no-control-regex -- matching control characters is the point
const NOT_FIELD_VALUE = /[\x00-\x08\x0a-\x1f\x7f\u0100-\uffff]/;

/**
 * Export request headers, names lower-cased. Percent-decoding can yield what HTTP cannot carry (a space or a colon
 * in a name, a line break in a value, a non-Latin-1 character); the HTTP clients refuse such a
 * header on every request, so it is refused here, once, where the error reaches the log.
 */
function readHeaders(read: Read, name: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(readPairs(read, name))) {
    // These errors leave the value out: it reaches the log, and headers carry credentials.
    if (!FIELD_NAME.test(key)) {
      throw new SettingError(`${name}: ${JSON.stringify(key)} is not a valid HTTP header name`);
    }
    if (NOT_FIELD_VALUE.test(value)) {
      throw new SettingError(
        `${name}: the value of header ${key} has a character HTTP cannot carry ` +
          "(a line break, another control character, or one beyond Latin-1)",
      );
    }
    // Names are case-insensitive: lower-cased, a traces-specific `authorization` replaces a
    // general `Authorization` instead of both going out as one folded, invalid credential.
    headers[key.toLowerCase()] = value;
  }
  return headers;
}

function readPositiveInt(read: Read, name: string, fallback: number): number {
  const raw = read(name);
  if (raw === undefined) return fallback;
  const value = /^[0-9]+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value <= 0) fail(name, raw, "not a positive integer");
  return value;
}

function readSampler(read: Read, readEnum: Read): SamplerSpec {
  const kind = readEnum("OTEL_TRACES_SAMPLER") ?? "parentbased_always_on";
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
