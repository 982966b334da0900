/**
 * The hub's timer heap: timers ordered by (deadline, priority, sequence).
 *
 * Deadlines are integer nanoseconds held in doubles, so a program that only sleeps sees exact times
 * (ten sleeps of 0.1 s end at exactly 1 s). A `Timeout` uses priority 1 and a sleep priority 0, so a
 * sleep wins a tie with a timeout, as in gevent; equal keys fire in insertion order.
 * @internal
 */

/** A callback run by the hub: `fn(arg)`. Kept as a pair so queueing allocates nothing. */
export type HubCallback = (arg: any) => void;

export const PRIORITY_DEFAULT = 0;
export const PRIORITY_TIMEOUT = 1;

/** Not in the heap. */
export const TIMER_IDLE = -1;
/** Taken out of the heap because it is due, and waiting in the hub's batch of due timers. */
export const TIMER_DUE = -2;

export class Timer {
  deadline = 0.5; // initialised as a double: time fields must never start as small integers (V8)
  priority = 0;
  seq = 0;
  index = TIMER_IDLE;
  fn: HubCallback;
  arg: unknown;
  constructor(fn: HubCallback, arg: unknown) {
    this.fn = fn;
    this.arg = arg;
  }
  /** Scheduled and not yet fired or cancelled. */
  get active(): boolean {
    return this.index !== TIMER_IDLE;
  }
}

function less(a: Timer, b: Timer): boolean {
  if (a.deadline !== b.deadline) return a.deadline < b.deadline;
  if (a.priority !== b.priority) return a.priority < b.priority;
  return a.seq < b.seq;
}

export class TimerHeap {
  private readonly items: Timer[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): Timer | undefined {
    return this.items[0];
  }

  push(t: Timer): void {
    const items = this.items;
    let i = items.length;
    items.push(t);
    // sift up
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent]!;
      if (!less(t, p)) break;
      items[i] = p;
      p.index = i;
      i = parent;
    }
    items[i] = t;
    t.index = i;
  }

  /** Removes and returns the smallest timer; its index becomes TIMER_IDLE. */
  pop(): Timer | undefined {
    const items = this.items;
    const top = items[0];
    if (top === undefined) return undefined;
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      this.siftDown(0, last);
    }
    top.index = TIMER_IDLE;
    return top;
  }

  /** Removes a timer that is in the heap. */
  remove(t: Timer): void {
    const i = t.index;
    const items = this.items;
    if (i < 0 || items[i] !== t) return;
    const last = items.pop()!;
    t.index = TIMER_IDLE;
    if (last === t) return;
    items[i] = last;
    last.index = i;
    if (i > 0 && less(last, items[(i - 1) >> 1]!)) {
      // sift up
      let j = i;
      while (j > 0) {
        const parent = (j - 1) >> 1;
        const p = items[parent]!;
        if (!less(last, p)) break;
        items[j] = p;
        p.index = j;
        j = parent;
      }
      items[j] = last;
      last.index = j;
    } else {
      this.siftDown(i, last);
    }
  }

  private siftDown(i: number, t: Timer): void {
    const items = this.items;
    const n = items.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      let child = items[l]!;
      if (r < n) {
        const rc = items[r]!;
        if (less(rc, child)) {
          c = r;
          child = rc;
        }
      }
      if (!less(child, t)) break;
      items[i] = child;
      child.index = i;
      i = c;
    }
    items[i] = t;
    t.index = i;
  }

  /** Drops every timer (used when a hub closes). */
  clear(): void {
    for (const t of this.items) t.index = TIMER_IDLE;
    this.items.length = 0;
  }
}
