/**
 * Admin `/metrics` of a real gateway after traffic on edge paths: a retried request, an upstream
 * timeout, a policy refusal, a client that walks away mid-stream, HEAD requests, methods a
 * client invents, and a reload that removes an upstream. Each counter must count each request
 * once, gauges must come back to 0, and no label may take a value a client chooses.
 */
import assert from "node:assert/strict";
import {
  RawSocket,
  startRawUpstream,
  startTestGateway,
  startUpstream,
} from "../helpers/gateway.ts";
import { pollFor, scrapeMetrics, websocketEchoResponse } from "../helpers/reload.ts";

/** The `ferry_requests_total` series, as `{labels}: value`. */
function requestSeries(m: Map<string, number>): Record<string, number> {
  const prefix = "ferry_requests_total";
  return Object.fromEntries(
    [...m].filter(([k]) => k.startsWith(`${prefix}{`)).map(([k, v]) => [k.slice(prefix.length), v]),
  );
}

Deno.test("a retried request is one request, one retry and two timed attempts", async () => {
  let calls = 0;
  const api = startUpstream(() => {
    calls++;
    return calls === 1 ? new Response("busy", { status: 503 }) : new Response("ok");
  });
  const gw = await startTestGateway({
    upstreams: {
      api: {
        targets: [api.url],
        retries: { maxRetries: 2, on: [503], backoff: { base: "1ms", max: "1ms" } },
      },
    },
    routes: [{ name: "r", upstream: "api" }],
  });
  try {
    const res = await fetch(`${gw.url}/x`);
    assert.equal(await res.text(), "ok");
    assert.equal(calls, 2);
    const m = await scrapeMetrics(gw.adminUrl!);
    assert.deepEqual(requestSeries(m), { '{route="r",method="GET",status_class="2xx"}': 1 });
    assert.equal(m.get('ferry_upstream_retries_total{upstream="api"}'), 1);
    assert.equal(m.get('ferry_request_duration_seconds_count{route="r"}'), 1);
    assert.equal(
      m.get(`ferry_upstream_duration_seconds_count{upstream="api",target="${api.url}"}`),
      2,
    );
    assert.equal(m.get('ferry_body_bytes_total{route="r",direction="out"}'), 2, "only 'ok'");
    assert.equal(m.get("ferry_requests_in_flight"), 0);
  } finally {
    await gw.close();
    await api.close();
  }
});

Deno.test("an upstream timeout is one 5xx request and leaves nothing in flight", async () => {
  const release = Promise.withResolvers<void>();
  const api = startUpstream(async () => {
    await release.promise;
    return new Response("late");
  });
  const gw = await startTestGateway({
    upstreams: {
      api: { targets: [api.url], retries: false, timeouts: { perTry: "50ms", total: "50ms" } },
    },
    routes: [{ name: "slow", upstream: "api" }],
  });
  try {
    const res = await fetch(`${gw.url}/x`);
    await res.body?.cancel();
    assert.equal(res.status, 504);
    const m = await scrapeMetrics(gw.adminUrl!);
    assert.deepEqual(requestSeries(m), { '{route="slow",method="GET",status_class="5xx"}': 1 });
    assert.equal(m.get('ferry_request_duration_seconds_count{route="slow"}'), 1);
    assert.equal(m.get("ferry_requests_in_flight"), 0);
    assert.equal(m.get('ferry_body_bytes_total{route="slow",direction="out"}'), 0);
  } finally {
    release.resolve();
    await gw.close();
    await api.close();
  }
});

