/** The protobuf writer's bytes against hand-worked encodings from the protobuf wire format spec. */
import assert from "node:assert/strict";
import { ProtoWriter, varintSize } from "../../../src/observe/otlp/proto_writer.ts";

function bytes(write: (w: ProtoWriter) => void): number[] {
  const w = new ProtoWriter(4); // tiny, so every test also grows the buffer
  write(w);
  return [...w.bytes()];
}

Deno.test("varints, negative int64, bools, fixed widths and doubles", () => {
  assert.deepEqual(bytes((w) => w.uint(1, 150)), [0x08, 0x96, 0x01]);
  assert.deepEqual(bytes((w) => w.uint(1, 2 ** 53 - 1)), [
    0x08,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0x0f,
  ]);
  assert.deepEqual(bytes((w) => w.int64(3, -1)), [
    0x18,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0x01,
  ]);
  assert.deepEqual(bytes((w) => w.bool(2, true)), [0x10, 0x01]);
  assert.deepEqual(bytes((w) => w.fixed32(16, 1)), [0x85, 0x01, 1, 0, 0, 0]);
  assert.deepEqual(bytes((w) => w.fixed64(7, 0x04030201, 0x08070605)), [
    0x39,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
  ]);
  assert.deepEqual(bytes((w) => w.double(4, 1)), [0x21, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f]);
});

Deno.test("strings are UTF-8 with their byte length, ids are bytes from hex", () => {
  assert.deepEqual(bytes((w) => w.string(2, "testing")), [
    0x12,
    0x07,
    0x74,
    0x65,
    0x73,
    0x74,
    0x69,
    0x6e,
    0x67,
  ]);
  assert.deepEqual(bytes((w) => w.string(1, "é🚀")), [
    0x0a,
    0x06,
    0xc3,
    0xa9,
    0xf0,
    0x9f,
    0x9a,
    0x80,
  ]);
  assert.deepEqual(bytes((w) => w.hex(2, "00ff7a")), [0x12, 0x03, 0x00, 0xff, 0x7a]);
});

Deno.test("nested messages get their exact length, however long, and nest", () => {
  const short = bytes((w) => {
    const at = w.begin(3);
    w.uint(1, 150);
    w.end(at);
  });
  assert.deepEqual(short, [0x1a, 0x03, 0x08, 0x96, 0x01]);
  const long = bytes((w) => {
    const outer = w.begin(1);
    const inner = w.begin(2);
    w.string(1, "x".repeat(300));
    w.end(inner);
    w.end(outer);
  });
  // string: 0a ac 02 + 300 bytes = 303; inner: 12 af 02 + 303 = 306; outer: 0a b2 02 + 306.
  assert.deepEqual(long.slice(0, 9), [0x0a, 0xb2, 0x02, 0x12, 0xaf, 0x02, 0x0a, 0xac, 0x02]);
  assert.equal(long.length, 309);
});

Deno.test("truncate drops a half-written message", () => {
  const w = new ProtoWriter(4);
  w.uint(1, 1);
  const before = w.length;
  const at = w.begin(2);
  w.string(1, "half");
  void at;
  w.truncate(before);
  w.uint(3, 2);
  assert.deepEqual([...w.bytes()], [0x08, 0x01, 0x18, 0x02]);
});

Deno.test("a field written from a known size matches one written with begin/end", () => {
  const known = bytes((w) => {
    w.header(9, 2 + 4 + 2 + 2 + 3);
    w.header(1, 4);
    assert.ok(w.ascii("http"));
    w.header(2, 2 + 3);
    w.header(1, 3);
    assert.ok(w.ascii("GET"));
  });
  const nested = bytes((w) => {
    const kv = w.begin(9);
    w.string(1, "http");
    const any = w.begin(2);
    w.string(1, "GET");
    w.end(any);
    w.end(kv);
  });
  assert.deepEqual(known, nested);
  const w = new ProtoWriter(4);
  assert.equal(w.ascii("GET /"), true);
  assert.equal(w.length, 5);
  assert.equal(w.ascii("café"), false); // the caller truncates what was written
  assert.deepEqual([0, 127, 128, 2 ** 32, 2 ** 53 - 1].map(varintSize), [1, 1, 2, 5, 8]);
});
