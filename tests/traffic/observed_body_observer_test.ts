/**
 * The observer of a body only watches: when its own code throws (hashing or parsing the
 * primary's body for a mirror diff), the client's body must still arrive whole and close.
 */
import assert from "node:assert/strict";
import { observeBody } from "../../src/traffic/observed_body.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("observed body: an observer whose chunk() throws is told abort once; the body flows on", async () => {
  const events: string[] = [];
  const stream = observeBody(ReadableStream.from([bytes("a"), bytes("b"), bytes("c")]), {
    chunk: () => {
      events.push("chunk");
      throw new Error("observer bug");
    },
    end: () => events.push("end"),
    abort: (reason) => events.push(`abort: ${(reason as Error).message}`),
  });
  assert.equal(await new Response(stream).text(), "abc");
  assert.deepEqual(events, ["chunk", "abort: observer bug"]);
});

Deno.test("observed body: an observer whose end() throws does not error the finished body", async () => {
  const stream = observeBody(ReadableStream.from([bytes("whole")]), {
    chunk: () => {},
    end: () => {
      throw new RangeError("Maximum call stack size exceeded");
    },
    abort: () => assert.fail("the body completed"),
  });
  assert.equal(await new Response(stream).text(), "whole");
});
