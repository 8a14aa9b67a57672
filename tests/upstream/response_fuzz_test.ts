/**
 * Hostile upstream responses, generated: well-formed responses of every framing the client knows
 * (content-length, chunked with extensions and trailers, close-delimited, HTTP/1.0, interim 1xx,
 * 204/304), each mutated 1-3 times by a seeded generator (bytes changed, deleted, duplicated or
 * inserted, the message cut short), and sent by a real TCP server that closes the connection
 * after writing. Seeded, so every run sends the same 1,000 responses and a failure names its case.
 *
 * What must hold for every one of them, through Ferry's HTTP/1.1 client and through the gateway:
 * - an answer, never a hang: the server has closed, so nothing is left to wait for;
 * - only the client's own error (`UpstreamError`), never a TypeError or RangeError escaping;
 * - a response that is returned is one a client can be given: an integer status, header names
 *   that are lower-case tokens, values without CR, LF or NUL, never both Content-Length and
 *   Transfer-Encoding, and a body that either errors or has exactly the declared length;
 * - the gateway answers every request with a status, and its own errors are problem+json; a
 *   body that breaks off is logged under its request id; nothing fails inside the gateway;
 *   after all of them it still proxies a good response.
 */
import assert from "node:assert/strict";
import { UpstreamError } from "../../src/upstream/client.ts";
import { Http1Client } from "../../src/upstream/http1/client.ts";
import { FRAMING_SNIPPETS, mutateText } from "../helpers/mutate.ts";
import { latin1, startTestGateway, within } from "../helpers/gateway.ts";
import { startRawServer } from "./servers/raw_server.ts";
import { bodyBytes, request, targetFor } from "./servers/target.ts";

/** Valid responses, one per framing and special status. */
const CORPUS = [
  "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-type: text/plain\r\n\r\nhello",
  "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nx-a: 1\r\n\r\n" +
  "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\ntrailer-x: 1\r\n\r\n",
  "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\nok",
  "HTTP/1.1 204 No Content\r\nx-a: b\r\n\r\n",
  'HTTP/1.1 304 Not Modified\r\netag: "x"\r\ncontent-length: 10\r\n\r\n',
  "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nclose-delimited body",
  "HTTP/1.0 200 OK\r\nserver: old\r\n\r\nan HTTP/1.0 body",
  "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 4\r\nretry-after: 1\r\n\r\nbusy",
];

/** What a mutation may insert: framing characters, numbers that overflow, conflicting headers. */
const SNIPPETS = [
  ...FRAMING_SNIPPETS,
  ";",
  ",",
  "0",
  "9",
  "f",
  "-1",
  "+5",
  "0x10",
  "ffffffffffffffffff",
  "99999999999999999999",
  "\r\n\r\n",
  "content-length: 3\r\n",
  "content-length: 5, 5\r\n",
  "transfer-encoding: chunked\r\n",
  "transfer-encoding: gzip\r\n",
  "HTTP/1.1 200 OK\r\n",
  " folded\r\n",
];

const CASES = 1000;

/** Case `n`: a corpus response with 1-3 mutations, the same every run. */
function mutated(n: number): string {
  return mutateText(CORPUS[n % CORPUS.length], 0x5eed + n * 7919, SNIPPETS);
}

