import assert from "node:assert/strict";
import { epochNanos, nowMs, toRelMs } from "../../../src/observe/otlp/time.ts";

Deno.test("epochNanos keeps whole milliseconds and six digits of the fraction", () => {
  assert.equal(epochNanos(0.25, 1_700_000_000_000.5), "1700000000000750000");
  assert.equal(epochNanos(0, 1_700_000_000_000), "1700000000000000000");
  // The fraction carries into the milliseconds.
  assert.equal(epochNanos(0.75, 1_700_000_000_000.5), "1700000000001250000");
  assert.equal(epochNanos(1234.000001, 1_700_000_000_000), "1700000001234000001");
  // Nanosecond digits below a microsecond survive: a plain sum in a double would lose them.
  assert.equal(epochNanos(0.000123, 1_700_000_000_000.25), "1700000000000250123");
});

Deno.test("epochNanos of now lies between the Date.now() readings around it", () => {
  const before = Date.now();
  const nanos = epochNanos(nowMs());
  const after = Date.now();
  assert.match(nanos, /^[0-9]{19}$/);
  const ms = Number(BigInt(nanos) / 1_000_000n);
  // Span times run on the monotonic clock from performance.timeOrigin; Date.now() is the wall
  // clock, truncated to the millisecond. The two were read apart by a millisecond in a CI run
  // (the monotonic clock is not slewed with the wall clock), so they agree to that millisecond.
  assert.ok(ms >= before - 1 && ms <= after + 1, `${ms} not within [${before - 1}, ${after + 1}]`);
});

Deno.test("toRelMs reads epoch milliseconds, Dates, HrTime and performance.now() readings", () => {
  const epochMs = 1_800_000_000_123;
  const expected = epochNanos(toRelMs(epochMs));
  assert.equal(expected.slice(0, 13), String(epochMs));
  assert.equal(epochNanos(toRelMs(new Date(epochMs))).slice(0, 13), String(epochMs));
  assert.equal(epochNanos(toRelMs([1_800_000_000, 123_000_000])).slice(0, 13), String(epochMs));
  const perf = performance.now();
  assert.equal(toRelMs(perf), perf);
});
