/**
 * Issue 7 acceptance, measured: the primary path's latency under a bounded load (16 clients,
 * 2,000 requests after a warm-up) with mirroring off, with a shadow that answers after 2 s, and
 * with a shadow that is down. The figures are printed for the note; the asserts are functional:
 * every response is the primary's, and no request took the shadow's 2 s (none waited for it).
 */
import assert from "node:assert/strict";
import { FlakyUpstream } from "../helpers/flaky_upstream.ts";
import { freePort, startTestGateway, startUpstream } from "../helpers/gateway.ts";
import { Load, percentile } from "../helpers/load.ts";
import { pollMirror } from "./mirror_helpers.ts";

const CLIENTS = 16;
const WARM_UP = 200;
const REQUESTS = 2_000;
const SHADOW_DELAY_MS = 2_000;
const ROUNDS = 3;
const MODES = ["off", "slow", "down"] as const;
type Mode = typeof MODES[number];
const LABELS: Record<Mode, string> = {
  off: "mirroring off",
  slow: "mirror to a 2 s shadow",
  down: "mirror to a dead shadow",
};

interface Figures {
  p50: number;
  p99: number;
  max: number;
  rps: number;
}

/** Runs the load against `url` and returns the latency of the measured requests (ms). */
async function measure(url: string): Promise<Figures> {
  const warm = new Load(url, CLIENTS, { maxMs: 30_000, maxRequests: WARM_UP });
  await warm.reached(WARM_UP);
  await warm.stop();
  const load = new Load(url, CLIENTS, { maxMs: 60_000, maxRequests: REQUESTS });
  await load.reached(REQUESTS);
  await load.stop();
  const wrong = load.records.filter((r) => r.status !== 200 || r.upstream !== "primary");
  assert.deepEqual(wrong, [], "every response is the primary's");
  const ms = load.records.map((r) => r.end - r.start);
  const first = Math.min(...load.records.map((r) => r.start));
  const last = Math.max(...load.records.map((r) => r.end));
  return {
    p50: percentile(ms, 50),
    p99: percentile(ms, 99),
    max: Math.max(...ms),
    rps: load.records.length / ((last - first) / 1000),
  };
}

function medians(runs: Figures[]): Figures {
  const mid = (pick: (f: Figures) => number) => percentile(runs.map(pick), 50);
  return {
    p50: mid((f) => f.p50),
    p99: mid((f) => f.p99),
    max: mid((f) => f.max),
    rps: mid((f) => f.rps),
  };
}

function line(label: string, f: Figures): string {
  return `${label.padEnd(40)} p50 ${f.p50.toFixed(2).padStart(6)} ms  p99 ${
    f.p99.toFixed(2).padStart(6)
  } ms  max ${f.max.toFixed(1).padStart(6)} ms  ${f.rps.toFixed(0).padStart(6)} req/s`;
}

Deno.test("mirror: primary latency with mirroring off, to a 2 s shadow, and to a dead shadow", async () => {
  // Deno.serve, not FlakyUpstream: its head and body go out in two writes, and Nagle's
  // algorithm with delayed ACKs would add ~40 ms to every primary request.
  const primary = startUpstream(() =>
    new Response("primary", { headers: { "x-upstream": "primary" } })
  );
  const slow = FlakyUpstream.start("slow-shadow");
  slow.behave = () => ({ kind: "delay", ms: SHADOW_DELAY_MS });
  const routes = [
    { name: "off", match: { path: "/off/*" }, upstream: "api" },
    { name: "slow", match: { path: "/slow/*" }, upstream: "api", mirror: { upstream: "slow" } },
    { name: "down", match: { path: "/down/*" }, upstream: "api", mirror: { upstream: "down" } },
  ];
  const gw = await startTestGateway({
    upstreams: {
      api: { targets: [primary.url] },
      slow: { targets: [slow.url] },
      down: { targets: [`http://127.0.0.1:${freePort()}`] },
    },
    routes,
  });
  try {
    // Interleaved rounds, so that a noisy neighbour on a shared machine hits every mode alike.
    const runs: Record<Mode, Figures[]> = { off: [], slow: [], down: [] };
    const lines = [`primary path, ${CLIENTS} clients, ${REQUESTS} requests a run:`];
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of MODES) {
        const f = await measure(`${gw.url}/${mode}/x`);
        runs[mode].push(f);
        lines.push(line(`round ${round + 1}: ${LABELS[mode]}`, f));
      }
    }
    for (const mode of MODES) lines.push(line(`median: ${LABELS[mode]}`, medians(runs[mode])));
    const slowMirrors = await pollMirror(gw.adminUrl!, "slow", (s) => s.requests.sent > 0);
    const downMirrors = await pollMirror(gw.adminUrl!, "down", (s) => s.inFlight === 0);
    lines.push(`2 s shadow mirrors: ${JSON.stringify(slowMirrors.requests)}`);
    lines.push(`dead shadow mirrors: ${JSON.stringify(downMirrors.requests)}`);
    console.log(lines.join("\n"));

    // Functional, not a performance bound: a request that had waited for the shadow would have
    // taken its 2 s.
    const slowest = Math.max(...runs.slow.map((f) => f.max));
    assert.ok(slowest < SHADOW_DELAY_MS, `slowest request ${slowest} ms`);
    assert.ok(slowMirrors.requests.dropped > 0, "the 2 s shadow filled the 64 slots");
    assert.equal(downMirrors.requests.sent, 0);
    assert.ok(downMirrors.requests.error > 0);
  } finally {
    await gw.close();
    await slow.close();
    await primary.close();
  }
});
