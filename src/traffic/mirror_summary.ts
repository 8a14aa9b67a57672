/** What admin `/mirror` shows: per mirroring route, its settings, counters and last mismatches. */
import type { NormalizedRoute } from "../config/normalized.ts";
import type { DiffResult, MirrorResult } from "../observe/mirror_metrics.ts";
import type { MirrorErrorRecord, MirrorRegistry, MismatchRecord } from "./mirror_registry.ts";

export interface MirrorRouteSummary {
  route: string;
  upstream: string;
  percent: number;
  maxConcurrent: number;
  maxBodyBytes: number;
  inFlight: number;
  /** Requests chosen for mirroring, by what became of them. */
  requests: Record<MirrorResult, number>;
  /** Comparisons by result; absent when the route does not compare. */
  diff?: Record<DiffResult, number>;
  /** The last mismatches, newest last. */
  recentMismatches?: MismatchRecord[];
  lastError?: MirrorErrorRecord;
}

/** One entry per route of the served config that mirrors, in route order. */
export function describeMirrors(
  routes: readonly NormalizedRoute[],
  registry: MirrorRegistry,
): { routes: MirrorRouteSummary[] } {
  const out: MirrorRouteSummary[] = [];
  for (const route of routes) {
    const mirror = route.mirror;
    if (!mirror) continue;
    const state = registry.route(route.name);
    const lastError = state.lastError;
    out.push({
      route: route.name,
      upstream: mirror.upstream,
      percent: mirror.percent,
      maxConcurrent: mirror.maxConcurrent,
      maxBodyBytes: mirror.maxBodyBytes,
      inFlight: state.inFlight,
      requests: state.counts(),
      ...(mirror.diff
        ? { diff: state.diffCounts(), recentMismatches: [...state.recentMismatches] }
        : {}),
      ...(lastError ? { lastError } : {}),
    });
  }
  return { routes: out };
}
