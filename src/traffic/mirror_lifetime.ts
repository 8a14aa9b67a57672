/**
 * How long one mirror may run. A mirror is not awaited by anyone, so nothing else ends it: with
 * a streamed answer (server-sent events, a watch, a long download) the shadow's copy would go on
 * after the client had left, or after a reload had closed the primary's stream, holding one of
 * the route's `maxConcurrent` slots and a shadow connection for as long as the shadow streams.
 * Enough of those and the route mirrors nothing more.
 *
 * So once the primary's response is over (read to the end, cancelled, or failed), the shadow has
 * its own answer timeout (`totalMs`) more to finish, then the exchange is aborted. A shadow that
 * has not even answered by then has run longer than that timeout already, so in practice only a
 * body still being read is cut, and comparisons of ordinary answers are unaffected. Closing the
 * gateway aborts at once.
 */

/** Why a mirror was cut short after its primary ended. */
export class PrimaryEndedError extends Error {
  constructor(graceMs: number) {
    super(`the shadow was still answering ${graceMs} ms after the primary's response ended`);
    this.name = "PrimaryEndedError";
  }
}

export class MirrorLifetime {
  readonly #abort = new AbortController();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #finished = false;

  /** `graceMs`: how long the shadow may run on once the primary's response is over. */
  constructor(readonly graceMs: number) {}

  /** Handed to the shadow exchange: aborts connect, send, wait and body. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Whether the mirror was cut short because its primary had ended. */
  get cutShort(): boolean {
    return this.#abort.signal.reason instanceof PrimaryEndedError;
  }

  /** The primary's response is over: starts the countdown (once). */
  primaryOver(): void {
    if (this.#finished || this.#timer !== undefined || this.#abort.signal.aborted) return;
    this.#timer = setTimeout(
      () => this.#abort.abort(new PrimaryEndedError(this.graceMs)),
      this.graceMs,
    );
  }

  /** Ends the mirror now (the gateway is closing). */
  abort(reason: unknown): void {
    this.finished();
    this.#abort.abort(reason);
  }

  /** The mirror ended on its own: no countdown is left running. */
  finished(): void {
    this.#finished = true;
    clearTimeout(this.#timer);
  }
}
