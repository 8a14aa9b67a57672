/**
 * `FetchClient` against real HTTPS upstreams (Deno.serve with TLS, HTTP/2 by ALPN): what an
 * `https://` target gets and gives back, and how a failed TLS handshake is reported. A handshake
 * failure happens before the request goes out, so it is a `connect` failure (as in Envoy), named
 * as a TLS failure with the verifier's reason: not a `reset` "before a complete response head".
 */
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { addressOf, type OutboundRequest, UpstreamError } from "../../src/upstream/client.ts";
import { FetchClient } from "../../src/upstream/fetch_client.ts";
import { catchAll, startTestGateway, startUpstream } from "../helpers/gateway.ts";
import { startTlsUpstream, TEST_CA } from "./servers/tls.ts";

const TIMEOUTS = { connectMs: 5_000, totalMs: 5_000, idleMs: 5_000 };

function request(path: string, extra: Partial<OutboundRequest> = {}): OutboundRequest {
  return {
    method: "GET",
    path,
    headers: ["host", "api.test"],
    body: null,
    bodyLength: -1,
    ...extra,
  };
}

async function bodyBytes(
  body: ReadableStream<Uint8Array> | Uint8Array | null,
): Promise<Uint8Array> {
  if (body === null) return new Uint8Array(0);
  if (body instanceof Uint8Array) return body;
  return new Uint8Array(await new Response(body).arrayBuffer());
}

function header(list: string[], name: string): string | undefined {
  for (let i = 0; i < list.length; i += 2) if (list[i] === name) return list[i + 1];
  return undefined;
}

/** Sends one GET with `client` and returns the `UpstreamError` it must fail with. */
async function failure(client: FetchClient, url: string): Promise<UpstreamError> {
  try {
    const res = await client.send(addressOf(new URL(url)), request("/"), TIMEOUTS);
    if (res.body instanceof ReadableStream) await res.body.cancel();
  } catch (e) {
    assert.ok(e instanceof UpstreamError, `expected an UpstreamError, got ${e}`);
    return e;
  }
  assert.fail("the exchange succeeded");
}

Deno.test("FetchClient: an untrusted upstream certificate is a connect error naming the TLS failure", async () => {
  const upstream = startTlsUpstream(() => new Response("ok"));
  const client = new FetchClient(); // default roots only: the test CA is unknown
  try {
    const error = await failure(client, upstream.url);
    assert.equal(error.kind, "connect", error.message);
    assert.match(error.message, /^TLS handshake with https:\/\/localhost:\d+ failed: /);
    assert.match(error.message, /invalid peer certificate: UnknownIssuer/);
  } finally {
    client.close();
    await upstream.close();
  }
});

Deno.test("FetchClient: a certificate for another name is a connect error naming the mismatch", async () => {
  const upstream = startTlsUpstream(() => new Response("ok"), { certificate: "other-name" });
  const client = new FetchClient({ caCerts: [TEST_CA] });
  try {
    const error = await failure(client, upstream.url);
    assert.equal(error.kind, "connect", error.message);
    assert.match(error.message, /^TLS handshake with https:\/\/localhost:\d+ failed: /);
    assert.match(error.message, /not valid for name "localhost"/);
  } finally {
    client.close();
    await upstream.close();
  }
});

Deno.test("FetchClient: a plain-HTTP server behind an https:// target is a TLS connect error", async () => {
  const plain = startUpstream(() => new Response("ok"));
  const client = new FetchClient({ caCerts: [TEST_CA] });
  try {
    const error = await failure(client, `https://localhost:${plain.port}`);
    assert.equal(error.kind, "connect", error.message);
    assert.match(error.message, /^TLS handshake with https:\/\/localhost:\d+ failed: /);
  } finally {
    client.close();
    await plain.close();
  }
});

Deno.test("FetchClient: a refused https:// connection is a connect error without fetch's wrapping", async () => {
  const upstream = startTlsUpstream(() => new Response("ok"));
  const url = upstream.url;
  await upstream.close();
  const client = new FetchClient({ caCerts: [TEST_CA] });
  try {
    const error = await failure(client, url);
    assert.equal(error.kind, "connect", error.message);
    assert.match(error.message, /^cannot connect to https:\/\/localhost:\d+: tcp connect error/);
  } finally {
    client.close();
  }
});

