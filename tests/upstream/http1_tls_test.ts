/**
 * `Http1Client` against real HTTPS upstreams: `Deno.serve` with TLS, and `node:tls` servers that
 * show the bytes on the wire. An `https://` target gets what an `http://` one gets (the target
 * byte for byte, uploads with their length, keep-alive, the connect timeout, gzip untouched),
 * and a failed TLS handshake is a `connect` failure naming the verifier's reason, as in Envoy.
 */
import assert from "node:assert/strict";
import tls from "node:tls";
import { gzipSync } from "node:zlib";
import { addressOf, type OutboundRequest, UpstreamError } from "../../src/upstream/client.ts";
import { Http1Client } from "../../src/upstream/http1/client.ts";
import { catchAll, startTestGateway, startUpstream, within } from "../helpers/gateway.ts";
import { LOCALHOST_CERT, LOCALHOST_KEY, startTlsUpstream, TEST_CA } from "./servers/tls.ts";

const TIMEOUTS = { connectMs: 5_000, totalMs: 5_000, idleMs: 5_000 };

function trusting(): Http1Client {
  return new Http1Client({
    maxIdlePerTarget: 4,
    idleTimeoutMs: 30_000,
    tls: { caCerts: [TEST_CA], serverName: null },
  });
}

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

async function bodyText(body: ReadableStream<Uint8Array> | Uint8Array | null): Promise<string> {
  return new TextDecoder().decode(await bodyBytes(body));
}

function header(list: string[], name: string): string | undefined {
  for (let i = 0; i < list.length; i += 2) if (list[i] === name) return list[i + 1];
  return undefined;
}

/** Sends one GET with `client` and returns the `UpstreamError` it must fail with. */
async function failure(
  client: Http1Client,
  url: string,
  timeouts = TIMEOUTS,
): Promise<UpstreamError> {
  try {
    const res = await client.send(addressOf(new URL(url)), request("/"), timeouts);
    if (res.body instanceof ReadableStream) await res.body.cancel();
  } catch (e) {
    assert.ok(e instanceof UpstreamError, `expected an UpstreamError, got ${e}`);
    return e;
  }
  assert.fail("the exchange succeeded");
}

/**
 * A `node:tls` upstream for `localhost`: hands each connection's decrypted bytes to `onData`,
 * which writes the answer. Counts the TLS connections it accepted.
 */
