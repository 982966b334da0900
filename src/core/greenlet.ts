/**
 * Greenlets: gevent's `Greenlet`, `spawn`, `spawnLater`, `sleep`, `getcurrent`.
 *
 * A greenlet runs an ordinary or async function. It starts lazily — only once the spawner blocks — and
 * runs until it blocks in a geventjs call (every blocking call returns a Promise: `await` it).
 */
import { rt } from './runtime.js';
import { Hub, getHub, toNs, K_EXIT } from './hub.js';
import { Linkable, type LinkCallback } from './linkable.js';
import { Timer, PRIORITY_DEFAULT, TIMER_IDLE, type HubCallback, type TimerLike } from './timers.js';
import { GreenletExit, brand } from './errors.js';
import { internName } from './trace.js';
import type { ListNode } from './list.js';
import type { Link } from './linkable.js';
import { Timeout } from './timeout.js';

/** A greenlet's state; everything from `Dead` on is dead. (One small integer: no extra fields.) */
const enum GState {
  New,
  Scheduled,
  Started,
  /** Finished after its body ran; `outcome` is the value. */
  Dead,
  /** Failed after its body ran; `outcome` is the error. */
  DeadFailed,
  /** Killed before its body ever ran (by GreenletExit); `outcome` is the exit. */
  DeadUnstarted,
  /** Killed before its body ever ran, by another error; `outcome` is the error. */
  DeadUnstartedFailed,
}

const R_JOIN = internName('Greenlet.join');
const R_GET = internName('Greenlet.get');
/** The "reason" of a greenlet's first switch: it was waiting to start. */
const R_START = internName('start');
const R_KILL = internName('Greenlet.kill');
const NO_ERROR = internName('');

/** Something `kill` can throw: an error instance, or an error class to instantiate. */
export type KillException = Error | (new () => Error);

/**
 * Options of `Greenlet.kill`.
 * @example
 * await g.kill(GreenletExit, { block: true, timeout: 1 });
 */
export interface KillOptions {
  /** Wait for the greenlet to die (default true). */
  block?: boolean;
  /** With `block`, wait at most this many seconds; then return silently. */
  timeout?: number | null;
}

/**
 * Options of `Greenlet.get`.
 * @example
 * const v = await g.get({ timeout: 0.5 }); // Timeout after 0.5 s
 */
export interface GetOptions {
  /** Wait for the result (default true); with false a greenlet still running raises `Timeout`. */
  block?: boolean;
  /** Wait at most this many seconds, then raise `Timeout`. */
  timeout?: number | null;
}

interface InternalInit {
  hub: Hub;
  id: number;
  name: string;
  parent: Greenlet<unknown> | null;
}
let internalInit: InternalInit | null = null;

type Body<T> = (...args: any[]) => T | PromiseLike<T>;

/**
 * A greenlet: a function running cooperatively on a hub.
 * @example
 * const g = new Greenlet(async (name: string) => { await sleep(1); return `hi ${name}`; }, 'egon');
 * g.start();
 * console.log(await g.get()); // 'hi egon' at virtual time 1
 */
export class Greenlet<T = unknown> extends Linkable implements TimerLike {
  // The fields a wake touches come first, so they share the object's first cache lines. A greenlet is
  // its own timer (for `sleep` and the timeouts of its blocking calls): the heap holds it directly.
  /** @internal */ index = TIMER_IDLE;
  /** @internal */ gen = 0;
  /** The timer callback (not the body: that is `body`). @internal */
  fn: HubCallback = noopCallback;
  /** @internal */ arg: unknown;
  /**
   * Resolves the blocking call the greenlet is parked in (null when not parked). Errors are thrown in
   * by resolving it with a rejected promise, so a park keeps one resolving function, not two.
   * @internal
   */
  res: ((v: unknown) => void) | null = null;
  /** @internal */ parkNode: ListNode<Link> | null = null;
  /** @internal */ parkCleanup: ((g: Greenlet<unknown>) => void) | null = null;
  /**
   * Turns a wake's value into the blocking call's result, in the hub (a recv reads its data there);
   * may return `STAY_PARKED` or a rejecting thenable. Cleared by every wake. @internal
   */
  wakeMap: ((g: Greenlet<unknown>, value: unknown) => unknown) | null = null;
  /** @internal */ spinEpoch = -1;
  /** @internal */ spins = 0;
  /** @internal */ parkReason = R_START;
  private gstate = GState.New;
  /** Small per-hub number; `main` is 0. */
  readonly id: number;
  /** Index of this greenlet's numbers in the hub's typed arrays (its park time). @internal */
  readonly slot: number;
  /** The greenlet that spawned this one (null for main and for greenlets created outside any). */
  readonly parent: Greenlet<unknown> | null;
  /** The function the greenlet runs. */
  readonly body: Body<T>;
  /** Its arguments. */
  readonly args: readonly unknown[];
  /** The value or the error, once dead. */
  private outcome: unknown = undefined;
  /** What the greenlet is parked on (for reports); before it starts, its `startLater` timer. @internal */
  parkTarget: unknown = undefined;
  /** Count of parties waiting for this greenlet's error (get, linkException, joinall raiseError). @internal */
  errorWatchers = 0;