Deno.test('gateway: retries on "connect" move past a target whose certificate fails', async () => {
  const untrusted = startTlsUpstream(() => new Response("from the https target"));
  const good = startUpstream(() => new Response("from the http target"));
  const gw = await startTestGateway({
    ...catchAll(good.url),
    upstreams: {
      api: {
        targets: [untrusted.url, good.url],
        retries: { maxRetries: 1, on: ["connect"], backoff: { base: "1ms", max: "1ms" } },
        outlierDetection: false,
        circuitBreaker: false,
      },
    },
  });
  try {
    // Round robin starts each of the two requests on a different target: one of them meets the
    // untrusted certificate first, fails to connect, and is retried on the other target.
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${gw.url}/x`);
      assert.equal(res.status, 200, await res.clone().text());
      assert.equal(await res.text(), "from the http target");
    }
  } finally {
    await gw.close();
    await good.close();
    await untrusted.close();
  }
});

// What already held over TLS (HTTP/2), kept as regression tests for the https:// path.

const PLAIN = new TextEncoder().encode("hello over tls ".repeat(200));
const GZIPPED = new Uint8Array(gzipSync(PLAIN));

function gzipUpstream() {
  return startTlsUpstream(() =>
    new Response(GZIPPED, {
      headers: { "content-encoding": "gzip", "content-type": "text/plain" },
    })
  );
}

Deno.test("FetchClient over TLS: gzip reaches a caller without accept-encoding byte-exact", async () => {
  const upstream = gzipUpstream();
  const client = new FetchClient({ caCerts: [TEST_CA] });
  try {
    const res = await client.send(addressOf(new URL(upstream.url)), request("/"), TIMEOUTS);
    assert.equal(header(res.headers, "content-encoding"), "gzip");
    assert.equal(header(res.headers, "content-length"), String(GZIPPED.length));
    assert.deepEqual(await bodyBytes(res.body), GZIPPED);
  } finally {
    client.close();
    await upstream.close();
  }
});

Deno.test("FetchClient over TLS: gzip reaches a caller that accepts it decoded, headers removed", async () => {
  const upstream = gzipUpstream();
  const client = new FetchClient({ caCerts: [TEST_CA] });
  try {
    const res = await client.send(
      addressOf(new URL(upstream.url)),
      request("/", { headers: ["host", "api.test", "accept-encoding", "gzip, br"] }),
      TIMEOUTS,
    );
    assert.equal(header(res.headers, "content-encoding"), undefined);
    assert.equal(header(res.headers, "content-length"), undefined);
    assert.deepEqual(await bodyBytes(res.body), PLAIN);
  } finally {
    client.close();
    await upstream.close();
  }
});

Deno.test("FetchClient over TLS: host is kept, a redirect is returned, HEAD and 304 are bodiless", async () => {
  const upstream = startTlsUpstream((req) => {
    const path = new URL(req.url).pathname;
    if (path === "/moved") return new Response(null, { status: 302, headers: { location: "/x" } });
    if (path === "/cached") return new Response(null, { status: 304, headers: { etag: '"v1"' } });
    return new Response(`host=${req.headers.get("host")}`);
  });
  const client = new FetchClient({ caCerts: [TEST_CA] });
  const target = addressOf(new URL(upstream.url));
  try {
    const host = await client.send(target, request("/host"), TIMEOUTS);
    assert.equal(new TextDecoder().decode(await bodyBytes(host.body)), "host=api.test");

    const moved = await client.send(target, request("/moved"), TIMEOUTS);
    assert.equal(moved.status, 302);
    assert.equal(header(moved.headers, "location"), "/x");
    await bodyBytes(moved.body);

    const head = await client.send(target, request("/host", { method: "HEAD" }), TIMEOUTS);
    assert.equal(head.status, 200);
    assert.equal(head.body, null);

    const cached = await client.send(target, request("/cached"), TIMEOUTS);
    assert.equal(cached.status, 304);
    assert.equal(cached.body, null);
    assert.equal(header(cached.headers, "etag"), '"v1"');
  } finally {
    client.close();
    await upstream.close();
  }
});

Deno.test("FetchClient over TLS: a streamed upload arrives whole", async () => {
  const upstream = startTlsUpstream(async (req) => new Response(await req.text()));
  const client = new FetchClient({ caCerts: [TEST_CA] });
  const pieces = ["first,", "second,", "third"];
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const piece of pieces) controller.enqueue(new TextEncoder().encode(piece));
      controller.close();
    },
  });
  try {
    const res = await client.send(
      addressOf(new URL(upstream.url)),
      request("/upload", {
        method: "POST",
        body,
        headers: ["host", "api.test", "expect", "100-continue"],
      }),
      TIMEOUTS,
    );
    assert.equal(res.status, 200);
    assert.equal(new TextDecoder().decode(await bodyBytes(res.body)), pieces.join(""));
  } finally {
    client.close();
    await upstream.close();
  }
});
