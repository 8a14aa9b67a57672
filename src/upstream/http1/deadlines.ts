/**
 * Deadlines for every exchange of a client, served by ONE timer.
 *
 * A `setTimeout` + `clearTimeout` pair costs several microseconds in Deno, which is a real share
 * of a proxied request at 20k req/s. Instead, deadlines with the same duration go into one
 * intrusive FIFO list: entries are appended in time order, so the head of each list is its
 * earliest deadline, and both adding and removing an entry are O(1) with no allocation. A single
 * unref'd timer is armed for the earliest head. When a head is removed early (the usual case: the
 * response came in time) the timer is left alone; it fires, finds nothing due and re-arms. It is
 * cleared as soon as no deadline is pending, so an idle client holds no timer.
 *
 * Lists are kept for reuse while there are few of them (a client sees a handful of durations:
 * connect, per-try, idle, probe timeout). Retries are given whatever is left of the request's
 * total time, so each brings a new duration; beyond `KEPT_LISTS`, a list is dropped as soon as
 * it empties, or the map would grow to one list per millisecond of the total timeout.
 */

/** Durations whose empty lists are kept for reuse; beyond this, empty lists are dropped. */
const KEPT_LISTS = 8;

/** Who gets told when a deadline passes. */
export interface DeadlineOwner {
  onDeadline(deadline: Deadline): void;
}

/** One pending deadline; owned and reused by an exchange, linked into a list while armed. */
export class Deadline {
  /** `performance.now()` value at which it fires. */
  at = 0;
  prev: Deadline | null = null;
  next: Deadline | null = null;
  list: DeadlineList | null = null;

  constructor(readonly owner: DeadlineOwner) {}
}

/** Deadlines of one duration; appended in time order, so `head` is the earliest. */
class DeadlineList {
  head: Deadline | null = null;
  tail: Deadline | null = null;

  constructor(readonly ms: number) {}
}

export class DeadlineQueue {
  #lists = new Map<number, DeadlineList>();
  #lastMs = -1;
  #lastList: DeadlineList | null = null;
  #pending = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;
  readonly #fire = () => this.#onTimer();

  /** How many durations have a list (tests and diagnostics). */
  get durations(): number {
    return this.#lists.size;
  }

  /** Arms `d` to fire `ms` from now. Durations that are not finite and positive never fire. */
  start(d: Deadline, ms: number): void {
    if (d.list !== null) this.stop(d);
    if (!(ms > 0 && ms < 2_147_483_647)) return;
    let list = this.#lastList;
    if (ms !== this.#lastMs || list === null) {
      list = this.#lists.get(ms) ?? null;
      if (list === null) {
        list = new DeadlineList(ms);
        this.#lists.set(ms, list);
      }
      this.#lastMs = ms;
      this.#lastList = list;
    }
    d.at = performance.now() + ms;
    d.list = list;
    d.prev = list.tail;
    d.next = null;
    if (list.tail === null) list.head = d;
    else list.tail.next = d;
    list.tail = d;
    this.#pending++;
    // Only a deadline earlier than the armed timer needs a new one (a shorter duration's list).
    if (d.at < this.#timerAt) this.#arm(d.at);
  }

  /** Disarms `d`; a no-op when it is not armed. */
  stop(d: Deadline): void {
    const list = d.list;
    if (list === null) return;
    if (d.prev === null) list.head = d.next;
    else d.prev.next = d.next;
    if (d.next === null) list.tail = d.prev;
    else d.next.prev = d.prev;
    d.prev = d.next = null;
    d.list = null;
    if (list.head === null && this.#lists.size > KEPT_LISTS) this.#drop(list);
    if (--this.#pending === 0) this.#disarm();
  }

  /** Drops every deadline without firing it and clears the timer. */
  clear(): void {
    for (const list of this.#lists.values()) {
      for (let d = list.head; d !== null;) {
        const next = d.next;
        d.prev = d.next = null;
        d.list = null;
        d = next;
      }
      list.head = list.tail = null;
    }
    this.#pending = 0;
    this.#disarm();
  }

  /** Forgets an empty list; the next deadline of its duration gets a new one. */
  #drop(list: DeadlineList): void {
    this.#lists.delete(list.ms);
    // The cache must not hand out a list the timer no longer looks at.
    if (this.#lastList === list) {
      this.#lastList = null;
      this.#lastMs = -1;
    }
  }

  #arm(at: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(this.#fire, Math.max(1, Math.ceil(at - performance.now())));
    Deno.unrefTimer(this.#timer as unknown as number);
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  #onTimer(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = performance.now();
    const due: Deadline[] = [];
    let next = Infinity;
    for (const list of this.#lists.values()) {
      while (list.head !== null && list.head.at <= now) {
        const d = list.head;
        this.stop(d);
        due.push(d);
      }
      if (list.head !== null && list.head.at < next) next = list.head.at;
    }
    if (next !== Infinity) this.#arm(next);
    // Owners run after the queue is consistent: they may start or stop other deadlines.
    for (const d of due) d.owner.onDeadline(d);
  }
}
