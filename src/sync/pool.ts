/**
 * gevent.pool: `Group` (a set of running greenlets) and `Pool` (a group with a size limit whose
 * `spawn` blocks while it is full), with `map`, `imap`, `imapUnordered`, `apply`, `applyAsync`.
 *
 * In gevent, Pool subclasses Group. Here both extend `GroupBase`, which holds everything they share:
 * a Pool's `spawn` / `add` / `start` can block, so they return Promises, while a Group's are
 * synchronous — TypeScript cannot let one override the other.
 */
import { Greenlet, spawn, getcurrent, type KillException } from '../core/greenlet.js';
import { GreenletExit, brand } from '../core/errors.js';
import { Timeout } from '../core/timeout.js';
import { joinall } from '../core/wait.js';
import { internName } from '../core/trace.js';
import { Event } from './event.js';
import { Queue, Full } from './queue.js';
import { Semaphore, DummySemaphore, type AcquireOptions } from './lock.js';

const R_GROUP_JOIN = internName('Group.join');
const R_POOL_ADD = internName('Pool.add');
const R_POOL_WAIT = internName('Pool.waitAvailable');

type AnyGreenlet = Greenlet<unknown>;

/**
 * Options of `kill` and `killone`.
 * @example
 * await group.kill(GreenletExit, { timeout: 1 }); // give them a second to die
 */
export interface GroupKillOptions {
  /** Wait for the greenlets to die (default true). */
  block?: boolean;
  /** With `block`, wait at most this many seconds, then return silently. */
  timeout?: number | null;
}

/**
 * Options of `imap` and `imapUnordered`.
 * @example
 * for await (const page of pool.imap(fetchPage, urls, { maxsize: 4 })) save(page);
 */
export interface IMapOptions {
  /**
   * At most this many finished results wait for the reader; beyond that the feeding greenlet stops
   * spawning tasks until the reader catches up (gevent's `maxsize`).
   */
  maxsize?: number | null;
}

/**
 * What `map`, `imap` and friends iterate: a plain iterable, or an async one (a Queue, a generator).
 * @example
 * await pool.map(handle, jobQueue); // a Queue<Job | StopIteration> works as well as an array
 */
export type Items<A> = Iterable<A> | AsyncIterable<A>;

function toError(exception: KillException): Error {
  return typeof exception === 'function' ? new exception() : exception;
}

function currentOrNull(): AnyGreenlet | null {
  try {
    return getcurrent();
  } catch {
    return null;
  }
}

function isAsyncIterable<A>(x: Items<A>): x is AsyncIterable<A> {
  return typeof (x as AsyncIterable<A>)[Symbol.asyncIterator] === 'function';
}

function checkItems(iterable: unknown): void {
  if (
    iterable === null ||
    (typeof iterable !== 'object' && typeof iterable !== 'string') ||
    (typeof (iterable as Iterable<unknown>)[Symbol.iterator] !== 'function' &&
      typeof (iterable as AsyncIterable<unknown>)[Symbol.asyncIterator] !== 'function')
  ) {
    throw new TypeError(`'${iterable === null ? 'null' : typeof iterable}' object is not iterable`);
  }
}

/**
 * Raised by `Pool.add` / `Pool.start` when the pool is full and `blocking` is false, or stays full
 * for `timeout` seconds. A subclass of `Full`, as in gevent.
 * @example
 * try { await pool.add(g, { blocking: false }); } catch (e) { if (e instanceof PoolFull) console.log('busy'); }
 */
export class PoolFull extends Full {
  constructor(message = '') {
    super(message);
    this.name = 'PoolFull';
  }
}
brand(PoolFull, 'PoolFull');

/**
 * What `Group` and `Pool` share: tracking greenlets (each leaves the group when it dies), waiting for
 * all of them, killing them, and running functions over them (`map`, `imap`, `apply`, …).
 * Iterating a group yields its greenlets in the order they were added.
 * @example
 * function report(group: GroupBase) { console.log(group.length, 'running; free:', group.freeCount()); }
 */
