/**
 * The hub's event log: every spawn, switch, park (with its reason), wake, timer, send, delivery and
 * fault is an event. A running hash over all events is always kept; the full list only when asked
 * (`trace: true`), plus a ring of the last events for failure reports.
 *
 * Events are tuples of integers (kind, time, greenlet, a, b) and an optional string or byte payload, so
 * recording allocates nothing. The hash is pure 32-bit arithmetic over those integers: Node and
 * Chromium agree on it byte for byte. Kinds and names enter the hash by the hash of their *names*, not
 * by registration order, so every copy of the library computes the same hash.
 */

/** One materialised trace event. Fields beyond `t`, `kind` and `g` depend on the kind. */
export interface TraceEvent {
  /** Position in the trace, from 0. */
  seq: number;
  /** Hub time in seconds. */
  t: number;
  kind: string;
  /** Greenlet id, 0 for the hub itself. */
  g: number;
  [field: string]: string | number | boolean | undefined;
}

/** How a kind's `a`/`b` integers are shown: a plain number, an interned name, or a greenlet id. */
export type FieldType = 'int' | 'name' | 'g';

interface KindDef {
  name: string;
  hash: number;
  a?: [string, FieldType];
  b?: [string, FieldType];
  /** Name of the string payload field. */
  s?: string;
}

/** FNV-1a over UTF-16 code units, then fmix32. @internal */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  }
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

// Registries are process-wide (shared by every hub and every copy of the library).
const REG_KEY = Symbol.for('geventjs.trace.registry');
interface Registry {
  kinds: KindDef[];
  kindByName: Map<string, number>;
  names: Map<number, string>;
  /** Kind hashes by code, for the hot path; shared, since a hub of one copy records kinds of another. */
  kindHashes: Int32Array;
}
const regHolder = globalThis as unknown as Record<symbol, Registry | undefined>;
const registry: Registry = (regHolder[REG_KEY] ??= { kinds: [], kindByName: new Map(), names: new Map(), kindHashes: new Int32Array(64) });

function syncKindHashes(): void {
  if (registry.kindHashes.length < registry.kinds.length) registry.kindHashes = new Int32Array(registry.kinds.length * 2);
  const hashes = registry.kindHashes;
  registry.kinds.forEach((k, i) => (hashes[i] = k.hash | 0));
}

/**
 * Declares an event kind and returns its code. Declaring the same name twice returns the same code.
 * @internal
 */
export function defineKind(
  name: string,
  fields: { a?: [string, FieldType]; b?: [string, FieldType]; s?: string } = {},
): number {
  const known = registry.kindByName.get(name);
  if (known !== undefined) {
    syncKindHashes();
    return known;
  }
  const code = registry.kinds.length;
  registry.kinds.push({ name, hash: hashString(name), ...fields });
  registry.kindByName.set(name, code);
  syncKindHashes();
  return code;
}

/**
 * Interns a name (a park reason, a host name) and returns the integer that stands for it in events.
 * @internal
 */
export function internName(name: string): number {
  const h = hashString(name) | 0; // a signed 32-bit value stays a small integer in V8 fields (no boxing)
  const prev = registry.names.get(h);
  if (prev !== undefined && prev !== name) {
    throw new Error(`geventjs trace: names ${JSON.stringify(prev)} and ${JSON.stringify(name)} collide`);
  }
  registry.names.set(h, name);
  return h;
}

/** The name an interned integer stands for. @internal */
export function nameOf(code: number): string {
  return registry.names.get(code) ?? `#${code}`;
}

const RING = 256;
/** A ring slot: 32 bytes, 8 int32 words or 4 float64s. */
const SLOT_BYTES = 32;
const SLOT_WORDS = SLOT_BYTES / 4;
const SLOT_WORDS_T = SLOT_BYTES / 8;
/** Which int32 word of a float64 holds its low bits: the hash must not depend on the platform's byte order. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const T_LO = LITTLE_ENDIAN ? 0 : 1;
const T_HI = LITTLE_ENDIAN ? 1 : 0;

/** Folds word `w` into the first lane of the hash: a multiply and an xor-shift (int32 throughout). */
function fold1(h: number, w: number): number {
  h = Math.imul(h ^ w, 0x9e3779b1);
  return h ^ (h >>> 16);
}
/** The same for the second lane, with its own constants. */
function fold2(h: number, w: number): number {
  h = Math.imul(h ^ w, 0x85ebca77);
  return h ^ (h >>> 15);
}
const NS = 1e9;

