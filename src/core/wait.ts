/**
 * Waiting on many objects: gevent's `wait`, `iwait`, `joinall`, `killall`, `idle`.
 */
import { getHub, toNs, type Hub } from './hub.js';
import type { Linkable } from './linkable.js';
import { internName } from './trace.js';
import { GreenletExit } from './errors.js';
import { killAndResume, type Greenlet, type KillException } from './greenlet.js';
import { Timeout } from './timeout.js';
import { Timer, PRIORITY_TIMEOUT } from './timers.js';

const R_WAIT = internName('wait');
const R_IWAIT = internName('iwait');

/**
 * Options of `wait` and `iwait`.
 * @example
 * await wait([g1, g2], { count: 1, timeout: 5 });
 */
export interface WaitOptions {
  /** Give up after this many seconds and return what finished so far. */
  timeout?: number | null;
  /** Return once this many objects are ready. */
  count?: number | null;
}

/**
 * Options of `joinall`.
 * @example
 * await joinall(workers, { raiseError: true });
 */
export interface JoinallOptions extends WaitOptions {
  /** Raise the error of the first greenlet that fails; the others keep running. */
  raiseError?: boolean;
}

/**
 * Options of `killall`.
 * @example
 * await killall(workers, { exception: new Error('shutdown'), timeout: 1 });
 */
export interface KillallOptions {
  /** What to raise in each greenlet (default GreenletExit). */
  exception?: KillException;
  /** Wait for them to die (default true). */
  block?: boolean;
  /** With `block`, wait at most this many seconds, then raise `Timeout` (some are still alive). */
  timeout?: number | null;
}

function wantedCount(count: number | null | undefined, n: number): number {
  if (count === null || count === undefined) return n;
  if (typeof count !== 'number' || Number.isNaN(count)) throw new TypeError(`count must be a number, got ${typeof count}`);
  return Math.max(0, Math.min(n, Math.floor(count)));
}

/**
 * Waits until `count` (default all) of `objects` are ready, or `timeout` seconds pass, and returns
 * the ready ones in the order they became ready. With no objects, waits until the hub has nothing
 * else to do and returns `[]` (or, on timeout, `null`).
 * @example
 * const done = await wait([g1, g2, ev], { count: 1 }); // the first to be ready
 */
export function wait<T extends Linkable>(objects: readonly T[], options?: WaitOptions): Promise<T[]>;
export function wait(objects?: null, options?: WaitOptions): Promise<[] | null>;
export async function wait<T extends Linkable>(objects?: readonly T[] | null, options: WaitOptions = {}): Promise<T[] | null> {
  const hub = getHub();
  if (objects === undefined || objects === null) {
    const drained = await hub.waitDrained(options.timeout);
    return drained ? [] : null;
  }
  const want = wantedCount(options.count, objects.length);
  const done: T[] = [];
  if (want === 0) return done;
  const g = hub.currentForPark('wait()');
  let parked = false;
  const onReady = (obj: T): void => {
    done.push(obj);
    if (parked && done.length >= want) {
      parked = false;
      hub.wakeWaiter(g, true);
    }
  };
  for (const o of objects) o.rawlink(onReady);
  try {
    parked = true;
    const ns = options.timeout === null || options.timeout === undefined ? Infinity : toNs(options.timeout, 'timeout');
    if (ns !== Infinity) hub.armWaitTimer(g, ns);
    await hub.park(g, R_WAIT, { describe: () => `${objects.length} objects` });
  } finally {
    parked = false;
    for (const o of objects) o.unlink(onReady);
  }
  return done.slice(0, want);
}

/** What iwait's deadline puts in its queue of ready objects. */
const DEADLINE: unique symbol = Symbol('iwait deadline');

/**
 * Yields `objects` as they become ready (at most `count`), until `timeout` seconds have passed since
 * the first `next()`. As in gevent, the deadline takes its place in the queue of ready objects: a
 * loop body that blocks past it still gets the objects that were ready before it, and then the loop
 * ends, even if more became ready since.
 * @example
 * for await (const g of iwait(greenlets)) console.log(g.name, 'finished');
 */
