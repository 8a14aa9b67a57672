/** The hop-by-hop predicate alone: RFC 9110 §7.6.1's list, plus whatever Connection names. */
import assert from "node:assert/strict";
import { HOP_BY_HOP, hopByHopFilter } from "../../src/proxy/hop_by_hop.ts";

Deno.test("hop-by-hop: every connection-specific header is dropped, end-to-end ones kept", () => {
  const drop = hopByHopFilter(null);
  for (const name of HOP_BY_HOP) assert.ok(drop(name), name);
  // Same lengths as hop-by-hop names, and the usual response headers: all forwarded.
  const endToEnd = [
    "date",
    "server",
    "content-type",
    "content-length",
    "etag",
    "tk",
    "trailer2",
    "keep-alivex",
    "upgrades",
    "x-upgrade",
    "proxy-connectionx",
    "a".repeat(64),
  ];
  for (const name of endToEnd) assert.equal(drop(name), false, name);
});

Deno.test("hop-by-hop: headers named by Connection are dropped too, close and keep-alive aside", () => {
  const drop = hopByHopFilter("close, X-Session-Hint , keep-alive");
  assert.ok(drop("x-session-hint"));
  assert.ok(drop("te"));
  assert.equal(drop("close"), false, "a Connection option, not a header to drop");
  assert.equal(drop("x-other"), false);
});
