import assert from "node:assert/strict";
import { describeValue, formatIssues, formatPath } from "../../src/config/format_issues.ts";

Deno.test("paths dot identifiers, bracket indices and quote other keys", () => {
  assert.equal(formatPath([]), "");
  assert.equal(formatPath(["routes", 3, "match", "path"]), "routes[3].match.path");
  assert.equal(formatPath(["upstreams", "my-api", "targets", 0]), 'upstreams["my-api"].targets[0]');
  assert.equal(formatPath(["a b"]), '["a b"]');
  assert.equal(formatPath([0]), "[0]");
});

Deno.test("found values are shown briefly and safely", () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.equal(describeValue("5 seconds"), '"5 seconds"');
  assert.equal(describeValue(undefined), "nothing");
  assert.equal(describeValue(Number.NaN), "NaN");
  assert.equal(describeValue(() => 1), "a function");
  assert.equal(describeValue({ a: 1 }), '{"a":1}');
  assert.equal(describeValue(cyclic), "an object");
  assert.equal(describeValue(new Array(100).fill("item")), "a list of 100 items");
  assert.equal(describeValue("x".repeat(100)), `"${"x".repeat(60)}"…`);
  // Invisible characters are shown escaped, DEL and C1 controls too (JSON leaves those raw).
  assert.equal(describeValue("a\x07b\x7fc\x85d"), '"a\\u0007b\\u007fc\\u0085d"');
});

Deno.test("errors come first, then warnings, then a count line naming the source", () => {
  const text = formatIssues([
    { path: "routes[5]", message: "route can never match", severity: "warning" },
    { path: "routes[3].match.path", message: "bad pattern", severity: "error" },
    { path: "", message: "line one\n  line two", severity: "error" },
  ], "routes.config.ts");
  assert.equal(
    text,
    [
      "error   routes[3].match.path: bad pattern",
      "error   line one line two",
      "warning routes[5]: route can never match",
      "2 errors, 1 warning in routes.config.ts",
    ].join("\n"),
  );
  assert.equal(formatIssues([]), "0 errors, 0 warnings");
});
