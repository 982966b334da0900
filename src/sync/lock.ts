/**
 * gevent.lock: `Semaphore`, `BoundedSemaphore`, `DummySemaphore`, `Lock`, `RLock`.
 *
 * A semaphore is a linkable whose notification pass stops as soon as it cannot be acquired any more,
 * so a `release()` wakes exactly as many waiters as there are permits, FIFO, each running until it
 * blocks before the next is woken. `release()` never switches.
 */
import { Linkable } from '../core/linkable.js';
import { Timeout } from '../core/timeout.js';
import { internName } from '../core/trace.js';
import { brand } from '../core/errors.js';
import { getcurrent, type Greenlet } from '../core/greenlet.js';
import { rejection, type Hub } from '../core/hub.js';
import { parkOnLinkable, timeoutNs } from './waiting.js';

const R_ACQUIRE = internName('Semaphore.acquire');
const R_SEM_WAIT = internName('Semaphore.wait');
const R_RLOCK = internName('RLock.acquire');
const RESOLVED_TRUE: Promise<boolean> = Promise.resolve(true);
const RESOLVED_FALSE: Promise<boolean> = Promise.resolve(false);
/** The largest timeout `Lock.acquire` accepts, in seconds: Python's `threading.TIMEOUT_MAX` on Linux. */
const TIMEOUT_MAX = 9223372036;

/**
 * Options of `acquire` and `hold`.
 * @example
 * if (!(await sem.acquire({ timeout: 0.5 }))) console.log('still busy after 0.5 s');
 */
export interface AcquireOptions {
  /** Wait for a permit (default true); with false, return false at once if there is none. */
  blocking?: boolean;
  /** With `blocking`, wait at most this many seconds, then return false. */
  timeout?: number | null;
}

/**
 * What `hold()` returns: releases what it holds when disposed (`using`), once.
 * @example
 * const held = await lock.hold();
 * try { await work(); } finally { held.release(); } // the same as `using held = await lock.hold()`
 */
export interface Held extends Disposable {
  /** Releases now (same as disposing); later calls do nothing. */
  release(): void;
}

function checkValue(value: number): number {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`semaphore value must be a number, got ${typeof value === 'number' ? 'NaN' : typeof value}`);
  }
  if (value < 0) throw new RangeError('semaphore initial value must be >= 0');
  return value;
}

/**
 * A failed non-blocking `Lock.acquire`: yields once, then resolves false (gevent's `LockType` calls
 * `sleep()` there so that spin locks let the holder run). In a hub callback, false at once.
 */
function yieldThenFalse(hub: Hub): Promise<boolean> {
  let slept: Promise<void>;
  try {
    slept = hub.sleep(0);
  } catch {
    return RESOLVED_FALSE;
  }
  return slept.then(() => false);
}

function makeHeld(release: () => void): Held {
  let held = true;
  const free = (): void => {
    if (!held) return;
    held = false;
    release();
  };
  return { release: free, [Symbol.dispose]: free };
}

async function holdOf(acquire: Promise<boolean>, options: AcquireOptions, release: () => void): Promise<Held> {
  if (!(await acquire)) throw new Timeout(options.blocking === false ? null : (options.timeout ?? null));
  return makeHeld(release);
}

/**
 * A counter of permits: `acquire()` takes one, waiting while there is none; `release()` gives one back
 * (any greenlet may release, and more times than it acquired — see `BoundedSemaphore`).
 *
 * Waiters are woken FIFO. As in gevent, an `acquire()` that finds a free permit takes it at once, even
 * if woken waiters have not run yet. Hold a permit for a block with `using`:
 * `using _ = await sem.hold();` releases it when the block ends, whichever way it ends.
 * @example
 * const sem = new Semaphore(2);
 * const worker = async (n: number) => {
 *   using _permit = await sem.hold();
 *   console.log(n, 'in at', getHub().now());
 *   await sleep(1);
 * };
 * await joinall([1, 2, 3].map((n) => spawn(worker, n))); // 1 and 2 in at 0, 3 in at 1
 */
export class Semaphore extends Linkable {
  private count: number;

