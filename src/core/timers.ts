/**
 * The hub's timer queue: timers ordered by (deadline, priority, sequence).
 *
 * Deadlines are integer nanoseconds held in doubles, so a program that only sleeps sees exact times
 * (ten sleeps of 0.1 s end at exactly 1 s). A `Timeout` uses priority 1 and a sleep priority 0, so a
 * sleep wins a tie with a timeout, as in gevent; equal keys fire in insertion order.
 *
 * Layout: a timing wheel in front of two heaps. The wheel has 1,024 slots of 2^20 ns (about 1 ms), so
 * it spans about a second ahead of the current slot; a timer due in a later slot of that span is
 * appended to its slot's list (no ordering work), one due further out waits in the `far` heap, and the
 * current slot's timers (and any due earlier) are in the `near` heap. When `near` runs dry, the next
 * non-empty slot (found in a bitmap) is poured into it, and far timers that the moved span now covers
 * move into the wheel. Timers therefore come out in exactly the order of one heap over (deadline, key),
 * at a fraction of the cost: a sleeper's wake touches a slot and a tiny heap instead of sifting through
 * a heap of every sleeper (at 10,000 sleeping greenlets each level of that sift is a cache miss).
 *
 * Heaps are 4-ary with their keys in typed arrays. Cancellation is lazy: every push has a key of its own
 * (priority and a sequence number), which the timer keeps as `gen`; an entry whose timer was cancelled
 * or re-armed since (its state is no longer scheduled, or its `gen` is another key) is dropped when it
 * is reached, and everything is rebuilt when stale entries outnumber live ones.
 * @internal
 */

/** A callback run by the hub: `fn(arg)`. Kept as a pair so queueing allocates nothing. */
export type HubCallback = (arg: any) => void;

export const PRIORITY_DEFAULT = 0;
export const PRIORITY_TIMEOUT = 1;

/** Not scheduled. */
export const TIMER_IDLE = -1;
/** Taken out of the queue because it is due, and waiting in the hub's batch of due timers. */
export const TIMER_DUE = -2;
/** Scheduled: in the queue. */
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

/** A 4-ary min-heap of (deadline, key, timer) entries; knows nothing of timer states. */
class EntryHeap {
  dl = new Float64Array(64);
  key = new Float64Array(64);
  items: (TimerLike | undefined)[] = new Array<undefined>(64);
  n = 0;

