/**
 * Values the `headers` policy sets must be ones `Headers` (and HTTP/1.1) can carry: Latin-1
 * without controls. Anything else is a config error at start, never a 500 on every request.
 */
import assert from "node:assert/strict";
import { headers } from "../../mod.ts";
import type { HeadersOptions } from "../../src/policies/headers.ts";
import { startEchoUpstream, startTestGateway } from "../helpers/gateway.ts";

function start(options: HeadersOptions) {
  return startTestGateway({
    upstreams: { api: { targets: ["http://127.0.0.1:9"] } },
    routes: [{ upstream: "api", use: [headers(options)] }],
  }, { admin: false });
}

Deno.test("a header value above U+00FF is a config error, on either side, set or add", async () => {
  for (const value of ["€5", "ok ✓", "emoji \u{1F600}"]) {
    for (const side of ["request", "response"] as const) {
      for (const op of ["set", "add"] as const) {
        await assert.rejects(
          start({ [side]: { [op]: { "x-note": value } } }),
          /must hold only Latin-1 characters/,
          `${side}.${op} ${JSON.stringify(value)}`,
        );
      }
    }
  }
});

Deno.test("CR, LF and NUL in a header value stay config errors", async () => {
  for (const value of ["a\r\nx-injected: 1", "a\nb", "a\u0000b"]) {
    await assert.rejects(start({ request: { set: { "x-note": value } } }), /control characters/);
  }
});

Deno.test("a Latin-1 header value is forwarded and answered byte for byte", async () => {
  const upstream = startEchoUpstream();
  const gw = await startTestGateway({
    upstreams: { api: { targets: [upstream.url] } },
    routes: [{
      upstream: "api",
      use: [headers({
        request: { set: { "x-note": "caf\u00e9 \u00ff" } },
        response: { set: { "x-answer": "na\u00efve" } },
      })],
    }],
  });
  try {
    const res = await fetch(`${gw.url}/a`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-answer"), "na\u00efve");
    const echoed = await res.json();
    assert.equal(echoed.headers["x-note"], "caf\u00e9 \u00ff");
  } finally {
    await gw.close();
    await upstream.close();
  }
});
