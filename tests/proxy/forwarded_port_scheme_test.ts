/**
 * `X-Forwarded-Port`, `X-Forwarded-Ssl` and `X-Forwarded-Scheme` state, like `X-Forwarded-Proto`
 * and `-Host`, how the client reached the first proxy. Frameworks believe them (Spring's
 * ForwardedHeaderFilter builds its URLs from `-Host`, `-Proto` and `-Port`; Rack reads
 * `X-Forwarded-Ssl: on` as https before it reads `-Proto`), so they are passed on only from a
 * trusted proxy, as `X-Forwarded-Proto/-Host` and `Forwarded` are.
 */
import assert from "node:assert/strict";
import { catchAll, startEchoUpstream, startTestGateway } from "../helpers/gateway.ts";

const CLAIMS = {
  "x-forwarded-port": "8443",
  "x-forwarded-ssl": "on",
  "x-forwarded-scheme": "https",
};

/** Sends a GET with `headers` through a gateway with `extra` config; the upstream's headers. */
async function upstreamHeaders(
  extra: Record<string, unknown>,
  headers: Record<string, string>,
): Promise<Record<string, string>> {
  const upstream = startEchoUpstream();
  const gw = await startTestGateway(catchAll(upstream.url, extra));
  try {
    const res = await fetch(`${gw.url}/who`, { headers });
    assert.equal(res.status, 200);
    return (await res.json()).headers;
  } finally {
    await gw.close();
    await upstream.close();
  }
}

Deno.test("a direct client cannot tell the upstream its port or that it came over TLS", async () => {
  const seen = await upstreamHeaders({}, { ...CLAIMS, "x-other": "kept" });
  assert.equal(seen["x-forwarded-proto"], "http");
  for (const name of Object.keys(CLAIMS)) {
    assert.equal(seen[name], undefined, `an untrusted ${name} was passed on`);
  }
  assert.equal(seen["x-other"], "kept", "other headers still pass");
});

Deno.test("a trusted proxy's X-Forwarded-Port, -Ssl and -Scheme are passed on", async () => {
  const seen = await upstreamHeaders({ trust: { proxies: ["127.0.0.1/32"] } }, CLAIMS);
  for (const [name, value] of Object.entries(CLAIMS)) assert.equal(seen[name], value, name);
});

Deno.test("a headers policy's own X-Forwarded-Port and Forwarded reach the upstream, never the client's", async () => {
  // Ferry behind a TCP balancer on :443: the operator states the port; the peer is not trusted.
  const route = {
    name: "all",
    upstream: "api",
    use: [{
      kind: "headers",
      options: {
        request: {
          set: { "x-forwarded-port": "443" },
          add: { forwarded: "proto=https" },
        },
      },
    }],
  };
  const seen = await upstreamHeaders({ routes: [route] }, {
    "x-forwarded-port": "8443",
    forwarded: "for=1.2.3.4;proto=http",
    "x-forwarded-ssl": "on",
  });
  assert.equal(seen["x-forwarded-port"], "443");
  assert.equal(seen["forwarded"], "proto=https", "the client's part must not ride along");
  assert.equal(seen["x-forwarded-ssl"], undefined, "claims the policy did not set stay dropped");
});
