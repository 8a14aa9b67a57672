/**
 * With `ignoreJsonFields`, JSON bodies are parsed, stripped and hashed again. Parsing
 * numbers into doubles made different numbers equal: 64-bit ids past 2^53 (database keys,
 * snowflake ids) came out the same, so a shadow answering the wrong id was counted a match.
 * Such numbers must compare as the upstream wrote them, as they do without ignored fields.
 */
import assert from "node:assert/strict";
import { startTestGateway, startUpstream } from "../helpers/gateway.ts";
import { finished, pollMirror } from "./mirror_helpers.ts";

/** `{"id":<id>,"at":"<side>"}` as raw text, so the number goes out exactly as written. */
function jsonAnswer(id: string, side: string): Response {
  return new Response(`{"id":${id},"price":1.10,"at":"${side}"}`, {
    headers: { "content-type": "application/json" },
  });
}

Deno.test("mirror: ignoring JSON fields still tells apart ids past 2^53", async () => {
  const primary = startUpstream(() => jsonAnswer("9007199254740993", "p"));
  const shadow = startUpstream((req) =>
    // 9007199254740992 and 9007199254740993 are the same double.
    jsonAnswer(new URL(req.url).pathname === "/same" ? "9007199254740993" : "9007199254740992", "s")
  );
  const gw = await startTestGateway({
    upstreams: { api: { targets: [primary.url] }, shadow: { targets: [shadow.url] } },
    routes: [{
      name: "api",
      upstream: "api",
      mirror: { upstream: "shadow", diff: { ignoreJsonFields: ["at"] } },
    }],
  });
  try {
    const same = await fetch(`${gw.url}/same`);
    assert.equal(await same.text(), `{"id":9007199254740993,"price":1.10,"at":"p"}`);
    const first = await pollMirror(gw.adminUrl!, "api", finished(1));
    assert.deepEqual(first.diff, { match: 1, mismatch: 0, error: 0 }, "only `at` differs");

    await (await fetch(`${gw.url}/other-id`)).arrayBuffer();
    const second = await pollMirror(gw.adminUrl!, "api", finished(2));
    assert.deepEqual(second.diff, { match: 1, mismatch: 1, error: 0 }, "the ids differ");
    assert.equal(second.recentMismatches![0].path, "/other-id");
    assert.deepEqual(second.recentMismatches![0].differences.map((d) => d.part), ["body"]);
  } finally {
    await gw.close();
    await shadow.close();
    await primary.close();
  }
});
