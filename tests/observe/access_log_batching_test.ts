/**
 * How the access log batches its writes: lines wait up to the flush interval and go out
 * together, a full batch goes out at once, a failing sink only counts its loss, and `close()`
 * writes what is left. The sink here records each write, so the tests see batch boundaries.
 */
import assert from "node:assert/strict";
import { BatchedAccessLog, type ByteSink } from "../../src/observe/access_log.ts";
import { accessEntry } from "../helpers/access_entry.ts";

/** A sink that records every write as text and announces each one. */
class RecordingSink implements ByteSink {
  readonly writes: string[] = [];
  closed = false;
  #waiters: (() => void)[] = [];
  fail = false;

  write(bytes: Uint8Array): Promise<unknown> {
    this.writes.push(new TextDecoder().decode(bytes));
    for (const wake of this.#waiters.splice(0)) wake();
    return this.fail ? Promise.reject(new Error("disk full")) : Promise.resolve();
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  /** Resolves at the next write. */
  nextWrite(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}

const ids = (write: string) => write.trimEnd().split("\n").map((l) => JSON.parse(l).requestId);
const nextTask = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("lines logged in different event-loop turns are written together, in order", async () => {
  const sink = new RecordingSink();
  const log = new BatchedAccessLog(sink);
  const written = sink.nextWrite();
  log.write(accessEntry("a"));
  await nextTask(); // an immediate write (the old behaviour) would have happened here
  assert.equal(sink.writes.length, 0);
  log.write(accessEntry("b"));
  await written; // the interval ends without close() or flush()
  assert.deepEqual(sink.writes.map(ids), [["a", "b"]]);
  await log.close();
});

Deno.test("a full batch of 1024 lines is written at once, before the interval ends", async () => {
  const sink = new RecordingSink();
  const log = new BatchedAccessLog(sink);
  for (let i = 0; i < 1030; i++) log.write(accessEntry(String(i)));
  // The write is in a later task, never inside the request that filled the batch...
  assert.equal(sink.writes.length, 0);
  // ...the very next one, not the end of the interval.
  await nextTask();
  assert.equal(sink.writes.length, 1);
  assert.equal(ids(sink.writes[0]).length, 1030);
  assert.deepEqual(ids(sink.writes[0]).slice(0, 3), ["0", "1", "2"]);
  await log.close();
  assert.equal(sink.writes.length, 1);
});

Deno.test("close() writes what is queued at once and leaves no timer behind", async () => {
  const sink = new RecordingSink();
  const log = new BatchedAccessLog(sink);
  log.write(accessEntry("last"));
  await log.close(); // the test sanitizer fails this test if the interval timer survives
  assert.deepEqual(sink.writes.map(ids), [["last"]]);
  assert.equal(sink.closed, true);
});

Deno.test("a sink that fails counts the lost batch and later lines are still written", async () => {
  const sink = new RecordingSink();
  const log = new BatchedAccessLog(sink);
  sink.fail = true;
  log.write(accessEntry("lost"));
  await log.flush();
  assert.equal(log.dropped, 1);
  sink.fail = false;
  log.write(accessEntry("kept"));
  await log.close();
  assert.deepEqual(sink.writes.map(ids), [["lost"], ["kept"]]);
});