  /**
   * @param value initial number of permits (default 1); negative raises RangeError
   * @param hub the hub it belongs to (default: the current hub)
   */
  constructor(value = 1, hub?: Hub) {
    const v = checkValue(value);
    super(hub);
    this.count = v;
    this.notifyAll = false;
  }

  /** Number of permits available now (release calls minus acquire calls, plus the initial value). */
  get counter(): number {
    return this.count;
  }

  /** True if `acquire()` would block. */
  locked(): boolean {
    return this.count <= 0;
  }

  /** True if `acquire()` would succeed at once. */
  ready(): boolean {
    return this.count > 0;
  }

  /**
   * Gives a permit back and queues the notification of waiters; never switches. Returns the counter.
   */
  release(): number {
    this.count++;
    this.checkAndNotify();
    return this.count;
  }

  /** Takes a permit if one is free now; the synchronous form of `acquire({ blocking: false })`. */
  tryAcquire(): boolean {
    if (this.count > 0) {
      this.count--;
      return true;
    }
    return false;
  }

  /**
   * Takes a permit, waiting for one if needed. Resolves true once acquired; false if `blocking` is
   * false and none is free, or if `timeout` seconds passed first.
   */
  acquire(options: AcquireOptions = {}): Promise<boolean> {
    return this.acquireWithReason(options, R_ACQUIRE, 'Semaphore.acquire()');
  }