Deno.test("a policy refusal is counted under its route, with its status class", async () => {
  let calls = 0;
  const api = startUpstream(() => {
    calls++;
    return new Response("ok");
  });
  const gw = await startTestGateway({
    upstreams: { api: { targets: [api.url] } },
    routes: [{
      name: "walled",
      upstream: "api",
      use: [{ kind: "ipFilter", options: { deny: ["127.0.0.0/8"] } }],
    }],
  });
  try {
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${gw.url}/x`, { method: "POST", body: "abcd" });
      await res.body?.cancel();
      assert.equal(res.status, 403);
    }
    assert.equal(calls, 0);
    const m = await scrapeMetrics(gw.adminUrl!);
    assert.deepEqual(requestSeries(m), {
      '{route="walled",method="POST",status_class="4xx"}': 3,
    });
    // `in` counts what clients declared they send, refused or not (the README's definition).
    assert.equal(m.get('ferry_body_bytes_total{route="walled",direction="in"}'), 3 * 4);
    assert.equal(m.get('ferry_body_bytes_total{route="walled",direction="out"}'), 0);
  } finally {
    await gw.close();
    await api.close();
  }
});

Deno.test("a client that walks away mid-stream: counted once, stream and in-flight back to 0", async () => {
  const hold = Promise.withResolvers<void>();
  const cancelled = Promise.withResolvers<void>();
  const api = startUpstream(() =>
    new Response(
      new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(new Uint8Array(50).fill(97));
          await hold.promise;
          try {
            controller.close();
          } catch { /* cancelled already */ }
        },
        cancel() {
          cancelled.resolve();
        },
      }),
    )
  );
  const gw = await startTestGateway({
    upstreams: { api: { targets: [api.url] } },
    routes: [{ name: "feed", upstream: "api" }],
  });
  try {
    const res = await fetch(`${gw.url}/events`);
    const reader = res.body!.getReader();
    const first = await reader.read();
    assert.equal(first.value?.byteLength, 50);
    await reader.cancel();
    // The gateway learns of the disconnect from its connection: wait for the upstream to see it.
    await cancelled.promise;
    const m = await pollFor("stream gauge back to 0", async () => {
      const m = await scrapeMetrics(gw.adminUrl!);
      return m.get('ferry_open_streams{kind="stream"}') === 0 ? m : undefined;
    });
    assert.deepEqual(requestSeries(m), { '{route="feed",method="GET",status_class="2xx"}': 1 });
    assert.equal(m.get("ferry_requests_in_flight"), 0);
    assert.equal(m.get('ferry_body_bytes_total{route="feed",direction="out"}'), 50);
  } finally {
    hold.resolve();
    await gw.close();
    await api.close();
  }
});

Deno.test("HEAD: counted as HEAD, and no body bytes out although the upstream declares a length", async () => {
  const api = startUpstream(() => new Response("0123456789"));
  const gw = await startTestGateway({
    upstreams: { api: { targets: [api.url] } },
    routes: [{ name: "h", upstream: "api" }],
  });
  try {
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${gw.url}/x`, { method: "HEAD" });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), "");
    }
    const m = await scrapeMetrics(gw.adminUrl!);
    assert.deepEqual(requestSeries(m), { '{route="h",method="HEAD",status_class="2xx"}': 2 });
    assert.equal(m.get('ferry_body_bytes_total{route="h",direction="out"}') ?? 0, 0);
    assert.equal(m.get('ferry_open_streams{kind="stream"}'), 0);
  } finally {
    await gw.close();
    await api.close();
  }
});

Deno.test("methods a client invents all count as OTHER: no label value is client-chosen", async () => {
  const api = startUpstream(() => new Response("ok"));
  const gw = await startTestGateway({
    upstreams: { api: { targets: [api.url] } },
    routes: [{ name: "any", upstream: "api" }],
  });
  try {
    const invented = Array.from({ length: 40 }, (_, i) => `FOO${i}BAR`);
    invented.push("patch", "PROPFIND");
    for (const method of invented) {
      const res = await fetch(`${gw.url}/x`, { method });
      await res.body?.cancel();
    }
    const m = await scrapeMetrics(gw.adminUrl!);
    const series = requestSeries(m);
    const methods = new Set(Object.keys(series).map((k) => /method="([^"]*)"/.exec(k)![1]));
    assert.deepEqual([...methods], ["OTHER"]);
    const total = Object.values(series).reduce((a, b) => a + b, 0);
    assert.equal(total, invented.length);
    for (const key of m.keys()) assert.ok(!key.includes("FOO"), key);
  } finally {
    await gw.close();
    await api.close();
  }
});

