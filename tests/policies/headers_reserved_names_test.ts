/**
 * The `headers` policy's rules may not name headers Ferry sets or drops itself. Such a rule was
 * accepted and then did nothing, or worse: `request.set.host` left the client's Host in place
 * (an nginx `proxy_set_header Host` habit; the upstream's `host` option is Ferry's way),
 * `request.remove` of `x-forwarded-for` still sent it, and `response.set.content-length` cut the
 * response body short. Each is now a config error at its exact path.
 */
import assert from "node:assert/strict";
import { headers } from "../../mod.ts";
import { validateConfig } from "../../src/config/validate.ts";
import type { HeadersOptions } from "../../src/policies/headers.ts";
import { startEchoUpstream, startTestGateway } from "../helpers/gateway.ts";

/** Validation errors (path → message) of one route using `headers(options)`. */
function errorsFor(options: HeadersOptions): Record<string, string> {
  const result = validateConfig({
    upstreams: { api: { targets: ["http://127.0.0.1:9"] } },
    routes: [{ name: "r", upstream: "api", use: [headers(options)] }],
  });
  if (result.ok) return {};
  return Object.fromEntries(
    result.errors.map((e) => [e.path.replace("routes[0].use[0].options.", ""), e.message]),
  );
}

Deno.test("request rules naming Host, X-Forwarded-*, X-Request-Id or hop-by-hop headers are config errors", () => {
  const errors = errorsFor({
    request: {
      set: { Host: "api.internal", "x-tenant": "acme" },
      add: { "x-forwarded-for": "10.0.0.1", te: "trailers" },
      remove: ["x-request-id", "Connection", "x-debug"],
    },
  });
  assert.deepEqual(Object.keys(errors).sort(), [
    "request.add.te",
    'request.add["x-forwarded-for"]',
    "request.remove[0]",
    "request.remove[1]",
    "request.set.Host",
  ]);
  assert.match(errors["request.set.Host"], /^"Host" must not be .* one Ferry sets on every/);
  assert.match(errors["request.set.Host"], /upstream's `host` option/);
});

Deno.test("response rules naming Content-Length or hop-by-hop headers are config errors", () => {
  const errors = errorsFor({
    response: {
      set: { "content-length": "3", "x-frame-options": "DENY" },
      add: { connection: "close" },
      remove: ["transfer-encoding", "server", "x-request-id"],
    },
  });
  assert.deepEqual(
    Object.keys(errors).sort(),
    [
      'response.set["content-length"]',
      "response.add.connection",
      "response.remove[0]",
    ].sort(),
  );
  assert.match(errors["response.add.connection"], /Ferry frames the response itself/);
});

Deno.test("a gateway with a rule that would have been ignored refuses to start", async () => {
  const upstream = startEchoUpstream();
  try {
    await assert.rejects(
      startTestGateway({
        upstreams: { api: { targets: [upstream.url] } },
        routes: [{
          upstream: "api",
          use: [headers({ request: { set: { host: "api.internal" } } })],
        }],
      }, { admin: false }),
      /"host" must not be/,
    );
    // The rules that do take effect still work end to end.
    const gw = await startTestGateway({
      upstreams: { api: { targets: [upstream.url] } },
      routes: [{
        upstream: "api",
        use: [headers({
          request: { set: { "x-tenant": "acme" } },
          response: { remove: ["x-request-id"] },
        })],
      }],
    }, { admin: false });
    try {
      const res = await fetch(`${gw.url}/`);
      assert.equal(res.headers.get("x-request-id"), null);
      assert.equal((await res.json()).headers["x-tenant"], "acme");
    } finally {
      await gw.close();
    }
  } finally {
    await upstream.close();
  }
});
