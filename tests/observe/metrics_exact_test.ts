/**
 * Admin `/metrics` after known traffic through a real gateway to real upstreams: exact counter
 * values, exact histogram counts, byte counts for bodies of known size, and the gauges of
 * in-flight requests, open streams and open WebSockets while something is open and after.
 */
import assert from "node:assert/strict";
import { freePort, startTestGateway, startUpstream } from "../helpers/gateway.ts";
import { SERVE_FLAGS } from "../helpers/process.ts";
import {
  openSocket,
  pollFor,
  scrapeMetrics,
  websocketEchoResponse,
  wsUrl,
} from "../helpers/reload.ts";
import { scrapeServedGateway } from "./served_metrics.ts";

/** The buckets the README documents: sub-millisecond to a minute. */
const DOCUMENTED_BUCKETS = [
  "0.0005",
  "0.001",
  "0.0025",
  "0.005",
  "0.01",
  "0.025",
  "0.05",
  "0.1",
  "0.25",
  "0.5",
  "1",
  "2.5",
  "5",
  "10",
  "30",
  "60",
  "+Inf",
];

/** Every `le` of one histogram series, in exposition order, with its cumulative count. */
function buckets(metrics: Map<string, number>, name: string, labels: string): [string, number][] {
  const out: [string, number][] = [];
  const prefix = `${name}_bucket{${labels},le="`;
  for (const [key, value] of metrics) {
    if (key.startsWith(prefix)) out.push([key.slice(prefix.length, -2), value]);
  }
  return out;
}

