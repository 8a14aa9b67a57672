/**
 * Head sampling decisions, from the `OTEL_TRACES_SAMPLER` vocabulary. A decision is a plain
 * boolean (record and export, or only propagate), taken once per span on the request path.
 */
import type { SpanContext } from "@opentelemetry/api";

/** The samplers of `OTEL_TRACES_SAMPLER` that Ferry implements. */
export const SAMPLER_KINDS = [
  "always_on",
  "always_off",
  "traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio",
] as const;

export type SamplerKind = typeof SAMPLER_KINDS[number];

/** A sampler's configuration; `ratio` (in [0, 1]) only matters to the `traceidratio` kinds. */
export interface SamplerSpec {
  kind: SamplerKind;
  ratio: number;
}

/** Decides whether a new span is sampled. */
export interface SpanSampler {
  /** `parent` is the valid parent span context, or undefined for a root span. */
  shouldSample(parent: SpanContext | undefined, traceId: string): boolean;
}

const ALWAYS_ON: SpanSampler = { shouldSample: () => true };
const ALWAYS_OFF: SpanSampler = { shouldSample: () => false };

/**
 * Samples a fraction of traces by their id, so every service with the same ratio keeps the same
 * traces. It reads the id's low-order 52 bits below the top 12 of the last 64 (hex digits 16 to
 * 28), which W3C Trace Context level 2 makes random, as opentelemetry-rust does; 52 bits keep the
 * comparison exact in a double.
 */
class TraceIdRatioSampler implements SpanSampler {
  readonly #threshold: number;

  constructor(ratio: number) {
    this.#threshold = ratio * 2 ** 52;
  }

  shouldSample(_parent: SpanContext | undefined, traceId: string): boolean {
    return parseInt(traceId.slice(16, 29), 16) < this.#threshold;
  }
}

/** Follows a parent's sampled flag, local or remote alike; roots go to `root`. */
class ParentBasedSampler implements SpanSampler {
  readonly #root: SpanSampler;

  constructor(root: SpanSampler) {
    this.#root = root;
  }

  shouldSample(parent: SpanContext | undefined, traceId: string): boolean {
    if (parent === undefined) return this.#root.shouldSample(undefined, traceId);
    return (parent.traceFlags & 1) === 1;
  }
}

/** The sampler for `spec`. */
export function createSampler(spec: SamplerSpec): SpanSampler {
  switch (spec.kind) {
    case "always_on":
      return ALWAYS_ON;
    case "always_off":
      return ALWAYS_OFF;
    case "traceidratio":
      return new TraceIdRatioSampler(spec.ratio);
    case "parentbased_always_on":
      return new ParentBasedSampler(ALWAYS_ON);
    case "parentbased_always_off":
      return new ParentBasedSampler(ALWAYS_OFF);
    case "parentbased_traceidratio":
      return new ParentBasedSampler(new TraceIdRatioSampler(spec.ratio));
  }
}
