/**
 * A gateway in front of `https://` upstreams that a private CA signed: `tls.caCerts` trusts it,
 * `tls.serverName` names the certificate of a target addressed by IP, and requests, uploads,
 * health probes and WebSockets all go over verified TLS.
 */
import assert from "node:assert/strict";
import { catchAll, startTestGateway, within } from "../helpers/gateway.ts";
import { startTlsUpstream, TEST_CA } from "../upstream/servers/tls.ts";

function httpsUpstream(url: string, tls: Record<string, unknown>, extra = {}) {
  return { ...catchAll(url), upstreams: { api: { targets: [url], tls, ...extra } } };
}

Deno.test("https upstream: a private CA in tls.caCerts is trusted, and an upload keeps its Content-Length", async () => {
  const upstream = startTlsUpstream(async (req) =>
    Response.json({
      method: req.method,
      path: new URL(req.url).pathname,
      contentLength: req.headers.get("content-length"),
      transferEncoding: req.headers.get("transfer-encoding"),
      userAgent: req.headers.get("user-agent"),
      body: await req.text(),
    })
  );
  const gw = await startTestGateway(httpsUpstream(upstream.url, { caCerts: [TEST_CA] }));
  try {
    const get = await fetch(`${gw.url}/items/1`, { headers: { "user-agent": "test-client" } });
    assert.equal(get.status, 200);
    const answer = await get.json();
    assert.equal(answer.path, "/items/1");
    assert.equal(answer.userAgent, "test-client");

    // A body streamed in pieces with a declared length: some servers take no chunked uploads.
    const body = "x".repeat(100_000);
    const post = await fetch(`${gw.url}/upload`, {
      method: "POST",
      body,
      headers: { "content-type": "text/plain" },
    });
    assert.equal(post.status, 200);
    const echoed = await post.json();
    assert.equal(echoed.contentLength, "100000");
    assert.equal(echoed.transferEncoding, null);
    assert.equal(echoed.body, body);
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("https upstream: without the CA the certificate is refused, with 502", async () => {
  const upstream = startTlsUpstream(() => new Response("secret"));
  const gw = await startTestGateway(
    httpsUpstream(upstream.url, {}, { retries: false, outlierDetection: false }),
  );
  try {
    const res = await fetch(`${gw.url}/`);
    assert.equal(res.status, 502);
    await res.body?.cancel();
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("https upstream: tls.serverName verifies a target addressed by IP against its certificate's name", async () => {
  // The certificate names only `other.test`: reached as 127.0.0.1, it matches with serverName.
  const upstream = startTlsUpstream(() => new Response("from other.test"), {
    certificate: "other-name",
  });
  const byIp = `https://127.0.0.1:${upstream.port}`;
  const named = await startTestGateway(
    httpsUpstream(byIp, { caCerts: [TEST_CA], serverName: "other.test" }),
  );
  const unnamed = await startTestGateway(
    httpsUpstream(byIp, { caCerts: [TEST_CA] }, { retries: false, outlierDetection: false }),
  );
  try {
    const ok = await fetch(`${named.url}/`);
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), "from other.test");

    const refused = await fetch(`${unnamed.url}/`);
    assert.equal(refused.status, 502);
    await refused.body?.cancel();
  } finally {
    await named.close();
    await unnamed.close();
    await upstream.close();
  }
});

Deno.test("https upstream: health probes verify with the upstream's tls settings", async () => {
  const probed = Promise.withResolvers<void>();
  const upstream = startTlsUpstream((req) => {
    if (new URL(req.url).pathname === "/healthz") probed.resolve();
    return new Response("ok");
  });
  const gw = await startTestGateway(
    httpsUpstream(upstream.url, { caCerts: [TEST_CA] }, {
      healthCheck: { path: "/healthz", interval: "100ms", timeout: "100ms" },
    }),
    { admin: true },
  );
  try {
    await within(probed.promise, 10_000, "a health probe over TLS");
    const res = await fetch(`${gw.url}/`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "ok");
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("https upstream: a WebSocket goes over TLS verified with tls.caCerts", async () => {
  const upstream = startTlsUpstream((req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onmessage = (e) => socket.send(`echo: ${e.data}`);
    return response;
  });
  const gw = await startTestGateway(httpsUpstream(upstream.url, { caCerts: [TEST_CA] }));
  const ws = new WebSocket(`${gw.url.replace("http", "ws")}/ws`);
  const closed = new Promise((resolve) => ws.onclose = resolve);
  try {
    await within(
      new Promise((resolve, reject) => {
        ws.onopen = resolve;
        ws.onerror = () => reject(new Error("the WebSocket failed to open"));
      }),
      10_000,
      "the WebSocket's opening",
    );
    const reply = new Promise<string>((resolve) => ws.onmessage = (e) => resolve(e.data));
    ws.send("hello");
    assert.equal(await within(reply, 10_000, "the echo"), "echo: hello");
  } finally {
    ws.close();
    await closed;
    await gw.close();
    await upstream.close();
  }
});
