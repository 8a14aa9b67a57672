/**
 * The access log's file sink, which follows log rotation. logrotate (and its kin) renames
 * `access.log` to `access.log.1`, or deletes it, and expects the process to start a new file at
 * the path: a file handle kept open forever would go on writing into the renamed file, and the
 * path would stay empty (or missing) until a restart. So each batch opens the path anew and
 * writes to whatever file is there now: an open and a close per batch (at most every 100 ms or
 * 1,024 lines), never per request, and no signal for operators to send. Comparing inodes to
 * reopen only on change would need read access (`stat`, even of an open file, asks for it),
 * which the documented start flags do not grant.
 *
 * `copytruncate` needs nothing: the file is opened for appending, so the next batch lands at the
 * new end of the truncated file, not at the old offset behind a run of NULs.
 */
import type { ByteSink } from "./access_log.ts";

/** Opens `path` for appending (created when missing) as a sink that follows its rotation. */
export async function openRotatingFileSink(path: string): Promise<ByteSink> {
  let file = await openForAppend(path);
  if (!(await mayRotate(file))) {
    return { write: (bytes) => writeAll(file, bytes), close: () => Promise.resolve(file.close()) };
  }

  /** The file now at `path`; the one in use when the path cannot be opened. */
  async function current(): Promise<Deno.FsFile> {
    try {
      const reopened = await openForAppend(path);
      file.close();
      file = reopened;
    } catch {
      // The folder is gone or no longer writable: keep the old file rather than lose the
      // batch, and try again at the next one.
    }
    return file;
  }

  return {
    async write(bytes) {
      await writeAll(await current(), bytes);
    },
    close: () => Promise.resolve(file.close()),
  };
}

/**
 * Whether `file` is a regular file, which log rotation renames. A FIFO or a device
 * (`/dev/stdout`) is not rotated, and opening a FIFO anew would block while no reader has it
 * open. Without read access its type is unknown: the documented flags are for a regular file.
 */
async function mayRotate(file: Deno.FsFile): Promise<boolean> {
  try {
    return (await file.stat()).isFile;
  } catch {
    return true;
  }
}

function openForAppend(path: string): Promise<Deno.FsFile> {
  return Deno.open(path, { write: true, create: true, append: true });
}

/** Writes every byte to `to`: one `write` may take only part of them. */
export async function writeAll(
  to: { write(p: Uint8Array): Promise<number> },
  bytes: Uint8Array,
): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await to.write(bytes.subarray(at));
}
