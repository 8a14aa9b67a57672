/**
 * What admin `/upstreams` and the `ferry_upstream_circuit_state` gauge say about a circuit once
 * its open time is over. The breaker moves from open to half-open lazily, on the next request;
 * a reader in between must still see the state as of now ("half_open"), not "open" until some
 * request happens to arrive. Reading must not make the move itself: the request path keeps
 * doing it, and reporting it, as before.
 */
import assert from "node:assert/strict";
import { CircuitBreaker, isProbe } from "../../src/upstream/resilience/circuit_breaker.ts";
import { startTestGateway, startUpstream } from "../helpers/gateway.ts";
import { get, pollFor, scrapeMetrics } from "../helpers/reload.ts";

function circuitConfig(url: string, openFor: string) {
  return {
    upstreams: {
      api: {
        targets: [url],
        circuitBreaker: { minRequests: 1, failurePercent: 100, openFor, halfOpenProbes: 1 },
        outlierDetection: false,
        retries: false,
      },
    },
    routes: [{ upstream: "api" }],
  };
}

/** An upstream failing `/fail` with 500 and answering anything else with 200. */
function failOnDemand() {
  return startUpstream((req) =>
    new URL(req.url).pathname === "/fail"
      ? new Response("down", { status: 500 })
      : new Response("ok")
  );
}

async function status(url: string): Promise<number> {
  const res = await fetch(url);
  await res.body?.cancel();
  return res.status;
}

async function circuitView(adminUrl: string): Promise<Record<string, unknown>> {
  const { status, text } = await get(`${adminUrl}/upstreams`);
  assert.equal(status, 200);
  const api = (JSON.parse(text) as { name: string; circuit: Record<string, unknown> }[])
    .find((u) => u.name === "api");
  assert.ok(api, text);
  return api.circuit;
}

/** The gauge's value per state for upstream `api`. */
async function circuitGauge(adminUrl: string): Promise<Record<string, number | undefined>> {
  const m = await scrapeMetrics(adminUrl);
  const at = (state: string) =>
    m.get(`ferry_upstream_circuit_state{upstream="api",state="${state}"}`);
  return { closed: at("closed"), open: at("open"), half_open: at("half_open") };
}

const transitions = (m: Map<string, number>, to: string) =>
  m.get(`ferry_upstream_circuit_transitions_total{upstream="api",to="${to}"}`) ?? 0;

Deno.test("circuit view: open while the open time runs, with openUntil", async () => {
  const upstream = failOnDemand();
  const gw = await startTestGateway(circuitConfig(upstream.url, "60s"));
  try {
    assert.equal(await status(`${gw.url}/fail`), 500);
    const circuit = gw.snapshot.upstreams.get("api")!.resilience.circuit!;
    const view = await circuitView(gw.adminUrl!);
    assert.deepEqual(view, {
      state: "open",
      trips: 1,
      openUntil: new Date(circuit.openUntil).toISOString(),
    });
    assert.deepEqual(await circuitGauge(gw.adminUrl!), { closed: 0, open: 1, half_open: 0 });
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("circuit view: half_open once openFor is over, before any request arrives", async () => {
  const upstream = failOnDemand();
  const gw = await startTestGateway(circuitConfig(upstream.url, "20ms"));
  try {
    assert.equal(await status(`${gw.url}/fail`), 500);
    const circuit = gw.snapshot.upstreams.get("api")!.resilience.circuit!;
    assert.equal(circuit.state, "open");
    const openUntil = circuit.openUntil;
    // Waits for the clock, the condition itself: the open time is over.
    await pollFor("the open time to end", () => Date.now() > openUntil ? true : undefined);

    assert.deepEqual(await circuitView(gw.adminUrl!), { state: "half_open", trips: 1 });
    assert.deepEqual(await circuitGauge(gw.adminUrl!), { closed: 0, open: 0, half_open: 1 });

    // Reading moved nothing: no request has come, so the breaker has not made (or reported)
    // the move, and its one probe permit is still free.
    assert.equal(circuit.state, "open");
    const before = await scrapeMetrics(gw.adminUrl!);
    assert.equal(transitions(before, "open"), 1);
    assert.equal(transitions(before, "half_open"), 0);

    // The next request is the probe, as before; its success closes the circuit.
    assert.equal(await status(`${gw.url}/ok`), 200);
    assert.deepEqual(await circuitView(gw.adminUrl!), { state: "closed", trips: 0 });
    assert.deepEqual(await circuitGauge(gw.adminUrl!), { closed: 1, open: 0, half_open: 0 });
    const after = await scrapeMetrics(gw.adminUrl!);
    assert.equal(transitions(after, "half_open"), 1);
    assert.equal(transitions(after, "closed"), 1);
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("stateAt: open until openUntil, half_open from then on, without moving the breaker", () => {
  const T0 = 1_700_000_000_000;
  const moves: string[] = [];
  const circuit = new CircuitBreaker({
    failurePercent: 100,
    minRequests: 1,
    windowMs: 10_000,
    openForMs: 1000,
    maxOpenForMs: 5000,
    halfOpenProbes: 1,
  }, (from, to) => moves.push(`${from}->${to}`));
  assert.equal(circuit.stateAt(T0), "closed");
  circuit.record(T0, circuit.admit(T0), true);
  assert.deepEqual(moves, ["closed->open"]);

  assert.equal(circuit.stateAt(T0 + 999), "open");
  assert.equal(circuit.stateAt(T0 + 1000), "half_open");
  // A wall clock stepped back reads as open: the breaker stays open then too.
  assert.equal(circuit.stateAt(T0 - 3_600_000), "open");
  assert.equal(circuit.state, "open", "reading made the move");
  assert.deepEqual(moves, ["closed->open"], "reading reported a move");

  // The request path is unchanged: the next admission makes the move and is the probe.
  assert.ok(isProbe(circuit.admit(T0 + 1000)));
  assert.deepEqual(moves, ["closed->open", "open->half_open"]);
  assert.equal(circuit.stateAt(T0 + 1000), "half_open");
});
