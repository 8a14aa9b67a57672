/**
 * Tracing end to end: Ferry runs as a real process exporting OTLP/HTTP JSON to a receiver in this
 * test, in front of real upstreams that record what they were sent. Every test runs twice, once
 * per sink: Deno's built-in OpenTelemetry (`OTEL_DENO=true`, which only a fresh process picks
 * up) and Ferry's own pipeline (an OTLP endpoint without `OTEL_DENO`). Both must produce the
 * same spans and propagate the same way.
 *
 * Spans are read after SIGTERM: both sinks export what is batched when the process exits, so
 * once the process has ended every span it will ever send has been sent. That makes "no span was
 * exported" a sound assertion, and no test waits on the batch timer (`OTEL_BSP_SCHEDULE_DELAY`
 * is set low all the same, so spans also arrive while it runs).
 *
 * The last test needs no process: without a sink (this test process sets none) Ferry does no
 * tracing at all, and trace headers pass through like any other header.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startTestGateway, type TestUpstream } from "../helpers/gateway.ts";
import {
  type OtlpReceiver,
  type ReceivedSpan,
  SPAN_KIND,
  startOtlpReceiver,
} from "../helpers/otlp_receiver.ts";
import { DenoProcess, MOD_TS, SERVE_FLAGS, SERVING_LINE, withTempDir } from "../helpers/process.ts";

/** An upstream like `startUpstream`'s, plus the port each request arrived on. */
function recordingUpstream(
  handler: (req: Request) => Response | Promise<Response>,
): TestUpstream {
  const received: TestUpstream["received"] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    received.push({ method: req.method, url: req.url, headers: req.headers });
    return handler(req);
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    port: server.addr.port,
    received,
    close: () => server.shutdown(),
  };
}

/** A traced Ferry process and where it listens. */
interface TracedFerry {
  proc: DenoProcess;
  url: string;
  /** The admin listener (`/metrics`). */
  admin: string;
  /** SIGTERM, then the exit (which flushes the span exporter); asserts a clean exit. */
  stop(): Promise<void>;
}

/** A trace sink Ferry can export through, and the environment that selects it. */
interface Sink {
  name: string;
  env: Record<string, string>;
  /** Deno's exporter also sends Deno's runtime metrics, at exit too. */
  sendsRuntimeMetrics: boolean;
}

/** Every test below runs once per sink: both must behave the same. */
const SINKS: readonly Sink[] = [
  {
    name: "Deno's exporter",
    env: { OTEL_DENO: "true", OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" },
    sendsRuntimeMetrics: true,
  },
  // Ferry's own pipeline is chosen by an OTLP endpoint without OTEL_DENO.
  { name: "Ferry's exporter", env: {}, sendsRuntimeMetrics: false },
];

/** Writes `config` to `dir` and starts `ferry start` on it, exporting to `receiver`. */
async function startTracedFerry(
  dir: string,
  config: Record<string, unknown>,
  receiver: OtlpReceiver,
  otelEnv: Record<string, string>,
): Promise<TracedFerry> {
  const file = join(dir, "ferry.config.ts");
  await Deno.writeTextFile(file, `export default ${JSON.stringify(config, null, 2)};\n`);
  // Write access for the access log in `dir`: the serve flags alone grant none.
  const flags = [...SERVE_FLAGS, `--allow-write=${dir}`];
  const proc = new DenoProcess(["run", ...flags, MOD_TS, "start", "--config", file], {
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_SERVICE_NAME: "ferry-test",
      // Both batch span processors honour it (5 s by default).
      OTEL_BSP_SCHEDULE_DELAY: "50",
      ...otelEnv,
    },
  });
  try {
    const line = await proc.waitForStderr(SERVING_LINE, 60_000);
    // The match starts at `"message"`: the rest of the JSON log line.
    const { url, admin } = JSON.parse(`{${line[0]}`) as { url: string; admin: string };
    return {
      proc,
      url,
      admin,
      async stop() {
        proc.signal("SIGTERM");
        const exit = await proc.waitForExit(20_000);
        assert.equal(exit.killed, false, `ferry did not stop on SIGTERM:\n${proc.stderr}`);
        assert.equal(exit.code, 0, proc.stderr);
      },
    };
  } catch (e) {
    await proc.dispose();
    throw e;
  }
}