  constructor(fn: Body<T>, ...args: unknown[]) {
    const init = internalInit;
    internalInit = null;
    const hub = init !== null ? init.hub : getHub();
    super(hub);
    if (typeof fn !== 'function') throw new TypeError(`Greenlet: fn must be a function, got ${typeof fn}`);
    this.arg = this;
    this.body = fn;
    this.args = args.length === 0 ? NO_ARGS : args;
    this.id = init !== null ? init.id : hub.nextGreenletId();
    this.slot = hub.allocSlot();
    if (init !== null) hub.nameGreenlet(this as Greenlet<unknown>, init.name);
    this.parent = init !== null ? init.parent : currentGreenletOf(hub);
    hub.registerGreenlet(this as Greenlet<unknown>, this.parent);
  }

  /** @internal Creates a greenlet with a given hub, id and name (main greenlets). */
  static create<T>(fn: Body<T>, args: unknown[], hub: Hub, id: number, name: string, parent: Greenlet<unknown> | null): Greenlet<T> {
    internalInit = { hub, id, name, parent };
    return new Greenlet<T>(fn, ...args);
  }

  /**
   * Creates and starts a greenlet: `Greenlet.spawn(fn, ...args)` is `spawn(fn, ...args)`.
   */
  static spawn<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Greenlet<Awaited<R>> {
    return spawn(fn, ...args);
  }

  // ------------------------------------------------------------------ state

  /** `Greenlet-N` unless set. */
  get name(): string {
    return this.hub.greenletName(this as Greenlet<unknown>) ?? `Greenlet-${this.id}`;
  }
  set name(value: string) {
    this.hub.nameGreenlet(this as Greenlet<unknown>, String(value));
  }

  /** The timer of this greenlet's blocking calls: the greenlet itself. @internal */
  get timer(): TimerLike {
    return this;
  }

  /** As a timer: scheduled or due. @internal */
  get active(): boolean {
    return this.index !== TIMER_IDLE;
  }

  /** True once the greenlet has finished (returned, raised, or was killed). */
  ready(): boolean {
    return this.gstate >= GState.Dead;
  }

  /** @internal Dead, or detached for awaiting a foreign promise: it may not block any more. */
  get finished(): boolean {
    return this.gstate >= GState.Dead;
  }

  /** True if it finished without an error (a kill by GreenletExit counts as success). */
  successful(): boolean {
    return this.gstate === GState.Dead || this.gstate === GState.DeadUnstarted;
  }

  /** True once the greenlet has finished and will not run again. */
  get dead(): boolean {
    return this.gstate >= GState.Dead;
  }

  /** True if the greenlet has been started (scheduled or running) and is not dead. */
  get started(): boolean {
    return this.gstate === GState.Scheduled || this.gstate === GState.Started;
  }

  /** Scheduled by `startLater` / `spawnLater`, its start not due yet. @internal */
  get startsLater(): boolean {
    return this.gstate === GState.Scheduled && this.parkTarget instanceof Timer;
  }

  /** True if its body has begun to run. @internal */
  get hasRun(): boolean {
    return this.gstate === GState.Started || this.gstate === GState.Dead;
  }