export abstract class GroupBase implements Iterable<AnyGreenlet> {
  /** The greenlets tracked, in the order added. @internal */
  readonly greenlets = new Set<AnyGreenlet>();
  /** Greenlets already sent a kill by `kill` / `killone`. @internal */
  readonly dying = new Set<AnyGreenlet>();
  /** Set whenever the group is empty. */
  protected readonly emptyEvent: Event;
  /**
   * The link every `add` puts on the greenlet (one per call, as gevent's `rawlink(self._discard)`):
   * removes it from the group when it dies, and gives back what that `add` took.
   */
  protected readonly onMemberDone = (g: AnyGreenlet): void => {
    this.discardMember(g);
    this.linkDropped();
  };

  constructor() {
    this.emptyEvent = new Event();
    this.emptyEvent.set();
  }

  /** Number of greenlets tracked (Python's `len(group)`). */
  get length(): number {
    return this.greenlets.size;
  }

  /** Whether `greenlet` is tracked (Python's `greenlet in group`). */
  has(greenlet: AnyGreenlet): boolean {
    return this.greenlets.has(greenlet);
  }

  /** The greenlets tracked, in the order they were added. */
  [Symbol.iterator](): IterableIterator<AnyGreenlet> {
    return this.greenlets.values();
  }

  /** Starts tracking `g`: it leaves the group when it dies. */
  protected track(g: AnyGreenlet): void {
    g.rawlink(this.onMemberDone);
    this.greenlets.add(g);
    this.emptyEvent.clear();
  }

  /** Stops tracking `g`; true if it was tracked. @internal */
  discardMember(g: AnyGreenlet): boolean {
    const had = this.greenlets.delete(g);
    this.dying.delete(g);
    if (this.greenlets.size === 0) this.emptyEvent.set();
    return had;
  }

  /** An `add`'s link went away (it fired, or `discard` removed it): a Pool gives its permit back. */
  protected linkDropped(): void {}

  /**
   * Stops tracking `greenlet` (it keeps running). Removes one of the links `add` put on it, as
   * gevent's `unlink` does: a greenlet added twice still gives its second place back when it dies.
   */
  discard(greenlet: AnyGreenlet): void {
    this.discardMember(greenlet);
    const links = greenlet.linkcount();
    greenlet.unlink(this.onMemberDone);
    if (greenlet.linkcount() < links) this.linkDropped();
  }

  /** True if adding a greenlet would block. */
  abstract full(): boolean;

  /** About how many more greenlets can be added without blocking. */
  abstract freeCount(): number;

  /** Waits until a greenlet can be added without blocking (or `timeout` seconds); resolves with `freeCount()`-like room. */
  abstract waitAvailable(timeout?: number | null): Promise<number>;

  /** Creates, tracks and starts a greenlet, waiting for room if needed. @internal */
  abstract spawnBlocking<A extends unknown[], R>(fn: (...args: A) => R, args: A): Promise<Greenlet<Awaited<R>>>;

  /** Creates, tracks and starts a greenlet if there is room now; else null. @internal */
  abstract trySpawn<A extends unknown[], R>(fn: (...args: A) => R, args: A): Greenlet<Awaited<R>> | null;

  /**
   * Waits until the group is empty (at least once), or `timeout` seconds pass; resolves true if it
   * became empty. With `raiseError`, then throws the error of the first greenlet (in the order they were
   * added) that was in the group at the call and failed.
   */
  async join(timeout?: number | null, raiseError = false): Promise<boolean> {
    const snapshot = raiseError ? [...this.greenlets] : null;
    const result = await this.emptyEvent.waitWithReason(timeout, R_GROUP_JOIN, 'Group.join()');
    if (snapshot !== null) {
      for (const g of snapshot) if (g.exception !== null) throw g.exception;
    }
    return result;
  }

