/**
 * gevent's `Timeout`: raises an error in the greenlet that started it when the time is up.
 */
import { brand } from './errors.js';
import { getHub, toNs, type Hub } from './hub.js';
import { Timer, PRIORITY_TIMEOUT } from './timers.js';
import { rt } from './runtime.js';
import type { Greenlet } from './greenlet.js';

/** What a Timeout raises: itself (undefined or false), an error instance, or an error class (made with no arguments). */
export type TimeoutException = Error | (new () => Error) | false | undefined;

/** gevent's `str(timeout)`: the seconds, then what it raises. */
function describe(seconds: number | null | undefined, exception: unknown): string {
  if (seconds === null || seconds === undefined) return '';
  const base = `${seconds} second${seconds === 1 ? '' : 's'}`;
  if (exception === undefined || exception === null) return base;
  if (exception === false) return `${base} (silent)`;
  if (typeof exception === 'function') return `${base}: ${(exception as { name?: string }).name || 'anonymous class'}`;
  if (exception instanceof Error) return exception.message ? `${base}: ${exception.message}` : base;
  return `${base}: ${String(exception)}`;
}

/**
 * Raises in the greenlet that called `start()` once `seconds` pass, unless cancelled first.
 * A fired Timeout throws itself, so `e === t` tells whose fired; with an `exception` it throws that
 * instead. `seconds` null/undefined never fires. A `sleep` and a `Timeout` that expire at the same
 * instant: the sleep wins, as in gevent.
 *
 * gevent's Timeout is a BaseException that `except Exception` does not catch; TypeScript has no such
 * split — test `e instanceof Timeout` (or `e === t`) in catch blocks that should let it through.
 * @example
 * const t = Timeout.startNew(0.5);
 * try { await q.get(); } catch (e) { if (e !== t) throw e; console.log('gave up'); } finally { t.cancel(); }
 */
export class Timeout extends Error {
  readonly seconds: number | null;
  readonly exception: TimeoutException;
  private timer: Timer | null = null;
  private greenlet: Greenlet<unknown> | null = null;
  private hubRef: Hub | null = null;

  constructor(seconds: number | null = null, exception?: TimeoutException) {
    super(describe(seconds, exception));
    this.name = 'Timeout';
    if (seconds !== null && seconds !== undefined) toNs(seconds, 'Timeout seconds');
    this.seconds = seconds ?? null;
    this.exception = exception;
  }

  /**
   * Creates and starts a Timeout of this class (a subclass's `startNew` makes that subclass). Given a
   * Timeout instead of seconds, starts it unless it is pending and returns it, as gevent's does.
   * @example
   * const t = Timeout.startNew(0.5);
   */
  static startNew<T extends Timeout>(
    this: new (seconds?: number | null, exception?: TimeoutException) => T,
    seconds: number | null | T = null,
    exception?: TimeoutException,
  ): T {
    if (seconds instanceof Timeout) {
      if (!seconds.pending) seconds.start();
      return seconds;
    }
    const t = new this(seconds, exception);
    t.start();
    return t;
  }

  /** Whether the timer is scheduled and has neither fired nor been cancelled. */
  get pending(): boolean {
    return this.timer !== null && this.timer.active;
  }

  /**
   * Starts the timer for the current greenlet. Starting a pending Timeout throws.
   */
  start(): this {
    if (this.pending) throw new Error(`${this.toString()} is already started; cancel it first`);
    if (this.seconds === null) return this;
    const hub = getHub();
    this.hubRef = hub;
    this.greenlet = rt.current ?? hub.main;
    if (this.greenlet === null) throw new Error('Timeout.start(): no greenlet to time out');
    const t = (this.timer ??= new Timer(fireTimeout, this));
    hub.addTimer(t, toNs(this.seconds), PRIORITY_TIMEOUT);
    return this;
  }

  /** Stops the timer; harmless if it is not pending. */
  cancel(): void {
    if (this.timer !== null && this.hubRef !== null && this.timer.active) this.hubRef.cancelTimer(this.timer);
  }

  /** Same as `cancel()` (gevent's `close`). */
  close(): void {
    this.cancel();
  }

  /** `using t = Timeout.startNew(1)` cancels it at the end of the block. */
  [Symbol.dispose](): void {
    this.cancel();
  }

  /** @internal */
  fire(): void {
    const g = this.greenlet;
    const hub = this.hubRef;
    if (g === null || hub === null) return;
    const exc = this.exception as unknown;
    let err: unknown;
    if (typeof exc === 'function') {
      // an error class is made with no arguments, as Python's throw makes it; a constructor that
      // throws has its error raised in the greenlet instead (never in the hub)
      try {
        err = new (exc as new () => unknown)();
      } catch (e) {
        err = e;
      }
    } else if (exc instanceof Error) err = exc;
    else err = this; // undefined, false, or (untyped) a string: the Timeout itself, as gevent
    hub.throwInto(g, err);
  }

  override toString(): string {
    return this.message ? `Timeout: ${this.message}` : 'Timeout';
  }
}
brand(Timeout, 'Timeout');

function fireTimeout(t: Timeout): void {
  t.fire();
}

/**
 * Options of `withTimeout`.
 * @example
 * await withTimeout(1, () => q.get(), { timeoutValue: null });
 */
export interface WithTimeoutOptions<V> {
  /** Returned instead of raising when the time is up. */
  timeoutValue?: V;
}

/**
 * Runs `fn()` in the current greenlet with a Timeout around it; returns its value, or `timeoutValue`
 * when given and the time ran out (otherwise the Timeout propagates).
 * gevent's `with Timeout(s, False):` block is `withTimeout(s, fn, { timeoutValue: undefined })`.
 * @example
 * const line = await withTimeout(1, () => sock.recv(1024), { timeoutValue: null });
 */
export async function withTimeout<T, V = never>(
  seconds: number | null,
  fn: () => T | Promise<T>,
  options: WithTimeoutOptions<V> = {},
): Promise<Awaited<T> | V> {
  const t = Timeout.startNew(seconds);
  try {
    return await fn();
  } catch (e) {
    if (e === t && 'timeoutValue' in options) return options.timeoutValue as V;
    throw e;
  } finally {
    t.cancel();
  }
}
