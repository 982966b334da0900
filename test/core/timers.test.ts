// The hub's timer queue (a timing wheel in front of two heaps) must hand out timers in exactly the
// order of one heap over (deadline, key), whatever mix of near, far, equal, cancelled and re-armed
// timers it holds. Checked against a sorted list, over long seeded random runs shaped like a hub's:
// the clock only moves forward, to the deadline of the timer that fires.
import { describe, expect, it } from 'vitest';
import { Random } from '../../src/core/random.js';
import { Timer, TimerHeap, TIMER_IDLE, TIMER_SCHEDULED } from '../../src/core/timers.js';

const MS = 1e6;
const noop = (): void => {};

interface Ref {
  t: Timer;
  d: number;
  k: number;
}

function refSort(ref: Ref[]): void {
  ref.sort((a, b) => a.d - b.d || a.k - b.k);
}

const SLOT = 2 ** 20; // the wheel's slot width in ns; it has 1,024 slots

/** A deadline drawn from a mix that covers every part of the structure and its edges. */
function deadline(r: Random, clock: number, nearOnly: boolean): number {
  const slotStart = Math.floor(clock / SLOT) * SLOT;
  if (nearOnly && r.int(2) === 0) return clock + r.int(8) * SLOT + r.int(3) * 1000; // crowded slots
  const c = nearOnly ? r.int(80) : r.int(130);
  if (c >= 100) {
    // the edges: slot boundaries near the clock, and the last slots of the wheel's span and just past it
    const slots = c < 115 ? r.int(4) : 1022 + r.int(4);
    return Math.max(clock, slotStart + slots * SLOT + [0, 1, SLOT - 1][r.int(3)]!);
  }
  return clock + delay(r, c);
}

function delay(r: Random, c: number): number {
  if (c < 10) return 0; // the current instant
  if (c < 20) return r.int(1000); // within the current slot
  if (c < 60) return r.int(1000) * MS; // whole milliseconds (equal deadlines are common)
  if (c < 80) return r.int(1100) * MS + r.int(MS); // around the wheel's span (~1.07 s)
  if (c < 92) return r.int(100) * 1e9 + r.int(1e9); // far: up to 100 s
  if (c < 97) return 1e15 + r.int(1e9); // days away
  if (c < 99) return 2 ** 53 + r.int(1000) * 2 ** 20; // past the wheel's limit
  return Infinity;
}

/** Runs `steps` random operations; returns how many timers the fast path (popSole) handed out. */
function run(seed: number, steps: number, pool: number, nearOnly = false): number {
  let soles = 0;
  const r = new Random(seed);
  const q = new TimerHeap();
  const timers = Array.from({ length: pool }, () => new Timer(noop, null));
  let ref: Ref[] = [];
  let clock = 0;
  let seq = 0;
  const cancel = (t: Timer): void => {
    ref = ref.filter((e) => e.t !== t);
    q.remove(t);
  };
  for (let step = 0; step < steps; step++) {
    const op = r.int(10);
    if (op < 5) {
      const t = timers[r.int(pool)]!;
      if (t.index === TIMER_SCHEDULED) cancel(t); // re-arming: the old entry goes stale
      const d = deadline(r, clock, nearOnly);
      if (d === Infinity && r.int(2) === 0) continue;
      const k = r.int(2) * 2 ** 44 + ++seq; // sleeps and timeouts share deadlines
      q.push(t, d, k);
      ref.push({ t, d, k });
    } else if (op < 6) {
      const t = timers[r.int(pool)]!;
      if (t.index === TIMER_SCHEDULED) cancel(t);
    } else {
      refSort(ref);
      const live = ref.filter((e) => e.d !== Infinity);
      expect(q.size).toBe(ref.length);
      if (op < 8) {
        // the dispatch fast path: the earliest timer, if no other shares its deadline
        const sole = live.length > 0 && (live.length === 1 || live[1]!.d > live[0]!.d);
        const t = q.popSole();
        if (t === undefined) continue; // it may refuse a sole timer when a stale entry shares its deadline
        expect(sole).toBe(true);
        soles++;
        expect(t).toBe(live[0]!.t);
        expect(q.soleDeadline).toBe(live[0]!.d);
        expect(t.index).toBe(TIMER_IDLE);
        clock = live[0]!.d;
        ref = ref.filter((e) => e.t !== t);
      } else {
        // a poll: every timer due by the next deadline, in order (looking ahead first, as the hub does)
        expect(q.topDeadline()).toBe(ref.length > 0 ? ref[0]!.d : Infinity);
        if (live.length === 0) {
          expect(q.popDue(clock)).toBeUndefined();
          continue;
        }
        clock = Math.max(clock, live[0]!.d);
        const due = live.filter((e) => e.d <= clock);
        for (const e of due) expect(q.popDue(clock)).toBe(e.t);
        expect(q.popDue(clock)).toBeUndefined();
        ref = ref.filter((e) => e.d > clock);
      }
    }
  }
  // drain what is left
  refSort(ref);
  for (const e of ref) {
    if (e.d === Infinity) break;
    expect(q.popDue(e.d)).toBe(e.t);
  }
  return soles;
}