  /**
   * Kills every greenlet in the group (GreenletExit by default) and, unless `block` is false, waits
   * until the group is empty — at most `timeout` seconds, then returns silently. A greenlet already
   * sent a kill is not sent another; greenlets added meanwhile are killed too.
   */
  async kill(exception: KillException = GreenletExit, options: GroupKillOptions = {}): Promise<void> {
    const timer = Timeout.startNew(options.timeout ?? null);
    try {
      while (this.greenlets.size > 0) {
        for (const g of [...this.greenlets]) {
          if (this.dying.has(g)) continue;
          g.killNoWait(toError(exception));
          this.dying.add(g);
        }
        if (options.block === false) break;
        await joinall([...this.greenlets]);
      }
    } catch (e) {
      if (e !== timer) throw e;
    } finally {
      timer.cancel();
    }
  }

  /**
   * Kills `greenlet` if the group tracks it and has not already sent it a kill; unless `block` is
   * false, waits for it to die (at most `timeout` seconds).
   */
  async killone(greenlet: AnyGreenlet, exception: KillException = GreenletExit, options: GroupKillOptions = {}): Promise<void> {
    if (this.dying.has(greenlet) || !this.greenlets.has(greenlet)) return;
    greenlet.killNoWait(toError(exception));
    this.dying.add(greenlet);
    if (options.block !== false) await greenlet.join(options.timeout);
  }

  /**
   * Runs `fn(...args)` in a new greenlet of the group and returns its result (throws its error). Called
   * from a greenlet of the group itself, it runs `fn` right here instead, as gevent does — so a full
   * pool cannot deadlock on a nested `apply`.
   */
  async apply<A extends unknown[], R>(fn: (...args: A) => R, args?: A): Promise<Awaited<R>> {
    const a = (args ?? []) as A;
    const me = currentOrNull();
    if (me !== null && this.greenlets.has(me)) return await fn(...a);
    const g = await this.spawnBlocking(fn, a);
    return g.get();
  }

  /**
   * Starts `fn(...args)` without ever blocking and returns its greenlet. With room it is a greenlet of
   * the group; on a full pool it is a plain greenlet that calls `apply` (and so waits for room). If
   * `callback` is given, it is called with the result on success — in a hub callback when the
   * greenlet is in the group (it must not block), else in a new greenlet.
   */
  applyAsync<A extends unknown[], R>(fn: (...args: A) => R, args?: A, callback?: (result: Awaited<R>) => unknown): AnyGreenlet {
    const a = (args ?? []) as A;
    const g = this.trySpawn(fn, a);
    if (g === null) return spawn(applyThenCallback, this, fn as (...x: unknown[]) => unknown, a as unknown[], callback as ((r: unknown) => unknown) | undefined);
    if (callback !== undefined) {
      g.link((source) => {
        if (source.successful()) callback(source.value as Awaited<R>);
      });
    }
    return g as AnyGreenlet;
  }

  /**
   * `fn` applied to every item, in parallel within the group's limit; resolves with the results in the
   * order of the items, or throws the first error in that order. As in gevent, the work runs in a
   * helper greenlet (outside the group) that spawns the tasks and collects them.
   */
  async map<A, R>(fn: (item: A) => R, iterable: Items<A>): Promise<Awaited<R>[]> {
    checkItems(iterable);
    const helper = spawn(mapAll, this, fn as (item: unknown) => unknown, iterable as Items<unknown>);
    return (await helper.get()) as Awaited<R>[];
  }

  /**
   * Starts `map` in a new greenlet and returns it at once; `callback`, if given, gets the results.
   */
  mapAsync<A, R>(fn: (item: A) => R, iterable: Items<A>, callback?: (results: Awaited<R>[]) => unknown): Greenlet<Awaited<R>[]> {
    checkItems(iterable);
    return spawn(async () => {
      const results = await this.map(fn, iterable);
      if (callback !== undefined) callback(results);
      return results;
    });
  }

