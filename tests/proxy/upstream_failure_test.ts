/**
 * Upstream failures become problems the client can act on: unreachable or broken → 502, too
 * slow → 504, each an RFC 9457 body carrying the request id. A body cut off mid-way must fail
 * the client's read: a silently truncated 200 would be taken for the whole answer.
 */
import assert from "node:assert/strict";
import type { MemoryLogger } from "../../src/observe/logger.ts";
import {
  catchAll,
  freePort,
  type RawSocket,
  readProblem,
  startRawUpstream,
  startTestGateway,
  startUpstream,
} from "../helpers/gateway.ts";

/** A GET through a fresh gateway in front of `upstreamUrl`. */
async function through(
  upstreamUrl: string,
  extra: Record<string, unknown> = {},
): Promise<{ res: Response; close: () => Promise<void>; logger: MemoryLogger }> {
  const gw = await startTestGateway(catchAll(upstreamUrl, extra));
  try {
    return { res: await fetch(`${gw.url}/x`), close: () => gw.close(), logger: gw.logger };
  } catch (e) {
    await gw.close();
    throw e;
  }
}

Deno.test("a dead upstream is a 502 problem with every member and the request id", async () => {
  const { res, close } = await through(`http://127.0.0.1:${freePort()}`);
  try {
    assert.equal(res.status, 502);
    const problem = await readProblem(res);
    assert.equal(problem.type, "https://ferry.dev/problems/upstream-unreachable");
    assert.equal(problem.status, 502);
    assert.ok(problem.title.length > 0 && problem.detail.length > 0);
    assert.equal(problem.requestId, res.headers.get("x-request-id"));
  } finally {
    await close();
  }
});

Deno.test("an upstream slower than timeouts.total is a 504 problem", async () => {
  const release = Promise.withResolvers<void>();
  const upstream = startUpstream(async () => {
    await release.promise; // Resolved only at teardown: the upstream never answers in time.
    return new Response("too late");
  });
  const gw = await startTestGateway({
    upstreams: { api: { targets: [upstream.url], timeouts: { total: "200ms" } } },
    routes: [{ upstream: "api" }],
  });
  try {
    const res = await fetch(`${gw.url}/slow`);
    assert.equal(res.status, 504);
    const problem = await readProblem(res);
    assert.equal(problem.type, "https://ferry.dev/problems/upstream-timeout");
  } finally {
    release.resolve();
    await gw.close();
    await upstream.close();
  }
});

/** Raw upstream behaviours that never produce a usable response head. */
const broken: [string, (socket: RawSocket) => Promise<void>][] = [
  ["closes the connection after reading the request", async (socket) => {
    await socket.readHead();
  }],
  ["closes the connection inside the response head", async (socket) => {
    await socket.readHead();
    await socket.write("HTTP/1.1 200 OK\r\nContent-Le");
  }],
  ["closes the connection without reading anything", async () => {}],
  ["answers with something that is not HTTP", async (socket) => {
    await socket.readHead();
    await socket.write("SSH-2.0-OpenSSH_9.6\r\n\r\n");
  }],
  ["answers with an impossible status code", async (socket) => {
    await socket.readHead();
    await socket.write("HTTP/1.1 999 Whatever\r\ncontent-length: 0\r\n\r\n");
  }],
  // Passed on, a DEL in a header value made Deno's HTTP/1.1 writer panic: the gateway died.
  ["sends a control character in a header value", async (socket) => {
    await socket.readHead();
    await socket.write("HTTP/1.1 200 OK\r\nretry-after: \x7f1\r\ncontent-length: 0\r\n\r\n");
  }],
];

for (const [what, behave] of broken) {
  Deno.test(`an upstream that ${what} is a 502 problem`, async () => {
    const upstream = startRawUpstream(behave);
    const { res, close } = await through(upstream.url);
    try {
      assert.equal(res.status, 502);
      const problem = await readProblem(res);
      assert.match(problem.type, /^https:\/\/ferry\.dev\/problems\/upstream-/);
    } finally {
      await close();
      await upstream.close();
    }
    assert.deepEqual(upstream.errors, []);
  });
}

/** Raw upstream behaviours that send a good head and then cut the body short. */
const truncated: [string, string][] = [
  [
    "a Content-Length body",
    "HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n0123456789",
  ],
  [
    "a chunked body",
    "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\na\r\n0123456789\r\n",
  ],
];

for (const [what, response] of truncated) {
  Deno.test(`${what} cut off by the upstream fails the client's read`, async () => {
    const upstream = startRawUpstream(async (socket) => {
      await socket.readHead();
      await socket.write(response);
      // Returning closes the connection: the rest of the body never comes.
    });
    const { res, close, logger } = await through(upstream.url);
    try {
      // The head was fine, so the client already has its status; only the body can fail.
      assert.equal(res.status, 200);
      await assert.rejects(res.arrayBuffer(), "a truncated body was delivered as complete");
      // The gateway says why, in its structured log, under the request's id.
      const lines = logger.lines.filter((l) => l.message.startsWith("upstream response body"));
      assert.equal(lines.length, 1, JSON.stringify(logger.lines));
      assert.equal(lines[0].level, "warn");
      assert.deepEqual(
        { ...lines[0].fields, reason: typeof lines[0].fields?.reason },
        {
          requestId: res.headers.get("x-request-id"),
          route: "all",
          upstream: "api",
          target: upstream.url,
          reason: "string",
          kind: "reset",
        },
      );
      assert.match(String(lines[0].fields?.reason), /closed the connection/);
    } finally {
      await close();
      await upstream.close();
    }
  });
}
