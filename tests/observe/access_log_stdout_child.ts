/** For access_log_stdout_test.ts: 3000 lines of ~1.5 KB to an access log on stdout, one batch. */
import { openAccessLog } from "../../src/observe/access_log.ts";
import { accessEntry } from "../helpers/access_entry.ts";

const log = await openAccessLog("stdout");
// Multi-byte characters too.
const agent = "a".repeat(700) + "é🚀\u2028".repeat(100);
for (let i = 0; i < 3000; i++) {
  log.write(accessEntry(`r${i}`, { userAgent: agent }));
}
await log.close();