  /**
   * `fn` applied to every item, in parallel within the group's limit, yielded in the order of the
   * items. Errors of `fn` are thrown by the iteration at their place (the iteration can go on after
   * one); an error of the iterable itself ends it. See `IMapOptions.maxsize` for backpressure.
   * gevent's `imap(func, *iterables)` zips several iterables; here pass one (zip them yourself).
   */
  imap<A, R>(fn: (item: A) => R, iterable: Items<A>, options: IMapOptions = {}): IMapIterator<Awaited<R>> {
    checkItems(iterable);
    return new IMapIterator<Awaited<R>>(this, fn as (item: unknown) => unknown, iterable as Items<unknown>, true, options.maxsize ?? null);
  }

  /** Like `imap`, but yields results in the order they complete. */
  imapUnordered<A, R>(fn: (item: A) => R, iterable: Items<A>, options: IMapOptions = {}): IMapIterator<Awaited<R>> {
    checkItems(iterable);
    return new IMapIterator<Awaited<R>>(this, fn as (item: unknown) => unknown, iterable as Items<unknown>, false, options.maxsize ?? null);
  }
}

async function applyThenCallback(group: GroupBase, fn: (...args: unknown[]) => unknown, args: unknown[], callback: ((r: unknown) => unknown) | undefined): Promise<unknown> {
  const result = await group.apply(fn, args);
  if (callback !== undefined) spawn(callback, result);
  return result;
}

async function mapAll(group: GroupBase, fn: (item: unknown) => unknown, iterable: Items<unknown>): Promise<unknown[]> {
  const tasks: AnyGreenlet[] = [];
  if (isAsyncIterable(iterable)) {
    for await (const item of iterable) tasks.push(await group.spawnBlocking(fn, [item]));
  } else {
    for (const item of iterable) tasks.push(await group.spawnBlocking(fn, [item]));
  }
  const results: unknown[] = [];
  for (const g of tasks) results.push(await g.get());
  return results;
}

/**
 * A group of greenlets with no size limit (gevent's `Group`, once `GreenletSet`): greenlets are
 * tracked until they die, `join` waits for all, `kill` kills all. Its `spawn`, `add`, `start` never
 * block, so they are synchronous.
 *
 * Unlike gevent, `new Group(greenlets)` marks the group non-empty (gevent's `join` would return at
 * once for a group built that way).
 * @example
 * const group = new Group();
 * group.spawn(sleep, 1);
 * group.spawn(sleep, 2);
 * console.log(group.length);   // 2
 * await group.join();          // true, at virtual time 2
 */
export class Group extends GroupBase {
  /** @param greenlets greenlets to track from the start */
  constructor(greenlets?: Iterable<AnyGreenlet>) {
    super();
    if (greenlets !== undefined) for (const g of greenlets) this.add(g);
  }

  /** Tracks `greenlet` (best added before it starts). */
  add(greenlet: AnyGreenlet): void {
    this.track(greenlet);
  }

  /** Tracks the unstarted `greenlet`, then starts it. */
  start(greenlet: AnyGreenlet): void {
    this.add(greenlet);
    greenlet.start();
  }

  /** Creates a greenlet running `fn(...args)`, tracks it and starts it. Never blocks. */
  spawn<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Greenlet<Awaited<R>> {
    const g = new Greenlet<Awaited<R>>(fn as (...x: unknown[]) => Awaited<R>, ...args);
    this.start(g as AnyGreenlet);
    return g;
  }

  /** Always false: a group has no limit. */
  full(): boolean {
    return false;
  }

  /** Infinity: a group has no limit (gevent's Group has no `free_count`). */
  freeCount(): number {
    return Infinity;
  }