Deno.test("a reload that removes an upstream removes its health and circuit series", async () => {
  const a = startUpstream(() => new Response("a"));
  const b = startUpstream(() => new Response("b"));
  const config = (upstreams: Record<string, string>) => ({
    upstreams: Object.fromEntries(
      Object.entries(upstreams).map(([name, url]) => [name, { targets: [url] }]),
    ),
    routes: Object.keys(upstreams).map((name) => ({
      name,
      match: { path: `/${name}` },
      upstream: name,
    })),
  });
  const gw = await startTestGateway(config({ alpha: a.url, beta: b.url }));
  try {
    const before = await scrapeMetrics(gw.adminUrl!);
    assert.equal(before.get(`ferry_upstream_healthy{upstream="beta",target="${b.url}"}`), 1);
    assert.equal(before.get('ferry_upstream_circuit_state{upstream="beta",state="closed"}'), 1);
    await gw.reload(config({ alpha: a.url }));
    const after = await scrapeMetrics(gw.adminUrl!);
    const beta = [...after.keys()].filter((k) =>
      /^ferry_upstream_(healthy|circuit_state)\{/.test(k) && k.includes('upstream="beta"')
    );
    assert.deepEqual(beta, []);
    assert.equal(after.get(`ferry_upstream_healthy{upstream="alpha",target="${a.url}"}`), 1);
    assert.equal(after.get('ferry_config_reloads_total{result="success"}'), 2);
    const info = [...after].filter(([k]) => k.startsWith("ferry_config_info{"));
    assert.equal(info.length, 1, JSON.stringify(info));
    assert.equal(info[0][1], 1);
  } finally {
    await gw.close();
    await a.close();
    await b.close();
  }
});

Deno.test("an upstream body that breaks off: counted once, its bytes so far, stream gauge to 0", async () => {
  const api = startUpstream(() =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new Uint8Array(30).fill(97));
        },
        pull(controller) {
          controller.error(new Error("upstream gave up"));
        },
      }),
    )
  );
  const gw = await startTestGateway({
    upstreams: { api: { targets: [api.url] } },
    routes: [{ name: "cut", upstream: "api" }],
  });
  try {
    const res = await fetch(`${gw.url}/x`);
    assert.equal(res.status, 200);
    await assert.rejects(res.text());
    const m = await pollFor("stream gauge back to 0", async () => {
      const m = await scrapeMetrics(gw.adminUrl!);
      return m.get('ferry_open_streams{kind="stream"}') === 0 ? m : undefined;
    });
    assert.deepEqual(requestSeries(m), { '{route="cut",method="GET",status_class="2xx"}': 1 });
    assert.equal(m.get('ferry_body_bytes_total{route="cut",direction="out"}'), 30);
    assert.equal(m.get("ferry_requests_in_flight"), 0);
  } finally {
    await gw.close();
    await api.close();
  }
});