Deno.test("exact request, duration, upstream and byte counts after a known sequence", async () => {
  const ok = "0123456789"; // 10 bytes
  const notHere = "not here"; // 8 bytes
  const api = startUpstream(async (req) => {
    if (req.method === "POST") {
      await req.body?.cancel();
      return new Response(notHere, { status: 404 });
    }
    return new Response(ok);
  });
  const refused = `http://127.0.0.1:${freePort()}`;
  const gw = await startTestGateway({
    upstreams: {
      api: { targets: [api.url] },
      down: { targets: [refused], retries: false },
    },
    routes: [
      { name: "items", match: { path: "/items/*" }, upstream: "api" },
      { name: "down", match: { path: "/down" }, upstream: "down" },
    ],
  });
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await fetch(`${gw.url}/items/${i}`);
      assert.equal(await res.text(), ok);
      statuses.push(res.status);
    }
    for (let i = 0; i < 3; i++) {
      const body = "p".repeat(20); // sent with Content-Length: 20
      const res = await fetch(`${gw.url}/items/new`, { method: "POST", body });
      assert.equal(await res.text(), notHere);
      statuses.push(res.status);
    }
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${gw.url}/nowhere/${i}`);
      await res.body?.cancel();
      statuses.push(res.status);
    }
    const down = await fetch(`${gw.url}/down`);
    await down.body?.cancel();
    statuses.push(down.status);
    assert.deepEqual(statuses, [...Array(7).fill(200), 404, 404, 404, 404, 404, 502]);

    const m = await scrapeMetrics(gw.adminUrl!);
    const requests = [...m].filter(([k]) => k.startsWith("ferry_requests_total{"));
    assert.deepEqual(Object.fromEntries(requests), {
      'ferry_requests_total{route="items",method="GET",status_class="2xx"}': 7,
      'ferry_requests_total{route="items",method="POST",status_class="4xx"}': 3,
      'ferry_requests_total{route="no_route",method="GET",status_class="4xx"}': 2,
      'ferry_requests_total{route="down",method="GET",status_class="5xx"}': 1,
    });

    assert.equal(m.get('ferry_request_duration_seconds_count{route="items"}'), 10);
    assert.equal(m.get('ferry_request_duration_seconds_count{route="no_route"}'), 2);
    assert.equal(m.get('ferry_request_duration_seconds_count{route="down"}'), 1);
    const items = buckets(m, "ferry_request_duration_seconds", 'route="items"');
    assert.deepEqual(items.map(([le]) => le), DOCUMENTED_BUCKETS);
    assert.equal(items.at(-1)![1], 10, "+Inf holds every observation");
    for (let i = 1; i < items.length; i++) assert.ok(items[i][1] >= items[i - 1][1], "cumulative");

    // Every attempt is timed, the refused one included.
    assert.equal(
      m.get(`ferry_upstream_duration_seconds_count{upstream="api",target="${api.url}"}`),
      10,
    );
    assert.equal(
      m.get(`ferry_upstream_duration_seconds_count{upstream="down",target="${refused}"}`),
      1,
    );
    assert.deepEqual(
      buckets(m, "ferry_upstream_duration_seconds", `upstream="api",target="${api.url}"`)
        .map(([le]) => le),
      DOCUMENTED_BUCKETS,
    );

    // In: the three POST bodies. Out: seven 10-byte and three 8-byte upstream bodies.
    assert.equal(m.get('ferry_body_bytes_total{route="items",direction="in"}'), 3 * 20);
    assert.equal(m.get('ferry_body_bytes_total{route="items",direction="out"}'), 7 * 10 + 3 * 8);

    assert.equal(m.get("ferry_requests_in_flight"), 0);
    assert.equal(m.get('ferry_config_reloads_total{result="success"}'), 1);
    assert.equal(m.get(`ferry_upstream_healthy{upstream="api",target="${api.url}"}`), 1);
    assert.equal(m.get('ferry_upstream_circuit_state{upstream="api",state="closed"}'), 1);
    assert.equal(m.get('ferry_upstream_circuit_state{upstream="api",state="open"}'), 0);
  } finally {
    await gw.close();
    await api.close();
  }
});

Deno.test("requests_in_flight counts a request the upstream holds, and returns to 0", async () => {
  const arrived = Promise.withResolvers<void>();
  const release = Promise.withResolvers<void>();
  const api = startUpstream(async () => {
    arrived.resolve();
    await release.promise;
    return new Response("late");
  });
  const gw = await startTestGateway({
    upstreams: { api: { targets: [api.url] } },
    routes: [{ name: "slow", upstream: "api" }],
  });
  try {
    const pending = fetch(`${gw.url}/slow`);
    await arrived.promise;
    const during = await scrapeMetrics(gw.adminUrl!);
    assert.equal(during.get("ferry_requests_in_flight"), 1);
    assert.equal(during.get('ferry_request_duration_seconds_count{route="slow"}'), undefined);
    release.resolve();
    const res = await pending;
    assert.equal(await res.text(), "late");
    const after = await scrapeMetrics(gw.adminUrl!);
    assert.equal(after.get("ferry_requests_in_flight"), 0);
    assert.equal(
      after.get('ferry_requests_total{route="slow",method="GET",status_class="2xx"}'),
      1,
    );
  } finally {
    release.resolve();
    await gw.close();
    await api.close();
  }
});

Deno.test("a chunked streamed response is an open stream, its bytes counted as they pass", async () => {
  const second = Promise.withResolvers<void>();
  const api = startUpstream(() =>
    new Response(
      new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(new Uint8Array(100).fill(97));
          await second.promise;
          controller.enqueue(new Uint8Array(200).fill(98));
          controller.close();
        },
      }),
    )
  );
  const gw = await startTestGateway({
    upstreams: { api: { targets: [api.url] } },
    routes: [{ name: "stream", upstream: "api" }],
  });
  const key = 'ferry_body_bytes_total{route="stream",direction="out"}';
  try {
    const res = await fetch(`${gw.url}/feed`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-length"), null, "chunked, length unknown upfront");
    const reader = res.body!.getReader();
    let got = 0;
    while (got < 100) {
      const { value, done } = await reader.read();
      assert.ok(!done, "the stream ended before the first 100 bytes");
      got += value.byteLength;
    }
    assert.equal(got, 100);
    const during = await scrapeMetrics(gw.adminUrl!);
    assert.equal(during.get('ferry_open_streams{kind="stream"}'), 1);
    assert.equal(during.get("ferry_requests_in_flight"), 0, "the handler is done; the body is not");
    assert.equal(during.get(key), 100, "the bytes the client has, no more");

    second.resolve();
    while (!(await reader.read()).done);
    const after = await scrapeMetrics(gw.adminUrl!);
    assert.equal(after.get(key), 300);
    assert.equal(after.get('ferry_open_streams{kind="stream"}'), 0);
    assert.equal(after.get('ferry_request_duration_seconds_count{route="stream"}'), 1);
  } finally {
    second.resolve();
    await gw.close();
    await api.close();
  }
});

Deno.test("open_streams{kind=websocket} is 1 while a bridged WebSocket is open, then 0", async () => {
  const api = startUpstream((req) => websocketEchoResponse(req));
  const gw = await startTestGateway({
    upstreams: { api: { targets: [api.url] } },
    routes: [{ name: "ws", upstream: "api" }],
  });
  try {
    const before = await scrapeMetrics(gw.adminUrl!);
    assert.equal(before.get('ferry_open_streams{kind="websocket"}'), 0);
    const socket = await openSocket(`${wsUrl(gw.url)}/chat`);
    try {
      assert.equal(await socket.roundTrip("hi"), "echo:hi");
      const open = await scrapeMetrics(gw.adminUrl!);
      assert.equal(open.get('ferry_open_streams{kind="websocket"}'), 1);
      assert.equal(open.get('ferry_open_streams{kind="stream"}'), 0);
      assert.equal(open.get("ferry_requests_in_flight"), 0);
      assert.equal(open.get('ferry_requests_total{route="ws",method="GET",status_class="1xx"}'), 1);
    } finally {
      await socket.close();
    }
    // Both sides of the bridge report their close on their own schedule: poll, bounded.
    await pollFor("websocket gauge back to 0", async () => {
      const m = await scrapeMetrics(gw.adminUrl!);
      return m.get('ferry_open_streams{kind="websocket"}') === 0 ? true : undefined;
    });
  } finally {
    await gw.close();
    await api.close();
  }
});

Deno.test("process metrics under the flags Ferry is served with", async (t) => {
  // Process metrics read /proc, which Deno guards: measured in a real `ferry start` process with
  // the serve flags (narrow read and env access), not under the test runner's broad flags.
  const m = await scrapeServedGateway(SERVE_FLAGS);

  await t.step("CPU, start time and heap are exported with the ferry_ prefix", () => {
    assert.ok(m.get("ferry_process_cpu_seconds_total")! > 0);
    const started = m.get("ferry_process_start_time_seconds")!;
    assert.ok(started > 0 && started <= Date.now() / 1000 + 1, String(started));
    assert.ok(m.get("ferry_nodejs_heap_size_used_bytes")! > 0);
    // Nothing unprefixed: an embedding app's own metrics never collide with these.
    assert.deepEqual([...m.keys()].filter((k) => !k.startsWith("ferry_")), []);
  });

  await t.step("resident memory is the real figure, not 0", () => {
    // prom-client reads /proc/self/status, which Deno allows only with --allow-all; the read
    // fails quietly and the gauge is exported as 0 (virtual memory, heap and open fds too).
    assert.ok(
      m.get("ferry_process_resident_memory_bytes")! > 0,
      `ferry_process_resident_memory_bytes = ${m.get("ferry_process_resident_memory_bytes")}`,
    );
  });
});
