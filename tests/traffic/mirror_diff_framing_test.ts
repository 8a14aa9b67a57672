/**
 * Comparing answers streams the primary's body through a hashing stream. A body that arrived
 * whole is sent by Deno.serve with a Content-Length it computes itself; the hashing stream hid
 * that size, so with `diff` on the client got a chunked response (close-delimited on HTTP/1.0)
 * where the same route without mirroring sent Content-Length. The mirror must not change the
 * client's response, framing included; and the length is then also what `diff` compares.
 */
import assert from "node:assert/strict";
import { portOf, rawRequest, startTestGateway, startUpstream } from "../helpers/gateway.ts";
import { finished, pollMirror } from "./mirror_helpers.ts";

const BODY = '{"order":7}';

function json(): Response {
  return new Response(BODY, { headers: { "content-type": "application/json" } });
}

/** The status line and header lines of a raw answer, lower-cased, without `date`/request id. */
function head(answer: string): string[] {
  return answer.split("\r\n\r\n")[0].toLowerCase().split("\r\n")
    .filter((line) => !line.startsWith("date:") && !line.startsWith("x-request-id:"));
}

Deno.test("mirror diff: the client's response keeps its Content-Length, on HTTP/1.1 and 1.0", async () => {
  const primary = startUpstream(json);
  const shadow = startUpstream(json);
  const gw = await startTestGateway({
    upstreams: { api: { targets: [primary.url] }, shadow: { targets: [shadow.url] } },
    routes: [
      { name: "plain", match: { path: "/plain" }, upstream: "api" },
      {
        name: "compared",
        match: { path: "/compared" },
        upstream: "api",
        mirror: { upstream: "shadow", diff: { headers: ["content-type", "content-length"] } },
      },
    ],
  });
  try {
    for (const version of ["1.1", "1.0"]) {
      const ask = (path: string) =>
        rawRequest(
          portOf(gw),
          `GET ${path} HTTP/${version}\r\nHost: gw\r\nConnection: close\r\n\r\n`,
        );
      const plain = await ask("/plain");
      const compared = await ask("/compared");
      assert.ok(compared.endsWith(`\r\n\r\n${BODY}`), compared);
      assert.ok(head(compared).includes(`content-length: ${BODY.length}`), compared);
      assert.deepEqual(head(compared), head(plain), `HTTP/${version}`);
    }
    // The primary's length is the one the client got, so it equals the shadow's.
    const s = await pollMirror(gw.adminUrl!, "compared", finished(2));
    assert.deepEqual(s.diff, { match: 2, mismatch: 0, error: 0 });
  } finally {
    await gw.close();
    await shadow.close();
    await primary.close();
  }
});