  /** Resolves at once (with Infinity): a group has no limit. */
  waitAvailable(_timeout?: number | null): Promise<number> {
    return Promise.resolve(Infinity);
  }

  /** @internal */
  spawnBlocking<A extends unknown[], R>(fn: (...args: A) => R, args: A): Promise<Greenlet<Awaited<R>>> {
    return Promise.resolve(this.spawn(fn, ...args));
  }

  /** @internal */
  trySpawn<A extends unknown[], R>(fn: (...args: A) => R, args: A): Greenlet<Awaited<R>> | null {
    return this.spawn(fn, ...args);
  }

  override toString(): string {
    return `<Group ${this.greenlets.size} greenlets>`;
  }
}
brand(Group, 'Group');

/**
 * A group limited to `size` greenlets: `spawn` (and `add`, `start`) wait while the pool is full, so they
 * return Promises. `size` null/undefined: no limit; 0: nothing can ever be added (useful only with
 * `waitAvailable(timeout)`); negative: `RangeError('size must not be negative: …')`.
 * @example
 * const pool = new Pool(2);
 * for (const n of [1, 2, 3]) await pool.spawn(sleep, n); // the third spawn waits until t=1
 * await pool.join();                                     // true at t=4 (1 + 3)
 * const squares = await pool.map((x: number) => x * x, [1, 2, 3]); // [1, 4, 9]
 */
export class Pool extends GroupBase {
  /** The limit, or null for none. */
  readonly size: number | null;
  private readonly semaphore: Semaphore | DummySemaphore;

  /** @param size the most greenlets running at once (null/undefined: no limit) */
  constructor(size?: number | null) {
    super();
    if (size !== null && size !== undefined) {
      if (typeof size !== 'number' || Number.isNaN(size)) {
        throw new TypeError(`size must be a number or null, got ${typeof size === 'number' ? 'NaN' : typeof size}`);
      }
      if (size < 0) throw new RangeError(`size must not be negative: ${size}`);
    }
    this.size = size ?? null;
    this.semaphore = this.size === null ? new DummySemaphore() : new Semaphore(this.size, this.emptyEvent.hub);
  }

  /** True if `add` would block now. */
  full(): boolean {
    return this.freeCount() <= 0;
  }

  /**
   * About how many greenlets can still be added without blocking (1 if there is no limit, as in
   * gevent): `size` minus the greenlets tracked — and never more than the permits left, so it agrees
   * with `full()` and with whether `add` blocks. gevent's `free_count` counts only the greenlets, so
   * while one greenlet is added twice (each `add` takes a place, as in gevent) it says 1 more than
   * `add` can take without blocking.
   */
  freeCount(): number {
    if (this.size === null) return 1;
    return Math.max(0, Math.min(this.size - this.greenlets.size, (this.semaphore as Semaphore).counter));
  }

  /**
   * Waits until a greenlet can be added without blocking, or `timeout` seconds pass, and resolves with
   * the number of free places then (possibly 0 on timeout). A pool of size 0 waits forever without a
   * timeout.
   */
  waitAvailable(timeout?: number | null): Promise<number> {
    const sem = this.semaphore;
    if (sem instanceof DummySemaphore) return sem.wait(timeout);
    return sem.waitWithReason(timeout, R_POOL_WAIT, 'Pool.waitAvailable()');
  }

  /**
   * Tracks the unstarted `greenlet`, waiting for room first: at most `timeout` seconds, then raises
   * `PoolFull`; with `blocking: false` raises `PoolFull` at once if the pool is full.
   *
   * As in gevent, every call takes a place, even for a greenlet already in the pool, and gives it back
   * when the greenlet dies (or on `discard`, one place per call): adding a greenlet twice holds two
   * places until it dies, then frees both.
   */
  add(greenlet: AnyGreenlet, options: AcquireOptions = {}): Promise<void> {
    if (this.semaphore.tryAcquire()) {
      this.track(greenlet);
      return Promise.resolve();
    }
    return this.addSlow(greenlet, options);
  }

