import { addressOf, type TargetAddress } from "./client.ts";

/** Why a target is out of rotation, or `null` while it takes traffic. */
export type TargetHealth = "healthy" | "failing_health_checks" | "ejected";

/**
 * A target's runtime state. One object per (upstream, url), kept across config reloads while its
 * upstream's definition is unchanged, so that counters and health survive. A change anywhere in
 * the upstream (timeouts, health check, targets) builds new targets that start healthy: the old
 * verdicts were reached under rules that no longer apply. One exception: a target still failing
 * an unchanged health check stays out (see `keepHealthVerdicts` in registry.ts).
 *
 * Balancers read only `healthy`, `weight` and `inflight`: plain fields, so a pick never computes
 * health. The resilience modules (active health checks, outlier detection, slow start) own the
 * other fields and call `refresh()` after changing them.
 */
export class Target {
  readonly address: TargetAddress;
  /**
   * Exchanges open with this target, from dispatch until the response body (or WebSocket) ends;
   * least-request balancing reads it.
   */
  inflight = 0;
  /** Whether balancers may pick it: passing active health checks and not ejected. */
  healthy = true;
  /** The weight balancers use: the configured weight, lowered while slow start ramps it up. */
  weight: number;

  /** Passing active health checks (always true when none are configured). */
  passingHealthChecks = true;
  /** Ejected by outlier detection. */
  ejected = false;
  /** After an ejection ends: the next failure ejects again at once, a success readmits fully. */
  halfOpen = false;
  /** Consecutive failed attempts of real traffic (outlier detection). */
  consecutiveFailures = 0;
  /** Ejections in a row; each one doubles the next ejection time. Decays while healthy. */
  ejectionLevel = 0;
  /** Total ejections over the target's life (admin, metrics). */
  ejections = 0;
  /** When the current ejection ends (epoch ms), or 0. */
  ejectedUntil = 0;
  /** When the target last came back (epoch ms), for decaying `ejectionLevel`. */
  recoveredAt = 0;

  /** This target's upstream-duration series, found once (metrics are per gateway, as targets). */
  durationSeries?: { observe(seconds: number): void };

  /** `host:port` as a client would write it in a Host header (parsed once, not per request). */
  readonly hostHeader: string;

  constructor(readonly url: string, readonly configuredWeight: number) {
    this.weight = configuredWeight;
    const u = new URL(url);
    this.hostHeader = u.host;
    this.address = addressOf(u);
  }

  /** Recomputes `healthy` from the health sources. */
  refresh(): void {
    this.healthy = this.passingHealthChecks && !this.ejected;
  }

  /** The state shown on admin `/upstreams`. */
  get health(): TargetHealth {
    if (!this.passingHealthChecks) return "failing_health_checks";
    return this.ejected ? "ejected" : "healthy";
  }
}