  /** The return value once finished; the GreenletExit instance after a kill; undefined before. */
  get value(): T | GreenletExit | undefined {
    return this.gstate === GState.Dead || this.gstate === GState.DeadUnstarted ? (this.outcome as T | GreenletExit) : undefined;
  }

  /** The error it died with, or null. */
  get exception(): unknown {
    return this.gstate === GState.DeadFailed || this.gstate === GState.DeadUnstartedFailed ? this.outcome : null;
  }

  /** Whether it died with an error. */
  private get failed(): boolean {
    return this.gstate === GState.DeadFailed || this.gstate === GState.DeadUnstartedFailed;
  }

  /** @internal */
  markStarted(): void {
    this.gstate = GState.Started;
  }

  /** @internal */
  markFinished(outcome: unknown, failed: boolean): void {
    const ran = this.gstate === GState.Started;
    this.gstate = ran ? (failed ? GState.DeadFailed : GState.Dead) : failed ? GState.DeadUnstartedFailed : GState.DeadUnstarted;
    this.outcome = outcome;
  }

  override describe(): string {
    return this.name;
  }

  override toString(): string {
    const fname = this.body.name;
    return `<Greenlet "${this.name}"${fname ? `: ${fname}` : ''}>`;
  }

  // ------------------------------------------------------------------ starting

  /**
   * Schedules the greenlet to run as soon as the current one blocks. Starting twice does nothing.
   */
  start(): this {
    if (this.gstate !== GState.New) return this;
    this.gstate = GState.Scheduled;
    this.hub.schedule(startGreenlet, this);
    return this;
  }

  /** Schedules the greenlet to start after `seconds`. */
  startLater(seconds: number): this {
    if (this.gstate !== GState.New) return this;
    const ns = toNs(seconds);
    this.gstate = GState.Scheduled;
    const t = new Timer(startGreenlet, this);
    this.parkTarget = t;
    this.hub.addTimer(t, ns, PRIORITY_DEFAULT);
    return this;
  }

  /** @internal Runs the body (called by the hub, with this greenlet entered). */
  runBody(): void {
    this.gstate = GState.Started;
    let r: unknown;
    try {
      r = this.body(...this.args);
    } catch (e) {
      this.die(undefined, e, true);
      return;
    }
    if (r !== null && (typeof r === 'object' || typeof r === 'function') && typeof (r as PromiseLike<T>).then === 'function') {
      // Shared handlers, no closures per greenlet: the body's promise settles while its greenlet is
      // the running one (its last code ran, or the call it returned woke it), so rt.current is it.
      (r as PromiseLike<T>).then(bodyReturned, bodyThrew);
    } else {
      this.die(r as T, null, false);
    }
  }

  /**
   * @internal Sim mode: the greenlet awaited a promise the hub does not own. It dies with `error` now
   * (joiners wake); if its promise ever settles, its next blocking call throws the error again.
   */
  detachWith(error: Error): void {
    this.die(undefined, error, true);
  }

  /** @internal The body returned (or threw). */
  finish(value: unknown, error: unknown, failed: boolean): void {
    this.die(value as T | undefined, error, failed);
  }

  private die(value: T | undefined, error: unknown, failed: boolean): void {
    if (this.gstate >= GState.Dead) return;
    const hub = this.hub;
    if (failed && error instanceof GreenletExit) {
      this.markFinished(error, false);
    } else if (failed) {
      this.markFinished(error, true);
    } else {
      this.markFinished(value, false);
    }
    const bad = this.failed;
    hub.trace.record(K_EXIT, hub.clock, this.id, bad ? 0 : 1, bad ? errorCode(this.outcome) : NO_ERROR);
    if (bad && this.errorWatchers === 0) hub.reportError(this.outcome, this as Greenlet<unknown>);
    this.checkAndNotify();
    hub.greenletDone(this as Greenlet<unknown>);
  }

  // ------------------------------------------------------------------ waiting