/**
 * Runs `test` against a traced Ferry with one catch-all route to an "ok" upstream, exporting
 * through `sink` with `otelEnv` added; everything is stopped afterwards.
 */
async function withOneRouteFerry(
  sink: Sink,
  otelEnv: Record<string, string>,
  test: (
    running: { ferry: TracedFerry; receiver: OtlpReceiver; api: TestUpstream },
  ) => Promise<void>,
): Promise<void> {
  await withTempDir(async (dir) => {
    const receiver = startOtlpReceiver();
    const api = recordingUpstream(() => new Response("ok"));
    let ferry: TracedFerry | undefined;
    try {
      ferry = await startTracedFerry(
        dir,
        {
          ...baseConfig(dir),
          upstreams: { api: { targets: [api.url] } },
          routes: [{ name: "all", upstream: "api" }],
        },
        receiver,
        { ...sink.env, ...otelEnv },
      );
      await test({ ferry, receiver, api });
    } finally {
      await ferry?.proc.dispose();
      await Promise.all([receiver.close(), api.close()]);
    }
  });
}

/** A config file's base: ephemeral ports, an access log in `dir`, coloring on `x-env`. */
function baseConfig(dir: string): Record<string, unknown> {
  return {
    listen: { hostname: "127.0.0.1", port: 0 },
    admin: { hostname: "127.0.0.1", port: 0 },
    coloring: { headers: ["x-env"] },
    accessLog: { to: { file: join(dir, "access.log") } },
  };
}

/** `00-<trace>-<parent>-<flags>` split into its parts. */
function parseTraceparent(
  value: string | null,
): { traceId: string; parentId: string; flags: string } {
  assert.ok(value, "no traceparent header");
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(value);
  assert.ok(m, `malformed traceparent ${value}`);
  return { traceId: m[1], parentId: m[2], flags: m[3] };
}

function inTrace(spans: readonly ReceivedSpan[], traceId: string): ReceivedSpan[] {
  return spans.filter((s) => s.traceId === traceId);
}

/** Waits for the one server span of `traceId`, and returns it. */
function serverSpanOf(receiver: OtlpReceiver, traceId: string): Promise<ReceivedSpan> {
  return receiver.waitFor(`server span of trace ${traceId}`, (spans) => {
    const servers = inTrace(spans, traceId).filter((s) => s.kind === SPAN_KIND.server);
    assert.ok(servers.length <= 1, `several server spans in trace ${traceId}`);
    return servers[0];
  });
}

function clientSpansUnder(spans: readonly ReceivedSpan[], server: ReceivedSpan): ReceivedSpan[] {
  return inTrace(spans, server.traceId).filter((s) => s.kind === SPAN_KIND.client)
    .sort((a, b) => Number(a.attributes["ferry.attempt"]) - Number(b.attributes["ferry.attempt"]));
}

