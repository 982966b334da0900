/**
 * gevent.queue: `Queue`, `LifoQueue`, `PriorityQueue`, `JoinableQueue`, `Channel`, and the `Empty` /
 * `Full` errors.
 *
 * As in gevent, `put` into a queue with room never switches: it stores the item and, if greenlets wait
 * in `get`, queues an "unlock" callback on the hub. That callback hands items to waiting getters (and
 * lets waiting putters in) one greenlet at a time, FIFO, each running until it blocks before the next
 * is woken — the same order as gevent's `Queue._unlock` loop.
 */
import { getHub, rejection, type Hub } from '../core/hub.js';
import type { Greenlet } from '../core/greenlet.js';
import type { ListNode } from '../core/list.js';
import { brand } from '../core/errors.js';
import { internName } from '../core/trace.js';
import { LinkedList } from '../core/list.js';
import { Event } from './event.js';
import { timeoutNs, parkOnNode, claimFirst, deliver, deliverCallback, type ItemWaiter } from './waiting.js';

const R_GET = internName('Queue.get');
const R_PUT = internName('Queue.put');
const R_PEEK = internName('Queue.peek');
const R_JOIN = internName('JoinableQueue.join');
const R_CHANNEL_GET = internName('Channel.get');
const R_CHANNEL_PUT = internName('Channel.put');
/** A drained FIFO queue keeps its array up to this many slots. */
const MAX_IDLE_SLOTS = 64;
/** What a put that did not block resolves to (a settled promise can be shared). */
const RESOLVED: Promise<void> = Promise.resolve();

/** A parked put was woken (true: its item went in, or to a getter) or timed out (false), in the hub. */
function putOnWake(_g: Greenlet<unknown>, woken: unknown): unknown {
  return woken === false ? rejection(new Full()) : undefined;
}

/** A parked `Channel.get` was woken with an item handed to its waiter, or timed out, in the hub. */
function channelGetOnWake(g: Greenlet<unknown>, woken: unknown): unknown {
  if (woken === false) return rejection(new Empty());
  const w = (g.parkNode as unknown as ListNode<ItemWaiter<unknown>>).value; // still set: unpark comes after
  const item = w.item;
  w.item = undefined;
  return item;
}

/**
 * Put this into a queue or channel to end an async iteration over it (gevent's `StopIteration`
 * sentinel). A plain `get()` returns it like any other item.
 * @example
 * const q = new Queue<number | StopIteration>();
 * q.putNowait(1); q.putNowait(2); q.putNowait(StopIteration);
 * for await (const x of q) console.log(x); // 1, 2
 */
export const StopIteration: unique symbol = Symbol.for('geventjs.StopIteration');
/**
 * The type of the `StopIteration` sentinel.
 * @example
 * const q = new Queue<string | StopIteration>();
 */
export type StopIteration = typeof StopIteration;

/**
 * Raised by `get` / `getNowait` / `peek` when no item is available in time (Python's `queue.Empty`).
 * @example
 * try { q.getNowait(); } catch (e) { if (e instanceof Empty) console.log('nothing yet'); }
 */
export class Empty extends Error {
  constructor(message = '') {
    super(message);
    this.name = 'Empty';
  }
}
brand(Empty, 'Empty');

/**
 * Raised by `put` / `putNowait` when the queue stays full (Python's `queue.Full`).
 * @example
 * const q = new Queue(1); q.putNowait('a');
 * try { q.putNowait('b'); } catch (e) { if (e instanceof Full) console.log('full'); }
 */
export class Full extends Error {
  constructor(message = '') {
    super(message);
    this.name = 'Full';
  }
}
brand(Full, 'Full');

/**
 * Options of `get` and `peek`.
 * @example
 * await q.get({ timeout: 0.5 }); // Empty if nothing comes within half a second
 * await q.get({ block: false }); // Empty at once if there is nothing (like getNowait, but async)
 */
export interface QueueGetOptions {
  /** Wait for an item (default true); with false, raise `Empty` at once if there is none. */
  block?: boolean;
  /**
   * Wait at most this many seconds, then raise `Empty`. 0 or negative is a zero-second wait (gevent
   * starts a `Timeout` of that length): `Empty` at the same virtual time unless an item comes first.
   */
  timeout?: number | null;
}

/**
 * Options of `put`.
 * @example
 * await q.put(item, { timeout: 1 }); // Full if the queue stays full for a second
 */
