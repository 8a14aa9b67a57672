import assert from "node:assert/strict";
import { cookieValue, withoutCookie } from "../../src/proxy/cookies.ts";

Deno.test("cookieValue: one header, pairs split by '; ', quotes removed", () => {
  assert.equal(cookieValue("a=1; session=x.y.z; b=2", "session"), "x.y.z");
  assert.equal(cookieValue('a=1; v="quoted"', "v"), "quoted");
  assert.equal(cookieValue("a=1;b=2", "b"), "2");
  assert.equal(cookieValue("a=1; b=2", "c"), undefined);
  assert.equal(cookieValue("=1; a", "a"), undefined);
  assert.equal(cookieValue(null, "a"), undefined);
});

Deno.test("cookieValue: several cookie fields, as Headers joins them (', '), are each found", () => {
  const headers = new Headers([["cookie", "a=1; b=2"], ["cookie", "canary=on"]]);
  const joined = headers.get("cookie")!;
  assert.equal(joined, "a=1; b=2, canary=on");
  assert.equal(cookieValue(joined, "b"), "2");
  assert.equal(cookieValue(joined, "canary"), "on");
});

Deno.test("cookieValue: a comma inside a value stays in the value", () => {
  assert.equal(cookieValue("list=a,b,c; x=1", "list"), "a,b,c");
  assert.equal(cookieValue("x=1, list=a,b", "list"), "a,b");
});

Deno.test("withoutCookie: removes one cookie from single and joined headers", () => {
  assert.equal(withoutCookie("a=1; session=x.y.z; b=2", "session"), "a=1; b=2");
  assert.equal(withoutCookie("a=1, session=x.y.z", "session"), "a=1");
  assert.equal(withoutCookie("session=x", "session"), undefined);
  assert.equal(withoutCookie("list=a,b; session=x", "session"), "list=a,b");
});