/** Hex of `n` random bytes: fresh ids per run, so nothing can match by accident. */
function randomHex(bytes: number): string {
  return [...crypto.getRandomValues(new Uint8Array(bytes))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** GETs `url` with headers; returns status and `x-request-id`, the body consumed. */
async function send(url: string, headers: Record<string, string>) {
  const res = await fetch(url, { headers });
  await res.body?.cancel();
  return { status: res.status, requestId: res.headers.get("x-request-id") };
}

for (const sink of SINKS) {
  Deno.test(`${sink.name}: traced ferry: span tree, attributes, retries, policy events, propagation`, async (t) => {
    await withTempDir(async (dir) => {
      const receiver = startOtlpReceiver();
      const api = recordingUpstream(() => new Response("ok"));
      // Two targets sharing one counter: whichever the balancer tries first answers 503 to the
      // first request, so exactly one retry happens and it lands on the other target.
      let flakyCalls = 0;
      const flaky = () =>
        ++flakyCalls === 1 ? new Response("busy", { status: 503 }) : new Response("ok");
      const flakyA = recordingUpstream(flaky);
      const flakyB = recordingUpstream(flaky);
      let ferry: TracedFerry | undefined;
      try {
        const apiKey = "k3y-for-tracing";
        ferry = await startTracedFerry(
          dir,
          {
            ...baseConfig(dir),
            upstreams: {
              api: { targets: [api.url] },
              flaky: {
                targets: [flakyA.url, flakyB.url],
                retries: { maxRetries: 1, on: [503], backoff: { base: "1ms", max: "1ms" } },
                outlierDetection: false,
                circuitBreaker: false,
              },
            },
            routes: [
              { name: "items", match: { path: "/items/*" }, upstream: "api" },
              { name: "retry", match: { path: "/retry" }, upstream: "flaky" },
              {
                name: "chaos",
                match: { path: "/chaos" },
                upstream: "api",
                use: [{ kind: "fault", options: { abort: { status: 503, percent: 100 } } }],
              },
              {
                name: "secure",
                match: { path: "/secure" },
                upstream: "api",
                use: [{
                  kind: "apiKey",
                  options: {
                    keys: [{ name: "mobile", hash: `sha256:${await sha256Hex(apiKey)}` }],
                  },
                }],
              },
            ],
          },
          receiver,
          { ...sink.env, OTEL_TRACES_SAMPLER: "parentbased_always_on" },
        );

        // One trace per request, each continuing a caller's span.
        const ids = {
          items: randomHex(16),
          retry: randomHex(16),
          chaos: randomHex(16),
          secure: randomHex(16),
          refused: randomHex(16),
          noRoute: randomHex(16),
          unsampled: randomHex(16),
        };
        const caller = randomHex(8);
        const ferryHost = new URL(ferry.url).host;
        const tp = (traceId: string, flags = "01") => `00-${traceId}-${caller}-${flags}`;

        // The unsampled one goes first: everything after it is in the receiver, so its absence is
        // not a matter of timing.
        const unsampled = await send(`${ferry.url}/items/quiet`, {
          traceparent: tp(ids.unsampled, "00"),
        });
        const items = await send(`${ferry.url}/items/1`, {
          traceparent: tp(ids.items),
          "x-env": "staging",
        });
        const retry = await send(`${ferry.url}/retry`, { traceparent: tp(ids.retry) });
        const chaos = await send(`${ferry.url}/chaos`, { traceparent: tp(ids.chaos) });
        const secure = await send(`${ferry.url}/secure`, {
          traceparent: tp(ids.secure),
          "x-api-key": apiKey,
        });
        const refused = await send(`${ferry.url}/secure`, { traceparent: tp(ids.refused) });
        const noRoute = await send(`${ferry.url}/nowhere`, { traceparent: tp(ids.noRoute) });
        assert.deepEqual(
          [unsampled, items, retry, chaos, secure, refused, noRoute].map((r) => r.status),
          [200, 200, 200, 503, 200, 401, 404],
        );
        if (sink.name === "Ferry's exporter") {
          // Ferry's exporter reports what became of the spans; none were lost here.
          const metrics = await (await fetch(`${ferry.admin}/metrics`)).text();
          assert.match(metrics, /^ferry_trace_spans_total\{result="exported"\} \d+$/m);
          assert.match(metrics, /^ferry_trace_spans_total\{result="dropped"\} 0$/m);
          assert.match(metrics, /^ferry_trace_spans_total\{result="failed"\} 0$/m);
        }
        await ferry.stop();
        for (const id of [ids.items, ids.retry, ids.chaos, ids.secure, ids.refused, ids.noRoute]) {
          await serverSpanOf(receiver, id);
        }
        const spans = receiver.spans;
        assert.equal(receiver.undecodable, 0);

        await t.step("every span carries the service name", () => {
          assert.ok(
            spans.every((s) => s.service === "ferry-test"),
            spans.find((s) => s.service !== "ferry-test")?.service,
          );
        });

        await t.step(
          "server span continues the incoming traceparent, named `GET route`",
          async () => {
            const server = await serverSpanOf(receiver, ids.items);
            assert.equal(server.name, "GET items");
            assert.equal(
              server.parentSpanId,
              caller,
              "parent is the caller's span from traceparent",
            );
            assert.equal(server.attributes["http.route"], "items");
            assert.equal(server.attributes["http.request.method"], "GET");
            assert.equal(server.attributes["url.scheme"], "http");
            assert.equal(server.attributes["url.path"], "/items/1");
            assert.equal(server.attributes["server.address"], ferryHost);
            // Deno's own instrumentation sets the status last, as a string; the value is right.
            assert.equal(String(server.attributes["http.response.status_code"]), "200");
            assert.equal(server.attributes["ferry.request_id"], items.requestId);
            assert.equal(server.attributes["client.address"], "127.0.0.1");
            assert.equal(server.attributes["ferry.upstream"], "api");
            assert.equal(server.attributes["ferry.target"], api.url);
            assert.equal(server.attributes["ferry.color.x-env"], "staging");
            assert.notEqual(server.statusCode, 2, "a 200 is not an error");
          },
        );

        await t.step("one client span per attempt, child of the server span", async () => {
          const server = await serverSpanOf(receiver, ids.items);
          const clients = clientSpansUnder(spans, server);
          assert.equal(clients.length, 1);
          const [client] = clients;
          assert.equal(client.parentSpanId, server.spanId);
          assert.equal(client.name, "GET api");
          assert.equal(client.scope, "ferry");
          assert.equal(client.attributes["ferry.upstream"], "api");
          assert.equal(client.attributes["ferry.attempt"], 1);
          assert.equal(client.attributes["http.request.method"], "GET");
          assert.equal(client.attributes["server.address"], "127.0.0.1");
          assert.equal(client.attributes["server.port"], api.port);
          assert.equal(client.attributes["url.full"], `${api.url}/items/1`);
          assert.equal(client.attributes["http.response.status_code"], 200);
          assert.equal(inTrace(spans, ids.items).length, 2, "server + one attempt, nothing else");
        });

        await t.step("each attempt's span lies within its server span, in order", async () => {
          for (const id of [ids.items, ids.retry]) {
            const server = await serverSpanOf(receiver, id);
            const clients = clientSpansUnder(spans, server);
            assert.ok(clients.length >= 1);
            let previousEnd = server.startNanos;
            for (const client of clients) {
              assert.ok(client.startNanos >= previousEnd, `${client.name} starts in order`);
              assert.ok(
                client.endNanos > client.startNanos,
                `${client.name} ends after it starts`,
              );
              previousEnd = client.endNanos;
            }
            assert.ok(server.endNanos >= previousEnd, "the server span ends last");
            // Both real clock readings: a span of 0 ns or of over a minute is a wrong time.
            assert.ok(server.endNanos - server.startNanos > 0n);
            assert.ok(server.endNanos - server.startNanos < 60_000_000_000n);
          }
        });

        await t.step("the upstream got the client span as its parent, same trace", async () => {
          const server = await serverSpanOf(receiver, ids.items);
          const [client] = clientSpansUnder(spans, server);
          const got = api.received.find((r) => new URL(r.url).pathname === "/items/1");
          assert.ok(got);
          const sent = parseTraceparent(got.headers.get("traceparent"));
          assert.deepEqual(sent, { traceId: ids.items, parentId: client.spanId, flags: "01" });
          assert.equal(got.headers.get("x-env"), "staging", "color headers travel upstream");
        });

        await t.step("a retry shows as two sibling client spans, each injected", async () => {
          const server = await serverSpanOf(receiver, ids.retry);
          assert.equal(server.name, "GET retry");
          assert.equal(server.parentSpanId, caller);
          const clients = clientSpansUnder(spans, server);
          assert.equal(clients.length, 2);
          const [first, second] = clients;
          for (const c of clients) {
            assert.equal(c.parentSpanId, server.spanId, "siblings under the server span");
            assert.equal(c.name, "GET flaky");
            assert.equal(c.attributes["ferry.upstream"], "flaky");
          }
          assert.deepEqual(clients.map((c) => c.attributes["ferry.attempt"]), [1, 2]);
          assert.equal(first.attributes["http.response.status_code"], 503);
          assert.equal(first.statusCode, 2, "the 503 attempt is an error");
          assert.equal(second.attributes["http.response.status_code"], 200);
          assert.notEqual(first.attributes["server.port"], second.attributes["server.port"]);
          // The server span names the target that finally answered.
          const answered = second.attributes["server.port"] === flakyA.port ? flakyA : flakyB;
          assert.equal(server.attributes["ferry.target"], answered.url);
          // Each target got the traceparent of its own attempt.
          for (const c of clients) {
            const upstream = c.attributes["server.port"] === flakyA.port ? flakyA : flakyB;
            assert.equal(upstream.received.length, 1);
            const sent = parseTraceparent(upstream.received[0].headers.get("traceparent"));
            assert.deepEqual(sent, { traceId: ids.retry, parentId: c.spanId, flags: "01" });
          }
        });

        await t.step("a fault policy's refusal is an event on the server span", async () => {
          const server = await serverSpanOf(receiver, ids.chaos);
          assert.equal(server.name, "GET chaos");
          assert.equal(String(server.attributes["http.response.status_code"]), "503");
          assert.equal(server.statusCode, 2);
          const events = server.events.filter((e) => e.name === "ferry.policy.rejected");
          assert.deepEqual(events, [{
            name: "ferry.policy.rejected",
            attributes: {
              "ferry.policy": "fault",
              "ferry.reason": "fault_injected",
              "http.response.status_code": 503,
            },
          }]);
          assert.equal(clientSpansUnder(spans, server).length, 0, "nothing was sent upstream");
          assert.ok(!api.received.some((r) => new URL(r.url).pathname === "/chaos"));
        });

        await t.step("an authenticated subject is enduser.id; a refusal is an event", async () => {
          const ok = await serverSpanOf(receiver, ids.secure);
          assert.equal(ok.attributes["enduser.id"], "mobile");
          assert.equal(ok.events.length, 0);
          const no = await serverSpanOf(receiver, ids.refused);
          assert.equal(no.attributes["enduser.id"], undefined);
          assert.deepEqual(no.events, [{
            name: "ferry.policy.rejected",
            attributes: {
              "ferry.policy": "apiKey",
              "ferry.reason": "missing_credentials",
              "http.response.status_code": 401,
            },
          }]);
        });

        await t.step("an unmatched request is `GET no_route`, with no client span", async () => {
          const server = await serverSpanOf(receiver, ids.noRoute);
          assert.equal(server.name, "GET no_route");
          assert.equal(server.attributes["http.route"], "no_route");
          assert.equal(String(server.attributes["http.response.status_code"]), "404");
          assert.equal(clientSpansUnder(spans, server).length, 0);
        });

        await t.step("an unsampled caller (flags 00) exports nothing and stays unsampled", () => {
          assert.deepEqual(inTrace(spans, ids.unsampled), []);
          const got = api.received.find((r) => new URL(r.url).pathname === "/items/quiet");
          assert.ok(got);
          const sent = parseTraceparent(got.headers.get("traceparent"));
          assert.equal(sent.traceId, ids.unsampled);
          assert.equal(sent.flags, "00");
        });

        await t.step("the access log carries the trace id of traced requests", async () => {
          const lines = (await Deno.readTextFile(join(dir, "access.log"))).trim().split("\n")
            .map((l) => JSON.parse(l));
          const line = lines.find((l) => l.path === "/items/1");
          assert.ok(line, JSON.stringify(lines));
          assert.equal(line.traceId, ids.items);
          assert.equal(line.requestId, items.requestId);
          assert.deepEqual(line.colors, { "x-env": "staging" });
        });
      } finally {
        await ferry?.proc.dispose();
        await Promise.all([receiver.close(), api.close(), flakyA.close(), flakyB.close()]);
      }
    });
  });

  Deno.test(`${sink.name}: traced ferry with always_off: no spans, the trace id still reaches the upstream`, async () => {
    await withOneRouteFerry(
      sink,
      { OTEL_TRACES_SAMPLER: "always_off" },
      async ({ ferry, receiver, api }) => {
        const traceId = randomHex(16);
        const caller = randomHex(8);
        const res = await send(`${ferry.url}/x`, { traceparent: `00-${traceId}-${caller}-01` });
        assert.equal(res.status, 200);
        await ferry.stop();

        // The exit flush did reach the receiver (Deno's runtime metrics, sent after the spans),
        // so the absence of spans is not a flush that never happened. Ferry's pipeline exports
        // traces only, and its exit flush is awaited before the clean exit `stop` asserts.
        if (sink.sendsRuntimeMetrics) {
          assert.ok(receiver.paths.includes("/v1/metrics"), receiver.paths.join(", "));
        }
        assert.ok(!receiver.paths.includes("/v1/traces"), "always_off exports no span at all");
        assert.equal(receiver.spans.length, 0);
        assert.equal(receiver.undecodable, 0);
        // The trace continues downstream: same trace id. Ferry's attempt span exists (unrecorded),
        // so the parent id is its id rather than the caller's, and the sampled flag now says what
        // this hop decided, "not sampled": parent-based services below drop the trace too. To
        // forward headers untouched, run without OTEL_DENO (last test).
        assert.equal(api.received.length, 1);
        const sent = parseTraceparent(api.received[0].headers.get("traceparent"));
        assert.equal(sent.traceId, traceId);
        assert.equal(sent.flags, "00");
        assert.notEqual(sent.parentId, caller);
      },
    );
  });

  Deno.test(`${sink.name}: traced ferry with traceidratio 0.5: the trace id decides, not the caller's flag`, async () => {
    await withOneRouteFerry(sink, {
      OTEL_TRACES_SAMPLER: "traceidratio",
      OTEL_TRACES_SAMPLER_ARG: "0.5",
    }, async ({ ferry, receiver, api }) => {
      // The ratio sampler compares the trace id's random bits with the ratio: ids at the two
      // extremes are decided the same way on every run (whichever half of the id it reads).
      const low = "00000000000000010000000000000000";
      const high = "ffffffffffffffffffffffffffffffff";
      const caller = randomHex(8);
      // The caller says "not sampled" for the low id and "sampled" for the high one; a plain
      // ratio sampler (not parent-based) ignores both.
      assert.equal(
        (await send(`${ferry.url}/low`, { traceparent: `00-${low}-${caller}-00` })).status,
        200,
      );
      assert.equal(
        (await send(`${ferry.url}/high`, { traceparent: `00-${high}-${caller}-01` })).status,
        200,
      );
      await ferry.stop();

      const server = await serverSpanOf(receiver, low);
      assert.equal(server.parentSpanId, caller);
      assert.equal(clientSpansUnder(receiver.spans, server).length, 1);
      assert.deepEqual(inTrace(receiver.spans, high), [], "the high id is never sampled at 0.5");
      const flags = api.received.map((r) => parseTraceparent(r.headers.get("traceparent")).flags);
      assert.deepEqual(flags, ["01", "00"]);
    });
  });

  Deno.test(`${sink.name}: traced ferry continues the caller's tracestate to the upstream`, async () => {
    // W3C Trace Context: a participant that continues a trace propagates `tracestate` (it may add
    // its own entry, never drop the others). Vendors keep routing and sampling data there.
    await withOneRouteFerry(
      sink,
      { OTEL_TRACES_SAMPLER: "parentbased_always_on" },
      async ({ ferry, api }) => {
        const traceId = randomHex(16);
        const res = await send(`${ferry.url}/x`, {
          traceparent: `00-${traceId}-${randomHex(8)}-01`,
          tracestate: "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7",
        });
        assert.equal(res.status, 200);
        await ferry.stop();
        assert.equal(api.received.length, 1);
        const headers = api.received[0].headers;
        assert.equal(parseTraceparent(headers.get("traceparent")).traceId, traceId);
        assert.equal(headers.get("tracestate"), "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
      },
    );
  });
}

Deno.test("without a trace sink, traceparent and tracestate pass through unchanged", async () => {
  // This process runs without a sink; if a runner sets one, the premise does not hold.
  assert.notEqual(Deno.env.get("OTEL_DENO"), "true", "run the suite without OTEL_DENO");
  for (const name of ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]) {
    assert.equal(Deno.env.get(name), undefined, `run the suite without ${name}`);
  }
  const api = recordingUpstream(() => new Response("ok"));
  const gw = await startTestGateway({
    upstreams: { api: { targets: [api.url] } },
    routes: [{ name: "all", upstream: "api" }],
  }, { admin: false });
  try {
    const traceparent = `00-${randomHex(16)}-${randomHex(8)}-01`;
    const tracestate = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7";
    const res = await fetch(`${gw.url}/x`, { headers: { traceparent, tracestate } });
    await res.body?.cancel();
    assert.equal(res.status, 200);
    assert.equal(api.received.length, 1);
    assert.equal(api.received[0].headers.get("traceparent"), traceparent);
    assert.equal(api.received[0].headers.get("tracestate"), tracestate);
  } finally {
    await gw.close();
    await api.close();
  }
});
