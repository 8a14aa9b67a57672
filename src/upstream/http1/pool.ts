import { timerDelay } from "../../config/timer_limit.ts";
import type { Connection } from "./connection.ts";

/**
 * Idle keep-alive connections to one origin.
 *
 * LIFO: the most recently used connection is handed out first. It is the one most likely still
 * open upstream, and under light load the rest age out and get closed instead of being kept warm
 * in rotation. Because the stack is ordered by idle time, the oldest connections sit at the
 * bottom, so one timer, armed for the bottom connection's expiry, sweeps the whole pool.
 */
export class IdlePool {
  #idle: Connection[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  readonly #sweep = () => this.#onSweep();
  readonly #dropIdle = (conn: Connection) => {
    this.#remove(conn);
    conn.close();
  };

  constructor(readonly maxIdle: number, readonly idleTimeoutMs: number) {}

  get size(): number {
    return this.#idle.length;
  }

  /** Takes the most recently idled connection, or `undefined` when none is idle. */
  take(): Connection | undefined {
    const conn = this.#idle.pop();
    if (conn !== undefined) conn.leaveIdle();
    return conn;
  }

  /** Keeps `conn` for reuse, or closes it when the pool is full. */
  put(conn: Connection): void {
    if (conn.closed) return;
    if (this.#closed || this.#idle.length >= this.maxIdle || !(this.idleTimeoutMs > 0)) {
      conn.close();
      return;
    }
    conn.enterIdle(this.#dropIdle);
    this.#idle.push(conn);
    if (this.#timer === undefined) this.#arm(this.idleTimeoutMs);
  }

  /** Closes every idle connection; connections offered later are closed too. */
  closeAll(): void {
    this.#closed = true;
    for (const conn of this.#idle) conn.close();
    this.#idle.length = 0;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #remove(conn: Connection): void {
    const i = this.#idle.lastIndexOf(conn);
    if (i >= 0) this.#idle.splice(i, 1);
  }

  #arm(ms: number): void {
    // An idle timeout longer than a timer can wait is served in steps: the sweep re-arms for
    // what is left.
    this.#timer = setTimeout(this.#sweep, timerDelay(ms));
    Deno.unrefTimer(this.#timer as unknown as number);
  }

  #onSweep(): void {
    this.#timer = undefined;
    const now = Date.now();
    let expired = 0;
    while (
      expired < this.#idle.length && now - this.#idle[expired].idleSince >= this.idleTimeoutMs
    ) {
      this.#idle[expired].close();
      expired++;
    }
    if (expired > 0) this.#idle.splice(0, expired);
    if (this.#idle.length > 0) {
      this.#arm(this.#idle[0].idleSince + this.idleTimeoutMs - now);
    }
  }
}
