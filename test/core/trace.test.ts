// The trace's running hash and its ring of recent events, on the Trace itself: what enters the hash
// (every field, both halves of the time, string payloads, the order), what does not (byte payloads,
// when the hash is read), and that the ring gives back exactly what was recorded.
import { describe, it, expect } from 'vitest';
import { Trace, defineKind, internName } from '../../src/core/trace.js';

const K_A = defineKind('test.a', { a: ['x', 'int'], b: ['y', 'int'], s: 'text' });
const K_B = defineKind('test.b', { a: ['what', 'name'], b: ['n', 'int'], s: 'bytes' });

type Ev = [kind: number, tNs: number, g: number, a: number, b: number, s?: string | Uint8Array];

function hashOf(events: Ev[], readEvery = 0): string {
  const tr = new Trace(false);
  events.forEach(([k, t, g, a, b, s], i) => {
    tr.record(k, t, g, a, b, s);
    if (readEvery > 0 && i % readEvery === 0) tr.hash();
  });
  return tr.hash();
}

/** 1,000 events over a few hundred instants: more than three laps of the 256-event ring. */
function sample(): Ev[] {
  const out: Ev[] = [];
  let t = 0;
  for (let i = 0; i < 1000; i++) {
    if (i % 3 === 0) t += 1_000_000 * ((i % 7) + 1);
    out.push(i % 5 === 0 ? [K_B, t, i % 11, internName('test.reason'), i, new Uint8Array([i & 255])] : [K_A, t, (i * 7) % 13, i, i % 9, i % 50 === 1 ? `s${i}` : undefined]);
  }
  return out;
}

describe('trace hash', () => {
  it('does not depend on when it is read (the ring is hashed a lap at a time)', () => {
    const events = sample();
    const once = hashOf(events);
    expect(once).toMatch(/^[0-9a-f]{16}$/);
    for (const every of [1, 7, 255, 256, 257]) expect(hashOf(events, every)).toBe(once);
  });

  it('changes with any field of any event, with the time to the nanosecond, and with the order', () => {
    const events = sample();
    const base = hashOf(events);
    const variants: [string, (e: Ev[]) => void][] = [
      ['kind', (e) => (e[501]![0] = K_B)],
      ['time, 1 ns', (e) => (e[500]![1] += 1)],
      ['time, high half', (e) => (e[500]![1] += 2 ** 32)],
      ['greenlet', (e) => (e[500]![2] = -1)],
      ['a', (e) => (e[500]![3] += 1)],
      ['b', (e) => (e[500]![4] += 1)],
      ['a and b swapped', (e) => ([e[501]![3], e[501]![4]] = [e[501]![4], e[501]![3]])],
      ['string payload', (e) => (e[551]![5] = 's551 ')],
      ['one event fewer', (e) => e.splice(999, 1)],
      ['two events swapped', (e) => ([e[10], e[11]] = [e[11]!, e[10]!])],
    ];
    const seen = new Map<string, string>([[base, 'none']]);
    for (const [what, change] of variants) {
      const e = sample();
      change(e);
      const h = hashOf(e);
      expect(seen.get(h), `${what} gives the hash of ${seen.get(h)}`).toBeUndefined();
      seen.set(h, what);
    }
  });

  it('leaves byte payloads out (they are kept only in the full list)', () => {
    const events = sample();
    const other = sample();
    other[500]![5] = new Uint8Array([1, 2, 3]);
    expect(hashOf(other)).toBe(hashOf(events));
  });
});

describe('trace ring', () => {
  it('gives back the last events exactly, across laps, with large times and payloads', () => {
    const tr = new Trace(false);
    const t0 = 5 * 2 ** 40; // beyond 32 bits of nanoseconds (about 1.6 hours)
    for (let i = 0; i < 600; i++) {
      if (i % 4 === 0) tr.record(K_B, t0 + i, i % 3 === 0 ? -1 : i, internName('test.reason'), i * 1000, new Uint8Array([i & 255, 7]));
      else tr.record(K_A, t0 + i, i, -i, 2 ** 31 - 1, i % 4 === 1 ? `text ${i}` : undefined);
    }
    expect(tr.length).toBe(600);
    const recent = tr.recent(5);
    expect(recent.map((e) => e.seq)).toEqual([595, 596, 597, 598, 599]);
    expect(recent[1]).toEqual({ seq: 596, t: (t0 + 596) / 1e9, kind: 'test.b', g: 596, what: 'test.reason', n: 596000, bytes: '5407' });
    expect(recent[2]).toEqual({ seq: 597, t: (t0 + 597) / 1e9, kind: 'test.a', g: 597, x: -597, y: 2 ** 31 - 1, text: 'text 597' });
    // a slot reused by an event without payload shows none
    expect(recent[3]).toEqual({ seq: 598, t: (t0 + 598) / 1e9, kind: 'test.a', g: 598, x: -598, y: 2 ** 31 - 1 });
    expect(tr.recent(1000)).toHaveLength(256);
    expect(tr.recent(1000)[0]!.seq).toBe(600 - 256);
  });
});