/**
 * Called with each trace event as it is recorded.
 * @example
 * hub.trace.subscribe((e) => { if (e.kind === 'switch') console.log(e.t, e.g, e.reason); });
 */
export type TraceListener = (event: TraceEvent) => void;

/**
 * A hub's event log: a running hash of every event (always), the full list (with `trace: true`), a
 * ring of the last 256 events, and listeners.
 * @example
 * const hub = new Hub({ trace: true });
 * await hub.run(main);
 * console.log(hub.trace.hash(), hub.trace.events().length, hub.trace.recent(5));
 */
export class Trace {
  private h1 = 0x9e3779b9 | 0;
  private h2 = 0x7f4a7c15 | 0;
  private count = 0;
  /** Events folded into h1/h2 so far; the rest (at most a ring's worth) wait in the ring. */
  private hashed = 0;
  /** Someone looks at individual events: the full list is kept or a listener subscribed. */
  private watched: boolean;
  /** Events in the list (hashed ones and notes): the `seq` of the next one. */
  private listed = 0;
  private readonly full: boolean;
  // the full list, column-wise
  private readonly fk: number[] = [];
  private readonly ft: number[] = [];
  private readonly fg: number[] = [];
  private readonly fa: number[] = [];
  private readonly fb: number[] = [];
  private readonly fs: (string | Uint8Array | undefined)[] = [];
  // The ring of recent events: 32 bytes a slot, read through two views of one buffer — the time as a
  // float64 (word pair 0–1), then kind, g, a and b as int32 (words 2–5) — so the hash reads the time's
  // 64 bits as two integers, with no division.
  private readonly ringBuffer = new ArrayBuffer(RING * SLOT_BYTES);
  private readonly ringT = new Float64Array(this.ringBuffer);
  private readonly ringW = new Int32Array(this.ringBuffer);
  private readonly rs: (string | Uint8Array | undefined)[] = new Array<undefined>(RING);
  private listeners: TraceListener[] | null = null;

  constructor(full: boolean) {
    this.full = full;
    this.watched = full;
  }

  /** Whether the full event list is kept. */
  get keepsAll(): boolean {
    return this.full;
  }

  /** Whether anyone looks at individual events (the full list is kept, or a listener subscribed). */
  get observed(): boolean {
    return this.watched;
  }

  /** Number of events recorded. */
  get length(): number {
    return this.count;
  }

  /**
   * Records one event at hub time `tNs` (integer nanoseconds). `g`, `a` and `b` are 32-bit integers
   * (or interned names; the ring keeps them as int32); `s` is a payload kept only in the full list, and
   * hashed only when it is a string.
   */
  record(kind: number, tNs: number, g: number, a: number, b: number, s?: string | Uint8Array): void {
    // The event goes into the ring; the ring is hashed a whole lap at a time (flushHash), in a tight loop
    // the JIT keeps on locals, rather than word by word on every switch.
    const c = this.count;
    if (c - this.hashed === RING) this.flushHash();
    const i = c & (RING - 1);
    this.ringT[i * SLOT_WORDS_T] = tNs;
    const w = this.ringW;
    const j = i * SLOT_WORDS;
    w[j + 2] = kind;
    w[j + 3] = g;
    w[j + 4] = a;
    w[j + 5] = b;
    if (s !== undefined || this.rs[i] !== undefined) this.rs[i] = s;
    this.count = c + 1;
    if (this.watched) this.note(kind, tNs, g, a, b, s);
    else this.listed++;
  }

  /**
   * Folds the events recorded since the last flush into the running hash, oldest first. Each event is
   * one 32-bit word — its kind, greenlet, a, b and time (the two 32-bit words of its float64) mixed
   * together, and a string payload's hash when it has one — and events alternate between two 32-bit
   * lanes (a multiply and an xor-shift each), so the two dependency chains run side by side. Values
   * stay int32 (| 0) so nothing is boxed.
   */
  private flushHash(): void {
    let h1 = this.h1;
    let h2 = this.h2;
    const w = this.ringW;
    const rs = this.rs;
    const kindHashes = registry.kindHashes;
    const end = this.count;
    for (let c = this.hashed; c < end; c++) {
      const i = c & (RING - 1);
      const j = i * SLOT_WORDS;
      let x =
        (kindHashes[w[j + 2]!]! + Math.imul(w[j + 3]!, 0x9e3779b1)) ^
        Math.imul(w[j + 4]! + Math.imul(w[j + 5]!, 0xc2b2ae3d), 0x27d4eb2f) ^
        Math.imul(w[j + T_LO]! ^ Math.imul(w[j + T_HI]!, 0x165667b1), 0x7feb352d);
      const s = rs[i];
      if (typeof s === 'string') x ^= Math.imul(hashString(s), 0x846ca68b);
      if ((c & 1) === 0) h1 = fold1(h1, x);
      else h2 = fold2(h2, x);
    }
    this.h1 = h1;
    this.h2 = h2;
    this.hashed = end;
  }

