/**
 * curl, wget, scripts and most HTTP libraries outside browsers send a path as they were given
 * it: `/café` goes on the wire as raw UTF-8 bytes, which Deno.serve accepts. Browsers send the
 * percent-encoded form (`/caf%C3%A9`). Both must take the same route and reach the upstream as
 * a valid request line: the percent-encoded one. Bytes no request target may hold (controls,
 * spaces, invalid UTF-8) are refused with 400 before any upstream is asked.
 */
import assert from "node:assert/strict";
import {
  portOf,
  rawExchange,
  type RawSocket,
  startRawUpstream,
  startTestGateway,
} from "../helpers/gateway.ts";
import { guarded, routedGateway } from "./route_fixture.ts";

/** A request head with `target` as UTF-8 bytes, as curl sends `curl 'http://host/café'`. */
function utf8Get(target: string): Uint8Array {
  return new TextEncoder().encode(
    `GET ${target} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`,
  );
}

/** The same head with `bytes` spliced into the target as they are. */
function getWithBytes(before: string, bytes: number[], after: string): Uint8Array {
  const enc = new TextEncoder();
  return new Uint8Array([
    ...enc.encode(`GET ${before}`),
    ...bytes,
    ...enc.encode(`${after} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`),
  ]);
}

Deno.test("a path sent as raw UTF-8 bytes takes the route written for it, as a browser's request would", async () => {
  const { gw, upstream, close } = await routedGateway([
    guarded("cafe", "/café/*"),
    guarded("wiki", "/wiki/%E6%97%A5/*"),
    { name: "public", match: { path: "/*" }, upstream: "pub" },
  ]);
  try {
    const port = portOf(gw);
    for (
      const [target, route] of [
        ["/café/menu", "cafe"],
        ["/caf%C3%A9/menu", "cafe"],
        ["/wiki/日/x", "wiki"],
        ["/x/../café/menu", "cafe"],
      ]
    ) {
      const res = await rawExchange(port, utf8Get(target));
      assert.equal(res.status, 302, `${target} must be taken by the ${route} route`);
      assert.equal(res.header("location"), `https://${route}.example/`, target);
      // `explain` of the URL as typed says what the gateway did.
      assert.equal(gw.explain("GET", `http://x${target}`).winner?.name, route, target);
    }
    assert.equal(upstream.heads.length, 0, "nothing reached the catch-all's upstream");
  } finally {
    await close();
  }
});

Deno.test("a path and query sent as raw UTF-8 bytes reach the upstream percent-encoded, not as a 502", async () => {
  const { gw, upstream, close } = await routedGateway([
    { name: "public", match: { path: "/*" }, upstream: "pub" },
  ]);
  try {
    const port = portOf(gw);
    for (
      const [target, forwarded] of [
        ["/naïve/x", "/na%C3%AFve/x"],
        ["/😀/../a\u00a0b", "/a%C2%A0b"],
        ["/x?q=café&k=日本", "/x?q=caf%C3%A9&k=%E6%97%A5%E6%9C%AC"],
        ["/x?q=%c3%a9", "/x?q=%c3%a9"],
      ]
    ) {
      const before = upstream.heads.length;
      const res = await rawExchange(port, utf8Get(target));
      assert.equal(res.status, 200, `${target}: ${res.text()}`);
      assert.equal(upstream.heads.length, before + 1, target);
      assert.equal(upstream.heads[before].split("\r\n")[0], `GET ${forwarded} HTTP/1.1`, target);
    }
  } finally {
    await close();
  }
});

Deno.test("requests with raw UTF-8 paths do not get a healthy upstream ejected as failing", async () => {
  const upstream = startRawUpstream(async (socket: RawSocket) => {
    if (await socket.readHead() === null) return;
    await socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
  });
  const gw = await startTestGateway({
    upstreams: {
      api: {
        targets: [upstream.url],
        outlierDetection: { consecutiveFailures: 2, baseEjectionTime: "60s" },
      },
    },
    routes: [{ upstream: "api" }],
  }, { admin: false });
  try {
    const port = portOf(gw);
    for (const target of ["/café", "/señor", "/日本"]) {
      const res = await rawExchange(port, utf8Get(target));
      assert.equal(res.status, 200, `${target}: ${res.text()}`);
    }
    // Had those counted as upstream failures, the only target would be ejected by now.
    const res = await rawExchange(port, utf8Get("/plain"));
    assert.equal(res.status, 200, res.text());
    assert.equal(upstream.heads.length, 4);
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("a target with controls, a space or bytes that are not UTF-8 is a 400 and reaches no upstream", async () => {
  const { gw, upstream, close } = await routedGateway([
    { name: "public", match: { path: "/*" }, upstream: "pub" },
  ]);
  try {
    const port = portOf(gw);
    for (
      const [what, bytes] of [
        ["a space", [0x20, 0x62]],
        ["a tab", [0x09]],
        ["a control byte", [0x01]],
        ["DEL", [0x7f]],
        ["a Latin-1 é", [0xe9]],
        ["bytes that are not UTF-8", [0xff, 0xfe]],
      ] as const
    ) {
      const res = await rawExchange(port, getWithBytes("/a", [...bytes], "/b"));
      assert.equal(res.status, 400, what);
    }
    assert.equal(upstream.heads.length, 0);
  } finally {
    await close();
  }
});
