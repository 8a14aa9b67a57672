/** Canary value rules: strings, and the claim forms (numbers, booleans, lists) compared as text. */
import assert from "node:assert/strict";
import { compileValueRule } from "../../src/traffic/value_match.ts";
import { MAX_REGEX_INPUT } from "../../src/routing/conditions.ts";

Deno.test("equals (string or { equals }) compares text exactly", () => {
  for (const rule of ["beta", { equals: "beta" }]) {
    const r = compileValueRule(rule);
    assert.equal(r.test("beta"), true);
    assert.equal(r.test("Beta"), false);
    assert.equal(r.test(null), false);
    assert.equal(r.test(undefined), false);
    assert.equal(r.expectation, '= "beta"');
  }
});

Deno.test("regex matches anywhere unless anchored", () => {
  const r = compileValueRule({ regex: "^rc-[0-9]+$" });
  assert.equal(r.test("rc-12"), true);
  assert.equal(r.test("rc-12x"), false);
  assert.equal(compileValueRule({ regex: "beta" }).test("closed-beta-2"), true);
  assert.equal(r.expectation, "~ /^rc-[0-9]+$/");
});

Deno.test("present asks only whether a value is there", () => {
  assert.equal(compileValueRule({ present: true }).test(""), true);
  assert.equal(compileValueRule({ present: true }).test(null), false);
  assert.equal(compileValueRule({ present: false }).test(undefined), true);
  assert.equal(compileValueRule({ present: true }).test({ nested: 1 }), true);
});

Deno.test("claims: numbers and booleans compare as text, a list matches when any item does", () => {
  assert.equal(compileValueRule("3").test(3), true);
  assert.equal(compileValueRule("true").test(true), true);
  assert.equal(compileValueRule("beta").test(["staff", "beta"]), true);
  assert.equal(compileValueRule({ regex: "^b" }).test(["staff", "beta"]), true);
  assert.equal(compileValueRule("beta").test(["staff"]), false);
  assert.equal(compileValueRule("beta").test([["beta"]]), false, "nested lists are not flattened");
  assert.equal(compileValueRule("[object Object]").test({}), false, "objects never match text");
});

Deno.test("a regex rule reads at most MAX_REGEX_INPUT characters, as route conditions do", () => {
  const rule = compileValueRule({ regex: "^a+$" });
  assert.equal(rule.test("a".repeat(MAX_REGEX_INPUT)), true);
  assert.equal(rule.test("a".repeat(MAX_REGEX_INPUT + 1)), false);
  assert.equal(rule.test(["b", "a".repeat(MAX_REGEX_INPUT + 1)]), false);
});
