/**
 * Active health checks: each target is probed on its own schedule (`interval` plus random
 * `jitter`, measured from the end of the previous probe so slow probes never pile up). A target
 * leaves rotation after `unhealthyThreshold` failed probes in a row and returns after
 * `healthyThreshold` passing ones, with slow start. A passing probe also ends an outlier
 * ejection early, as Envoy does by default: the target comes back half-open.
 */
import type { NormalizedHealthCheck } from "../../config/normalized.ts";
import type { Target } from "../target.ts";
import type { TimerSet } from "./timer_set.ts";

/**
 * Sends one probe to `target`; resolves with the response status, rejects on failure. `signal`
 * aborts it when the upstream is closed.
 */
export type HealthProbe = (target: Target, signal: AbortSignal) => Promise<number>;

/** Where health transitions are reported. */
export interface HealthListener {
  /** `target` passed or failed enough probes in a row to change state. */
  changed(target: Target, passing: boolean, reason: string): void;
  /** A probe passed while the target was passing (or just became so). */
  passed(target: Target): void;
}

interface ProbeRun {
  passes: number;
  failures: number;
  /** Probes sent so far (tests and admin read it). */
  probes: number;
  lastResult: string;
}

export class HealthChecker {
  readonly #runs = new Map<Target, ProbeRun>();
  readonly #stop = new AbortController();

  constructor(
    readonly config: NormalizedHealthCheck,
    private readonly targets: readonly Target[],
    private readonly probe: HealthProbe,
    private readonly timers: TimerSet,
    private readonly listener: HealthListener,
    private readonly random: () => number = Math.random,
  ) {}

  /** Starts probing every target now. */
  start(): void {
    for (const target of this.targets) {
      this.#runs.set(target, { passes: 0, failures: 0, probes: 0, lastResult: "not probed yet" });
      void this.#probeOnce(target);
    }
  }

  /** Aborts probes in flight; the caller closes the timers, so no new probe starts. */
  stop(): void {
    this.#stop.abort();
  }

  /** The last probe outcome of `target`, for admin `/upstreams`. */
  lastResult(target: Target): string | undefined {
    return this.#runs.get(target)?.lastResult;
  }

  async #probeOnce(target: Target): Promise<void> {
    const run = this.#runs.get(target)!;
    run.probes++;
    let failure: string | undefined;
    try {
      const status = await this.probe(target, this.#stop.signal);
      if (!this.#expected(status)) failure = `status ${status}`;
      run.lastResult = failure ?? `status ${status}`;
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
      run.lastResult = failure;
    }
    if (this.timers.closed) return;
    this.#judge(target, run, failure);
    const { intervalMs, jitterMs } = this.config;
    this.timers.after(intervalMs + this.random() * jitterMs, () => void this.#probeOnce(target));
  }

  #judge(target: Target, run: ProbeRun, failure: string | undefined): void {
    const { healthyThreshold, unhealthyThreshold } = this.config;
    if (failure === undefined) {
      run.passes++;
      run.failures = 0;
      if (!target.passingHealthChecks && run.passes >= healthyThreshold) {
        target.passingHealthChecks = true;
        target.refresh();
        this.listener.changed(target, true, `${run.passes} health checks passed in a row`);
      }
      if (target.passingHealthChecks) this.listener.passed(target);
      return;
    }
    run.failures++;
    run.passes = 0;
    if (target.passingHealthChecks && run.failures >= unhealthyThreshold) {
      target.passingHealthChecks = false;
      target.refresh();
      this.listener.changed(
        target,
        false,
        `${run.failures} health checks failed in a row, the last: ${failure}`,
      );
    }
  }

  #expected(status: number): boolean {
    for (const [from, to] of this.config.expectStatus) {
      if (status >= from && status <= to) return true;
    }
    return false;
  }
}