  /**
   * Waits until the greenlet finishes, or `timeout` seconds pass. Never throws, returns nothing —
   * look at `ready()`, `value`, `exception` afterwards.
   */
  join(timeout?: number | null): Promise<void> {
    if (this.gstate >= GState.Dead) return Promise.resolve();
    // resolves with nothing, as gevent's returns None, whether it finished or timed out
    return this.hub.waitOn(this, R_JOIN, timeout, nothing) as Promise<unknown> as Promise<void>;
  }

  /**
   * The greenlet's value, waiting for it if needed; throws the greenlet's error if it failed.
   * With `block: false` on a running greenlet, or after `timeout` seconds, throws `Timeout`.
   */
  async get(options: GetOptions = {}): Promise<T> {
    if (this.gstate < GState.Dead) {
      if (options.block === false) throw new Timeout();
      this.errorWatchers++;
      try {
        const ok = await this.hub.waitOn(this, R_GET, options.timeout);
        if (!ok) throw new Timeout(options.timeout ?? null);
      } finally {
        this.errorWatchers--;
      }
    }
    if (this.failed) throw this.outcome;
    return this.outcome as T;
  }

  // ------------------------------------------------------------------ killing

  /**
   * Raises `exception` (GreenletExit by default) in the greenlet, through the hub's callback queue, and
   * by default waits for it to die (its `finally` blocks run first). Killing a greenlet that never
   * started means its body never runs; its links still fire.
   * @example
   * await g.kill();                       // GreenletExit, wait for death
   * await g.kill(new Error('stop'), { block: false });
   */
  async kill(exception: KillException = GreenletExit, options: KillOptions = {}): Promise<void> {
    if (this.gstate >= GState.Dead) return;
    if (options.block === false || this.gstate !== GState.Started) {
      this.killNoWait(toError(exception)); // (one that never started dies at once)
    } else {
      // gevent's kill waits inside the kill callback: the killer resumes right after the throw has run
      // its course (the greenlet died or blocked again), before anything queued meanwhile
      await killAndResume(this.hub, [this], () => toError(exception));
    }
    if (options.block !== false && this.gstate < GState.Dead) await this.join(options.timeout);
  }

  /**
   * @internal killall's first pass, gevent's `__cancel_start`: a greenlet scheduled to start will not
   * (it dies unstarted when its turn in the kill comes).
   */
  cancelStart(): void {
    if (this.gstate !== GState.Scheduled) return;
    if (this.parkTarget instanceof Timer) this.hub.cancelTimer(this.parkTarget);
    this.gstate = GState.New;
  }

  /** @internal Kill without waiting. */
  killNoWait(exception: Error): void {
    switch (this.gstate) {
      case GState.New:
      case GState.Scheduled: {
        if (this.parkTarget instanceof Timer) this.hub.cancelTimer(this.parkTarget);
        // never ran: dies at once, links still fire
        this.die(undefined, exception, true);
        return;
      }
      case GState.Started: {
        // one callback per kill, as gevent's run_callback(_kill, ...): the first kill is delivered first,
        // and a greenlet that survives it still gets the next
        this.hub.schedule(throwKill, { g: this, exception });
        return;
      }
      default: // dead
        return;
    }
  }

  /** @internal */
  deliverKill(exc: Error): void {
    if (this.gstate !== GState.Started) return;
    this.hub.throwInto(this as Greenlet<unknown>, exc);
  }

  // ------------------------------------------------------------------ links

  /**
   * Calls `callback(greenlet)` when this greenlet finishes, in the order links were added. As in
   * gevent, each call runs in a greenlet of its own, started at once (`getcurrent()` is that greenlet):
   * the callback may block, and an error in it is reported as that greenlet's, without stopping the
   * others. A link added to a finished greenlet fires on the next callback pass. (`rawlink` callbacks
   * run in the hub itself and must not block.)
   * @example
   * worker.link((g) => console.log(`${g.name} finished`));
   */
  link(callback: LinkCallback<this>): void {
    this.addLink(callback, LINK_ALWAYS, true);
  }

  /** Like `link`, but only if the greenlet finishes successfully. */
  linkValue(callback: LinkCallback<this>): void {
    this.addLink(callback, LINK_VALUE, true);
  }