describe('timer queue', () => {
  it('hands out timers in (deadline, key) order, like one heap', () => {
    let soles = 0;
    for (let seed = 1; seed <= 30; seed++) soles += run(seed, 3000, 40);
    expect(soles).toBeGreaterThan(5000); // the fast path was exercised, not just refused
  });

  it('keeps that order when every timer is within the wheel (its fast path for a lone timer in a slot)', () => {
    let soles = 0;
    for (let seed = 1; seed <= 10; seed++) soles += run(seed, 3000, 20, true);
    expect(soles).toBeGreaterThan(3000);
  });

  it('keeps that order with thousands of timers (wheel slots with many entries, compaction)', () => {
    expect(run(101, 40000, 3000)).toBeGreaterThan(1000);
  });

  it('two timers in one slot come out earliest first, and neither is lost', () => {
    const q = new TimerHeap();
    const a = new Timer(noop, 'a');
    const b = new Timer(noop, 'b');
    q.push(a, 5 * SLOT + 100, 1);
    q.push(b, 5 * SLOT + 50, 2); // same slot, earlier deadline, pushed later
    expect(q.popSole()).toBe(b);
    expect(q.soleDeadline).toBe(5 * SLOT + 50);
    expect(q.popSole()).toBe(a);
    expect(q.size).toBe(0);
  });

  it('a timer exactly one span (1,024 slots) ahead waits beyond the wheel, not in the current slot', () => {
    const q = new TimerHeap();
    const a = new Timer(noop, 'a');
    const b = new Timer(noop, 'b');
    q.push(a, 1024 * SLOT, 1);
    expect(q.topDeadline()).toBe(1024 * SLOT); // the queue looked ahead (the clock stays at 0)...
    q.push(b, 3 * SLOT, 2); // ...and a callback then starts an earlier timer
    expect(q.topDeadline()).toBe(3 * SLOT);
    expect(q.popDue(Infinity)).toBe(b);
    expect(q.popDue(Infinity)).toBe(a);
  });

  it('a timer past the wheel limit (about 52 days) still fires in order, and everything after it', () => {
    const q = new TimerHeap();
    const a = new Timer(noop, 'a');
    const b = new Timer(noop, 'b');
    const c = new Timer(noop, 'c');
    const far = 2 ** 53;
    q.push(a, far, 1);
    q.push(b, 5 * MS, 2);
    expect(q.popDue(5 * MS)).toBe(b);
    expect(q.topDeadline()).toBe(far);
    expect(q.popDue(far)).toBe(a);
    q.push(c, far + 2 ** 20, 3); // placed after the jump past the limit
    q.push(b, far + 1, 4);
    expect(q.popDue(Infinity)).toBe(b);
    expect(q.popDue(Infinity)).toBe(c);
    expect(q.topDeadline()).toBe(Infinity);
  });

  it('clear() unschedules every live timer', () => {
    const q = new TimerHeap();
    const ts = [0, 3 * MS, 2e9, Infinity].map((d, i) => {
      const t = new Timer(noop, i);
      q.push(t, d, i + 1);
      return t;
    });
    q.clear();
    expect(ts.map((t) => t.index)).toEqual([TIMER_IDLE, TIMER_IDLE, TIMER_IDLE, TIMER_IDLE]);
    expect(q.size).toBe(0);
    expect(q.topDeadline()).toBe(Infinity);
  });
});
