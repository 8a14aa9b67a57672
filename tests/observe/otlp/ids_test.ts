import assert from "node:assert/strict";
import { BYTE_HEX, newSpanId, newTraceId } from "../../../src/observe/otlp/ids.ts";

Deno.test("trace ids are 32 lower-case hex digits, non-zero and unique across pool refills", () => {
  const seen = new Set<string>();
  // 1000 trace ids take 16000 bytes: the 4 KiB pool is refilled several times.
  for (let i = 0; i < 1000; i++) {
    const id = newTraceId();
    assert.match(id, /^[0-9a-f]{32}$/);
    assert.notEqual(id, "0".repeat(32));
    seen.add(id);
  }
  assert.equal(seen.size, 1000);
});

Deno.test("span ids are 16 lower-case hex digits, non-zero and unique", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const id = newSpanId();
    assert.match(id, /^[0-9a-f]{16}$/);
    assert.notEqual(id, "0".repeat(16));
    seen.add(id);
  }
  assert.equal(seen.size, 1000);
});

Deno.test("ids use every hex digit (the bytes really are random, not a fixed pattern)", () => {
  let all = "";
  for (let i = 0; i < 200; i++) all += newTraceId() + newSpanId();
  for (const digit of "0123456789abcdef") assert.ok(all.includes(digit), `digit ${digit}`);
});

Deno.test("the byte table spells each byte as two lower-case hex digits", () => {
  assert.equal(BYTE_HEX.length, 256);
  assert.equal(BYTE_HEX[0], "00");
  assert.equal(BYTE_HEX[10], "0a");
  assert.equal(BYTE_HEX[171], "ab");
  assert.equal(BYTE_HEX[255], "ff");
});