  /**
   * Like `link`, but only if the greenlet dies with an error. The error then counts as handled: the
   * hub does not report it.
   */
  linkException(callback: LinkCallback<this>): void {
    this.addLink(callback, LINK_EXCEPTION, true);
  }

  /** @internal `linkException` run in the hub itself (the hub's own bookkeeping: it never blocks). */
  watchErrors(callback: LinkCallback<this>): void {
    this.addLink(callback, LINK_EXCEPTION, false);
  }

  /** A link firing `when` (always, on a value, on an error), in a greenlet of its own or in the hub. */
  private addLink(callback: LinkCallback<this>, when: number, spawned: boolean): void {
    if (typeof callback !== 'function') throw new TypeError(`Expected callable: ${String(callback)}`);
    const watchesErrors = when === LINK_EXCEPTION;
    const wrapper = Object.assign((g: this) => {
      if (when !== LINK_ALWAYS && (when === LINK_VALUE) !== g.successful()) return;
      if (spawned) spawnLink(callback as LinkCallback<Greenlet<unknown>>, g);
      else callback(g);
    }, { original: callback, watchesErrors });
    if (watchesErrors) this.errorWatchers++;
    this.rawlink(wrapper);
  }

  /** @internal Starts at once, from a hub callback: gevent's SpawnedLink switches into a new greenlet. */
  startNow(): void {
    if (this.gstate !== GState.New) return;
    this.gstate = GState.Scheduled;
    startGreenlet(this as Greenlet<unknown>);
  }

  /** Removes a link added by `link`, `linkValue` or `linkException`. */
  override unlink(callback: LinkCallback<this>): void {
    for (let n = this.links.head; n; n = n.next) {
      const v = n.value as unknown as { original?: unknown; watchesErrors?: boolean };
      if (v === callback || v.original === callback) {
        if (v.watchesErrors) this.errorWatchers--;
        this.links.remove(n);
        return;
      }
    }
  }
}
/** A wake map that drops the value (join resolves with nothing). */
function nothing(): undefined {
  return undefined;
}

brand(Greenlet, 'Greenlet');
// gevent's Greenlet notifies until no link is left: a link added during its pass joins that pass
(Greenlet.prototype as unknown as { lateLinksJoinPass: boolean }).lateLinksJoinPass = true;

const NO_ARGS: readonly unknown[] = Object.freeze([]);

function noopCallback(): void {}


/**
 * The greenlet whose async body just settled: the running one, not parked. (A greenlet detached for
 * awaiting a foreign promise in sim mode settles outside any run: rt.current is null then, and its
 * end is ignored, as the rest of it is.)
 */
function settledGreenlet(): Greenlet<unknown> | null {
  const g = rt.current;
  return g !== null && g.res === null && g.hub.running === g && !g.dead ? g : null;
}

function bodyReturned(value: unknown): void {
  settledGreenlet()?.finish(value, null, false);
}

function bodyThrew(error: unknown): void {
  settledGreenlet()?.finish(undefined, error, true);
}

function toError(exception: KillException): Error {
  if (typeof exception === 'function') return new exception();
  return exception;
}

function errorCode(e: unknown): number {
  return internName(e instanceof Error ? e.name : typeof e);
}

function startGreenlet(g: Greenlet<unknown>): void {
  if (!g.started || g.hasRun) return; // (a start cancelled by killall left it unstarted)
  const hub = g.hub;
  if (hub.holdSwitch !== null && hub.holdSwitch(g, startGreenlet, g, false)) return; // its host is paused
  hub.enter(g);
  hub.starting = g; // lets a second, un-awaited blocking call in the body's first part name the mistake
  g.runBody();
  hub.starting = null;
}

const LINK_ALWAYS = 0;
const LINK_VALUE = 1;
const LINK_EXCEPTION = 2;

/** Runs a `link` callback in a greenlet of its own, started now (called by the hub's notification pass). */
function spawnLink(callback: LinkCallback<Greenlet<unknown>>, source: Greenlet<unknown>): void {
  const hub = source.hub;
  const g = Greenlet.create(callback, [source], hub, hub.nextGreenletId(), `link of ${source.name}`, null);
  g.startNow();
}

function throwKill(k: { g: Greenlet<unknown>; exception: Error }): void {
  k.g.deliverKill(k.exception);
}

