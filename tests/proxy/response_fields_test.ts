/**
 * The upstream's end-to-end response fields reach the client as sent: every distinct field with
 * its value, a repeated field (Set-Cookie) as separate lines in order, and fields whose names
 * are also properties of a JavaScript object (`__proto__`, `constructor`). The gateway builds
 * the client's fields as a record when names are distinct and as a pair list otherwise; these
 * cases cover both and the edges between them.
 */
import assert from "node:assert/strict";
import {
  catchAll,
  portOf,
  rawExchange,
  startRawUpstream,
  startTestGateway,
} from "../helpers/gateway.ts";

/** Proxies one GET to an upstream that answers with `fields` and a 2-byte body. */
async function fieldsThroughGateway(fields: string) {
  const upstream = startRawUpstream(async (socket) => {
    while (await socket.readHead() !== null) {
      await socket.write(`HTTP/1.1 200 OK\r\n${fields}content-length: 2\r\n\r\nok`);
    }
  });
  const gw = await startTestGateway(catchAll(upstream.url));
  try {
    const res = await rawExchange(
      portOf(gw),
      "GET / HTTP/1.1\r\nHost: api.test\r\nX-Request-Id: req-fields-1\r\n\r\n",
    );
    assert.equal(res.status, 200);
    assert.equal(res.text(), "ok");
    return res;
  } finally {
    await gw.close();
    await upstream.close();
    assert.deepEqual(upstream.errors, []);
  }
}

/** The response's fields minus those Deno.serve adds itself (date, content-length). */
function endToEnd(headers: [string, string][]): [string, string][] {
  return headers.filter(([name]) => name !== "date" && name !== "content-length");
}

Deno.test("distinct upstream fields reach the client with their values, plus the request id", async () => {
  const res = await fieldsThroughGateway(
    'Server: nginx\r\nETag: "v7"\r\nCache-Control: max-age=60\r\nX-Request-Id: upstream-own\r\n',
  );
  assert.deepEqual(
    endToEnd(res.headers).sort(),
    [
      ["cache-control", "max-age=60"],
      ["etag", '"v7"'],
      ["server", "nginx"],
      ["x-request-id", "req-fields-1"],
    ],
  );
});

Deno.test("a repeated field reaches the client as separate lines, in order", async () => {
  const res = await fieldsThroughGateway(
    "Set-Cookie: a=1; Path=/\r\nVary: accept\r\nSet-Cookie: b=2; HttpOnly\r\nVary: origin\r\n",
  );
  assert.deepEqual(res.all("set-cookie"), ["a=1; Path=/", "b=2; HttpOnly"]);
  assert.deepEqual(res.all("vary").join(", "), "accept, origin");
  assert.equal(res.header("x-request-id"), "req-fields-1");
});

Deno.test("fields named like object properties pass through as plain fields", async () => {
  const res = await fieldsThroughGateway(
    "__proto__: p\r\nconstructor: c\r\ntoString: t\r\nX-Kept: yes\r\n",
  );
  assert.equal(res.header("__proto__"), "p");
  assert.equal(res.header("constructor"), "c");
  assert.equal(res.header("tostring"), "t");
  assert.equal(res.header("x-kept"), "yes");
  assert.equal(res.header("x-request-id"), "req-fields-1");
});