export interface QueuePutOptions {
  /** Wait for room (default true); with false, raise `Full` at once if there is none. */
  block?: boolean;
  /**
   * Wait at most this many seconds, then raise `Full`. 0 or negative is a zero-second wait (as in
   * gevent): `Full` at the same virtual time unless room comes first. Ignored when there is room.
   */
  timeout?: number | null;
}

function checkMaxsize(maxsize: number | null | undefined): number {
  if (maxsize === null || maxsize === undefined) return -1;
  if (typeof maxsize !== 'number' || Number.isNaN(maxsize)) {
    throw new TypeError(`maxsize must be a number or null, got ${typeof maxsize === 'number' ? 'NaN' : typeof maxsize}`);
  }
  return maxsize <= 0 ? -1 : maxsize;
}

function unlockQueue(q: Queue<unknown>): void {
  q.unlockStep();
}

function unlockChannel(c: Channel<unknown>): void {
  c.unlockStep();
}

/**
 * A FIFO queue for greenlets. `maxsize` null, undefined, 0 or negative means unbounded — gevent ≥ 1.0
 * (`Queue(0)` is unbounded there too, with a DeprecationWarning; use `Channel` for a rendezvous).
 *
 * Blocking calls (`put` on a full queue, `get` / `peek` on an empty one, with optional timeouts) return
 * Promises; `putNowait`, `getNowait`, `peekNowait`, `qsize`, `empty`, `full` are synchronous. Waiting
 * getters are served in the order they arrived, and so are waiting putters. Iterate with
 * `for await`; the iteration ends when it gets the `StopIteration` sentinel.
 *
 * Differences from gevent: `putNowait` / `getNowait` called from a hub callback do not switch into
 * waiting greenlets to make room (gevent does that only when called in the hub): they just raise
 * `Full` / `Empty`.
 * @example
 * const q = new Queue<string>(2);
 * spawn(async () => { for (const x of ['a', 'b', 'c']) await q.put(x); }); // waits for room for 'c'
 * await q.get();                          // 'a'
 * await q.get({ timeout: 1 });            // 'b'
 * await q.get();                          // 'c': the producer got in when main blocked
 * q.qsize();                              // 0
 * await q.get({ timeout: 0.5 });          // throws Empty at virtual time 0.5
 */
export class Queue<T = unknown> implements AsyncIterable<Exclude<T, StopIteration>> {
  /** The hub the queue belongs to (the current hub when it was created). */
  readonly hub: Hub;
  /** The items, oldest at `head` (FIFO); subclasses order it their way. */
  protected queue: T[];
  /** Index of the oldest item in `queue` (FIFO only; 0 for the other kinds). */
  protected head = 0;
  /**
   * One past the newest item (FIFO only): slots from here on are free for reuse. A drained queue keeps
   * its array and resets the indices, since emptying an array (`length = 0`) frees its backing store
   * and the next put would allocate a new one.
   */
  protected tail: number;
  /** Greenlets blocked in `get` / `peek`, FIFO. @internal */
  readonly getters = new LinkedList<ItemWaiter<T>>();
  /** Greenlets blocked in `put` with their items, FIFO. @internal */
  readonly putters = new LinkedList<ItemWaiter<T>>();
  private maxsizeValue: number;
  private unlockPending = false;
  private unlockPhase = 0;
  private unlockRepeat = false;

  /**
   * @param maxsize the most items it holds; null/undefined/0/negative: unbounded
   * @param items initial items
   */
  constructor(maxsize?: number | null, items?: Iterable<T>) {
    this.maxsizeValue = checkMaxsize(maxsize);
    this.hub = getHub();
    this.queue = items === undefined ? [] : [...items];
    this.tail = this.queue.length;
  }

  /** The bound, or null if unbounded. Setting it to a larger bound lets waiting putters in. */
  get maxsize(): number | null {
    return this.maxsizeValue > 0 ? this.maxsizeValue : null;
  }
  set maxsize(value: number | null) {
    this.maxsizeValue = checkMaxsize(value);
    if (this.putters.size > 0 && this.hasRoom()) this.scheduleUnlock();
  }

  /** Number of items in the queue. */
  qsize(): number {
    return this.tail - this.head;
  }

  /** Same as `qsize()` (Python's `len(q)`). */
  get length(): number {
    return this.qsize();
  }

