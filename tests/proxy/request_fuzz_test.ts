/**
 * Hostile client requests, generated: well-formed requests of every shape the gateway handles
 * (routing on params, headers and query, bodies with Content-Length and chunked, absolute-form
 * targets, `OPTIONS *`, HTTP/1.0, a WebSocket upgrade, a route-level redirect), each mutated 1-3
 * times by a seeded generator and written on a raw TCP connection. Seeded, so every run sends
 * the same 1,000 requests and a failure names its case.
 *
 * What must hold for every one of them: an HTTP response or a closed connection, never a hang;
 * nothing fails inside the gateway (no error logged, so no 500 of Ferry's own making); what it
 * forwards has a URL the upstream can parse; and after all of them the gateway still proxies a
 * good request.
 */
import assert from "node:assert/strict";
import { FRAMING_SNIPPETS, mutateText } from "../helpers/mutate.ts";
import { latin1, portOf, startTestGateway, startUpstream, within } from "../helpers/gateway.ts";

const WS_KEY = "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n";

/** Valid requests, one per shape. */
const CORPUS = [
  "GET /users/42?x=1 HTTP/1.1\r\nhost: a.example\r\nuser-agent: fuzz\r\n\r\n",
  "POST /api/items HTTP/1.1\r\nhost: a.example\r\ncontent-type: application/json\r\n" +
  'content-length: 13\r\n\r\n{"a":[1,2,3]}',
  "PUT /api/x HTTP/1.1\r\nhost: a.example\r\ntransfer-encoding: chunked\r\n\r\n" +
  "5\r\nhello\r\n0\r\n\r\n",
  "GET /api/canary HTTP/1.1\r\nhost: a.example\r\nx-env: canary\r\ncookie: a=1; b=2\r\n\r\n",
  "GET http://a.example/api/abs HTTP/1.1\r\nhost: a.example\r\n\r\n",
  "OPTIONS * HTTP/1.1\r\nhost: a.example\r\n\r\n",
  `GET /api/ws HTTP/1.1\r\nhost: a.example\r\nupgrade: websocket\r\nconnection: Upgrade\r\n${WS_KEY}\r\n`,
  "GET /api/q?a=%ZZ&b=%E2%82%AC&plan=pro HTTP/1.1\r\nhost: a.example\r\n" +
  "x-forwarded-for: 1.2.3.4\r\nx-request-id: abc-1\r\n\r\n",
  "HEAD /api/h HTTP/1.0\r\n\r\n",
  "GET /old/7 HTTP/1.1\r\nhost: a.example\r\n\r\n",
];

/** What a mutation may insert: path tricks, framing characters, conflicting headers. */
const SNIPPETS = [
  ...FRAMING_SNIPPETS,
  "%00",
  "%2e%2e/",
  "/../",
  "//",
  "?",
  "#",
  "HTTP/1.1",
  "content-length: 5\r\n",
  "content-length: 1, 2\r\n",
  "transfer-encoding: chunked\r\n",
  "transfer-encoding: gzip, chunked\r\n",
  "host: b.example\r\n",
  "x-request-id: \xe9t\xe9\r\n",
  "99999999999999999999",
  "ffffffffffffffff",
  "a".repeat(9000),
  "connection: x-secret\r\nx-secret: 1\r\n",
  "expect: 100-continue\r\n",
];

const CASES = 1000;

/** Case `n`: a corpus request with 1-3 mutations, the same every run. */
function mutated(n: number): string {
  return mutateText(CORPUS[n % CORPUS.length], 0xfe44 + n * 104_729, SNIPPETS);
}

/**
 * Follows each mutated request on its connection. A mutated request may stop anywhere (inside
 * the request line, the headers or a body); what follows then completes or breaks it, so the
 * gateway has a whole message to answer instead of waiting for the rest of one.
 */
const SENTINEL = "GET /users/1 HTTP/1.1\r\nhost: end.example\r\nconnection: close\r\n\r\n";

