/**
 * A counting semaphore: at most `size` tasks run at once, the rest wait in arrival order.
 * Password checks use it because each scrypt run holds 128·N·r bytes (32 MiB by default) on a
 * worker thread: a flood of wrong passwords would otherwise run hundreds at once and exhaust
 * memory. With a bound, the flood queues, and memory stays at `size` checks' worth.
 *
 * The queue is bounded too (`maxWaiting`): a flood faster than the checks would otherwise queue
 * without end, every legitimate check waiting behind it for as long as the flood lasts, and
 * checks for clients that gave up long ago still running. Past the bound, `run` refuses at once
 * with {@link SlotsFull}.
 */
export class Slots {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(readonly size: number, readonly maxWaiting: number = Infinity) {
    this.#free = size;
  }

  /** Tasks waiting for a slot. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Runs `task` once a slot is free, and frees it when the task settles. Rejects with
   * {@link SlotsFull}, without running it, when `maxWaiting` tasks already wait.
   */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else if (this.#waiting.length >= this.maxWaiting) throw new SlotsFull(this.maxWaiting);
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

/** Every slot is busy and the queue is full: the task was not run. */
export class SlotsFull extends Error {
  constructor(readonly maxWaiting: number) {
    super(`all slots are busy and ${maxWaiting} tasks already wait`);
    this.name = "SlotsFull";
  }
}
