/**
 * The timers of one upstream's resilience machinery (health probes, ejection ends, slow-start
 * steps), so that closing the upstream clears every one of them. Timers are unref'd: a gateway
 * that is otherwise done never stays alive for a health probe.
 */
import { timerDelay } from "../../config/timer_limit.ts";

type Timer = ReturnType<typeof setTimeout>;

export class TimerSet {
  readonly #ids = new Set<Timer>();
  #closed = false;

  /**
   * Runs `fn` once after `ms`. Returns an id for `cancel`. A delay past what `setTimeout` can
   * wait (about 24.8 days) is shortened to that, not left to fire at once: for a health-check
   * interval or an ejection, 24.8 days is as good as longer, and firing at once would spin.
   */
  after(ms: number, fn: () => void): Timer | undefined {
    if (this.#closed) return undefined;
    const id = setTimeout(() => {
      this.#ids.delete(id);
      fn();
    }, timerDelay(ms));
    Deno.unrefTimer(id as unknown as number);
    this.#ids.add(id);
    return id;
  }

  /** Cancels a timer from `after`; unknown ids are ignored. */
  cancel(id: Timer | undefined): void {
    if (id !== undefined && this.#ids.delete(id)) clearTimeout(id);
  }

  /** Whether `close` ran: callbacks in flight check this before scheduling more work. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Clears every pending timer; later `after` calls do nothing. */
  close(): void {
    this.#closed = true;
    for (const id of this.#ids) clearTimeout(id);
    this.#ids.clear();
  }
}
