/**
 * Run by access_log_rotation_test.ts with write access to the log alone, as the README's start
 * flags grant: writes a line, prints "flushed", waits for a line on stdin (the parent renames the
 * log meanwhile, as logrotate does), writes another line and closes the log.
 * Usage: access_log_rotation_child.ts <log file>
 */
import { openAccessLog } from "../../src/observe/access_log.ts";
import { accessEntry } from "../helpers/access_entry.ts";

const file = Deno.args[0];
const log = await openAccessLog({ file });
log.write(accessEntry("before", { path: "/before" }));
await log.flush();
console.log("flushed");
await Deno.stdin.read(new Uint8Array(1)); // the parent has rotated the log
log.write(accessEntry("after", { path: "/after" }));
await log.close();
if (log.dropped !== 0) throw new Error(`${log.dropped} lines dropped`);
