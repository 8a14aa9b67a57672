import type { AccessEntry } from "../../src/observe/access_log.ts";

/** A plain access-log entry for `requestId`, with `extra` fields on top. */
export function accessEntry(requestId: string, extra: Partial<AccessEntry> = {}): AccessEntry {
  return {
    time: "2026-11-22T00:00:00.000Z",
    requestId,
    route: "r",
    method: "GET",
    path: "/",
    status: 200,
    durationMs: 1,
    clientIp: "127.0.0.1",
    ...extra,
  };
}
