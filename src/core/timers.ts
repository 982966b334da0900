/**
 * The hub's timer heap: timers ordered by (deadline, priority, sequence).
 *
 * Deadlines are integer nanoseconds held in doubles, so a program that only sleeps sees exact times
 * (ten sleeps of 0.1 s end at exactly 1 s). A `Timeout` uses priority 1 and a sleep priority 0, so a
 * sleep wins a tie with a timeout, as in gevent; equal keys fire in insertion order.
 *
 * Layout: a 4-ary heap whose keys live in typed arrays, so sifting compares contiguous numbers and never
 * dereferences a timer (at 10,000 sleeping greenlets the wake order is random and every pointer chase is
 * a cache miss). Cancellation is lazy: every push has a key of its own (priority and a sequence number),
 * which the timer keeps as `gen`; an entry whose timer was cancelled or re-armed since (its state is
 * no longer scheduled, or its `gen` is another key) is skipped when it reaches the top, and the heap is
 * rebuilt when stale entries outnumber live ones.
 * @internal
 */

/** A callback run by the hub: `fn(arg)`. Kept as a pair so queueing allocates nothing. */
export type HubCallback = (arg: any) => void;

export const PRIORITY_DEFAULT = 0;
export const PRIORITY_TIMEOUT = 1;

/** Not scheduled. */
export const TIMER_IDLE = -1;
/** Taken out of the heap because it is due, and waiting in the hub's batch of due timers. */
export const TIMER_DUE = -2;
/** In the heap. */
export const TIMER_SCHEDULED = 0;

/** Span of sequence numbers within one priority: the heap's second key is priority * SEQ_SPAN + seq. */
export const SEQ_SPAN = 2 ** 44;

/**
 * What the heap holds: a callback and its argument, plus the heap's bookkeeping. A `Timer` is one;
 * a `Greenlet` is another (it is its own timer for `sleep` and timeouts, so waking a sleeper touches
 * one object).
 */
export interface TimerLike {
  /** TIMER_IDLE, TIMER_DUE or TIMER_SCHEDULED. */
  index: number;
  /** The key of the timer's current heap entry: entries with another key are stale. */
  gen: number;
  fn: HubCallback;
  arg: unknown;
  /** Scheduled (or due) and not yet fired or cancelled. */
  readonly active: boolean;
}

export class Timer implements TimerLike {
  index = TIMER_IDLE;
  gen = 0;
  fn: HubCallback;
  arg: unknown;
  constructor(fn: HubCallback, arg: unknown) {
    this.fn = fn;
    this.arg = arg;
  }
  get active(): boolean {
    return this.index !== TIMER_IDLE;
  }
}

export class TimerHeap {
  private dl = new Float64Array(256);
  private key = new Float64Array(256);
  private items: (TimerLike | undefined)[] = new Array<undefined>(256);
  /** entries in the arrays, stale ones included */
  private n = 0;
  /** live timers */
  private live = 0;

  get size(): number {
    return this.live;
  }

  /** The earliest live timer, or undefined. */
  peek(): TimerLike | undefined {
    while (this.n > 0) {
      const t = this.items[0]!;
      if (t.gen === this.key[0] && t.index === TIMER_SCHEDULED) return t;
      this.removeTop();
    }
    return undefined;
  }

  /** The deadline of the timer `popSole` returned last. */
  soleDeadline = 0.5;

  /**
   * The dispatch fast path: if the earliest live timer has a finite deadline that no other entry shares
   * (stale ones count), removes and returns it (its deadline in `soleDeadline`); else undefined.
   */
  popSole(): TimerLike | undefined {
    let n = this.n;
    const dl = this.dl;
    const key = this.key;
    const items = this.items;
    for (;;) {
      if (n === 0) return undefined;
      const t = items[0]!;
      if (t.gen === key[0] && t.index === TIMER_SCHEDULED) break;
      this.removeTop();
      n = this.n;
    }
    const d = dl[0]!;
    if (d === Infinity) return undefined;
    const end = n < 5 ? n : 5;
    for (let j = 1; j < end; j++) if (dl[j]! <= d) return undefined;
    const t = items[0]!;
    this.removeTop();
    t.index = TIMER_IDLE;
    this.live--;
    this.soleDeadline = d;
    return t;
  }

