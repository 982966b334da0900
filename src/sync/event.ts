/**
 * gevent.event: `Event` and `AsyncResult`, both linkables notified FIFO through the hub's callback
 * queue — `set()` never switches; the waiters run once the setter blocks.
 */
import { Linkable } from '../core/linkable.js';
import { Timeout } from '../core/timeout.js';
import { internName } from '../core/trace.js';
import { brand } from '../core/errors.js';
import { rejection, type Hub } from '../core/hub.js';
import type { Greenlet } from '../core/greenlet.js';
import { parkOnLinkable, timeoutNs, type WakeMap } from './waiting.js';

const R_EVENT_WAIT = internName('Event.wait');
const R_RESULT_GET = internName('AsyncResult.get');
const R_RESULT_WAIT = internName('AsyncResult.wait');

/**
 * Whether a notification pass of `l` is queued or running: `l` is ready and still has links (a ready
 * linkable with links always has a pass pending), or the hub is in the middle of its pass.
 */
function notifying(l: Linkable): boolean {
  return (l.ready() && l.linkcount() > 0) || l.hub.notifier === l;
}

/**
 * Joins the end of the notification pass of a ready linkable (gevent #1520): a greenlet that calls
 * `wait()` while earlier waiters are being woken runs after them, not before — in the same pass, ahead
 * of callbacks queued meanwhile, as in gevent.
 */
function joinPass(l: Linkable, reason: number, what: string): Promise<boolean> {
  const hub = l.hub;
  const g = hub.currentForPark(what);
  g.parkNode = l.addWaiter(g);
  l.extendPass();
  return hub.park(g, reason, l) as Promise<boolean>;
}

/**
 * A flag greenlets can wait for: `set()` wakes every waiter, `clear()` resets it.
 *
 * Waiters wake in the order they started waiting, through one notification pass queued on the hub;
 * `set()` itself never switches — the setter keeps running until it blocks. A waiter only knows the
 * flag was set at least once while it waited; check `isSet()` if it matters whether it still is.
 * @example
 * const ev = new Event();
 * spawn(async () => { await sleep(1); ev.set(); });
 * await ev.wait();            // true, at virtual time 1
 * await ev.wait(0.5);         // true at once: the flag is still set
 * ev.clear();
 * await ev.wait(0.5);         // false, at virtual time 1.5
 */
export class Event extends Linkable {
  private flag = false;

  /** @param hub the hub the event belongs to (default: the current hub). */
  constructor(hub?: Hub) {
    super(hub);
  }

  /** True if and only if the flag is set. */
  isSet(): boolean {
    return this.flag;
  }

  /** Same as `isSet()`: waiting would not block. */
  ready(): boolean {
    return this.flag;
  }

  /** Sets the flag and queues the notification of every waiter. Never switches. */
  set(): void {
    this.flag = true;
    this.checkAndNotify();
  }

  /** Resets the flag; later `wait()` calls block until the next `set()`. */
  clear(): void {
    this.flag = false;
  }

  /**
   * Waits until the flag is set, or `timeout` seconds pass. Resolves true if the flag was set (before
   * the call or during the wait), false on timeout.
   */
  wait(timeout?: number | null): Promise<boolean> {
    return this.waitWithReason(timeout, R_EVENT_WAIT, 'Event.wait()');
  }