  /** True if the queue holds no item. */
  empty(): boolean {
    return this.qsize() === 0;
  }

  /** True if the queue is bounded and holds `maxsize` items. An unbounded queue is never full. */
  full(): boolean {
    return this.maxsizeValue > 0 && this.qsize() >= this.maxsizeValue;
  }

  // ------------------------------------------------------------------ storage (overridden by kinds)

  /** Stores an item. */
  protected putItem(item: T): void {
    const q = this.queue;
    if (this.tail < q.length) q[this.tail] = item;
    else q.push(item);
    this.tail++;
  }

  /** Removes and returns the next item; the queue is not empty. */
  protected takeItem(): T {
    const q = this.queue;
    const head = this.head;
    const item = q[head]!;
    q[head] = undefined as T;
    this.head = head + 1;
    if (this.head === this.tail) {
      this.head = 0;
      this.tail = 0;
      if (q.length > MAX_IDLE_SLOTS) this.queue = []; // a burst left a long array behind: let it go
    } else if (this.head >= 1024 && this.head * 2 >= this.tail) {
      // the taken half is dead weight: move the items to the front
      const n = this.tail - this.head;
      q.copyWithin(0, this.head, this.tail);
      q.fill(undefined as T, n, this.tail);
      this.head = 0;
      this.tail = n;
    }
    return item;
  }

  /** Returns the next item without removing it; the queue is not empty. */
  protected peekItem(): T {
    return this.queue[this.head]!;
  }

  private hasRoom(): boolean {
    return this.maxsizeValue === -1 || this.qsize() < this.maxsizeValue;
  }

  // ------------------------------------------------------------------ put

