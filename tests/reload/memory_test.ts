/**
 * Memory over 1,000 reloads of the showcase config through a file-backed gateway in service,
 * measured in a child process (bench/reload_memory.ts) so the test runner's own heap does not
 * blur it. "In service": before the first sample the gateway has served 20,000 requests to the
 * showcase's demo upstream (both run by another child process), as any gateway has before it is
 * reloaded; a gateway that never served a request pages in and JIT-compiles its request path's
 * code during the reloads instead (~4.5 MB of file-backed RSS, the deno binary's own code), which
 * is not memory the reloads keep. Each load runs in a reused loader Worker, replaced every 50
 * loads and whenever a nested import changed (src/config/loader_worker_pool.ts). What this
 * guards: no per-reload leak of the size the alternatives have: `import(url?v=n)` in the main
 * isolate keeps ~13 KB of heap a reload, and one loader Worker never replaced ~33 KB of RSS.
 *
 * RSS is sampled every 50 reloads after a forced "last-resort" GC (see the bench). Asserted:
 * the issue's own figure, RSS after 1,000 reloads minus RSS before the first; and, because one
 * sample can sit a few MB high or low as the allocator takes and returns chunks, the growth
 * along the least-squares trend through all 21 samples. Takes ~20 s.
 */
import assert from "node:assert/strict";
import { every, measureInChild, rssTrendGrowth } from "../../bench/reload_memory.ts";

const RELOADS = 1_000;
// Measured (20 runs, 2026-11-23): after 1,000 reloads RSS is −2 to +1 MB from before the
// first (the warm-up traffic's transient allocations are given back early on), and the trend
// from reload 50 rises 1-3 MB, ~0.7 MB of it JS heap: each reload schedules a
// `reload.streamGrace` timer (30 s) holding the old snapshot's leftovers, and this test reloads
// far faster than they expire.
const MAX_RSS_GROWTH_BYTES = 10 * 1024 * 1024;
const MAX_HEAP_GROWTH_BYTES = 4 * 1024 * 1024;

Deno.test(`reload: 1,000 reloads of a gateway in service keep RSS growth under 10 MB and the JS heap flat`, async () => {
  const m = await measureInChild("worker", RELOADS, every(50, RELOADS));
  const at = (n: number) => m.samples.find((s) => s.reloads === n)!;
  const growth = at(RELOADS).rss - at(0).rss;
  const trend = rssTrendGrowth(m.samples, 0, RELOADS);
  const heapGrowth = at(RELOADS).heapUsed - at(0).heapUsed;
  const mb = (b: number) => (b / (1 << 20)).toFixed(1);
  console.log(
    `${m.warmRequests} requests, then ${RELOADS} reloads in ${(m.ms / 1000).toFixed(1)} s, ` +
      `${m.workersStarted} loader Workers, GC forced: ${m.gcForced}; RSS ${
        mb(m.coldSample!.rss)
      } MB at start, ${mb(at(0).rss)} MB in service, ${mb(at(RELOADS).rss)} MB after ` +
      `${RELOADS} reloads → growth ${mb(growth)} MB (${mb(trend)} MB by the trend); heapUsed ${
        mb(at(0).heapUsed)
      } → ${mb(at(RELOADS).heapUsed)} MB`,
  );
  assert.ok(m.gcForced, "the child must run with --expose-gc, or the samples include garbage");
  assert.equal(m.warmRequests, 20_000);
  assert.equal(m.warmFailed, 0, "the warm-up traffic must reach the upstream");
  assert.equal(m.samples.length, RELOADS / 50 + 1, JSON.stringify(m));
  assert.ok(growth < MAX_RSS_GROWTH_BYTES, `RSS grew by ${mb(growth)} MB over ${RELOADS} reloads`);
  assert.ok(trend < MAX_RSS_GROWTH_BYTES, `RSS grew by ${mb(trend)} MB along the trend`);
  assert.ok(heapGrowth < MAX_HEAP_GROWTH_BYTES, `JS heap grew by ${mb(heapGrowth)} MB`);
});
