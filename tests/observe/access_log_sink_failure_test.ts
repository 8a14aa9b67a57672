/**
 * The access log's file destination when writes fail: every lost line is counted (not one per
 * batch), and a write that failed once (a disk that filled up, a reader that went away) does
 * not silence the log for good: later lines are written as soon as the file takes them again.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { BatchedAccessLog, openAccessLog } from "../../src/observe/access_log.ts";
import { accessEntry } from "../helpers/access_entry.ts";
import { withTempDir } from "../helpers/process.ts";

Deno.test("a file destination: flush() resolves with the lines in the file", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "access.log");
    const log = await openAccessLog({ file: path });
    try {
      log.write(accessEntry("one"));
      await log.flush();
      // What `tail -f` (or a crash right now) would see: the line, not an empty file.
      const text = await Deno.readTextFile(path);
      assert.equal(text.split("\n").filter((l) => l !== "").length, 1, JSON.stringify(text));
      assert.equal(JSON.parse(text).requestId, "one");
    } finally {
      await log.close();
    }
  });
});

Deno.test("a failed batch of three lines counts three dropped lines, not one", async () => {
  // The sink refuses like a full disk; what is counted is the log's own arithmetic.
  const log = new BatchedAccessLog({
    write: () => Promise.reject(new Error("ENOSPC")),
    close: () => Promise.resolve(),
  });
  for (const id of ["a", "b", "c"]) log.write(accessEntry(id));
  await log.flush();
  assert.equal(log.dropped, 3);
  await log.close();
});

/** Reads what the pipe has now, up to one line-batch's worth; the writer has flushed first. */
async function readSome(pipe: Deno.FsFile): Promise<string> {
  const buf = new Uint8Array(64 * 1024);
  const n = await pipe.read(buf);
  return new TextDecoder().decode(buf.subarray(0, n ?? 0));
}

Deno.test("a file write that failed: its lines are counted, and later lines are written", async () => {
  await withTempDir(async (dir) => {
    // A FIFO gives a real, repeatable transient failure: writing while no reader is open
    // fails (EPIPE), and works again once a reader opens, on the same open file.
    const path = join(dir, "access.fifo");
    const made = await new Deno.Command("mkfifo", { args: [path] }).output();
    assert.equal(made.code, 0);
    // Opening a FIFO waits for the other end: both opens run together.
    const [log, firstReader] = await Promise.all([
      openAccessLog({ file: path }),
      Deno.open(path, { read: true }),
    ]);
    try {
      log.write(accessEntry("first"));
      await log.flush();
      assert.match(await readSome(firstReader), /"requestId":"first"/);
      firstReader.close();

      log.write(accessEntry("lost 1"));
      log.write(accessEntry("lost 2"));
      await log.flush();
      assert.equal(log.dropped, 2, "each line of the batch written with no reader is counted");

      const secondReader = await Deno.open(path, { read: true });
      try {
        log.write(accessEntry("after"));
        await log.flush();
        assert.equal(log.dropped, 2, "nothing more lost once the file takes writes again");
        assert.match(await readSome(secondReader), /"requestId":"after"/);
      } finally {
        secondReader.close();
      }
    } finally {
      await log.close();
    }
  });
});