  /**
   * Puts `item` into the queue. With room, it is stored at once and the call never switches. On a
   * full queue it waits for room (FIFO with other putters) — at most `timeout` seconds, then raises
   * `Full`; with `block: false` it raises `Full` at once.
   */
  put(item: T, options: QueuePutOptions = {}): Promise<void> {
    // Not an async function (nor are get and peek): a put with room returns a settled promise and
    // costs no frame, and a blocking one waits on the hub's own promise, its outcome decided in the hub
    // when it wakes (putOnWake, Queue.takeOnWake) rather than in an async frame per waiting greenlet.
    try {
      const block = options.block !== false;
      if (this.hasRoom()) {
        this.putItem(item);
        if (this.getters.size > 0) this.scheduleUnlock();
        return RESOLVED;
      }
      if (!block) throw new Full();
      const ns = timeoutNs(options.timeout);
      const hub = this.hub;
      const g = hub.currentForPark('Queue.put()');
      const node = this.putters.push({ g, item });
      if (this.getters.size > 0) this.scheduleUnlock();
      return parkOnNode(hub, g, node, ns, R_PUT, this, putOnWake) as Promise<void>;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Puts `item` if there is room, else raises `Full`. Never blocks. */
  putNowait(item: T): void {
    if (!this.hasRoom()) throw new Full();
    this.putItem(item);
    if (this.getters.size > 0) this.scheduleUnlock();
  }

  // ------------------------------------------------------------------ get / peek

  /**
   * Removes and returns the next item, waiting for one if the queue is empty (FIFO with other
   * getters) — at most `timeout` seconds, then raises `Empty`; with `block: false` it raises `Empty`
   * at once.
   */
  get(options: QueueGetOptions = {}): Promise<T> {
    if (this.qsize() > 0) {
      if (this.putters.size > 0) this.scheduleUnlock();
      return Promise.resolve(this.takeItem());
    }
    return this.waitForItem(true, options);
  }

  /** Removes and returns the next item if there is one, else raises `Empty`. Never blocks. */
  getNowait(): T {
    if (this.qsize() === 0) throw new Empty();
    if (this.putters.size > 0) this.scheduleUnlock();
    return this.takeItem();
  }

  /** Like `get`, but leaves the item in the queue. */
  peek(options: QueueGetOptions = {}): Promise<T> {
    if (this.qsize() > 0) return Promise.resolve(this.peekItem());
    return this.waitForItem(false, options);
  }

  /** Returns the next item without removing it, else raises `Empty`. Never blocks. */
  peekNowait(): T {
    if (this.qsize() === 0) throw new Empty();
    return this.peekItem();
  }

  private waitForItem(take: boolean, options: QueueGetOptions): Promise<T> {
    try {
      if (options.block === false) throw new Empty();
      const ns = timeoutNs(options.timeout);
      const hub = this.hub;
      const g = hub.currentForPark(take ? 'Queue.get()' : 'Queue.peek()');
      const node = this.getters.push({ g, item: undefined });
      if (this.putters.size > 0) this.scheduleUnlock();
      return parkOnNode(hub, g, node, ns, take ? R_GET : R_PEEK, this, take ? Queue.takeOnWake : Queue.peekOnWake) as Promise<T>;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * A parked getter was woken (true: there is an item for it) or timed out (false), in the hub: what
   * its `get` resolves to. The greenlet runs next, before anything else could take the item.
   */
  private static takeOnWake(this: void, g: Greenlet<unknown>, woken: unknown): unknown {
    return woken === false ? rejection(new Empty()) : (g.parkTarget as Queue<unknown>).takeItem();
  }

  /** The same for a parked `peek`: the item stays in the queue. */
  private static peekOnWake(this: void, g: Greenlet<unknown>, woken: unknown): unknown {
    return woken === false ? rejection(new Empty()) : (g.parkTarget as Queue<unknown>).peekItem();
  }

  // ------------------------------------------------------------------ unlock

  private scheduleUnlock(): void {
    if (this.unlockPending) return;
    this.unlockPending = true;
    this.unlockPhase = 0;
    this.hub.schedule(unlockQueue, this);
  }

  /**
   * One step of gevent's `_unlock` loop: each round lets the first waiting putter in (if there is
   * room), then wakes the first waiting getter (if there is an item). A step wakes at most one
   * greenlet and queues the next step at the head of the callback queue, so the loop resumes as
   * soon as that greenlet blocks, before anything else.
   * @internal
   */
  unlockStep(): void {
    const hub = this.hub;
    for (;;) {
      if (this.unlockPhase === 0) {
        this.unlockPhase = 1;
        this.unlockRepeat = false;
        if (this.putters.size > 0 && this.hasRoom()) {
          this.unlockRepeat = true;
          const w = this.putters.shift()!.value;
          hub.scheduleFront(unlockQueue, this);
          try {
            this.putItem(w.item as T);
          } catch (e) {
            hub.throwInto(w.g, e);
            return;
          }
          w.item = undefined;
          hub.wakeWaiter(w.g, true);
          return;
        }
      }
      this.unlockPhase = 0;
      if (this.getters.size > 0 && this.qsize() > 0) {
        const w = this.getters.shift()!.value;
        this.unlockRepeat = true;
        hub.scheduleFront(unlockQueue, this);
        hub.wakeWaiter(w.g, true);
        return;
      }
      if (!this.unlockRepeat) {
        this.unlockPending = false;
        return;
      }
    }
  }

  // ------------------------------------------------------------------ iteration, reports

  /** `for await (const item of q)`: gets items until it gets `StopIteration`. */
  [Symbol.asyncIterator](): AsyncIterator<Exclude<T, StopIteration>> {
    return {
      next: async (): Promise<IteratorResult<Exclude<T, StopIteration>>> => {
        const item = await this.get();
        if (item === StopIteration) return { done: true, value: undefined };
        return { done: false, value: item as Exclude<T, StopIteration> };
      },
    };
  }

  /** The class name shown in reports. */
  protected get kind(): string {
    return 'Queue';
  }

  /** How the queue shows in LoopExit reports. */
  describe(): string {
    const parts = [this.kind];
    if (this.maxsizeValue > 0) parts.push(`maxsize=${this.maxsizeValue}`);
    parts.push(`qsize=${this.qsize()}`);
    if (this.getters.size > 0) parts.push(`getters[${this.getters.size}]`);
    if (this.putters.size > 0) parts.push(`putters[${this.putters.size}]`);
    return parts.join(' ');
  }

  toString(): string {
    return `<${this.describe()}>`;
  }
}
brand(Queue, 'Queue');

/**
 * A queue with `taskDone()` and `join()`: `join` waits until every item put has been marked done.
 * @example
 * const q = new JoinableQueue<number>();
 * spawn(async () => { for (;;) { const n = await q.get(); await sleep(n); q.taskDone(); } });
 * q.putNowait(1); q.putNowait(2);
 * await q.join(); // true at virtual time 3
 */
export class JoinableQueue<T = unknown> extends Queue<T> {
  /** Items put and not yet marked done with `taskDone()`. */
  unfinishedTasks: number;
  private readonly cond: Event;

  /**
   * @param maxsize as for `Queue`
   * @param items initial items (each counts as an unfinished task unless `unfinishedTasks` is given)
   * @param unfinishedTasks initial count of unfinished tasks
   */
  constructor(maxsize?: number | null, items?: Iterable<T>, unfinishedTasks?: number) {
    super(maxsize, items);
    this.cond = new Event(this.hub);
    this.unfinishedTasks = unfinishedTasks !== undefined && unfinishedTasks > 0 ? unfinishedTasks : this.qsize();
    if (this.unfinishedTasks === 0) this.cond.set();
  }

  protected override putItem(item: T): void {
    super.putItem(item);
    this.didPutTask();
  }

  /** Counts one more unfinished task. */
  protected didPutTask(): void {
    this.unfinishedTasks++;
    this.cond.clear();
  }

  /**
   * Marks one task done; when none is left, `join()` callers wake. One call too many raises
   * `RangeError('task_done() called too many times')` (gevent's ValueError).
   */
  taskDone(): void {
    if (this.unfinishedTasks <= 0) throw new RangeError('task_done() called too many times');
    this.unfinishedTasks--;
    if (this.unfinishedTasks === 0) this.cond.set();
  }

  /**
   * Waits until every item put has been marked done; resolves true, or false if `timeout` seconds
   * passed first.
   */
  join(timeout?: number | null): Promise<boolean> {
    return this.cond.waitWithReason(timeout, R_JOIN, 'JoinableQueue.join()');
  }

  protected override get kind(): string {
    return 'JoinableQueue';
  }

  override describe(): string {
    return this.unfinishedTasks > 0 ? `${super.describe()} tasks=${this.unfinishedTasks}` : super.describe();
  }
}
brand(JoinableQueue, 'JoinableQueue');

/**
 * A queue that returns the most recently added item first. Like gevent ≥ 24.10 it is joinable.
 * @example
 * const q = new LifoQueue<number>();
 * q.putNowait(1); q.putNowait(2);
 * q.getNowait(); // 2
 */
export class LifoQueue<T = unknown> extends JoinableQueue<T> {
  override qsize(): number {
    return this.queue.length;
  }

  protected override putItem(item: T): void {
    this.queue.push(item);
    this.didPutTask();
  }

  protected override takeItem(): T {
    return this.queue.pop()!;
  }

  protected override peekItem(): T {
    return this.queue[this.queue.length - 1]!;
  }

  protected override get kind(): string {
    return 'LifoQueue';
  }
}
brand(LifoQueue, 'LifoQueue');

/**
 * Orders two items of a `PriorityQueue`: negative if `a` comes first.
 * @example
 * const byDeadline: Compare<{ at: number }> = (a, b) => a.at - b.at;
 */
export type Compare<T> = (a: T, b: T) => number;

/** The type of `x` as Python's TypeError names it (`str`, `int`, `float`, `tuple`…); JS's own name where Python has none. */
function typeName(x: unknown): string {
  if (x === null) return 'NoneType';
  if (Array.isArray(x)) return 'tuple';
  switch (typeof x) {
    case 'object':
      return (x as object).constructor?.name ?? 'object';
    case 'string':
      return 'str';
    case 'number':
      return Number.isInteger(x) ? 'int' : 'float';
    case 'bigint':
      return 'int';
    case 'boolean':
      return 'bool';
    default:
      return typeof x;
  }
}

/**
 * The default order of `PriorityQueue`, Python's `<`: numbers and bigints by value, strings by code
 * units, booleans as 0/1, Dates by time, and arrays (Python's tuples) element by element, so
 * `[priority, item]` pairs work as in gevent. Identical values are equal; anything else raises
 * `TypeError("'<' not supported between instances of …")`.
 * @example
 * [[2, 'b'], [1, 'z'], [1, 'a']].sort(pythonCompare); // [[1, 'a'], [1, 'z'], [2, 'b']]
 */
export function pythonCompare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  const ta = typeof a;
  const tb = typeof b;
  const numA = ta === 'number' || ta === 'bigint' || ta === 'boolean';
  const numB = tb === 'number' || tb === 'bigint' || tb === 'boolean';
  if (numA && numB) {
    const x = ta === 'boolean' ? Number(a) : (a as number);
    const y = tb === 'boolean' ? Number(b) : (b as number);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (ta === 'string' && tb === 'string') return (a as string) < (b as string) ? -1 : 1;
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const c = pythonCompare(a[i], b[i]);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }
  if (a instanceof Date && b instanceof Date) {
    const x = a.getTime();
    const y = b.getTime();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  throw new TypeError(`'<' not supported between instances of '${typeName(a)}' and '${typeName(b)}'`);
}

/**
 * A queue that returns the lowest item first (a binary heap with Python's `heapq` algorithm, so equal
 * priorities come out in the same order as in gevent). Items are compared with `compare`, by default
 * `pythonCompare`: numbers, strings, and `[priority, data]` tuples work as in Python.
 * @example
 * const q = new PriorityQueue<[number, string]>();
 * q.putNowait([3, 'low']); q.putNowait([1, 'high']);
 * q.getNowait(); // [1, 'high']
 * const byDeadline = new PriorityQueue<{ at: number }>(null, [], (a, b) => a.at - b.at);
 */
export class PriorityQueue<T = unknown> extends Queue<T> {
  private readonly compare: Compare<T>;

  /**
   * @param maxsize as for `Queue`
   * @param items initial items (heapified)
   * @param compare the order (default `pythonCompare`)
   */
  constructor(maxsize?: number | null, items?: Iterable<T>, compare: Compare<T> = pythonCompare) {
    super(maxsize, items);
    if (typeof compare !== 'function') throw new TypeError(`compare must be a function, got ${typeof compare}`);
    this.compare = compare;
    const q = this.queue;
    for (let i = (q.length >> 1) - 1; i >= 0; i--) this.siftUp(i);
  }

  override qsize(): number {
    return this.queue.length;
  }

  protected override putItem(item: T): void {
    const q = this.queue;
    q.push(item);
    this.siftDown(0, q.length - 1);
  }

  protected override takeItem(): T {
    const q = this.queue;
    const last = q.pop()!;
    if (q.length === 0) return last;
    const top = q[0]!;
    q[0] = last;
    this.siftUp(0);
    return top;
  }

  protected override peekItem(): T {
    return this.queue[0]!;
  }

  // heapq._siftdown: move the item at `pos` up towards `start`
  private siftDown(start: number, pos: number): void {
    const q = this.queue;
    const item = q[pos]!;
    while (pos > start) {
      const parentPos = (pos - 1) >> 1;
      const parent = q[parentPos]!;
      if (this.compare(item, parent) < 0) {
        q[pos] = parent;
        pos = parentPos;
        continue;
      }
      break;
    }
    q[pos] = item;
  }

  // heapq._siftup: move the smaller child up until a leaf, then sift the item back down
  private siftUp(pos: number): void {
    const q = this.queue;
    const end = q.length;
    const start = pos;
    const item = q[pos]!;
    let child = 2 * pos + 1;
    while (child < end) {
      const right = child + 1;
      if (right < end && !(this.compare(q[child]!, q[right]!) < 0)) child = right;
      q[pos] = q[child]!;
      pos = child;
      child = 2 * pos + 1;
    }
    q[pos] = item;
    this.siftDown(start, pos);
  }

  protected override get kind(): string {
    return 'PriorityQueue';
  }
}
brand(PriorityQueue, 'PriorityQueue');

/**
 * A rendezvous: `put` blocks until a `get` takes the item, and `get` until a `put` brings one
 * (gevent's `Channel`; it holds no item, so `qsize()` is 0 and it is always both empty and full).
 *
 * `put` / `get` with `block: false` wait with a zero timeout, as in gevent: a partner that is already
 * waiting (or arrives before time moves on) completes the hand-off. `putNowait` / `getNowait` are the
 * synchronous forms gevent runs in the hub: they hand off to a partner already waiting — who wakes
 * through the hub's callback queue — or raise `Full` / `Empty`.
 * @example
 * const ch = new Channel<string>();
 * spawn(async () => { console.log(await ch.get()); });
 * await ch.put('hello'); // returns once the getter has taken it
 */
export class Channel<T = unknown> implements AsyncIterable<Exclude<T, StopIteration>> {
  /** The hub the channel belongs to (the current hub when it was created). */
  readonly hub: Hub;
  /** @internal */ readonly getters = new LinkedList<ItemWaiter<T>>();
  /** @internal */ readonly putters = new LinkedList<ItemWaiter<T>>();
  private unlockPending = false;
  private pendingPutter: ReturnType<LinkedList<ItemWaiter<T>>['shift']> = null;

  /** @param maxsize must be 1 (accepted for gevent compatibility) */
  constructor(maxsize = 1) {
    if (maxsize !== 1) throw new RangeError('Channels have a maxsize of 1');
    this.hub = getHub();
  }

  /** Waiting putters minus waiting getters. */
  get balance(): number {
    return this.putters.size - this.getters.size;
  }

  /** Always 0: a channel holds no item. */
  qsize(): number {
    return 0;
  }

  /** Always true. */
  empty(): boolean {
    return true;
  }

  /** Always true. */
  full(): boolean {
    return true;
  }

  /**
   * Hands `item` to a getter, waiting until one takes it — at most `timeout` seconds (0 with
   * `block: false`), then raises `Full`.
   */
  put(item: T, options: QueuePutOptions = {}): Promise<void> {
    try {
      const ns = options.block === false ? 0 : timeoutNs(options.timeout);
      const hub = this.hub;
      const g = hub.currentForPark('Channel.put()');
      const node = this.putters.push({ g, item });
      if (this.getters.size > 0) this.scheduleUnlock();
      return parkOnNode(hub, g, node, ns, R_CHANNEL_PUT, this, putOnWake) as Promise<void>;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Hands `item` to the first waiting getter, or raises `Full` if none waits. Never blocks. */
  putNowait(item: T): void {
    const node = claimFirst(this.hub, this.getters);
    if (node === null) throw new Full();
    node.value.item = item;
    this.hub.schedule(deliverCallback, node);
  }

  /**
   * Takes an item from a putter, waiting until one comes — at most `timeout` seconds (0 with
   * `block: false`), then raises `Empty`.
   */
  get(options: QueueGetOptions = {}): Promise<T> {
    try {
      const ns = options.block === false ? 0 : timeoutNs(options.timeout);
      const hub = this.hub;
      const g = hub.currentForPark('Channel.get()');
      const node = this.getters.push({ g, item: undefined });
      if (this.putters.size > 0) this.scheduleUnlock();
      return parkOnNode(hub, g, node, ns, R_CHANNEL_GET, this, channelGetOnWake) as Promise<T>;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Takes the item of the first waiting putter (which wakes), or raises `Empty` if none waits. */
  getNowait(): T {
    const node = claimFirst(this.hub, this.putters);
    if (node === null) throw new Empty();
    const item = node.value.item as T;
    node.value.item = undefined;
    this.hub.schedule(deliverCallback, node);
    return item;
  }

  private scheduleUnlock(): void {
    if (this.unlockPending) return;
    this.unlockPending = true;
    this.hub.schedule(unlockChannel, this);
  }

  /**
   * One step of gevent's `Channel._unlock`: pair the first getter with the first putter, wake the
   * getter with the item, then (next step) the putter. @internal
   */
  unlockStep(): void {
    const hub = this.hub;
    const pending = this.pendingPutter;
    if (pending !== null) {
      this.pendingPutter = null;
      hub.scheduleFront(unlockChannel, this);
      deliver(pending);
      return;
    }
    if (this.putters.size > 0 && this.getters.size > 0) {
      const getter = this.getters.shift()!.value;
      const putter = claimFirst(hub, this.putters)!;
      getter.item = putter.value.item;
      putter.value.item = undefined;
      this.pendingPutter = putter;
      hub.scheduleFront(unlockChannel, this);
      hub.wakeWaiter(getter.g, true);
      return;
    }
    this.unlockPending = false;
  }

  /** `for await (const item of ch)`: gets items until it gets `StopIteration`. */
  [Symbol.asyncIterator](): AsyncIterator<Exclude<T, StopIteration>> {
    return {
      next: async (): Promise<IteratorResult<Exclude<T, StopIteration>>> => {
        const item = await this.get();
        if (item === StopIteration) return { done: true, value: undefined };
        return { done: false, value: item as Exclude<T, StopIteration> };
      },
    };
  }

  /** How the channel shows in LoopExit reports. */
  describe(): string {
    const parts = ['Channel'];
    if (this.getters.size > 0) parts.push(`getters[${this.getters.size}]`);
    if (this.putters.size > 0) parts.push(`putters[${this.putters.size}]`);
    return parts.join(' ');
  }

  toString(): string {
    return `<${this.describe()}>`;
  }
}
brand(Channel, 'Channel');
