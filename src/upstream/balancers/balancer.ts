import type { Target } from "../target.ts";

/** What a balancer may look at to choose a target. */
export interface PickContext {
  /** Reads a request header (case-insensitive name). */
  header(name: string): string | null;
  /** Reads a cookie by name. */
  cookie(name: string): string | undefined;
  /** The client IP after trusted-proxy resolution. */
  clientIp: string;
}

/**
 * The extension point for target selection. A balancer is built once per config snapshot over
 * the upstream's targets and must be cheap per pick. Every implementation runs the shared
 * conformance test in `tests/upstream/balancer_conformance_test.ts`.
 */
export interface Balancer {
  /**
   * Picks a healthy target, skipping those in `exclude` when any other healthy one exists
   * (retries never go to the same target twice). `undefined` when no target is healthy.
   */
  pick(ctx: PickContext, exclude?: ReadonlySet<Target>): Target | undefined;
}