  insert(d: number, k: number, t: TimerLike): void {
    if (this.n === this.dl.length) this.grow();
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

  removeTop(): void {
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

  clear(): void {
    this.items.fill(undefined, 0, this.n);
    this.n = 0;
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
}

/** Width of a wheel slot in ns (a power of two, so deadline / SLOT_NS is exact). */
const SLOT_NS = 2 ** 20;
const SLOTS = 1024;
const SLOT_MASK = SLOTS - 1;
/** Deadlines from here on (about 52 days) bypass the wheel: past this, slot arithmetic loses precision. */
const WHEEL_LIMIT_NS = 2 ** 52;

export class TimerHeap {
  /** Timers of the current slot and earlier, in order. */
  private readonly near = new EntryHeap();
  /** Timers beyond the wheel's span. */
  private readonly far = new EntryHeap();
  /** Absolute number of the current slot (deadline / SLOT_NS, floored); Infinity once past WHEEL_LIMIT_NS. */
  private cur = 0;
  // the wheel: per slot a list of entries in a pool (typed arrays plus the timers), and a bitmap of
  // non-empty slots
  private wd = new Float64Array(256);
  private wk = new Float64Array(256);
  private wnext = new Int32Array(256);
  private witems: (TimerLike | undefined)[] = new Array<undefined>(256);
  private free = -1;
  private used = 0;
  private readonly head = new Int32Array(SLOTS).fill(-1);
  private readonly tail = new Int32Array(SLOTS);
  private readonly bits = new Int32Array(SLOTS / 32);
  private inWheel = 0;
  /** Entries anywhere, stale ones included. */
  private entries = 0;
  private compactAt = 1024;
  /** Live timers. */
  private live = 0;
  /** The deadline of the timer `popSole` returned last. */
  soleDeadline = 0.5;

  get size(): number {
    return this.live;
  }

  /** Schedules `t` at `deadline` (ns) with second key `key` (priority * SEQ_SPAN + sequence). */
  push(t: TimerLike, d: number, k: number): void {
    t.gen = k;
    t.index = TIMER_SCHEDULED;
    this.live++;
    this.place(d, k, t);
    if (++this.entries > this.compactAt) this.maybeCompact();
  }

  private place(d: number, k: number, t: TimerLike): void {
    const abs = Math.floor(d / SLOT_NS);
    if (abs <= this.cur) this.near.insert(d, k, t);
    else if (abs < this.cur + SLOTS && d < WHEEL_LIMIT_NS) this.append(abs & SLOT_MASK, d, k, t);
    else this.far.insert(d, k, t);
  }

  private append(slot: number, d: number, k: number, t: TimerLike): void {
    let e = this.free;
    if (e >= 0) this.free = this.wnext[e]!;
    else {
      if (this.used === this.wd.length) this.growPool();
      e = this.used++;
    }
    this.wd[e] = d;
    this.wk[e] = k;
    this.witems[e] = t;
    this.wnext[e] = -1;
    const last = this.tail[slot]!;
    if (this.head[slot] === -1) {
      this.head[slot] = e;
      this.bits[slot >> 5] |= 1 << (slot & 31);
    } else {
      this.wnext[last] = e;
    }
    this.tail[slot] = e;
    this.inWheel++;
  }

  /**
   * Makes `near`'s top the earliest live timer, dropping stale entries and moving the wheel on as
   * needed. False when no live timer with a finite deadline is left.
   */
  private settle(): boolean {
    const near = this.near;
    for (;;) {
      while (near.n > 0) {
        const t = near.items[0]!;
        if (t.gen === near.key[0] && t.index === TIMER_SCHEDULED) return true;
        near.removeTop();
        this.entries--;
      }
      if (!this.advance()) return false;
    }
  }

  /** `near` is empty: pours the next non-empty slot (or the far heap's first timer) into it. */
  private advance(): boolean {
    const far = this.far;
    if (this.inWheel > 0) {
      this.pour(this.step());
    } else {
      // the wheel is empty: jump to the far heap's first live timer
      for (;;) {
        if (far.n === 0) return false;
        const t = far.items[0]!;
        if (t.gen === far.key[0] && t.index === TIMER_SCHEDULED) break;
        far.removeTop();
        this.entries--;
      }
      const d = far.dl[0]!;
      if (d === Infinity) return false;
      // past the wheel's limit every timer goes to `near`: a plain heap from then on
      this.cur = d < WHEEL_LIMIT_NS ? Math.floor(d / SLOT_NS) : Infinity;
    }
    // the span moved on: far timers it now covers move into the wheel (or `near`)
    const end = this.cur + SLOTS;
    while (far.n > 0) {
      const d = far.dl[0]!;
      const abs = Math.floor(d / SLOT_NS);
      if (abs > this.cur && !(abs < end && d < WHEEL_LIMIT_NS)) break;
      const t = far.items[0]!;
      const k = far.key[0]!;
      far.removeTop();
      if (t.gen !== k || t.index !== TIMER_SCHEDULED) this.entries--;
      else if (abs <= this.cur) this.near.insert(d, k, t);
      else this.append(abs & SLOT_MASK, d, k, t);
    }
    return true;
  }

  /** The first non-empty slot at or after `from`, going round (the wheel must hold an entry). */
  private nextSlot(from: number): number {
    const bits = this.bits;
    let w = from >> 5;
    let word = bits[w]! & (-1 << (from & 31));
    for (let i = 0; i <= SLOTS / 32; i++) {
      if (word !== 0) return (w << 5) + (31 - Math.clz32(word & -word));
      w = (w + 1) & (SLOTS / 32 - 1);
      word = bits[w]!;
    }
    throw new Error('geventjs internal error: timer wheel bitmap out of step');
  }

  /** Moves the wheel on to its next occupied slot (the wheel must hold an entry); returns that slot. */
  private step(): number {
    const p = this.cur & SLOT_MASK;
    const slot = this.nextSlot((p + 1) & SLOT_MASK);
    this.cur += (slot - p) & SLOT_MASK;
    return slot;
  }

  /** Empties a slot: returns its first entry (its list follows `wnext`). */
  private unlink(slot: number): number {
    const e = this.head[slot]!;
    this.head[slot] = -1;
    this.bits[slot >> 5] &= ~(1 << (slot & 31));
    return e;
  }

  /** Returns a wheel entry to the pool. */
  private release(e: number): void {
    this.witems[e] = undefined;
    this.wnext[e] = this.free;
    this.free = e;
    this.inWheel--;
  }

  /** Moves a slot's live entries into `near` and frees the slot. */
  private pour(slot: number): void {
    const near = this.near;
    const wd = this.wd, wk = this.wk, wnext = this.wnext, witems = this.witems;
    let e = this.unlink(slot);
    while (e >= 0) {
      const next = wnext[e]!;
      const t = witems[e]!;
      const k = wk[e]!;
      if (t.gen === k && t.index === TIMER_SCHEDULED) near.insert(wd[e]!, k, t);
      else this.entries--;
      this.release(e);
      e = next;
    }
  }

  /** The deadline of the earliest live timer (Infinity when there is none). */
  topDeadline(): number {
    return this.settle() ? this.near.dl[0]! : Infinity;
  }

  /**
   * The dispatch fast path: if the earliest live timer has a finite deadline that no other entry shares
   * (stale ones count), removes and returns it (its deadline in `soleDeadline`); else undefined.
   */
  popSole(): TimerLike | undefined {
    if (this.near.n === 0 && this.inWheel > 0 && this.far.n === 0) {
      // the usual case among sleepers: the next occupied slot holds one timer, which is sole by itself
      // (no far timer can move into the wheel, so stepping needs nothing more than `advance` does)
      const slot = this.step();
      if (this.head[slot] !== this.tail[slot]) {
        this.pour(slot);
      } else {
        const e = this.unlink(slot);
        const t = this.witems[e]!;
        const live = t.gen === this.wk[e] && t.index === TIMER_SCHEDULED;
        const d = this.wd[e]!;
        this.release(e);
        this.entries--;
        if (live) {
          t.index = TIMER_IDLE;
          this.live--;
          this.soleDeadline = d;
          return t;
        }
        // a stale entry: the general path below moves on from here
      }
    }
    if (!this.settle()) return undefined;
    // every entry with the top's deadline is in `near` (same slot): look at the top's children
    const near = this.near;
    const dl = near.dl;
    const d = dl[0]!;
    if (d === Infinity) return undefined;
    const n = near.n;
    const end = n < 5 ? n : 5;
    for (let j = 1; j < end; j++) if (dl[j]! <= d) return undefined;
    const t = near.items[0]!;
    near.removeTop();
    this.entries--;
    t.index = TIMER_IDLE;
    this.live--;
    this.soleDeadline = d;
    return t;
  }

  /**
   * Removes and returns the earliest live timer if it is due by `now`, else undefined; its state
   * becomes TIMER_IDLE.
   */
  popDue(now: number): TimerLike | undefined {
    if (!this.settle()) return undefined;
    const near = this.near;
    if (!(near.dl[0]! <= now)) return undefined;
    const t = near.items[0]!;
    near.removeTop();
    this.entries--;
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
    for (const [t] of this.liveEntries()) t.index = TIMER_IDLE;
    this.drain();
    this.live = 0;
  }

  /** Rebuilds everything from the live entries when stale ones outnumber them. */
  private maybeCompact(): void {
    if (this.entries > 2 * this.live) {
      const live = this.liveEntries();
      this.drain();
      for (const [t, d, k] of live) this.place(d, k, t);
      this.entries = live.length;
    }
    this.compactAt = Math.max(1024, 2 * this.entries);
  }

  private liveEntries(): [TimerLike, number, number][] {
    const live: [TimerLike, number, number][] = [];
    const keep = (t: TimerLike, d: number, k: number): void => {
      if (t.gen === k && t.index === TIMER_SCHEDULED) live.push([t, d, k]);
    };
    for (const h of [this.near, this.far]) for (let i = 0; i < h.n; i++) keep(h.items[i]!, h.dl[i]!, h.key[i]!);
    for (let slot = 0; slot < SLOTS; slot++) {
      for (let e = this.head[slot]!; e >= 0; e = this.wnext[e]!) keep(this.witems[e]!, this.wd[e]!, this.wk[e]!);
    }
    return live;
  }

  /** Empties every structure; the wheel keeps its position. */
  private drain(): void {
    this.near.clear();
    this.far.clear();
    this.head.fill(-1);
    this.bits.fill(0);
    this.witems.fill(undefined, 0, this.used);
    this.free = -1;
    this.used = 0;
    this.inWheel = 0;
    this.entries = 0;
  }

  private growPool(): void {
    const size = this.wd.length * 2;
    const wd = new Float64Array(size);
    const wk = new Float64Array(size);
    const wnext = new Int32Array(size);
    wd.set(this.wd);
    wk.set(this.wk);
    wnext.set(this.wnext);
    this.wd = wd;
    this.wk = wk;
    this.wnext = wnext;
    this.witems.length = size;
  }
}