  /**
   * `acquire` that shows as `reason` in traces and LoopExit reports. Not an async function (nor is
   * `waitWithReason`): a free permit costs a shared settled promise, and a waiter's outcome is decided
   * in the hub when it wakes (`acquireOnWake`), as the queues do. @internal
   */
  acquireWithReason(options: AcquireOptions, reason: number, what: string): Promise<boolean> {
    try {
      if (this.count > 0) {
        this.count--;
        return RESOLVED_TRUE;
      }
      if (options.blocking === false) return RESOLVED_FALSE;
      const ns = timeoutNs(options.timeout);
      const hub = this.hub;
      const g = hub.currentForPark(what);
      return parkOnLinkable(hub, g, this, reason, ns, Semaphore.acquireOnWake);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** A waiter in `acquire` was notified (true) or timed out (false), in the hub; it runs next. */
  private static acquireOnWake(this: void, g: Greenlet<unknown>, woken: unknown): unknown {
    if (woken === false) return false;
    const sem = g.parkTarget as Semaphore;
    if (sem.count <= 0) return rejection(new Error(`geventjs internal error: ${g.name} woken by a Semaphore with no permit`));
    sem.count--;
    return true;
  }

  /**
   * Acquires (as `acquire`) and returns a handle that releases on dispose, for `using`. Not acquired
   * (non-blocking, or timed out): throws `Timeout`.
   * @example
   * { using _ = await sem.hold({ timeout: 1 }); await work(); } // released here
   */
  hold(options: AcquireOptions = {}): Promise<Held> {
    return holdOf(this.acquire(options), options, () => this.release());
  }

  /**
   * Waits until a permit is free (without taking it) or `timeout` seconds pass, and resolves with the
   * counter then — possibly 0 if other waiters took the permits first.
   */
  wait(timeout?: number | null): Promise<number> {
    return this.waitWithReason(timeout, R_SEM_WAIT, 'Semaphore.wait()');
  }

  /** `wait` that shows as `reason` in traces and LoopExit reports. @internal */
  waitWithReason(timeout: number | null | undefined, reason: number, what: string): Promise<number> {
    try {
      if (this.count > 0) return Promise.resolve(this.count);
      const ns = timeoutNs(timeout);
      const hub = this.hub;
      const g = hub.currentForPark(what);
      return parkOnLinkable(hub, g, this, reason, ns, Semaphore.countOnWake) as unknown as Promise<number>;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** A waiter in `wait` was notified or timed out, in the hub: the counter then. */
  private static countOnWake(this: void, g: Greenlet<unknown>): unknown {
    return (g.parkTarget as Semaphore).count;
  }

  /** The class name shown in reports. */
  protected get kind(): string {
    return 'Semaphore';
  }

  override describe(): string {
    return `${this.kind} counter=${this.count}`;
  }

  override toString(): string {
    return `<${this.kind} counter=${this.count} _links[${this.linkcount()}]>`;
  }
}
brand(Semaphore, 'Semaphore');

/**
 * A semaphore that refuses to be released above its initial value: one release too many raises
 * `RangeError('Semaphore released too many times')` (gevent's ValueError).
 * @example
 * const sem = new BoundedSemaphore(1);
 * await sem.acquire();
 * sem.release();
 * sem.release(); // throws RangeError
 */
export class BoundedSemaphore extends Semaphore {
  /** The initial value, which the counter may not exceed. */
  readonly initialValue: number;

  constructor(value = 1, hub?: Hub) {
    super(value, hub);
    this.initialValue = this.counter;
  }

  /** Like `Semaphore.release`, but raises when that would exceed the initial value. */
  override release(): number {
    if (this.counter >= this.initialValue) throw this.overReleaseError();
    return super.release();
  }

  /** The error an over-release raises. */
  protected overReleaseError(): Error {
    return new RangeError('Semaphore released too many times');
  }

  protected override get kind(): string {
    return 'BoundedSemaphore';
  }
}
brand(BoundedSemaphore, 'BoundedSemaphore');

/**
 * A mutex: gevent's `gevent.thread.LockType` (what monkey-patched `threading.Lock()` returns), a
 * `BoundedSemaphore(1)` with `threading.Lock`'s `acquire`. Releasing an unlocked Lock raises
 * `Error('Semaphore released too many times')` (a RuntimeError in Python, as `threading.Lock` raises).
 *
 * `acquire` checks its arguments as `threading.Lock.acquire` does: `timeout: -1` (like null) waits
 * forever; a timeout with `blocking: false` raises `RangeError("can't specify a timeout for a
 * non-blocking call")`, another negative timeout `RangeError('timeout value must be strictly
 * positive')`, one above 9223372036 s (Python's `threading.TIMEOUT_MAX`) `RangeError('timeout value is
 * too large')` — gevent's ValueError and OverflowError, through the returned promise. A non-blocking
 * `acquire` that fails yields once (a `sleep(0)`) before resolving false, as gevent does so that spin
 * locks let the holder run; in a hub callback it resolves false at once.
 * @example
 * const lock = new Lock();
 * { using _ = await lock.hold(); await criticalSection(); }
 * await lock.acquire({ timeout: -1 }); // waits forever, as threading.Lock
 */
export class Lock extends BoundedSemaphore {
  /** @param hub the hub it belongs to (default: the current hub) */
  constructor(hub?: Hub) {
    super(1, hub);
  }

  /**
   * Takes the lock, waiting for it if needed (gevent's `LockType.acquire(blocking=True, timeout=-1)`).
   * Resolves true once acquired; false if `blocking` is false and it is held (after one yield), or if
   * `timeout` seconds passed first.
   */
  override acquire(options: AcquireOptions = {}): Promise<boolean> {
    try {
      const blocking = options.blocking !== false;
      const timeout = options.timeout === -1 ? null : options.timeout;
      if (!blocking && timeout !== null && timeout !== undefined) {
        throw new RangeError("can't specify a timeout for a non-blocking call");
      }
      if (timeout !== null && timeout !== undefined) {
        if (typeof timeout !== 'number' || Number.isNaN(timeout)) {
          throw new TypeError(`timeout must be a number, got ${typeof timeout === 'number' ? 'NaN' : typeof timeout}`);
        }
        if (timeout < 0) throw new RangeError('timeout value must be strictly positive');
        if (timeout > TIMEOUT_MAX) throw new RangeError('timeout value is too large');
      }
      const acquired = this.acquireWithReason(timeout === options.timeout ? options : { blocking, timeout }, R_ACQUIRE, 'Lock.acquire()');
      if (blocking || acquired === RESOLVED_TRUE) return acquired;
      return yieldThenFalse(this.hub);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  protected override overReleaseError(): Error {
    return new Error('Semaphore released too many times');
  }

  protected override get kind(): string {
    return 'Lock';
  }
}
brand(Lock, 'Lock');

/**
 * A semaphore-shaped object that never blocks (gevent's `DummySemaphore`): lets code take "a
 * semaphore" whether or not the resource is limited.
 * @example
 * const sem = limit === null ? new DummySemaphore() : new Semaphore(limit);
 * await sem.acquire(); // true at once for the dummy
 */
export class DummySemaphore {
  /** The argument is accepted and ignored, for compatibility with `Semaphore`. */
  constructor(_value?: number | null) {}

  /** Always false. */
  locked(): boolean {
    return false;
  }

  /** Always true. */
  ready(): boolean {
    return true;
  }

  /** Does nothing. */
  release(): void {}

  /** Always true. */
  tryAcquire(): boolean {
    return true;
  }

  /** Resolves true at once. */
  acquire(_options: AcquireOptions = {}): Promise<boolean> {
    return Promise.resolve(true);
  }

  /** A handle whose dispose does nothing. */
  hold(_options: AcquireOptions = {}): Promise<Held> {
    return Promise.resolve(makeHeld(() => {}));
  }

  /** Resolves 1 at once. */
  wait(_timeout?: number | null): Promise<number> {
    return Promise.resolve(1);
  }

  /** Does nothing (there is nothing to wait for). */
  rawlink(_callback: (s: this) => void): void {}

  /** Does nothing. */
  unlink(_callback: (s: this) => void): void {}

  toString(): string {
    return '<DummySemaphore>';
  }
}
brand(DummySemaphore, 'DummySemaphore');

/**
 * A mutex the same greenlet may acquire again (each `acquire` needs its `release`). Only the owner may
 * release: anyone else gets `Error('cannot release un-acquired lock. Owner: … Current: …')` (gevent's
 * RuntimeError; the owner reads `none` when nobody holds it, where gevent prints `None`).
 * @example
 * const lock = new RLock();
 * async function outer() { using _ = await lock.hold(); await inner(); }
 * async function inner() { using _ = await lock.hold(); } // same greenlet: does not block
 */
export class RLock {
  private readonly block: Semaphore;
  private ownerG: Greenlet<unknown> | null = null;
  private depth = 0;

  /** @param hub the hub it belongs to (default: the current hub) */
  constructor(hub?: Hub) {
    this.block = new Semaphore(1, hub);
  }

  /** The greenlet holding the lock, or null. */
  get owner(): Greenlet<unknown> | null {
    return this.ownerG;
  }

  /** How many times the owner has acquired it. */
  get count(): number {
    return this.depth;
  }

  /** True if some greenlet holds it. */
  locked(): boolean {
    return this.block.locked();
  }

  /**
   * Acquires the lock: at once if the current greenlet owns it already (counting), else waits like a
   * Semaphore's `acquire` and resolves false on timeout (or if not `blocking` and it is held).
   */
  async acquire(options: AcquireOptions = {}): Promise<boolean> {
    const me = getcurrent();
    if (this.ownerG === me) {
      this.depth++;
      return true;
    }
    const ok = await this.block.acquireWithReason(options, R_RLOCK, 'RLock.acquire()');
    if (ok) {
      this.ownerG = me;
      this.depth = 1;
    }
    return ok;
  }

  /** Releases once; the last release by the owner frees it. A non-owner raises Error. */
  release(): void {
    const me = getcurrent();
    if (this.ownerG !== me) {
      const owner = this.ownerG === null ? 'none' : String(this.ownerG);
      throw new Error(`cannot release un-acquired lock. Owner: ${owner} Current: ${String(me)}`);
    }
    this.depth--;
    if (this.depth === 0) {
      this.ownerG = null;
      this.block.release();
    }
  }

  /**
   * Acquires (as `acquire`) and returns a handle that releases on dispose, for `using`. Not acquired:
   * throws `Timeout`.
   */
  hold(options: AcquireOptions = {}): Promise<Held> {
    return holdOf(this.acquire(options), options, () => this.release());
  }

  /** Whether the current greenlet owns the lock. */
  isOwned(): boolean {
    return this.ownerG === getcurrent();
  }

  toString(): string {
    return `<RLock count=${this.depth} owner=${String(this.ownerG)}>`;
  }
}
brand(RLock, 'RLock');
