import assert from "node:assert/strict";
import { isoTime } from "../../src/observe/iso_time.ts";

Deno.test("isoTime: the same text as toISOString, across millisecond, second, day and year edges", () => {
  const starts = [
    Date.UTC(2026, 10, 22, 22, 30, 0, 0),
    Date.UTC(2026, 11, 31, 23, 59, 59, 990), // into a new year
    Date.UTC(2028, 1, 28, 23, 59, 59, 995), // a leap day follows
    0,
    -1500, // before the epoch
    Date.UTC(10000, 0, 1), // a six-digit, signed year
  ];
  for (const start of starts) {
    for (let ms = start; ms < start + 1200; ms++) {
      assert.equal(isoTime(ms), new Date(ms).toISOString(), `at ${ms}`);
      assert.equal(isoTime(ms), new Date(ms).toISOString(), `again at ${ms}`);
    }
  }
});

Deno.test("isoTime: without an argument, now", () => {
  const before = Date.now();
  const text = isoTime();
  const after = Date.now();
  const ms = Date.parse(text);
  assert.ok(ms >= before && ms <= after, `${text} is between ${before} and ${after}`);
});
