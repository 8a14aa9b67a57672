import assert from "node:assert/strict";
import { uriEncodedText } from "../../src/routing/uri_text.ts";

Deno.test("uriEncodedText encodes what a request target cannot carry, as browsers do, and nothing twice", () => {
  assert.equal(uriEncodedText("/café x"), "/caf%C3%A9%20x");
  assert.equal(uriEncodedText("/日本"), "/%E6%97%A5%E6%9C%AC");
  assert.equal(uriEncodedText("/caf%C3%A9?q=%2f"), "/caf%C3%A9?q=%2f");
  assert.equal(uriEncodedText("/a\ud800b"), "/a%EF%BF%BDb");
  const ascii = "/plain/path?x=1";
  assert.equal(uriEncodedText(ascii), ascii);
});
