/**
 * Slow start: a target coming back into rotation ramps its weight from 10% of its configured
 * weight to 100% over `durationMs`, in ten steps, instead of taking a full share at once while
 * its caches and pools are cold. The weight changes on a timer, so balancers keep reading a
 * plain field and pay nothing per pick.
 */
import type { Target } from "../target.ts";
import type { TimerSet } from "./timer_set.ts";

const STEPS = 10;
const FIRST_SHARE = 1 / STEPS;

export class SlowStart {
  readonly #ramps = new Map<Target, ReturnType<TimerSet["after"]>>();

  constructor(private readonly durationMs: number, private readonly timers: TimerSet) {}

  /** Starts (or restarts) the ramp of `target`. */
  begin(target: Target): void {
    this.stop(target);
    if (this.durationMs <= 0) {
      target.weight = target.configuredWeight;
      return;
    }
    this.#step(target, 1);
  }

  /** Stops a ramp (the target left rotation again) and leaves the weight where it is. */
  stop(target: Target): void {
    const id = this.#ramps.get(target);
    if (id === undefined) return;
    this.timers.cancel(id);
    this.#ramps.delete(target);
  }

  /** Whether `target` is still ramping up. */
  ramping(target: Target): boolean {
    return this.#ramps.has(target);
  }

  #step(target: Target, step: number): void {
    if (step >= STEPS) {
      target.weight = target.configuredWeight;
      this.#ramps.delete(target);
      return;
    }
    target.weight = target.configuredWeight * Math.max(FIRST_SHARE, step / STEPS);
    const id = this.timers.after(this.durationMs / STEPS, () => this.#step(target, step + 1));
    this.#ramps.set(target, id);
  }
}
