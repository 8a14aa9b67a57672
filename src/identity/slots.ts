/**
 * A counting semaphore: at most `size` tasks run at once, the rest wait in arrival order.
 * Password checks use it because each scrypt run holds 128·N·r bytes (32 MiB by default) on a
 * worker thread: a flood of wrong passwords would otherwise run hundreds at once and exhaust
 * memory. With a bound, the flood queues, and memory stays at `size` checks' worth.
 */
export class Slots {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(readonly size: number) {
    this.#free = size;
  }

  /** Tasks waiting for a slot. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Runs `task` once a slot is free, and frees it when the task settles. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next waiter, so a newcomer cannot overtake the queue.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    }
  }
}