Deno.test("a circuit that opens: state gauge, transition count, and the fast 503s counted", async () => {
  let calls = 0;
  const api = startUpstream(() => {
    calls++;
    return new Response("down", { status: 500 });
  });
  const gw = await startTestGateway({
    upstreams: {
      api: {
        targets: [api.url],
        retries: false,
        outlierDetection: false,
        circuitBreaker: { failurePercent: 50, minRequests: 2, window: "60s", openFor: "60s" },
      },
    },
    routes: [{ name: "c", upstream: "api" }],
  });
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${gw.url}/x`);
      await res.body?.cancel();
      statuses.push(res.status);
    }
    assert.deepEqual(statuses, [500, 500, 503, 503]);
    assert.equal(calls, 2);
    const m = await scrapeMetrics(gw.adminUrl!);
    assert.equal(m.get('ferry_upstream_circuit_state{upstream="api",state="open"}'), 1);
    assert.equal(m.get('ferry_upstream_circuit_state{upstream="api",state="closed"}'), 0);
    assert.equal(m.get('ferry_upstream_circuit_transitions_total{upstream="api",to="open"}'), 1);
    assert.deepEqual(requestSeries(m), { '{route="c",method="GET",status_class="5xx"}': 4 });
    // Only the two attempts that reached the upstream are timed.
    assert.equal(
      m.get(`ferry_upstream_duration_seconds_count{upstream="api",target="${api.url}"}`),
      2,
    );
  } finally {
    await gw.close();
    await api.close();
  }
});

Deno.test("a client that drops mid-upload: in flight back to 0, the request counted once", async () => {
  const reading = Promise.withResolvers<void>();
  const api = startUpstream(async (req) => {
    reading.resolve();
    try {
      await req.text();
    } catch { /* the gateway gave up on the body */ }
    return new Response("late");
  });
  const gw = await startTestGateway({
    upstreams: { api: { targets: [api.url], retries: false } },
    routes: [{ name: "up", upstream: "api" }],
  });
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(gw.url).port) });
    const head = "POST /u HTTP/1.1\r\nhost: x\r\ncontent-length: 100000\r\n\r\n";
    await conn.write(new TextEncoder().encode(head + "a".repeat(10)));
    await reading.promise;
    conn.close();
    const m = await pollFor("in flight back to 0 and the request counted", async () => {
      const m = await scrapeMetrics(gw.adminUrl!);
      const counted = Object.values(requestSeries(m)).reduce((a, b) => a + b, 0);
      return m.get("ferry_requests_in_flight") === 0 && counted > 0 ? m : undefined;
    });
    const series = requestSeries(m);
    assert.equal(Object.values(series).reduce((a, b) => a + b, 0), 1, JSON.stringify(series));
    assert.ok(
      Object.keys(series)[0].startsWith('{route="up",method="POST"'),
      JSON.stringify(series),
    );
  } finally {
    await gw.close();
    await api.close();
  }
});

Deno.test("a 205 whose upstream sent a body anyway: no open stream left, no bytes out", async () => {
  const api = startRawUpstream(async (socket) => {
    await socket.readHead();
    await socket.write("HTTP/1.1 205 Reset Content\r\ncontent-length: 5\r\n\r\nhello");
  });
  const gw = await startTestGateway({
    upstreams: { api: { targets: [api.url] } },
    routes: [{ name: "reset", upstream: "api" }],
  });
  try {
    const res = await fetch(`${gw.url}/x`);
    assert.ok(res.status === 205 || res.status === 204, String(res.status));
    await res.body?.cancel();
    const m = await pollFor("stream gauge back to 0", async () => {
      const m = await scrapeMetrics(gw.adminUrl!);
      return m.get('ferry_open_streams{kind="stream"}') === 0 ? m : undefined;
    });
    assert.deepEqual(requestSeries(m), { '{route="reset",method="GET",status_class="2xx"}': 1 });
    assert.equal(m.get('ferry_body_bytes_total{route="reset",direction="out"}') ?? 0, 0);
  } finally {
    await gw.close();
    await api.close();
  }
});

Deno.test("an upstream status Ferry cannot relay: the 502 is counted, the dropped body is not", async () => {
  const api = startRawUpstream(async (socket) => {
    await socket.readHead();
    await socket.write("HTTP/1.1 600 Odd\r\ncontent-length: 5\r\n\r\nhello");
  });
  const gw = await startTestGateway({
    upstreams: { api: { targets: [api.url], retries: false } },
    routes: [{ name: "odd", upstream: "api" }],
  });
  try {
    const res = await fetch(`${gw.url}/x`);
    await res.body?.cancel();
    assert.equal(res.status, 502);
    const m = await scrapeMetrics(gw.adminUrl!);
    assert.deepEqual(requestSeries(m), { '{route="odd",method="GET",status_class="5xx"}': 1 });
    assert.equal(m.get('ferry_body_bytes_total{route="odd",direction="out"}') ?? 0, 0);
  } finally {
    await gw.close();
    await api.close();
  }
});

Deno.test("a WebSocket client that vanishes without a close frame: the gauge comes back to 0", async () => {
  const api = startUpstream((req) => websocketEchoResponse(req));
  const gw = await startTestGateway({
    upstreams: { api: { targets: [api.url] } },
    routes: [{ name: "ws", upstream: "api" }],
  });
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(gw.url).port) });
    const socket = new RawSocket(conn);
    try {
      await socket.write(
        "GET /chat HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\nconnection: Upgrade\r\n" +
          "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n",
      );
      const head = await socket.readHead();
      assert.match(head ?? "", /^HTTP\/1\.1 101/);
      await pollFor("websocket counted open", async () => {
        const m = await scrapeMetrics(gw.adminUrl!);
        return m.get('ferry_open_streams{kind="websocket"}') === 1 ? true : undefined;
      });
    } finally {
      conn.close(); // no close frame: the TCP connection just ends
    }
    const m = await pollFor("websocket gauge back to 0", async () => {
      const m = await scrapeMetrics(gw.adminUrl!);
      return m.get('ferry_open_streams{kind="websocket"}') === 0 ? m : undefined;
    });
    assert.equal(m.get("ferry_requests_in_flight"), 0);
    assert.deepEqual(requestSeries(m), { '{route="ws",method="GET",status_class="1xx"}': 1 });
  } finally {
    await gw.close();
    await api.close();
  }
});

Deno.test("an ejected target: healthy gauge 0, one ejection counted, the other target still 1", async () => {
  let badCalls = 0;
  const good = startUpstream(() => new Response("ok"));
  const bad = startUpstream(() => {
    badCalls++;
    return new Response("no", { status: 500 });
  });
  const gw = await startTestGateway({
    upstreams: {
      api: {
        targets: [good.url, bad.url],
        retries: false,
        circuitBreaker: false,
        outlierDetection: { consecutiveFailures: 2, baseEjectionTime: "60s" },
      },
    },
    routes: [{ name: "e", upstream: "api" }],
  });
  try {
    // Round-robin: the bad target gets every other request until it is ejected.
    for (let i = 0; i < 8 && badCalls < 2; i++) {
      const res = await fetch(`${gw.url}/x`);
      await res.body?.cancel();
    }
    assert.equal(badCalls, 2);
    const m = await scrapeMetrics(gw.adminUrl!);
    assert.equal(m.get(`ferry_upstream_healthy{upstream="api",target="${bad.url}"}`), 0);
    assert.equal(m.get(`ferry_upstream_healthy{upstream="api",target="${good.url}"}`), 1);
    assert.equal(m.get(`ferry_upstream_ejections_total{upstream="api",target="${bad.url}"}`), 1);
    // Every request after the ejection goes to the good target.
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${gw.url}/x`);
      assert.equal(await res.text(), "ok");
    }
    assert.equal(badCalls, 2);
  } finally {
    await gw.close();
    await good.close();
    await bad.close();
  }
});