/** A blocking kill of `victims`: what its callback works through, and who waits for it. */
interface KillOrder {
  readonly victims: readonly Greenlet<unknown>[];
  readonly exception: () => Error;
  readonly killer: Greenlet<unknown>;
  next: number;
  describe(): string;
}

/**
 * gevent's `_kill` / `_killall3` with a waiter: one callback throws into each victim in turn — each
 * runs until it dies or blocks before the next is thrown into — then switches back to the killer, which
 * parks meanwhile. Resolves when the killer is back. @internal
 */
export function killAndResume(hub: Hub, victims: readonly Greenlet<unknown>[], exception: () => Error): Promise<unknown> {
  let killer: Greenlet<unknown>;
  try {
    killer = hub.currentForPark(victims.length === 1 ? 'Greenlet.kill()' : 'killall()');
  } catch (e) {
    // nobody can wait here (a hub callback): the kills still go out, as gevent's callback would
    for (const g of victims) g.killNoWait(exception());
    return Promise.reject(e);
  }
  for (const g of victims) g.cancelStart(); // none that has not run yet will run now (gevent's first pass)
  const order: KillOrder = {
    victims,
    exception,
    killer,
    next: 0,
    describe: () => (victims.length === 1 ? victims[0]!.name : `${victims.length} greenlets`),
  };
  hub.schedule(killStep, order);
  return hub.park(killer, R_KILL, order);
}

function killStep(k: KillOrder): void {
  const hub = k.killer.hub;
  while (k.next < k.victims.length) {
    const g = k.victims[k.next++]!;
    if (g.dead) continue;
    if (!g.hasRun) {
      g.killNoWait(k.exception()); // never ran: dies at once
      continue;
    }
    g.deliverKill(k.exception());
    // it runs now, until it dies or blocks; the next step goes first after that
    hub.scheduleFront(killStep, k);
    return;
  }
  const w = k.killer;
  // (a killer thrown into meanwhile — killed, timed out — has stopped waiting for this kill)
  if (w.parkTarget === k && w.res !== null) hub.wakeWaiter(w, undefined);
}

function currentGreenletOf(hub: Hub): Greenlet<unknown> | null {
  const g = rt.current;
  if (g !== null) return g.hub === hub ? g : null;
  return hub.main !== null && hub.implicitMain && rt.active !== hub ? hub.main : null;
}

// ------------------------------------------------------------------ module-level API

/**
 * Creates a greenlet running `fn(...args)` and schedules it; it runs once the caller blocks.
 * @example
 * const g1 = spawn(eat, 'egon');
 * const g2 = spawn(play, 'egon');
 * await joinall([g1, g2]);
 */
export function spawn<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Greenlet<Awaited<R>> {
  const g = new Greenlet<Awaited<R>>(fn as Body<Awaited<R>>, ...args);
  g.start();
  return g;
}

/**
 * Like `spawn`, but the greenlet starts after `seconds`.
 * @example
 * spawnLater(1.5, () => console.log('at 1.5 s'));
 */
export function spawnLater<A extends unknown[], R>(seconds: number, fn: (...args: A) => R, ...args: A): Greenlet<Awaited<R>> {
  const g = new Greenlet<Awaited<R>>(fn as Body<Awaited<R>>, ...args);
  g.startLater(seconds);
  return g;
}

/**
 * Blocks the current greenlet for `seconds` (default 0: yield to the other ready greenlets and
 * callbacks, going to the tail of the queue).
 * @example
 * await sleep(2); // exactly 2 virtual seconds later in sim mode
 */
export function sleep(seconds = 0): Promise<void> {
  const g = rt.current;
  return (g !== null ? g.hub : getHub()).sleep(seconds);
}

/**
 * The greenlet running now; module-level code is the default hub's `main`.
 * @example
 * spawn(() => console.log(getcurrent().name)); // 'Greenlet-1'
 */
export function getcurrent(): Greenlet<unknown> {
  const g = rt.current;
  if (g !== null) return g;
  const hub = getHub();
  if (hub.main !== null) return hub.main;
  throw new Error('getcurrent(): no greenlet is running (this is a hub callback)');
}
