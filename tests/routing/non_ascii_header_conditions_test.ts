/**
 * Header values sent as UTF-8 (as browsers and curl send them) arrive one character per byte.
 * Route conditions compare them as the text the client meant, and `explain` reads the headers
 * a user types as a client would send them, so `Zürich` and `Łukasz` route the same way in both.
 */
import assert from "node:assert/strict";
import { headerText, wireHeaders } from "../../src/routing/header_text.ts";
import { startEchoUpstream, startTestGateway } from "../helpers/gateway.ts";

Deno.test("a header condition naming non-ASCII text matches that text sent as UTF-8", async () => {
  const zurich = startEchoUpstream();
  const rest = startEchoUpstream();
  const gw = await startTestGateway({
    upstreams: { zurich: { targets: [zurich.url] }, rest: { targets: [rest.url] } },
    routes: [
      { name: "zurich", upstream: "zurich", match: { headers: { "x-site": "Zürich" } } },
      { name: "author", upstream: "zurich", match: { headers: { "x-author": { regex: "^Łuk" } } } },
      { name: "rest", upstream: "rest" },
    ],
  }, { admin: false });
  try {
    const send = async (name: string, text: string) => {
      const res = await fetch(`${gw.url}/`, { headers: wireHeaders({ [name]: text }) });
      await res.body?.cancel();
    };
    await send("x-site", "Zürich");
    assert.equal(zurich.received.length, 1, "Zürich sent as UTF-8 did not match its condition");
    await send("x-author", "Łukasz");
    assert.equal(zurich.received.length, 2, "a regex on Łukasz did not match");
    await send("x-site", "Zurich");
    assert.equal(rest.received.length, 1);
    for (
      const [name, text, route] of [["x-site", "Zürich", "zurich"], [
        "x-author",
        "Łukasz",
        "author",
      ]]
    ) {
      assert.equal(gw.explain("GET", `${gw.url}/`, { [name]: text }).winner?.name, route, text);
    }
  } finally {
    await gw.close();
    await zurich.close();
    await rest.close();
  }
});

Deno.test("wireHeaders and headerText are inverse for text, and leave ASCII alone", () => {
  for (const text of ["plain", "Zürich", "Łukasz", "日本", "emoji 😀"]) {
    const wire = wireHeaders({ "x-v": text }).get("x-v")!;
    assert.equal(headerText(wire), text);
  }
  assert.equal(wireHeaders({ "x-v": "Zürich" }).get("x-v"), "Z\u00c3\u00bcrich");
  // Latin-1 bytes that are no UTF-8 stay as they came.
  assert.equal(headerText("Z\u00fcrich"), "Z\u00fcrich");
});