  private async addSlow(greenlet: AnyGreenlet, options: AcquireOptions): Promise<void> {
    const ok = await (this.semaphore as Semaphore).acquireWithReason(options, R_POOL_ADD, 'Pool.add()');
    if (!ok) throw new PoolFull();
    this.track(greenlet);
  }

  /** `add` (same options), then starts the greenlet. */
  start(greenlet: AnyGreenlet, options: AcquireOptions = {}): Promise<void> {
    if (this.semaphore.tryAcquire()) {
      this.track(greenlet);
      greenlet.start();
      return Promise.resolve();
    }
    return this.startSlow(greenlet, options);
  }

  private async startSlow(greenlet: AnyGreenlet, options: AcquireOptions): Promise<void> {
    await this.addSlow(greenlet, options);
    greenlet.start();
  }

  /**
   * Creates a greenlet running `fn(...args)` and starts it in the pool, waiting while the pool is full.
   * If the wait is interrupted (a kill, a Timeout), the greenlet is killed unstarted.
   */
  spawn<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Promise<Greenlet<Awaited<R>>> {
    const g = new Greenlet<Awaited<R>>(fn as (...x: unknown[]) => Awaited<R>, ...args);
    const any = g as AnyGreenlet;
    if (this.semaphore.tryAcquire()) {
      this.track(any);
      g.start();
      return Promise.resolve(g);
    }
    return this.spawnSlow(g);
  }

  private async spawnSlow<T>(g: Greenlet<T>): Promise<Greenlet<T>> {
    try {
      await this.startSlow(g as AnyGreenlet, {});
    } catch (e) {
      g.killNoWait(new GreenletExit());
      throw e;
    }
    return g;
  }

  /** Each `add` took a permit and put one link on its greenlet: the link gives the permit back. */
  protected override linkDropped(): void {
    this.semaphore.release();
  }

  /** @internal */
  spawnBlocking<A extends unknown[], R>(fn: (...args: A) => R, args: A): Promise<Greenlet<Awaited<R>>> {
    return this.spawn(fn, ...args);
  }

  /** @internal */
  trySpawn<A extends unknown[], R>(fn: (...args: A) => R, args: A): Greenlet<Awaited<R>> | null {
    if (!this.semaphore.tryAcquire()) return null;
    const g = new Greenlet<Awaited<R>>(fn as (...x: unknown[]) => Awaited<R>, ...args);
    this.track(g as AnyGreenlet);
    g.start();
    return g;
  }

  override toString(): string {
    return `<Pool size=${this.size ?? 'None'} ${this.greenlets.size} greenlets>`;
  }
}
brand(Pool, 'Pool');

/** A task's error or the end of the iteration, as queued for the reader. */
class Failure {
  constructor(
    readonly error: unknown,
    readonly stop: boolean,
  ) {}
}

async function feedIMap(it: IMapIterator<unknown>, group: GroupBase, fn: (item: unknown) => unknown, iterable: Items<unknown>): Promise<void> {
  try {
    if (isAsyncIterable(iterable)) {
      for await (const item of iterable) await it.spawnTask(group, fn, item);
    } else {
      for (const item of iterable) await it.spawnTask(group, fn, item);
    }
    it.onFinish(null, false);
  } catch (e) {
    it.onFinish(e, true);
    throw e;
  }
}

/**
 * The async iterator `imap` and `imapUnordered` return (gevent's `IMap` / `IMapUnordered`). A
 * greenlet outside the group (`greenlet`) walks the items and spawns one task per item in the group;
 * results are queued as tasks finish and read with `for await` or `next()`.
 *
 * Errors that reach the reader through the iteration (a task's, or the iterable's) are not also
 * reported by the hub, unlike gevent, which prints them as well.
 * @example
 * for await (const r of pool.imapUnordered(async (s: number) => { await sleep(s); return s; }, [3, 1, 2])) {
 *   console.log(r, getHub().now()); // 1 at 1, 2 at 2, 3 at 3 (with pool size ≥ 3)
 * }
 */