  /**
   * Adds an event to the full list and the listeners only — not to the hash or the ring. For events
   * whose content a hashed event repeats (a park's reason travels in the switch that ends it).
   */
  note(kind: number, tNs: number, g: number, a: number, b: number, s?: string | Uint8Array): void {
    if (this.full) {
      this.fk.push(kind);
      this.ft.push(tNs);
      this.fg.push(g);
      this.fa.push(a);
      this.fb.push(b);
      this.fs.push(s);
    }
    if (this.listeners !== null) {
      const ev = materialise(this.listed++, kind, tNs, g, a, b, s);
      for (const l of this.listeners) l(ev);
    } else {
      this.listed++;
    }
  }

  /** The running hash over every event so far, as 16 hex digits. */
  hash(): string {
    if (this.hashed !== this.count) this.flushHash();
    let a = this.h1 ^ this.count;
    let b = this.h2 ^ Math.floor(this.count / 4294967296);
    // each half of the result depends on both lanes
    a = (a + Math.imul(b, 0x27d4eb2f)) | 0;
    a = Math.imul(a ^ (a >>> 16), 0x85ebca6b);
    a = Math.imul(a ^ (a >>> 13), 0xc2b2ae35);
    a ^= a >>> 16;
    b ^= a;
    b = Math.imul(b ^ (b >>> 16), 0x85ebca6b);
    b = Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
    b ^= b >>> 16;
    return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
  }

  /** Every event, when the full list is kept; throws otherwise. */
  events(): TraceEvent[] {
    if (!this.full) throw new Error('the full trace is not kept: create the hub with { trace: true }');
    const out: TraceEvent[] = [];
    for (let i = 0; i < this.fk.length; i++) {
      out.push(materialise(i, this.fk[i]!, this.ft[i]!, this.fg[i]!, this.fa[i]!, this.fb[i]!, this.fs[i]));
    }
    return out;
  }

  /** The last `n` (at most 256) events, oldest first. */
  recent(n = RING): TraceEvent[] {
    const total = this.count;
    const k = Math.min(n, RING, total);
    const out: TraceEvent[] = [];
    for (let j = total - k; j < total; j++) {
      const i = j & (RING - 1);
      const w = this.ringW;
      const k = i * SLOT_WORDS;
      out.push(materialise(j, w[k + 2]!, this.ringT[i * SLOT_WORDS_T]!, w[k + 3]!, w[k + 4]!, w[k + 5]!, this.rs[i]));
    }
    return out;
  }

  /** Calls `listener` with every event recorded from now on; returns the function that stops it. */
  subscribe(listener: TraceListener): () => void {
    (this.listeners ??= []).push(listener);
    this.watched = true;
    return () => {
      if (this.listeners === null) return;
      this.listeners = this.listeners.filter((l) => l !== listener);
      if (this.listeners.length === 0) {
        this.listeners = null;
        this.watched = this.full;
      }
    };
  }
}

function showField(type: FieldType, v: number): string | number {
  return type === 'name' ? nameOf(v) : v;
}

function materialise(
  seq: number,
  kind: number,
  tNs: number,
  g: number,
  a: number,
  b: number,
  s: string | Uint8Array | undefined,
): TraceEvent {
  const def = registry.kinds[kind]!;
  const ev: TraceEvent = { seq, t: tNs / NS, kind: def.name, g };
  if (def.a) ev[def.a[0]] = showField(def.a[1], a);
  if (def.b) ev[def.b[0]] = showField(def.b[1], b);
  if (def.s && s !== undefined) ev[def.s] = typeof s === 'string' ? s : bytesToHex(s);
  return ev;
}

function bytesToHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += bytes[i]!.toString(16).padStart(2, '0');
  return out;
}

/**
 * One line of canonical JSON for an event (fixed key order), as written by `--trace`.
 * @example
 * writeFileSync('trace.jsonl', hub.traceEvents().map(formatEvent).join('\n'));
 */
export function formatEvent(ev: TraceEvent): string {
  return JSON.stringify(ev);
}
