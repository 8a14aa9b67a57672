/**
 * The upstream gets one Cookie field with its pairs joined by "; " (RFC 6265 §5.4, RFC 9113
 * §8.2.3), whether the client split its cookies over several lines or a policy added one. The
 * Headers API joins a repeated field with ", ", and `a=1, tenant=acme` reads upstream as one
 * cookie `a` with the value `1, tenant=acme`.
 */
import assert from "node:assert/strict";
import { headers } from "../../mod.ts";
import {
  portOf,
  rawExchange,
  type RawUpstream,
  startRawUpstream,
  startTestGateway,
  within,
} from "../helpers/gateway.ts";

/** A raw upstream that answers every request 200 with no body; its `heads` are the bytes sent. */
function recordingUpstream(): RawUpstream {
  return startRawUpstream(async (socket) => {
    while (await socket.readHead() !== null) {
      await socket.write("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    }
  });
}

/** Every `cookie` line of a recorded request head, values as sent. */
function cookieLines(head: string): string[] {
  return head.split("\r\n").filter((line) => line.toLowerCase().startsWith("cookie:")).map((
    line,
  ) => line.slice("cookie:".length).trim());
}

async function cookiesSeenUpstream(
  use: unknown[],
  requestCookieLines: string[],
): Promise<string[]> {
  const upstream = recordingUpstream();
  const gw = await startTestGateway({
    upstreams: { api: { targets: [upstream.url] } },
    routes: [{ upstream: "api", use }],
  }, { admin: false });
  try {
    const cookies = requestCookieLines.map((value) => `Cookie: ${value}\r\n`).join("");
    const res = await within(
      rawExchange(
        portOf(gw),
        `GET /c HTTP/1.1\r\nHost: a.test\r\n${cookies}Connection: close\r\n\r\n`,
      ),
      5_000,
      "gateway answer",
    );
    assert.equal(res.status, 200);
    assert.deepEqual(upstream.errors, []);
    assert.equal(upstream.heads.length, 1);
    return cookieLines(upstream.heads[0]);
  } finally {
    await gw.close();
    await upstream.close();
  }
}

Deno.test("Cookie lines from an HTTP/1.1 client reach the upstream as one field joined by '; '", async () => {
  assert.deepEqual(await cookiesSeenUpstream([], ["a=1", "b=2"]), ["a=1; b=2"]);
});

Deno.test("a cookie the headers policy adds is joined to the client's with '; ', not ', '", async () => {
  const use = [headers({ request: { add: { cookie: "tenant=acme" } } })];
  assert.deepEqual(await cookiesSeenUpstream(use, ["a=1", "b=2"]), ["a=1; b=2; tenant=acme"]);
});

Deno.test("a cookie the headers policy adds goes alone when the client sent none", async () => {
  const use = [headers({ request: { add: { cookie: "tenant=acme" } } })];
  assert.deepEqual(await cookiesSeenUpstream(use, []), ["tenant=acme"]);
});

Deno.test("a comma inside a client's cookie value that starts no pair is forwarded as sent", async () => {
  assert.deepEqual(
    await cookiesSeenUpstream([], ["seen=Mon, 01 Jan 2024 00:00:00 GMT; b=2"]),
    ["seen=Mon, 01 Jan 2024 00:00:00 GMT; b=2"],
  );
});
