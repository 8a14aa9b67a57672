/**
 * prom-client's default process metrics, registered one by one so that its event-loop-lag
 * collector can be left out (see `event_loop_lag.ts` for why, and for the replacement).
 * The list is prom-client 15's `collectDefaultMetrics` minus `eventLoopLag`.
 */
import type { Registry } from "prom-client";
import gc from "prom-client/lib/metrics/gc.js";
import heapSizeAndUsed from "prom-client/lib/metrics/heapSizeAndUsed.js";
import heapSpacesSizeAndUsed from "prom-client/lib/metrics/heapSpacesSizeAndUsed.js";
import osMemoryHeap from "prom-client/lib/metrics/osMemoryHeap.js";
import processCpuTotal from "prom-client/lib/metrics/processCpuTotal.js";
import processHandles from "prom-client/lib/metrics/processHandles.js";
import processMaxFileDescriptors from "prom-client/lib/metrics/processMaxFileDescriptors.js";
import processOpenFileDescriptors from "prom-client/lib/metrics/processOpenFileDescriptors.js";
import processRequests from "prom-client/lib/metrics/processRequests.js";
import processResources from "prom-client/lib/metrics/processResources.js";
import processStartTime from "prom-client/lib/metrics/processStartTime.js";
import version from "prom-client/lib/metrics/version.js";

type DefaultMetric = (registry: Registry, config: { prefix: string }) => void;

const DEFAULTS: DefaultMetric[] = [
  processCpuTotal,
  processStartTime,
  osMemoryHeap,
  processOpenFileDescriptors,
  processMaxFileDescriptors,
  // As prom-client: only where the runtime has `process.getActiveResourcesInfo`.
  ...(typeof (globalThis as { process?: { getActiveResourcesInfo?: unknown } }).process
      ?.getActiveResourcesInfo === "function"
    ? [processResources]
    : []),
  processHandles,
  processRequests,
  heapSizeAndUsed,
  heapSpacesSizeAndUsed,
  version,
  gc,
];

/** Registers the default process metrics on `registry`, names prefixed with `prefix`. */
export function registerProcessMetrics(registry: Registry, prefix: string): void {
  for (const register of DEFAULTS) register(registry, { prefix });
}