  /** `wait` that shows as `reason` in traces and LoopExit reports (`JoinableQueue.join`, …). @internal */
  waitWithReason(timeout: number | null | undefined, reason: number, what: string): Promise<boolean> {
    try {
      if (this.flag) {
        if (!notifying(this)) return Promise.resolve(true);
        // waiters that had to block go first (gevent 20.5.1, issue #1520)
        return joinPass(this, reason, what);
      }
      const ns = timeoutNs(timeout);
      const hub = this.hub;
      const g = hub.currentForPark(what);
      return parkOnLinkable(hub, g, this, reason, ns);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  override describe(): string {
    return `Event ${this.flag ? 'set' : 'clear'}`;
  }

  override toString(): string {
    return `<Event ${this.flag ? 'set' : 'clear'} _links[${this.linkcount()}]>`;
  }
}
brand(Event, 'Event');

/**
 * What `AsyncResult.setFrom` reads: a Greenlet, or another AsyncResult.
 * @example
 * result.setFrom(otherResult); // copy a value or an error across
 */
export interface ResultSource<T> {
  successful(): boolean;
  readonly value: T | unknown;
  readonly exception: unknown;
}

/**
 * Options of `AsyncResult.get`.
 * @example
 * await result.get({ timeout: 2 }); // Timeout('2 seconds') if nothing was set by then
 */
export interface AsyncResultGetOptions {
  /** Wait for the result (default true); with false an unset result raises `Timeout` at once. */
  block?: boolean;
  /** Wait at most this many seconds, then raise `Timeout`. */
  timeout?: number | null;
}

const UNSET: unique symbol = Symbol('unset');

/**
 * A one-time event that carries a value or an error: `set(value)` / `setException(err)` wake every
 * waiter, `get()` returns the value or throws the error.
 *
 * gevent lets an AsyncResult be a link target because it is callable (`g.link(result)`); here pass its
 * bound `setFrom`: `g.link(result.setFrom)` (also with `linkValue` / `linkException`).
 * @example
 * const result = new AsyncResult<number>();
 * spawn(async () => { await sleep(1); result.set(42); });
 * await result.get();                          // 42 at virtual time 1
 *
 * const failed = new AsyncResult();
 * spawn(() => { throw new Error('boom'); }).link(failed.setFrom);
 * await failed.get();                          // throws Error('boom')
 */
export class AsyncResult<T = unknown> extends Linkable {
  private result: T | typeof UNSET = UNSET;
  private error: unknown = null;
  private hasError = false;

  /** @param hub the hub the result belongs to (default: the current hub). */
  constructor(hub?: Hub) {
    super(hub);
  }

  /**
   * Copies the outcome of `source` (a finished Greenlet or a ready AsyncResult): its value when it
   * succeeded, else its exception. A bound function, so it can be passed to `link` directly.
   * @example
   * const r = new AsyncResult<number>();
   * spawn(() => 1).link(r.setFrom);
   * await r.get(); // 1
   */
  readonly setFrom = (source: ResultSource<T>): void => {
    if (source.successful()) this.set(source.value as T);
    else this.setException(source.exception);
  };

  /** True once it holds a value or an error. */
  ready(): boolean {
    return this.hasError || this.result !== UNSET;
  }

  /** True if it holds a value. */
  successful(): boolean {
    return this.result !== UNSET;
  }

  /** The value passed to `set`, or undefined. */
  get value(): T | undefined {
    return this.result === UNSET ? undefined : this.result;
  }

  /** The error passed to `setException`, or null. */
  get exception(): unknown {
    return this.hasError ? this.error : null;
  }

  /** Stores `value` and queues the notification of every waiter. Never switches. */
  set(value?: T): void {
    this.result = value as T;
    this.checkAndNotify();
  }

  /** Stores `error` (to be thrown by `get`) and queues the notification of every waiter. */
  setException(error: unknown): void {
    this.error = error;
    this.hasError = true;
    this.checkAndNotify();
  }

  /**
   * The value, waiting for it if needed; throws the stored error. Not ready with `block: false`, or
   * still not ready after `timeout` seconds: throws `Timeout`.
   */
  get(options: AsyncResultGetOptions = {}): Promise<T> {
    // Not an async function: a ready result costs no frame, and a waiter's outcome is decided in the
    // hub when it wakes, as the queues do.
    try {
      if (this.ready()) return Promise.resolve(this.getNowait());
      if (options.block === false) throw new Timeout();
      const ns = timeoutNs(options.timeout);
      const hub = this.hub;
      const g = hub.currentForPark('AsyncResult.get()');
      const seconds = options.timeout ?? null; // a timeout's Timeout says how long it waited
      const onWake: WakeMap = ns === Infinity ? AsyncResult.outcomeOnWake : (w, woken) => (woken === false ? rejection(new Timeout(seconds)) : AsyncResult.outcomeOnWake(w));
      return parkOnLinkable(hub, g, this, R_RESULT_GET, ns, onWake) as Promise<unknown> as Promise<T>;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** A waiter in `get` was notified, in the hub: the value, or a rejection with the stored error. */
  private static outcomeOnWake(this: void, g: Greenlet<unknown>): unknown {
    try {
      return (g.parkTarget as AsyncResult<unknown>).getNowait();
    } catch (e) {
      return rejection(e);
    }
  }

  /** The value or the stored error without blocking; not ready: throws `Timeout`. */
  getNowait(): T {
    if (this.result !== UNSET) return this.result;
    if (this.hasError) throw this.error;
    throw new Timeout();
  }

  /**
   * Waits until it is ready or `timeout` seconds pass, and resolves with `value` — undefined when it
   * holds an error or the time ran out (gevent returns None for both).
   */
  async wait(timeout?: number | null): Promise<T | undefined> {
    if (this.ready()) {
      if (notifying(this)) await joinPass(this, R_RESULT_WAIT, 'AsyncResult.wait()');
      return this.value;
    }
    const ns = timeoutNs(timeout);
    const hub = this.hub;
    const g = hub.currentForPark('AsyncResult.wait()');
    await parkOnLinkable(hub, g, this, R_RESULT_WAIT, ns);
    return this.value;
  }

  override describe(): string {
    return this.ready() ? 'AsyncResult ready' : 'AsyncResult unset';
  }

  override toString(): string {
    const state = this.result !== UNSET ? `value=${String(this.result)}` : this.hasError ? `exception=${String(this.error)}` : 'unset';
    return `<AsyncResult ${state} _links[${this.linkcount()}]>`;
  }
}
brand(AsyncResult, 'AsyncResult');
