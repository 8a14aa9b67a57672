/**
 * An exact share of events, not a random one: with 10%, every 10th event is taken; with 25%,
 * every 4th. The debt is counted in millionths of an event, so shares with up to four decimals
 * (0.5%, 12.3456%) come out exact over time too.
 */
const WHOLE = 1_000_000;

export class ExactShare {
  #owed = 0;

  /** Whether this event is taken, for a share of `percent` (0 to 100). */
  take(percent: number): boolean {
    this.#owed += Math.round(percent * (WHOLE / 100));
    if (this.#owed < WHOLE) return false;
    this.#owed -= WHOLE;
    return true;
  }
}