export async function* iwait<T extends Linkable>(objects: readonly T[], options: WaitOptions = {}): AsyncGenerator<T, void, undefined> {
  const hub: Hub = getHub();
  const want = wantedCount(options.count, objects.length);
  if (want === 0) return;
  const ns = options.timeout === null || options.timeout === undefined ? Infinity : toNs(options.timeout, 'timeout');
  const queue: (T | typeof DEADLINE)[] = [];
  let parked: Greenlet<unknown> | null = null;
  const push = (item: T | typeof DEADLINE): void => {
    queue.push(item);
    if (parked !== null) {
      const g = parked;
      parked = null;
      hub.wakeWaiter(g, true);
    }
  };
  for (const o of objects) o.rawlink(push);
  // gevent's iwait timer: a timer of the Timeout priority, so a sleep ending at the same instant goes
  // first, and ready objects queued as callbacks come before it even with a zero timeout
  const timer = ns === Infinity ? null : new Timer(push, DEADLINE);
  if (timer !== null) hub.addTimer(timer, ns, PRIORITY_TIMEOUT);
  try {
    for (let yielded = 0; yielded < want; yielded++) {
      if (queue.length === 0) {
        const g = hub.currentForPark('iwait()');
        parked = g;
        await hub.park(g, R_IWAIT, { describe: () => `${objects.length - yielded} objects` });
      }
      const item = queue.shift()!;
      if (item === DEADLINE) return;
      yield item;
    }
  } finally {
    parked = null;
    if (timer !== null) hub.cancelTimer(timer);
    for (const o of objects) o.unlink(push);
  }
}

/**
 * Waits for greenlets to finish; returns the finished ones in completion order. With `raiseError`, the
 * error of the first greenlet to fail is raised (the others keep running).
 * @example
 * await joinall([spawn(eat, 'egon'), spawn(play, 'egon')]);
 */
export async function joinall<G extends Greenlet<unknown>>(greenlets: readonly G[], options: JoinallOptions = {}): Promise<G[]> {
  if (!options.raiseError) return wait(greenlets, options);
  const done: G[] = [];
  for (const g of greenlets) g.errorWatchers++;
  try {
    for await (const g of iwait(greenlets, options)) {
      done.push(g);
      if (!g.successful()) throw g.exception;
    }
  } finally {
    for (const g of greenlets) g.errorWatchers--;
  }
  return done;
}

/**
 * Kills greenlets (GreenletExit by default) and, by default, waits for them to die: the exception is
 * thrown into each in turn, each running until it dies or blocks, then the caller goes on at once if
 * all died, else waits for the rest — at most `timeout` seconds, then raises `Timeout`.
 * @example
 * await killall(workers, { timeout: 1 });
 */
export async function killall(greenlets: readonly Greenlet<unknown>[], options: KillallOptions = {}): Promise<void> {
  const exc = options.exception ?? GreenletExit;
  const make = (): Error => (typeof exc === 'function' ? new exc() : exc);
  const alive = greenlets.filter((g) => !g.dead);
  if (alive.length === 0) return;
  if (options.block === false) {
    for (const g of alive) g.killNoWait(make());
    return;
  }
  // as gevent's _killall3: one callback throws into each in turn, then the caller resumes at once
  await killAndResume(alive[0]!.hub, alive, make);
  const still = alive.filter((g) => !g.dead);
  if (still.length === 0) return;
  const timeout = options.timeout ?? null;
  await wait(still, { timeout });
  if (still.some((g) => !g.dead)) throw new Timeout(timeout); // gevent raises Timeout when time runs out
}

/**
 * Waits until the hub has no callbacks queued, before time moves on (gevent's `idle`).
 * @example
 * spawn(work); await idle(); // work ran up to its first block
 */
export function idle(): Promise<void> {
  return getHub().idle();
}