export class IMapIterator<R> implements AsyncIterableIterator<R> {
  /** The greenlet that spawns the tasks. */
  readonly greenlet: Greenlet<void>;
  /** Results not yet read (with their index for `imap`), in completion order. */
  readonly queue: Queue<unknown>;
  private readonly ordered: boolean;
  private resultSemaphore: Semaphore | null;
  private outstanding = 0;
  private maxIndex = -1;
  private finished = false;
  private done = false;
  private index = 0;
  private readonly waiting = new Map<number, unknown>();

  /** @internal */
  constructor(group: GroupBase, fn: (item: unknown) => unknown, iterable: Items<unknown>, ordered: boolean, maxsize: number | null) {
    this.ordered = ordered;
    this.queue = new Queue<unknown>();
    this.resultSemaphore = maxsize !== null && maxsize > 0 ? new Semaphore(maxsize) : null;
    this.greenlet = spawn(feedIMap, this as IMapIterator<unknown>, group, fn, iterable);
    this.greenlet.errorWatchers++; // its error is thrown to the reader
  }

  /** @internal Spawns the task for one item, waiting for the reader (maxsize) and for room. */
  async spawnTask(group: GroupBase, fn: (item: unknown) => unknown, item: unknown): Promise<void> {
    const index = ++this.maxIndex;
    if (this.resultSemaphore !== null) await this.resultSemaphore.acquire();
    this.outstanding++;
    const g = await group.spawnBlocking(fn, [item]);
    g.errorWatchers++; // its error is thrown to the reader
    g.rawlink((done) => this.onResult(done as AnyGreenlet, index));
  }

  /** @internal A task finished. */
  onResult(g: AnyGreenlet, index: number): void {
    this.outstanding--;
    let putFinished = false;
    if (this.greenlet.ready() && this.outstanding <= 0 && !this.finished) {
      this.finished = true;
      putFinished = true;
    }
    const value = g.successful() ? g.value : new Failure(g.exception, false);
    this.queue.putNowait(this.ordered ? [index, value] : value);
    if (putFinished) this.putEnd(new Failure(null, true));
  }

  /** @internal The feeding greenlet is done (`failed`: with `error`). */
  onFinish(error: unknown, failed: boolean): void {
    this.resultSemaphore = null; // nothing waits on it any more (gevent drops it too)
    if (this.finished) return;
    if (failed) {
      this.finished = true;
      this.putEnd(new Failure(error, false));
      return;
    }
    if (this.outstanding <= 0) {
      this.finished = true;
      this.putEnd(new Failure(null, true));
    }
  }

  private putEnd(f: Failure): void {
    this.queue.putNowait(this.ordered ? [this.maxIndex + 1, f] : f);
  }

  private async take(): Promise<unknown> {
    if (!this.ordered) return this.queue.get();
    let value: unknown;
    if (this.waiting.has(this.index)) {
      value = this.waiting.get(this.index);
      this.waiting.delete(this.index);
    } else {
      for (;;) {
        const [i, v] = (await this.queue.get()) as [number, unknown];
        if (i === this.index) {
          value = v;
          break;
        }
        this.waiting.set(i, v);
      }
    }
    this.index++;
    return value;
  }

  /** The next result (waiting for it); throws a task's error at its place. */
  async next(): Promise<IteratorResult<R>> {
    if (this.done) return { done: true, value: undefined };
    if (this.resultSemaphore !== null) this.resultSemaphore.release();
    const value = await this.take();
    if (value instanceof Failure) {
      if (value.stop) {
        this.done = true;
        return { done: true, value: undefined };
      }
      throw value.error;
    }
    return { done: false, value: value as R };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
brand(IMapIterator, 'IMapIterator');
