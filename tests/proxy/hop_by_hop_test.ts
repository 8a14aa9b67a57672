/**
 * Hop-by-hop headers (RFC 9110 §7.6.1), and every header the `Connection` header names, stop at
 * the gateway in both directions. Raw sockets on both ends, because `fetch` and `Deno.serve`
 * refuse or hide several of these headers, and the test must see what is on the wire.
 */
import assert from "node:assert/strict";
import {
  catchAll,
  portOf,
  rawExchange,
  type RawSocket,
  startRawUpstream,
  startTestGateway,
} from "../helpers/gateway.ts";

/** Header names of a raw head, lower-cased, request/status line skipped. */
function headerNames(head: string): string[] {
  return head.split("\r\n").slice(1).filter((l) => l.includes(":")).map((l) =>
    l.slice(0, l.indexOf(":")).trim().toLowerCase()
  );
}

/** Answers every request on the connection with `response` until the gateway closes it. */
function answerEach(response: string) {
  return async (socket: RawSocket) => {
    while (await socket.readHead() !== null) await socket.write(response);
  };
}

Deno.test("hop-by-hop request headers and those named in Connection never reach the upstream", async () => {
  const upstream = startRawUpstream(answerEach("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"));
  const gw = await startTestGateway(catchAll(upstream.url));
  try {
    const res = await rawExchange(
      portOf(gw),
      "GET /hop HTTP/1.1\r\n" +
        "Host: api.test\r\n" +
        "Connection: x-secret, keep-alive\r\n" +
        "X-Secret: do-not-forward\r\n" +
        "Keep-Alive: timeout=5\r\n" +
        "TE: trailers\r\n" +
        "Upgrade: h2c\r\n" +
        "Proxy-Authorization: Basic c2VjcmV0\r\n" +
        "Proxy-Connection: keep-alive\r\n" +
        "X-End-To-End: kept\r\n" +
        "\r\n",
    );
    assert.equal(res.status, 200);
    assert.equal(res.text(), "ok");
    assert.equal(upstream.heads.length, 1);
    const names = headerNames(upstream.heads[0]);
    for (
      const hop of [
        "connection",
        "x-secret",
        "keep-alive",
        "te",
        "upgrade",
        "proxy-authorization",
        "proxy-connection",
      ]
    ) {
      assert.ok(!names.includes(hop), `${hop} reached the upstream:\n${upstream.heads[0]}`);
    }
    // The control: an ordinary header goes through, so the head above is the forwarded one.
    assert.match(upstream.heads[0], /^x-end-to-end: kept\r$/im);
  } finally {
    await gw.close();
    await upstream.close();
  }
  assert.deepEqual(upstream.errors, []);
});

Deno.test("hop-by-hop response headers and those named in Connection never reach the client", async () => {
  const upstream = startRawUpstream(answerEach(
    "HTTP/1.1 200 OK\r\n" +
      "Connection: x-internal\r\n" +
      "X-Internal: upstream-only\r\n" +
      "Keep-Alive: timeout=5, max=100\r\n" +
      "Proxy-Authenticate: Basic realm=inner\r\n" +
      "Proxy-Connection: keep-alive\r\n" +
      "X-Public: visible\r\n" +
      "Content-Length: 2\r\n" +
      "\r\n" +
      "ok",
  ));
  const gw = await startTestGateway(catchAll(upstream.url));
  try {
    const res = await rawExchange(portOf(gw), "GET / HTTP/1.1\r\nHost: api.test\r\n\r\n");
    assert.equal(res.status, 200);
    assert.equal(res.text(), "ok");
    for (const hop of ["x-internal", "keep-alive", "proxy-authenticate", "proxy-connection"]) {
      assert.equal(res.header(hop), null, `${hop} reached the client`);
    }
    // The gateway's own listener may add `Connection` for its hop, but never the upstream's.
    for (const value of res.all("connection")) assert.doesNotMatch(value, /x-internal/i);
    assert.equal(res.header("x-public"), "visible");
  } finally {
    await gw.close();
    await upstream.close();
  }
  assert.deepEqual(upstream.errors, []);
});

Deno.test("headers named in a second Connection line of the response are stripped too", async () => {
  // RFC 9110 §5.3: repeated field lines are one comma-separated list, so
  // `Connection: keep-alive` + `Connection: x-internal` names x-internal as hop-by-hop.
  const upstream = startRawUpstream(answerEach(
    "HTTP/1.1 200 OK\r\n" +
      "Connection: keep-alive\r\n" +
      "Connection: x-internal\r\n" +
      "X-Internal: upstream-only\r\n" +
      "Content-Length: 2\r\n" +
      "\r\n" +
      "ok",
  ));
  const gw = await startTestGateway(catchAll(upstream.url));
  try {
    const res = await rawExchange(portOf(gw), "GET / HTTP/1.1\r\nHost: api.test\r\n\r\n");
    assert.equal(res.status, 200);
    assert.equal(res.header("x-internal"), null, "x-internal reached the client");
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("headers named in a second Connection line of the request are stripped too", async () => {
  const upstream = startRawUpstream(answerEach("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"));
  const gw = await startTestGateway(catchAll(upstream.url));
  try {
    const res = await rawExchange(
      portOf(gw),
      "GET / HTTP/1.1\r\nHost: api.test\r\nConnection: keep-alive\r\nConnection: x-secret\r\n" +
        "X-Secret: do-not-forward\r\n\r\n",
    );
    assert.equal(res.status, 200);
    assert.ok(!headerNames(upstream.heads[0]).includes("x-secret"), upstream.heads[0]);
  } finally {
    await gw.close();
    await upstream.close();
  }
});