async function startRawTlsUpstream(
  onData: (socket: tls.TLSSocket, received: string) => void,
) {
  const sockets = new Set<tls.TLSSocket>();
  const received: string[] = [];
  let connections = 0;
  const server = tls.createServer({ cert: LOCALHOST_CERT, key: LOCALHOST_KEY }, (socket) => {
    connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    socket.on("data", (data: Uint8Array) => {
      const text = new TextDecoder("latin1").decode(data);
      received.push(text);
      onData(socket, text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `https://localhost:${port}`,
    received,
    get connections() {
      return connections;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

Deno.test("Http1Client over TLS: an untrusted upstream certificate is a connect error naming the TLS failure", async () => {
  const upstream = startTlsUpstream(() => new Response("ok"));
  const client = new Http1Client({ maxIdlePerTarget: 4, idleTimeoutMs: 30_000 }); // default roots
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

Deno.test("Http1Client over TLS: a certificate for another name is a connect error naming the mismatch", async () => {
  const upstream = startTlsUpstream(() => new Response("ok"), { certificate: "other-name" });
  const client = trusting();
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

Deno.test("Http1Client over TLS: a plain-HTTP server behind an https:// target is a TLS connect error", async () => {
  const plain = startUpstream(() => new Response("ok"));
  const client = trusting();
  try {
    const error = await failure(client, `https://localhost:${plain.port}`);
    assert.equal(error.kind, "connect", error.message);
    assert.match(error.message, /^TLS handshake with https:\/\/localhost:\d+ failed: /);
  } finally {
    client.close();
    await plain.close();
  }
});

Deno.test("Http1Client over TLS: a refused connection is a connect error", async () => {
  const upstream = startTlsUpstream(() => new Response("ok"));
  const url = upstream.url;
  await upstream.close();
  const client = trusting();
  try {
    const error = await failure(client, url);
    assert.equal(error.kind, "connect", error.message);
    assert.match(error.message, /^cannot connect to https:\/\/localhost:\d+: /);
  } finally {
    client.close();
  }
});

Deno.test("Http1Client over TLS: a handshake that never completes ends at the connect timeout", async () => {
  // Accepts TCP connections and never answers the ClientHello, as a wedged TLS terminator does.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  const client = trusting();
  try {
    const url = `https://localhost:${(listener.addr as Deno.NetAddr).port}`;
    const error = await within(
      failure(client, url, { connectMs: 200, totalMs: 60_000, idleMs: 60_000 }),
      10_000,
      "the handshake's end",
    );
    assert.equal(error.kind, "connect_timeout", error.message);
    assert.match(error.message, /^connecting to https:\/\/localhost:\d+ took longer than 200 ms$/);
  } finally {
    client.close();
    listener.close();
    await accepting.catch(() => {});
    for (const conn of held) conn.close();
  }
});

Deno.test("Http1Client over TLS: the target goes out byte for byte, an upload keeps its length, no fields are added", async () => {
  const upstream = await startRawTlsUpstream((socket, text) => {
    if (text.includes("\r\n\r\n")) {
      socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    }
  });
  const client = trusting();
  const target = '/p/{x}/`a`/"<>|^~?q=\'"<>{}|^`&e=%7e%2F';
  const payload = new TextEncoder().encode("0123456789");
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(payload.subarray(0, 4));
      controller.enqueue(payload.subarray(4));
      controller.close();
    },
  });
  try {
    const res = await client.send(
      addressOf(new URL(upstream.url)),
      request(target, {
        method: "POST",
        headers: ["host", "api.test", "content-length", "10"],
        body,
        bodyLength: 10,
      }),
      TIMEOUTS,
    );
    assert.equal(res.status, 200);
    assert.equal(await bodyText(res.body), "ok");
    const sent = upstream.received.join("");
    assert.equal(
      sent,
      `POST ${target} HTTP/1.1\r\nhost: api.test\r\ncontent-length: 10\r\n\r\n0123456789`,
    );
  } finally {
    client.close();
    await upstream.close();
  }
});

Deno.test("Http1Client over TLS: keep-alive reuses one TLS connection for consecutive requests", async () => {
  const upstream = await startRawTlsUpstream((socket, text) => {
    for (let i = text.indexOf("\r\n\r\n"); i >= 0; i = text.indexOf("\r\n\r\n", i + 4)) {
      socket.write("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello");
    }
  });
  const client = trusting();
  try {
    for (let i = 0; i < 3; i++) {
      const res = await client.send(addressOf(new URL(upstream.url)), request("/"), TIMEOUTS);
      assert.equal(await bodyText(res.body), "hello");
    }
    assert.equal(upstream.connections, 1);
  } finally {
    client.close();
    await upstream.close();
  }
});

Deno.test("Http1Client over TLS: a close-delimited body ends where the upstream closes without close_notify", async () => {
  // `destroy()` closes the TCP connection without a TLS close_notify, as many servers do after
  // a close-delimited body; nginx and browsers read that as the body's end.
  const upstream = await startRawTlsUpstream((socket) => {
    socket.write(
      "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nclose-delimited body",
      () => socket.destroy(),
    );
  });
  const client = trusting();
  try {
    const res = await client.send(addressOf(new URL(upstream.url)), request("/"), TIMEOUTS);
    assert.equal(res.status, 200);
    assert.equal(await bodyText(res.body), "close-delimited body");
  } finally {
    client.close();
    await upstream.close();
  }
});

Deno.test("Http1Client over TLS: a body cut short of its content-length is still an error", async () => {
  const upstream = await startRawTlsUpstream((socket) => {
    socket.write(
      "HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\nonly this",
      () => socket.destroy(),
    );
  });
  const client = trusting();
  try {
    await assert.rejects(
      (async () => {
        const res = await client.send(addressOf(new URL(upstream.url)), request("/"), TIMEOUTS);
        await bodyBytes(res.body);
      })(),
      (e) => e instanceof UpstreamError && e.kind === "reset",
    );
  } finally {
    client.close();
    await upstream.close();
  }
});

Deno.test("Http1Client over TLS: gzip reaches the caller byte-exact, whatever it accepts", async () => {
  const plain = new TextEncoder().encode("hello over tls ".repeat(200));
  const gzipped = new Uint8Array(gzipSync(plain));
  const upstream = startTlsUpstream(() =>
    new Response(gzipped, { headers: { "content-encoding": "gzip", "content-type": "text/plain" } })
  );
  const client = trusting();
  try {
    for (const accept of [[], ["accept-encoding", "gzip, br"]]) {
      const res = await client.send(
        addressOf(new URL(upstream.url)),
        request("/", { headers: ["host", "api.test", ...accept] }),
        TIMEOUTS,
      );
      assert.equal(header(res.headers, "content-encoding"), "gzip");
      assert.equal(header(res.headers, "content-length"), String(gzipped.length));
      assert.deepEqual(await bodyBytes(res.body), gzipped);
    }
  } finally {
    client.close();
    await upstream.close();
  }
});

Deno.test("Http1Client over TLS: host is kept, a redirect is returned, HEAD and 304 are bodiless", async () => {
  const upstream = startTlsUpstream((req) => {
    const path = new URL(req.url).pathname;
    if (path === "/moved") return new Response(null, { status: 302, headers: { location: "/x" } });
    if (path === "/cached") return new Response(null, { status: 304, headers: { etag: '"v1"' } });
    return new Response(`host=${req.headers.get("host")}`);
  });
  const client = trusting();
  const target = addressOf(new URL(upstream.url));
  try {
    const host = await client.send(target, request("/host"), TIMEOUTS);
    assert.equal(await bodyText(host.body), "host=api.test");

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
