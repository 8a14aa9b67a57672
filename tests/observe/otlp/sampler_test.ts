import assert from "node:assert/strict";
import type { SpanContext } from "@opentelemetry/api";
import { newTraceId } from "../../../src/observe/otlp/ids.ts";
import { createSampler } from "../../../src/observe/otlp/sampler.ts";

const LOW_ID = "00000000000000010000000000000000";
const HIGH_ID = "ffffffffffffffffffffffffffffffff";
const sampledParent: SpanContext = {
  traceId: HIGH_ID,
  spanId: "00f067aa0ba902b7",
  traceFlags: 1,
  isRemote: true,
};
const unsampledParent: SpanContext = { ...sampledParent, traceFlags: 0 };
const localSampledParent: SpanContext = { ...sampledParent, isRemote: false };
const localUnsampledParent: SpanContext = { ...unsampledParent, isRemote: false };

Deno.test("always_on and always_off ignore the parent", () => {
  const on = createSampler({ kind: "always_on", ratio: 1 });
  const off = createSampler({ kind: "always_off", ratio: 1 });
  assert.equal(on.shouldSample(undefined, HIGH_ID), true);
  assert.equal(on.shouldSample(unsampledParent, HIGH_ID), true);
  assert.equal(off.shouldSample(undefined, LOW_ID), false);
  assert.equal(off.shouldSample(sampledParent, LOW_ID), false);
});

Deno.test("traceidratio decides on the id's low-order random bits", () => {
  const half = createSampler({ kind: "traceidratio", ratio: 0.5 });
  assert.equal(half.shouldSample(undefined, LOW_ID), true);
  assert.equal(half.shouldSample(undefined, HIGH_ID), false);
  // Digits 16..28 decide; the first 16 and the last 3 do not.
  assert.equal(half.shouldSample(undefined, "ffffffffffffffff7fffffffffffffff"), true);
  assert.equal(half.shouldSample(undefined, "00000000000000008000000000000000"), false);
  assert.equal(half.shouldSample(undefined, "0000000000000000000000000000ffff"), true);
  // Ignores the parent's flag.
  assert.equal(half.shouldSample(unsampledParent, LOW_ID), true);
});

Deno.test("traceidratio 1 samples every id and 0 none", () => {
  const all = createSampler({ kind: "traceidratio", ratio: 1 });
  const none = createSampler({ kind: "traceidratio", ratio: 0 });
  assert.equal(all.shouldSample(undefined, HIGH_ID), true);
  assert.equal(none.shouldSample(undefined, "00000000000000000000000000000001"), false);
});

Deno.test("traceidratio samples about the ratio of random ids", () => {
  const tenth = createSampler({ kind: "traceidratio", ratio: 0.1 });
  let sampled = 0;
  for (let i = 0; i < 10_000; i++) {
    const id = newTraceId();
    if (tenth.shouldSample(undefined, id)) sampled++;
  }
  // Binomial(10000, 0.1): the standard deviation is 30; 10 of them apart is never chance.
  assert.ok(sampled > 700 && sampled < 1300, `${sampled} of 10000`);
});

for (const kind of ["parentbased_always_on", "parentbased_always_off"] as const) {
  Deno.test(`${kind} follows a sampled or unsampled parent, remote or local`, () => {
    const sampler = createSampler({ kind, ratio: 1 });
    assert.equal(sampler.shouldSample(sampledParent, HIGH_ID), true);
    assert.equal(sampler.shouldSample(localSampledParent, HIGH_ID), true);
    assert.equal(sampler.shouldSample(unsampledParent, HIGH_ID), false);
    assert.equal(sampler.shouldSample(localUnsampledParent, HIGH_ID), false);
  });
}

Deno.test("parent-based samplers use their root sampler without a parent", () => {
  assert.equal(
    createSampler({ kind: "parentbased_always_on", ratio: 1 }).shouldSample(undefined, HIGH_ID),
    true,
  );
  assert.equal(
    createSampler({ kind: "parentbased_always_off", ratio: 1 }).shouldSample(undefined, LOW_ID),
    false,
  );
  const ratio = createSampler({ kind: "parentbased_traceidratio", ratio: 0.5 });
  assert.equal(ratio.shouldSample(undefined, LOW_ID), true);
  assert.equal(ratio.shouldSample(undefined, HIGH_ID), false);
  // With a parent the id no longer matters.
  assert.equal(ratio.shouldSample(sampledParent, HIGH_ID), true);
  assert.equal(ratio.shouldSample(unsampledParent, LOW_ID), false);
});
