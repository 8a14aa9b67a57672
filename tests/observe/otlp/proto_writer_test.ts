/** The protobuf writer's bytes against hand-worked encodings from the protobuf wire format spec. */
import assert from "node:assert/strict";
import { ProtoWriter, varintSize } from "../../../src/observe/otlp/proto_writer.ts";

/** What `write` writes, as space-separated hex bytes. */
function hex(write: (w: ProtoWriter) => void): string {
  const w = new ProtoWriter(4); // tiny, so every test also grows the buffer
  write(w);
  return [...w.bytes()].map((b) => b.toString(16).padStart(2, "0")).join(" ");
}

Deno.test("varints, negative int64, bools, fixed widths and doubles", () => {
  assert.equal(hex((w) => w.uint(1, 150)), "08 96 01");
  assert.equal(hex((w) => w.uint(1, 2 ** 53 - 1)), "08 ff ff ff ff ff ff ff 0f");
  assert.equal(hex((w) => w.int64(3, -1)), "18 ff ff ff ff ff ff ff ff ff 01");
  assert.equal(hex((w) => w.bool(2, true)), "10 01");
  assert.equal(hex((w) => w.fixed32(16, 1)), "85 01 01 00 00 00");
  assert.equal(hex((w) => w.fixed64(7, 0x04030201, 0x08070605)), "39 01 02 03 04 05 06 07 08");
  assert.equal(hex((w) => w.double(4, 1)), "21 00 00 00 00 00 00 f0 3f");
});

Deno.test("strings are UTF-8 with their byte length, ids are bytes from hex", () => {
  assert.equal(hex((w) => w.string(2, "testing")), "12 07 74 65 73 74 69 6e 67");
  assert.equal(hex((w) => w.string(1, "é🚀")), "0a 06 c3 a9 f0 9f 9a 80");
  assert.equal(hex((w) => w.hex(2, "00ff7a")), "12 03 00 ff 7a");
});

Deno.test("nested messages get their exact length, however long, and nest", () => {
  const short = hex((w) => {
    const at = w.begin(3);
    w.uint(1, 150);
    w.end(at);
  });
  assert.equal(short, "1a 03 08 96 01");
  const long = hex((w) => {
    const outer = w.begin(1);
    const inner = w.begin(2);
    w.string(1, "x".repeat(300));
    w.end(inner);
    w.end(outer);
  });
  // string: 0a ac 02 + 300 bytes = 303; inner: 12 af 02 + 303 = 306; outer: 0a b2 02 + 306.
  assert.ok(long.startsWith("0a b2 02 12 af 02 0a ac 02 78"));
  assert.equal(long.split(" ").length, 309);
});

Deno.test("truncate drops a half-written message", () => {
  const written = hex((w) => {
    w.uint(1, 1);
    const before = w.length;
    w.begin(2);
    w.string(1, "half");
    w.truncate(before);
    w.uint(3, 2);
  });
  assert.equal(written, "08 01 18 02");
});

Deno.test("a field written from a known size matches one written with begin/end", () => {
  const known = hex((w) => {
    w.header(9, 2 + 4 + 2 + 2 + 3);
    w.header(1, 4);
    assert.ok(w.ascii("http"));
    w.header(2, 2 + 3);
    w.header(1, 3);
    assert.ok(w.ascii("GET"));
  });
  const nested = hex((w) => {
    const kv = w.begin(9);
    w.string(1, "http");
    const any = w.begin(2);
    w.string(1, "GET");
    w.end(any);
    w.end(kv);
  });
  assert.equal(known, nested);
  const w = new ProtoWriter(4);
  assert.equal(w.ascii("GET /"), true);
  assert.equal(w.length, 5);
  assert.equal(w.ascii("café"), false); // the caller truncates what was written
  assert.deepEqual([0, 127, 128, 2 ** 32, 2 ** 53 - 1].map(varintSize), [1, 1, 2, 5, 8]);
});