/** Serves case `x-case: n` on every connection, then closes it. */
function startFuzzServer() {
  return startRawServer(async (conn) => {
    const head = await conn.readHead();
    const n = Number(/\r\nx-case: (-?\d+)/i.exec(head ?? "")?.[1]);
    if (!Number.isInteger(n)) return;
    try {
      await conn.write(latin1(n < 0 ? CORPUS[0] : mutated(n)));
    } catch {
      // The client may hang up first (it rejected the head already): nothing to check here.
    }
  });
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

/** The properties every response the client returns must have (see the module comment). */
function assertDeliverable(
  what: string,
  res: { status: number; headers: string[] },
): { contentLength: number | undefined } {
  assert.ok(Number.isInteger(res.status) && res.status >= 100 && res.status <= 599, what);
  assert.equal(res.headers.length % 2, 0, what);
  let contentLength: string | undefined;
  let chunked = false;
  for (let i = 0; i < res.headers.length; i += 2) {
    const [name, value] = [res.headers[i], res.headers[i + 1]];
    assert.match(name, TOKEN, `${what}: header name ${JSON.stringify(name)}`);
    assert.doesNotMatch(value, /[\r\n\0]/, `${what}: value of ${name}`);
    if (name === "content-length") contentLength = value;
    if (name === "transfer-encoding") chunked = true;
  }
  assert.ok(!(chunked && contentLength !== undefined), `${what}: both framings were accepted`);
  return { contentLength: contentLength === undefined ? undefined : Number(contentLength) };
}

const timeouts = { connectMs: 2_000, totalMs: 5_000, idleMs: 5_000 };

Deno.test(`upstream fuzz: ${CASES} mutated responses; the client answers each with a deliverable response or its own error`, async () => {
  const server = startFuzzServer();
  const client = new Http1Client({ maxIdlePerTarget: 8, idleTimeoutMs: 30_000 });
  const outcomes = { delivered: 0, bodyError: 0, rejected: 0 };
  try {
    for (let n = 0; n < CASES; n++) {
      const what = `case ${n} ${JSON.stringify(mutated(n))}`;
      const sent = client.send(
        targetFor(server.port),
        request(server.port, { headers: ["host", `127.0.0.1:${server.port}`, "x-case", `${n}`] }),
        timeouts,
      );
      let res;
      try {
        res = await within(sent, 8_000, what);
      } catch (e) {
        assert.ok(e instanceof UpstreamError, `${what}: threw ${e}`);
        // The server has closed: an exchange can end, so it must never run into a timeout.
        assert.notEqual(e.kind, "timeout", `${what}: ${e.message}`);
        outcomes.rejected++;
        continue;
      }
      const { contentLength } = assertDeliverable(what, res);
      let body: Uint8Array;
      try {
        body = await within(bodyBytes(res.body), 8_000, `${what}: body`);
      } catch (e) {
        assert.ok(e instanceof UpstreamError, `${what}: body threw ${e}`);
        assert.notEqual(e.kind, "timeout", `${what}: ${e.message}`);
        outcomes.bodyError++;
        continue;
      }
      const bodyless = res.status === 204 || res.status === 304 || res.status < 200;
      if (bodyless) assert.equal(body.length, 0, `${what}: a ${res.status} has no body`);
      else if (contentLength !== undefined) assert.equal(body.length, contentLength, what);
      outcomes.delivered++;
    }
    // Still healthy: the unmutated response, whole.
    const res = await client.send(
      targetFor(server.port),
      request(server.port, { headers: ["host", `127.0.0.1:${server.port}`, "x-case", "-1"] }),
      timeouts,
    );
    assert.equal(new TextDecoder().decode(await bodyBytes(res.body)), "hello");
  } finally {
    client.close();
    await server.close();
  }
  // Every kind of outcome happened, or the mutations are not reaching the parser.
  console.log(outcomes);
  for (const [kind, count] of Object.entries(outcomes)) assert.ok(count > 0, `no ${kind} case`);
});

Deno.test(`upstream fuzz: through the gateway, each of ${CASES} mutated responses gets an answer, gateway errors as problem+json`, async () => {
  const server = startFuzzServer();
  // No retries, breaker or outlier ejection: each case is judged on its own response.
  const gw = await startTestGateway({
    upstreams: {
      fuzz: {
        targets: [`http://127.0.0.1:${server.port}`],
        timeouts: { connect: "2s", total: "5s", idle: "5s" },
        retries: false,
        circuitBreaker: false,
        outlierDetection: false,
      },
    },
    routes: [{ name: "all", upstream: "fuzz" }],
  }, { admin: false });
  const statuses = new Map<number, number>();
  const brokenOff: string[] = [];
  try {
    for (let n = 0; n < CASES; n++) {
      const what = `case ${n} ${JSON.stringify(mutated(n))}`;
      const res = await within(
        fetch(`${gw.url}/`, { headers: { "x-case": `${n}` } }),
        8_000,
        what,
      );
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const madeByGateway = res.headers.get("content-type") === "application/problem+json";
      if (res.status === 502 || res.status === 504) {
        // An upstream can send 502 itself; then it is the upstream's (mutated) body.
        if (madeByGateway) assert.equal((await res.json()).status, res.status, what);
        else await res.body?.cancel();
        continue;
      }
      assert.ok(res.status >= 200 && res.status <= 599, `${what}: status ${res.status}`);
      assert.notEqual(res.status, 500, `${what}: the gateway failed internally`);
      // The body may break off (the upstream's did): that must end the read, not hang it.
      const read = await within(res.arrayBuffer().then(() => true, () => false), 8_000, what);
      if (!read) brokenOff.push(res.headers.get("x-request-id")!);
    }
    const res = await fetch(`${gw.url}/`, { headers: { "x-case": "-1" } });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "hello");
  } finally {
    await gw.close();
    await server.close();
  }
  console.log(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])), {
    bodiesBrokenOff: brokenOff.length,
  });
  assert.ok((statuses.get(502) ?? 0) > 0, "some responses must be rejected as 502");
  // Each body that broke off is logged under its request id, and nothing failed inside Ferry.
  const logged = gw.logger.lines.filter((l) => l.message.startsWith("upstream response body"));
  assert.deepEqual(logged.map((l) => l.fields?.requestId), brokenOff);
  assert.deepEqual(gw.logger.lines.filter((l) => l.level === "error"), []);
});
