/**
 * prom-client's default process metrics, registered one by one so that some can be left out.
 * The list is prom-client 15's `collectDefaultMetrics` minus:
 * - `eventLoopLag` (see `event_loop_lag.ts` for why, and for the replacement);
 * - `gc`: it observes `gc` performance entries through a `PerformanceObserver` it never
 *   disconnects, which holds its registry, and with it a closed gateway's upstreams and live
 *   connections (through the scrape-time gauges), for the life of the process. Deno 2.9.6 never
 *   delivers `gc` entries anyway, so its `nodejs_gc_duration_seconds` histogram stayed empty;
 * - `processHandles`, `processRequests` and `processResources` (`nodejs_active_handles`,
 *   `_requests`, `_resources`): they read Node's libuv bookkeeping, which Deno 2.9.6 fills only
 *   with what its Node compatibility layer opens (node:net, node:fs callbacks, Node timers).
 *   Ferry's listeners, sockets and files are Deno's own, so the gauges said 0 with requests in
 *   flight: a wrong figure, not a missing one.
 */
import type { Registry } from "prom-client";
import heapSizeAndUsed from "prom-client/lib/metrics/heapSizeAndUsed.js";
import heapSpacesSizeAndUsed from "prom-client/lib/metrics/heapSpacesSizeAndUsed.js";
import osMemoryHeap from "prom-client/lib/metrics/osMemoryHeap.js";
import processCpuTotal from "prom-client/lib/metrics/processCpuTotal.js";
import processMaxFileDescriptors from "prom-client/lib/metrics/processMaxFileDescriptors.js";
import processOpenFileDescriptors from "prom-client/lib/metrics/processOpenFileDescriptors.js";
import processStartTime from "prom-client/lib/metrics/processStartTime.js";
import version from "prom-client/lib/metrics/version.js";

type DefaultMetric = (registry: Registry, config: { prefix: string }) => void;

const DEFAULTS: DefaultMetric[] = [
  processCpuTotal,
  processStartTime,
  osMemoryHeap,
  processOpenFileDescriptors,
  processMaxFileDescriptors,
  heapSizeAndUsed,
  heapSpacesSizeAndUsed,
  version,
];

/**
 * Gauges prom-client can only fill from a `/proc/self` file, with that file. Deno lets a program
 * read `/proc/self` only under `--allow-all`; under Ferry's serve flags the read fails quietly and
 * the gauge would be exported as 0, which reads as a measurement (an open-descriptors alert that
 * never fires). Where the file cannot be read the gauge is left out instead.
 */
const PROC_FED: readonly [name: string, source: string][] = [
  ["process_open_fds", "/proc/self/fd"],
  ["process_virtual_memory_bytes", "/proc/self/status"],
];

/** Whether this process may read `path` (permissions, or no such file on this platform). */
function readable(path: string): boolean {
  try {
    Deno.openSync(path).close();
    return true;
  } catch {
    return false;
  }
}

/** Registers the default process metrics on `registry`, names prefixed with `prefix`. */
export function registerProcessMetrics(registry: Registry, prefix: string): void {
  for (const register of DEFAULTS) register(registry, { prefix });
  for (const [name, source] of PROC_FED) {
    if (!readable(source)) registry.removeSingleMetric(prefix + name);
  }
}
