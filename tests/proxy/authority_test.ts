/**
 * The Host a request names is checked before routing (RFC 9112 §3.2: a server answers 400 to a
 * Host field with an invalid value). Deno.serve builds `req.url` from whatever Host came, so an
 * unchecked `Host: a b` or `Host: a:99999` reached the upstream as a Host it could not parse.
 * Raw requests, since `fetch` only sends valid ones.
 */
import assert from "node:assert/strict";
import { isValidAuthority } from "../../src/proxy/authority.ts";
import {
  catchAll,
  latin1,
  portOf,
  rawExchange,
  startEchoUpstream,
  startTestGateway,
} from "../helpers/gateway.ts";

const VALID = [
  "api.example.com",
  "API.Example.com:8080",
  "example.com.",
  "127.0.0.1",
  "127.0.0.1:65535",
  "[::1]",
  "[::1]:8443",
  "[fe80::1%25eth0]",
  "xn--caf-dma.example",
  "my_host-1.internal",
  "10.0.0.255:80",
  "v2.api4.example",
];
const INVALID = [
  "",
  "a b",
  "a/b",
  "a?b",
  "a#b",
  "user@example.com",
  "a:99999",
  "a:1234567",
  "a:port",
  "a:-1",
  ":80",
  "café.example",
  "a\tb",
  "[::1",
  "a%zz",
  "a%2Db",
  "a.exam%00le",
  "a:80:80",
  "a.examforwarded-fo.4",
  "1.2.3.999",
  "1.2.3",
  "01.2.3.4",
  "a.0x1f",
  "123",
];

Deno.test("authority syntax: host names, IPv4 and bracketed IPv6, with a port up to 65535", () => {
  for (const authority of VALID) assert.ok(isValidAuthority(authority), authority);
  for (const authority of INVALID) assert.ok(!isValidAuthority(authority), authority);
});

Deno.test("requests naming an invalid Host are refused with 400 and never forwarded", async () => {
  const upstream = startEchoUpstream();
  const gw = await startTestGateway(catchAll(upstream.url));
  try {
    // (A Host that is not ASCII never gets here: Deno.serve puts its own listener's address
    // in the URL instead, which routes as that.)
    for (const host of ["a b", "a?b", "user@a.example", "a:99999", "a.exam%00le", "a:80:80"]) {
      const res = await rawExchange(
        portOf(gw),
        latin1(`GET /x HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`),
      );
      assert.equal(res.status, 400, host);
      const problem = JSON.parse(res.text());
      assert.equal(problem.type, "https://ferry.dev/problems/bad-request", host);
      assert.match(problem.detail, /^invalid Host "/, host);
      assert.equal(problem.requestId, res.header("x-request-id"));
    }
    assert.deepEqual(upstream.received, [], "nothing with an invalid Host reaches the upstream");
    // Valid ones, including an IPv6 literal and an absolute-form target whose Host differs.
    for (
      const [target, host] of [
        ["/ok", "api.example:8080"],
        ["/ok", "[::1]:8080"],
        ["http://other.example/ok", "api.example"],
      ]
    ) {
      const res = await rawExchange(
        portOf(gw),
        `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      );
      assert.equal(res.status, 200, `${target} ${host}`);
      assert.equal(JSON.parse(res.text()).path, "/ok");
    }
  } finally {
    await gw.close();
    await upstream.close();
  }
});
