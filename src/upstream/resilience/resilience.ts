/**
 * One upstream's resilience machinery, wired together: active health checks, outlier
 * detection, slow start, the circuit breaker and the retry budget, plus the timers they share.
 * The forwarder talks to this object only; it reports every state change to `UpstreamEvents`.
 */
import type { NormalizedUpstream } from "../../config/normalized.ts";
import type { Target } from "../target.ts";
import { type Admission, ADMITTED, CircuitBreaker } from "./circuit_breaker.ts";
import type { CircuitState, UpstreamEvents } from "./events.ts";
import { HealthChecker, type HealthProbe } from "./health_checker.ts";
import { OutlierDetector } from "./outlier_detector.ts";
import { RetryBudget } from "./retry_budget.ts";
import { SlowStart } from "./slow_start.ts";
import { TimerSet } from "./timer_set.ts";

export class Resilience {
  readonly circuit: CircuitBreaker | null;
  readonly budget: RetryBudget;
  readonly outlier: OutlierDetector | null;
  readonly health: HealthChecker | null;
  readonly slowStart: SlowStart;
  readonly #timers = new TimerSet();
  readonly #name: string;

  constructor(
    config: NormalizedUpstream,
    targets: readonly Target[],
    probe: HealthProbe,
    private readonly events: UpstreamEvents,
  ) {
    const name = config.name;
    this.#name = name;
    const retries = config.retries;
    this.budget = new RetryBudget(retries.budgetPercent, retries.budgetMinPerSecond);
    this.slowStart = new SlowStart(config.outlierDetection?.slowStartMs ?? 0, this.#timers);
    this.circuit = config.circuitBreaker
      ? new CircuitBreaker(
        config.circuitBreaker,
        (from: CircuitState, to: CircuitState, reason: string) =>
          events.circuitChanged(name, from, to, reason),
      )
      : null;
    const outlier = config.outlierDetection
      ? new OutlierDetector(config.outlierDetection, targets, this.slowStart, this.#timers, {
        ejected: (t, ms, reason) => events.ejected(name, t.url, ms, reason),
        readmitted: (t, reason) => {
          if (t.healthy) events.healthChanged(name, t.url, true, `${reason}; half-open`);
        },
      })
      : null;
    this.outlier = outlier;
    this.health = config.healthCheck
      ? new HealthChecker(config.healthCheck, targets, probe, this.#timers, {
        changed: (t, passing, reason) => {
          if (passing) this.slowStart.begin(t);
          else this.slowStart.stop(t);
          // Passing again while ejected leaves the target out of rotation: no change to report
          // (and "down, N checks passed" would be wrong). The same probe then ends the
          // ejection, and the readmission reports it up.
          if (passing && !t.healthy) return;
          events.healthChanged(name, t.url, passing, reason);
        },
        passed: (t) => outlier?.uneject(t, "an active health check passed"),
      })
      : null;
    this.health?.start();
  }

  /** Whether an attempt may go now (the circuit breaker's call), and as what. */
  admit(now: number): Admission {
    return this.circuit === null ? ADMITTED : this.circuit.admit(now);
  }

  /** Records an attempt that got an answer; 5xx counts as a failure. */
  answered(target: Target, now: number, admission: Admission, status: number): void {
    if (status >= 500) this.failed(target, now, admission, `status ${status}`);
    else {
      this.outlier?.success(target, now);
      this.circuit?.record(now, admission, false);
    }
  }

  /** Records an attempt that failed (connect error, reset, timeout, 5xx). */
  failed(target: Target, now: number, admission: Admission, what: string): void {
    this.outlier?.failure(target, now, what);
    this.circuit?.record(now, admission, true);
  }

  /** A retry is about to be sent. */
  retrying(): void {
    this.events.retried(this.#name);
  }

  /** A retry was wanted and the budget refused it. */
  budgetExhausted(): void {
    this.events.budgetExhausted(this.#name);
  }

  /** An admitted attempt ended without an outcome to judge (the client went away). */
  released(admission: Admission): void {
    this.circuit?.release(admission);
  }

  /** Stops probes and clears every timer. */
  close(): void {
    this.health?.stop();
    this.#timers.close();
  }
}
