/**
 * Statuses that carry no body (204, 205, 304) reach the client without one, whatever framing
 * headers the upstream sent. A 205 once became a gateway 500 (`new Response` refuses it a body);
 * it now goes out as 204, because Deno.serve frames a 205 with neither Content-Length nor a
 * close, and a client reading it as close-delimited (curl, here) would never see it end.
 */
import assert from "node:assert/strict";
import {
  catchAll,
  portOf,
  rawExchange,
  startRawUpstream,
  startTestGateway,
} from "../helpers/gateway.ts";

for (
  const [status, reason, sent] of [
    [204, "No Content", 204],
    [205, "Reset Content", 204],
    [304, "Not Modified", 304],
  ] as const
) {
  Deno.test(`an upstream ${status} reaches the client as ${sent}, without a body`, async () => {
    const upstream = startRawUpstream(async (socket) => {
      while (await socket.readHead() !== null) {
        await socket.write(
          `HTTP/1.1 ${status} ${reason}\r\ncontent-length: 0\r\netag: "v1"\r\n\r\n`,
        );
      }
    });
    const gw = await startTestGateway(catchAll(upstream.url));
    try {
      const res = await rawExchange(portOf(gw), "GET /form HTTP/1.1\r\nHost: api.test\r\n\r\n");
      assert.equal(res.status, sent);
      assert.equal(res.header("etag"), '"v1"');
      assert.equal(res.body.length, 0);
    } finally {
      await gw.close();
      await upstream.close();
    }
    assert.deepEqual(upstream.errors, []);
  });
}

Deno.test("an upstream 205 answers curl at once (the response is framed)", async () => {
  const upstream = startRawUpstream(async (socket) => {
    while (await socket.readHead() !== null) {
      await socket.write("HTTP/1.1 205 Reset Content\r\ncontent-length: 0\r\n\r\n");
    }
  });
  const gw = await startTestGateway(catchAll(upstream.url));
  try {
    // curl waits for a close on an unframed 205: --max-time turns that wait into a failure.
    const { code, stdout } = await new Deno.Command("curl", {
      args: ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10", `${gw.url}/form`],
    }).output();
    assert.equal(code, 0, "curl finished without timing out");
    assert.equal(new TextDecoder().decode(stdout), "204");
  } finally {
    await gw.close();
    await upstream.close();
  }
});
