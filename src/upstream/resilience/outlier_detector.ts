/**
 * Passive outlier detection: watches real traffic per target and ejects a target that fails
 * `consecutiveFailures` attempts in a row (connect errors, resets, timeouts, 5xx).
 *
 * - An ejection lasts `baseEjectionMs × 2^level`, capped at `maxEjectionMs`; the level grows with
 *   each ejection and decays by one for every `baseEjectionMs` the target then stays healthy.
 * - At most `maxEjectedPercent`% of the targets are ejected at once (at least one when there are
 *   two or more). A lone target is never ejected: with nowhere else to send, the circuit
 *   breaker's fast 503 is the better answer. For the same reason neither is the last target in
 *   rotation, when the others are out already (failing health checks, or ejected under a cap of
 *   100%): ejecting it would only turn every request into "no healthy target".
 * - When an ejection ends the target is half-open: it takes a slow-start share, one failure
 *   ejects it again at once (for longer), and one success readmits it for good.
 */
import type { NormalizedOutlierDetection } from "../../config/normalized.ts";
import type { Target } from "../target.ts";
import type { SlowStart } from "./slow_start.ts";
import type { TimerSet } from "./timer_set.ts";

/** Where ejections and readmissions are reported. */
export interface OutlierListener {
  ejected(target: Target, ms: number, reason: string): void;
  readmitted(target: Target, reason: string): void;
}

export class OutlierDetector {
  readonly #ejectionTimers = new Map<Target, ReturnType<TimerSet["after"]>>();

  constructor(
    readonly config: NormalizedOutlierDetection,
    private readonly targets: readonly Target[],
    private readonly slowStart: SlowStart,
    private readonly timers: TimerSet,
    private readonly listener: OutlierListener,
  ) {}

  /** A successful attempt: resets the failure run and completes a half-open readmission. */
  success(target: Target, now: number): void {
    target.consecutiveFailures = 0;
    if (target.halfOpen) {
      target.halfOpen = false;
      target.recoveredAt = now;
    }
  }

  /** A failed attempt: may eject the target. */
  failure(target: Target, now: number, what: string): void {
    if (target.ejected) return; // an attempt that was already in flight when it was ejected
    const failures = ++target.consecutiveFailures;
    if (target.halfOpen) {
      this.#eject(target, now, `failed while half-open (${what})`);
    } else if (failures >= this.config.consecutiveFailures) {
      this.#eject(target, now, `${failures} consecutive failures, the last: ${what}`);
    }
  }

  /**
   * Ends an ejection early: an active health check passed (Envoy does the same). The target
   * comes back half-open, so one more failure of real traffic sends it out again.
   */
  uneject(target: Target, reason: string): void {
    if (!target.ejected) return;
    const id = this.#ejectionTimers.get(target);
    if (id !== undefined) this.timers.cancel(id);
    this.#readmit(target, reason);
  }

  #eject(target: Target, now: number, reason: string): void {
    if (!this.#mayEject(target)) return;
    const { baseEjectionMs, maxEjectionMs } = this.config;
    if (target.recoveredAt > 0 && baseEjectionMs > 0) {
      const healthyPeriods = Math.floor((now - target.recoveredAt) / baseEjectionMs);
      target.ejectionLevel = Math.max(0, target.ejectionLevel - healthyPeriods);
    }
    // Time from here until the next half-open success is not healthy time.
    target.recoveredAt = 0;
    const ms = Math.min(maxEjectionMs, baseEjectionMs * 2 ** target.ejectionLevel);
    target.ejectionLevel++;
    target.ejections++;
    target.ejected = true;
    target.halfOpen = false;
    target.consecutiveFailures = 0;
    target.ejectedUntil = now + ms;
    target.refresh();
    this.slowStart.stop(target);
    this.listener.ejected(target, ms, reason);
    const id = this.timers.after(ms, () => {
      this.#ejectionTimers.delete(target);
      this.#readmit(target, `ejection of ${ms} ms ended`);
    });
    this.#ejectionTimers.set(target, id);
  }

  #readmit(target: Target, reason: string): void {
    this.#ejectionTimers.delete(target);
    target.ejected = false;
    target.ejectedUntil = 0;
    target.halfOpen = true;
    target.refresh();
    this.slowStart.begin(target);
    this.listener.readmitted(target, reason);
  }

  #mayEject(target: Target): boolean {
    const n = this.targets.length;
    const percent = this.config.maxEjectedPercent;
    if (n < 2 || percent === 0) return false;
    const cap = Math.max(1, Math.floor((n * percent) / 100));
    let ejected = 0;
    let othersInRotation = 0;
    for (const t of this.targets) {
      if (t.ejected) ejected++;
      else if (t !== target && t.healthy) othersInRotation++;
    }
    return ejected < cap && othersInRotation > 0;
  }
}