  /** The deadline of the earliest live timer (Infinity when there is none). */
  topDeadline(): number {
    return this.peek() === undefined ? Infinity : this.dl[0]!;
  }

  /** Schedules `t` at `deadline` (ns) with second key `key` (priority * SEQ_SPAN + sequence). */
  push(t: TimerLike, d: number, k: number): void {
    if (this.n === this.dl.length) {
      if (this.n >= 1024 && this.n > 2 * this.live) this.compact();
      if (this.n === this.dl.length) this.grow();
    }
    t.gen = k;
    t.index = TIMER_SCHEDULED;
    this.live++;
    const dl = this.dl, key = this.key, items = this.items;
    let i = this.n++;
    while (i > 0) {
      const p = (i - 1) >> 2;
      const pd = dl[p]!;
      if (pd < d || (pd === d && key[p]! < k)) break;
      dl[i] = pd;
      key[i] = key[p]!;
      items[i] = items[p];
      i = p;
    }
    dl[i] = d;
    key[i] = k;
    items[i] = t;
  }

  /**
   * Removes and returns the earliest live timer if it is due by `now`, else undefined. Looks at no
   * timer object that is not due (so the next sleeper's cache lines stay cold until it wakes).
   */
  popDue(now: number): TimerLike | undefined {
    while (this.n > 0 && this.dl[0]! <= now) {
      const t = this.items[0]!;
      const k = this.key[0]!;
      this.removeTop();
      if (t.gen === k && t.index === TIMER_SCHEDULED) {
        t.index = TIMER_IDLE;
        this.live--;
        return t;
      }
    }
    return undefined;
  }

  /** Removes and returns the earliest live timer; its state becomes TIMER_IDLE. */
  pop(): TimerLike | undefined {
    const t = this.peek();
    if (t === undefined) return undefined;
    this.removeTop();
    t.index = TIMER_IDLE;
    this.live--;
    return t;
  }

  /** Cancels a scheduled timer (its entry goes stale). */
  remove(t: TimerLike): void {
    if (t.index !== TIMER_SCHEDULED) return;
    t.index = TIMER_IDLE;
    this.live--;
  }

  /** Drops every timer (used when a hub closes). */
  clear(): void {
    for (let i = 0; i < this.n; i++) {
      const t = this.items[i]!;
      if (t.gen === this.key[i] && t.index === TIMER_SCHEDULED) t.index = TIMER_IDLE;
      this.items[i] = undefined;
    }
    this.n = 0;
    this.live = 0;
  }

  private removeTop(): void {
    const last = --this.n;
    const items = this.items;
    if (last === 0) {
      items[0] = undefined;
      return;
    }
    const dl = this.dl, key = this.key;
    const d = dl[last]!, k = key[last]!, t = items[last]!;
    items[last] = undefined;
    const n = last;
    let i = 0;
    for (;;) {
      const c0 = 4 * i + 1;
      if (c0 >= n) break;
      let c = c0;
      let cd = dl[c0]!;
      let ck = key[c0]!;
      const end = c0 + 4 < n ? c0 + 4 : n;
      for (let j = c0 + 1; j < end; j++) {
        const jd = dl[j]!;
        if (jd < cd || (jd === cd && key[j]! < ck)) {
          c = j;
          cd = jd;
          ck = key[j]!;
        }
      }
      if (d < cd || (d === cd && k < ck)) break;
      dl[i] = cd;
      key[i] = ck;
      items[i] = items[c];
      i = c;
    }
    dl[i] = d;
    key[i] = k;
    items[i] = t;
  }

  private grow(): void {
    const size = this.dl.length * 2;
    const dl = new Float64Array(size);
    const key = new Float64Array(size);
    dl.set(this.dl);
    key.set(this.key);
    this.dl = dl;
    this.key = key;
    this.items.length = size;
  }

  /** Rebuilds the heap from its live entries. */
  private compact(): void {
    const live: [TimerLike, number, number][] = [];
    for (let i = 0; i < this.n; i++) {
      const t = this.items[i]!;
      if (t.gen === this.key[i] && t.index === TIMER_SCHEDULED) live.push([t, this.dl[i]!, this.key[i]!]);
      this.items[i] = undefined;
    }
    this.n = 0;
    this.live = 0;
    for (const [t, d, k] of live) this.push(t, d, k);
  }
}
