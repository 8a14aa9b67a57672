/**
 * The pieces of mirroring on their own: the exact share, JSON field removal, the streaming body
 * digest, the response comparison and the observed body stream.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  BodyDigest,
  isJsonContentType,
  JSON_CAPTURE_LIMIT,
} from "../../src/traffic/body_digest.ts";
import { ExactShare } from "../../src/traffic/exact_share.ts";
import { compileJsonPaths, removeJsonFields } from "../../src/traffic/json_fields.ts";
import { observeBody } from "../../src/traffic/observed_body.ts";
import {
  headerMap,
  ResponseComparer,
  type ResponseFacts,
} from "../../src/traffic/response_diff.ts";

const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex");
const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("exact share: 10% takes every 10th event, 0.5% every 200th, 100% all, 0% none", () => {
  const taken = (percent: number, n: number) => {
    const share = new ExactShare();
    const out: number[] = [];
    for (let i = 1; i <= n; i++) if (share.take(percent)) out.push(i);
    return out;
  };
  assert.deepEqual(taken(10, 50), [10, 20, 30, 40, 50]);
  assert.deepEqual(taken(25, 12), [4, 8, 12]);
  assert.deepEqual(taken(0.5, 1000), [200, 400, 600, 800, 1000]);
  assert.equal(taken(100, 37).length, 37);
  assert.deepEqual(taken(0, 1000), []);
  assert.equal(taken(33.3333, 30_000).length, 9_999); // exact to the fourth decimal
});

Deno.test("json fields: dotted paths remove nested fields and apply to every array element", () => {
  const value = {
    timestamp: 1,
    keep: true,
    meta: { requestId: "x", version: 2 },
    items: [{ id: 1, at: "a" }, { id: 2, at: "b" }, 3],
    list: [[{ at: 1 }]],
  };
  removeJsonFields(
    value,
    compileJsonPaths(["timestamp", "meta.requestId", "items.at", "list.at", "missing.deep"]),
  );
  assert.deepEqual(value, {
    keep: true,
    meta: { version: 2 },
    items: [{ id: 1 }, { id: 2 }, 3],
    list: [[{}]],
  });
  // Not through a scalar or into inherited properties.
  assert.deepEqual(removeJsonFields({ a: 1 }, compileJsonPaths(["a.b", "toString"])), { a: 1 });
});

Deno.test("json content types are recognised, others are not", () => {
  for (
    const t of [
      "application/json",
      "application/json; charset=utf-8",
      "application/problem+json",
      "text/json",
      "application/vnd.api+json",
    ]
  ) {
    assert.equal(isJsonContentType(t), true, t);
  }
  for (
    const t of [
      null,
      "",
      "text/plain",
      "application/jsonp",
      "application/json-seq",
      "text/html; q=json",
    ]
  ) {
    assert.equal(isJsonContentType(t), false, String(t));
  }
});

Deno.test("body digest: chunked input hashes like the whole; ignored JSON fields are removed first", () => {
  const raw = new BodyDigest(compileJsonPaths([]), true);
  for (const part of ['{"a":', '1,"t":', "2}"]) raw.update(bytes(part));
  assert.deepEqual(raw.finish(), {
    sha256: sha256('{"a":1,"t":2}'),
    bytes: 13,
    jsonStripped: false,
  });

  const strip = (text: string) => {
    const d = new BodyDigest(compileJsonPaths(["t"]), true);
    d.update(bytes(text));
    return d.finish();
  };
  assert.equal(strip('{"a":1,"t":2}').sha256, strip('{"a":1, "t":"other"}').sha256);
  assert.notEqual(strip('{"a":1,"t":2}').sha256, strip('{"a":2,"t":2}').sha256);
  assert.equal(strip('{"a":1,"t":2}').jsonStripped, true);
  // Not JSON after all: hashed as it came.
  assert.deepEqual(strip("{oops"), { sha256: sha256("{oops"), bytes: 5, jsonStripped: false });

  // A body that is not JSON by its content type is never parsed.
  const text = new BodyDigest(compileJsonPaths(["t"]), false);
  text.update(bytes('{"t":1}'));
  assert.equal(text.finish().sha256, sha256('{"t":1}'));
});

Deno.test("body digest: a JSON body over the capture limit is compared byte for byte", () => {
  const big = `{"t":1,"pad":"${"x".repeat(JSON_CAPTURE_LIMIT)}"}`;
  const d = new BodyDigest(compileJsonPaths(["t"]), true);
  const all = bytes(big);
  for (let i = 0; i < all.length; i += 65536) d.update(all.subarray(i, i + 65536));
  assert.deepEqual(d.finish(), { sha256: sha256(all), bytes: all.length, jsonStripped: false });
});

function facts(status: number, headers: string[], body: string): ResponseFacts {
  return {
    status,
    headers: headerMap(headers),
    body: { sha256: sha256(body), bytes: body.length, jsonStripped: false },
  };
}

Deno.test("response comparer: status, named headers and body; values never named", () => {
  const comparer = new ResponseComparer({
    headers: ["content-type", "x-version"],
    ignoreHeaders: ["x-version"],
    ignoreJsonFields: [],
  });
  const a = facts(200, ["content-type", "text/plain", "x-version", "1", "x-other", "1"], "hi");
  assert.deepEqual(
    comparer.compare(a, facts(200, ["Content-Type", "text/plain", "x-version", "2"], "hi")),
    [],
  );
  const diff = comparer.compare(a, facts(500, ["content-type", "text/html"], "oops"));
  assert.deepEqual(diff.map((d) => d.part), ["status", "header", "body"]);
  assert.deepEqual(diff[0], { part: "status", primary: 200, shadow: 500 });
  assert.deepEqual(diff[1], { part: "header", name: "content-type" });
  assert.doesNotMatch(JSON.stringify(diff), /text\/html|text\/plain/);
  assert.deepEqual(diff[2], {
    part: "body",
    primary: `sha256:${sha256("hi")} (2 bytes)`,
    shadow: `sha256:${sha256("oops")} (4 bytes)`,
  });
});

Deno.test('response comparer: "*" compares every header but framing, date, request id and ignored ones', () => {
  const comparer = new ResponseComparer({
    headers: ["*"],
    ignoreHeaders: ["server"],
    ignoreJsonFields: [],
  });
  const a = facts(200, [
    "date",
    "Mon",
    "x-request-id",
    "1",
    "content-length",
    "2",
    "server",
    "a",
    "set-cookie",
    "s=1",
    "set-cookie",
    "t=2",
    "connection",
    "keep-alive",
  ], "hi");
  const same = facts(200, [
    "date",
    "Tue",
    "x-request-id",
    "2",
    "transfer-encoding",
    "chunked",
    "server",
    "b",
    "set-cookie",
    "s=1",
    "set-cookie",
    "t=2",
  ], "hi");
  assert.deepEqual(comparer.compare(a, same), []);
  const extra = facts(200, ["set-cookie", "s=1", "set-cookie", "t=3", "x-new", "1"], "hi");
  assert.deepEqual(comparer.compare(a, extra), [
    { part: "header", name: "set-cookie" },
    { part: "header", name: "x-new" },
  ]);
});

Deno.test("observed body: passes chunks through unchanged and reports the end", async () => {
  const seen: string[] = [];
  let ended = 0;
  const stream = observeBody(ReadableStream.from([bytes("a"), bytes("bc")]), {
    chunk: (c) => seen.push(new TextDecoder().decode(c)),
    end: () => ended++,
    abort: () => assert.fail("not aborted"),
  });
  assert.equal(await new Response(stream).text(), "abc");
  assert.deepEqual(seen, ["a", "bc"]);
  assert.equal(ended, 1);
});

Deno.test("observed body: a consumer that cancels is reported, and the source is cancelled", async () => {
  let sourceCancelled: unknown;
  const source = new ReadableStream<Uint8Array>({
    pull: (c) => c.enqueue(bytes("x")),
    cancel: (reason) => void (sourceCancelled = reason),
  });
  const aborted: unknown[] = [];
  const stream = observeBody(source, {
    chunk: () => {},
    end: () => assert.fail("not ended"),
    abort: (reason) => aborted.push(reason),
  });
  const reader = stream.getReader();
  await reader.read();
  await reader.cancel("client left");
  assert.deepEqual(aborted, ["client left"]);
  assert.equal(sourceCancelled, "client left");
});

Deno.test("observed body: nothing is read before the consumer asks", async () => {
  let pulls = 0;
  const source = new ReadableStream<Uint8Array>({
    pull: (c) => {
      pulls++;
      c.enqueue(bytes("x"));
    },
  }, { highWaterMark: 0 });
  const stream = observeBody(source, { chunk() {}, end() {}, abort() {} });
  await Promise.resolve();
  assert.equal(pulls, 0);
  const reader = stream.getReader();
  await reader.read();
  assert.equal(pulls, 1);
  await reader.cancel();
});