/**
 * Writes `text` and the sentinel as Latin-1, and reads until the gateway has answered (a whole
 * response head) or closed the connection. A body declared longer than what was sent takes the
 * sentinel as part of it and waits for more: the upstream's total timeout answers that one.
 * (Shutting the sending side instead would not do: Deno.serve drops an unsent response when its
 * client half-closes.)
 */
async function exchange(port: number, text: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    try {
      await conn.write(latin1(text + SENTINEL));
    } catch {
      // The gateway may refuse and close before reading everything: its answer still counts.
    }
    let received = "";
    const buf = new Uint8Array(16384);
    while (!/^HTTP\/1\.[01] [^\r\n]*\r\n(?:[^\r\n]*\r\n)*?\r\n/.test(received)) {
      let n: number | null;
      try {
        n = await conn.read(buf);
      } catch {
        break; // reset after refusing the request: a close
      }
      if (n === null) break;
      received += new TextDecoder("latin1").decode(buf.subarray(0, n));
    }
    return received;
  } finally {
    try {
      conn.close();
    } catch {
      // already closed
    }
  }
}

Deno.test(`request fuzz: ${CASES} mutated requests each get a response or a close, nothing fails inside the gateway`, async () => {
  // Records every forwarded request whose URL an upstream (a WHATWG URL parser) cannot read.
  const unparseable: string[] = [];
  const echo = startUpstream(async (req) => {
    let path: string;
    try {
      path = new URL(req.url).pathname;
    } catch {
      unparseable.push(req.url);
      return new Response("unparseable", { status: 400 });
    }
    await req.arrayBuffer().catch(() => undefined);
    return Response.json({ path });
  });
  const gw = await startTestGateway({
    // A request that declares more body than it sends is answered 504 when this runs out.
    upstreams: { api: { targets: [echo.url], timeouts: { total: "1s" } } },
    routes: [
      {
        name: "user",
        match: { path: "/users/:id{[0-9]+}", method: "GET" },
        upstream: "api",
        use: [{ kind: "headers", options: { response: { set: { "x-gateway": "ferry" } } } }],
      },
      {
        name: "canary",
        match: { path: "/api/*", headers: { "x-env": "canary" }, query: { plan: "pro" } },
        upstream: "api",
        use: [{ kind: "rewrite", options: { stripPrefix: "/api", addPrefix: "/echo" } }],
      },
      { name: "old", match: { path: "/old/:id" }, redirect: { to: "/users/:id", status: 308 } },
      {
        name: "api",
        match: { path: "/api/*" },
        upstream: "api",
        use: [{
          kind: "rewrite",
          options: { regex: { pattern: "^/api/(.*)$", replacement: "/$1" } },
        }],
      },
      { name: "fallback", upstream: "api" },
    ],
  }, { admin: false });
  const port = portOf(gw);
  const outcomes = { answered: 0, closed: 0 };
  try {
    for (let n = 0; n < CASES; n++) {
      const text = mutated(n);
      const what = `case ${n} ${JSON.stringify(text.slice(0, 300))}`;
      const answer = await within(exchange(port, text), 8_000, what);
      if (answer === "") {
        outcomes.closed++;
        continue;
      }
      assert.match(answer, /^HTTP\/1\.[01] [1-5]\d\d/, `${what}: answered ${answer.slice(0, 80)}`);
      outcomes.answered++;
      const errors = gw.logger.lines.filter((l) => l.level === "error");
      assert.deepEqual(errors, [], what);
    }
    const res = await fetch(`${gw.url}/users/7`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-gateway"), "ferry");
    assert.equal((await res.json()).path, "/users/7");
  } finally {
    await gw.close();
    await echo.close();
  }
  console.log(outcomes, { forwarded: echo.received.length });
  assert.ok(outcomes.answered > CASES / 2, "most mutated requests are answered");
  assert.deepEqual(unparseable, [], "the gateway forwarded a request no upstream could parse");
});
