/**
 * The hub: gevent's event loop, on a virtual clock (sim mode) or the real one (real mode).
 *
 * Scheduling follows gevent's hub: a FIFO queue of callbacks runs before timers; timers are ordered by
 * (deadline, priority, sequence); spawn and `sleep(0)` go through the callback queue; notifications
 * too. Greenlets are async functions parked on promises the hub owns ("counted parking"): exactly one
 * greenlet runs at a time, and when it blocks the hub hands control to the next one directly, with no
 * macrotask in between — so a simulated second costs only the work inside it.
 */
import { rt, env, getHub, defaultHub } from './runtime.js';
import { Timer, TimerHeap, TIMER_DUE, TIMER_IDLE, PRIORITY_DEFAULT, PRIORITY_TIMEOUT, SEQ_SPAN, type HubCallback, type TimerLike } from './timers.js';
import { Random } from './random.js';
import { Trace, defineKind, internName, nameOf } from './trace.js';
import { LoopExit, GreenletExit, codedError, type BlockedGreenlet } from './errors.js';
import { Greenlet } from './greenlet.js';
import type { Linkable, Link } from './linkable.js';
import type { ListNode } from './list.js';
import { keepShapes, renewShapes, buildingShapes } from './shapes.js';

/** `sim`: virtual time and the in-memory network. `real`: real time and real TCP. */
export type Mode = 'sim' | 'real';

/**
 * Called when a greenlet dies with an error nobody was waiting for, and for errors in callbacks.
 * `greenlet` is null for errors raised in hub callbacks (links).
 */
export type Reporter = (error: unknown, greenlet: Greenlet<unknown> | null, hub: Hub) => void;

/** Options of the simulated network, read by the network layer (see DESIGN.md "Network defaults"). */
export interface NetworkOptions {
  /** One-way delivery latency between distinct hosts, seconds (default 0.001). */
  latency?: number;
  /** One-way delivery latency on loopback, seconds (default 0: same virtual instant). */
  loopbackLatency?: number;
  /** Receive window per socket, bytes (default 65536). */
  window?: number;
  /** Extra options for other layers. */
  [option: string]: unknown;
}

/**
 * Options of a hub: mode, seed, tracing, error reporting, and the network's options.
 * @example
 * new Hub({ mode: 'sim', seed: 42, trace: true, latency: 0.005 });
 */
export interface HubOptions extends NetworkOptions {
  /** Default: `GEVENTJS_MODE` from the environment, else `'sim'`. */
  mode?: Mode;
  /** Seed of the hub's PRNG. Default: `GEVENTJS_SEED` from the environment, else 1. */
  seed?: number;
  /** Keep the full event list (`hub.traceEvents()`); the hash is always kept. */
  trace?: boolean;
  /** Where errors nobody waits for go; default prints the stack and a one-line summary on stderr. */
  reporter?: Reporter;
  /** Seconds greenlets still alive when main returns get to finish after GreenletExit (default 1). */
  shutdownTimeout?: number;
  /**
   * Sim mode: take the ready callbacks (wakes, starts, notifications) and the timers due at one
   * instant in an order drawn from the seeded PRNG instead of FIFO (madsim-style), to explore
   * interleavings. Off by default: gevent's order is FIFO.
   */
  perturb?: boolean;
}

/**
 * Options of `hub.run()`.
 * @example
 * await new Hub().run(undefined, { until: 10 }); // run the loop for 10 virtual seconds
 */
export interface RunOptions {
  /** Stop at this hub time (seconds): main, if still running, gets GreenletExit. */
  until?: number;
}

// Trace kinds of the core.
/** @internal */ export const K_SPAWN = defineKind('spawn', { a: ['parent', 'g'], s: 'name' });
/** @internal */ export const K_SWITCH = defineKind('switch', { a: ['reason', 'name'] });
/** @internal */ export const K_PARK = defineKind('park', { a: ['reason', 'name'] });
/** @internal */ export const K_THROW = defineKind('throw', { a: ['error', 'name'] });
/** @internal */ export const K_EXIT = defineKind('exit', { a: ['ok', 'int'], b: ['error', 'name'] });
const K_LOOPEXIT = defineKind('loopexit', { a: ['blocked', 'int'] });
const K_CHARGE = defineKind('charge', { a: ['g', 'g'] });
const K_RUN = defineKind('run', { a: ['seed', 'int'], s: 'mode' });
const K_FOREIGN = defineKind('foreign-await');

const R_SLEEP = internName('sleep');
const R_EXTERNAL = internName('external');
const R_IDLE = internName('idle');
const R_POLL = internName('poll');
const R_WAIT_ALL = internName('wait');

const NS = 1e9;
/**
 * Events the hub dispatches between yields to the host loop in real mode; in sim mode, between looks
 * at the wall clock to see whether its slice is over.
 */
const YIELD_EVERY = 4096;
/**
 * Sim mode: wall-clock milliseconds a busy hub keeps the turn before it yields to the host loop (host
 * timers and I/O, Ctrl-C, a page's input and painting): a frame at 60 Hz. A yield costs far more than
 * its macrotask hop (~1 µs): V8 runs its pending tasks there, scavenges among them (~70 µs a yield on
 * average). Measured on the echo benchmark, 50 clients × 1000: a yield every 4,096 events (every ~2.5
 * ms) made it about 4% slower than never yielding; a 16 ms slice, about 1.5%. At 5,000 clients it
 * gained 5%.
 */
const SLICE_MS = 16;
/** Switches into one greenlet at one virtual instant before the hub charges virtual time. */
const SPIN_LIMIT = 10_000;
/** Virtual time charged to such a loop, ns. */
const SPIN_CHARGE_NS = 1e6;
/** Real mode: look at timers and I/O at least this often while callbacks keep coming, ms. */
const REAL_POLL_MS = 5;

const enum State {
  New,
  Running,
  ShuttingDown,
  Closed,
}

/** Converts user seconds to integer nanoseconds, rejecting what is not a number. @internal */
export function toNs(seconds: number, what = 'seconds'): number {
  if (typeof seconds !== 'number' || Number.isNaN(seconds)) {
    throw new TypeError(`${what} must be a number, got ${typeof seconds === 'number' ? 'NaN' : typeof seconds}`);
  }
  if (seconds <= 0) return 0;
  if (seconds === Infinity) return Infinity;
  return Math.round(seconds * NS);
}

// A promise executor that allocates no closure: the resolving functions land in these slots.
let slotRes: ((v: unknown) => void) | null = null;

function capture(res: (v: unknown) => void): void {
  slotRes = res;
}

/**
 * What a greenlet's `wakeMap` returns when the wake was for nothing (say, data that a reset took away):
 * the greenlet stays parked, on whatever it was parked on. @internal
 */
export const STAY_PARKED: unique symbol = Symbol('geventjs.stayParked');

/**
 * Real mode: every timer of a batch was due when the hub looked, whatever microseconds apart their
 * deadlines were, so they fire by priority first, as libev runs its pending watchers — a `sleep` before
 * a `Timeout` that expired in the same pass (gevent's Timeout has the lower priority). A stable
 * partition of `due[0, n)`, which comes in (deadline, priority, sequence) order. (In sim mode a batch
 * is one instant, where that order already puts priority first.)
 */
function orderByPriority(due: (TimerLike | undefined)[], n: number): void {
  let timeouts: TimerLike[] | null = null;
  let w = 0;
  for (let i = 0; i < n; i++) {
    const t = due[i]!;
    if (t.gen >= PRIORITY_TIMEOUT * SEQ_SPAN) (timeouts ??= []).push(t);
    else due[w++] = t;
  }
  if (timeouts !== null) for (const t of timeouts) due[w++] = t;
}

/**
 * A greenlet alive but never run when main returned, and why: `start()` was never called; its
 * `startLater` / `spawnLater` start was still due; or main never blocked after spawning it.
 * @internal
 */
export interface NeverRan {
  name: string;
  why: 'never started' | 'start was still due' | 'never switched to';
}

/** A thenable that rejects with `error`: resolving a park with it throws `error` into the greenlet. @internal */
export function rejection(error: unknown): PromiseLike<never> {
  return {
    then(_onValue, onError) {
      onError?.(error);
      return undefined as unknown as PromiseLike<never>;
    },
  };
}

/**
 * The reporter hubs use unless given one: the error's stack, then `<hub time> <greenlet> failed with
 * <ErrorName>`, on stderr (console.error). Wrap it to count or filter reports.
 * @example
 * const hub = new Hub({ reporter: (e, g, h) => { failures++; defaultReporter(e, g, h); } });
 */
export function defaultReporter(error: unknown, greenlet: Greenlet<unknown> | null, hub: Hub): void {
  const stack = error instanceof Error && error.stack ? error.stack : String(error);
  const who = greenlet ? greenlet.name : 'hub callback';
  const name = error instanceof Error ? error.name : typeof error;
  console.error(`${stack}\n${hub.now().toFixed(6)} ${who} failed with ${name}`);
}

/**
 * The event loop. One per program in gevent; here one per run, and several may run at once in one
 * process (each sees only its own greenlets).
 * @example
 * const hub = new Hub({ mode: 'sim', seed: 7 });
 * const v = await hub.run(async () => { await sleep(2); return hub.now(); }); // v === 2
 */
export class Hub {
  readonly mode: Mode;
  readonly seed: number;
  /** The seeded PRNG: the only source of chance in a simulation. */
  readonly random: Random;
  readonly trace: Trace;
  readonly options: HubOptions;
  readonly id: number;
  /** Where errors nobody waits for are reported. */
  reporter: Reporter;

  /** Hub time in integer nanoseconds (virtual in sim mode, since the hub's start in real mode). @internal */
  clock = 0.5;
  /** Counts changes of the virtual clock (a small integer, cheap to compare on every switch). @internal */
  epoch = 0;
  /** The greenlet the hub switched into and that has not blocked since; null while the hub decides. @internal */
  running: Greenlet<unknown> | null = null;
  /**
   * The simulation layer's gate for paused hosts: asked before a parked greenlet is woken or thrown
   * into and before a new one starts. True means `g` must not run now — the gate keeps `fn(arg)` and
   * queues it when the host resumes. Null (the usual case) when no host is paused. @internal
   */
  holdSwitch: ((g: Greenlet<unknown>, fn: HubCallback, arg: unknown, isThrow: boolean) => boolean) | null = null;
  /** A linkable in the middle of a notification pass. @internal */
  notifier: Linkable | null = null;
  /** Every greenlet spawned and not yet dead, in spawn order. @internal */
  readonly greenlets = new Set<Greenlet<unknown>>();
  /** The main greenlet (of `run`, or the module-level program for the default hub). @internal */
  main: Greenlet<unknown> | null = null;
  /** @internal */ implicitMain = false;
  /** The greenlet whose body is starting: its first synchronous part runs inside a hub callback. @internal */
  starting: Greenlet<unknown> | null = null;

  private state = State.New;
  /** The loop must not run: the hub is not running, or (sim) an adopted promise is pending. */
  private halted = true;
  /** mode === 'sim', as a field read on every switch */
  private readonly sim: boolean;
  private readonly perturb: boolean;
  /** Park times by greenlet slot (kept out of the greenlet objects: a double field there is boxed). @internal */
  parkTimes = new Float64Array(64);
  private readonly freeSlots: number[] = [];
  private slotCount = 0;
  private seq = 0;
  private idCounter = 0;
  private readonly timers = new TimerHeap();
  private due: (TimerLike | undefined)[] = [];
  private dueCount = 0;
  private dueIndex = 0;
  /** I/O that became ready at this instant (sim mode's deliveries), for the next poll: see scheduleIo. */
  private ioQueue: (TimerLike | undefined)[] = [];
  private ioCount = 0;
  // the FIFO callback queue, a ring of (fn, arg) pairs
  private qFn: (HubCallback | undefined)[] = new Array<undefined>(1024);
  private qArg: unknown[] = new Array<undefined>(1024);
  private qHead = 0;
  private qTail = 0;
  private qMask = 1023;

  private dispatching = false;
  private waitingTurn = false;
  private yieldPending = false;
  private forcePoll = false;
  private sinceYield = 0;
  /** When this hub began to run or last yielded (wall-clock ms): sim mode yields once SLICE_MS have passed. */
  private sliceStart = 0;
  private callbacksSincePoll = 0;
  private lastRealPoll = 0.5;
  private watchArmed = false;
  private readonly watchFn: () => void;
  private readonly continueFn: () => void;
  private readonly realTimerFn: () => void;
  private realTimer: unknown = null;
  private realTimerAt = Infinity;
  private readonly realEpoch: number;
  /** sim mode: adopted promises pending; the hub stands still until they settle */
  private frozen = 0;
  /** real mode: things outside the hub that may wake a greenlet (sockets, adopted promises) */
  private externalSources = 0;
  private readonly idleWaiters: Greenlet<unknown>[] = [];
  private readonly drainWaiters: Greenlet<unknown>[] = [];
  private runResolve: ((v: unknown) => void) | null = null;
  private runReject: ((e: unknown) => void) | null = null;
  private endResolve: (() => void) | null = null;
  private endPromise: Promise<void> | null = null;
  private shutdownTimer: Timer | null = null;
  private netInstance: unknown = null;
  private readonly closers: (() => void)[] = [];
  private readonly unstarted: NeverRan[] = [];
  private holdKicks = 0;

  constructor(options: HubOptions = {}) {
    this.options = options;
    const mode = options.mode ?? (env('GEVENTJS_MODE') as Mode | undefined) ?? 'sim';
    if (mode !== 'sim' && mode !== 'real') {
      throw new TypeError(`mode must be 'sim' or 'real', got ${JSON.stringify(mode)}`);
    }
    this.mode = mode;
    this.sim = mode === 'sim';
    this.perturb = this.sim && options.perturb === true;
    const seedText = env('GEVENTJS_SEED');
    const seed = options.seed ?? (seedText !== undefined && seedText !== '' ? Number(seedText) : 1);
    this.random = new Random(seed);
    this.seed = seed;
    this.trace = new Trace(options.trace === true);
    this.reporter = options.reporter ?? defaultReporter;
    this.id = buildingShapes() ? 0 : ++rt.hubCount; // a keeper (see core/shapes.ts) takes no id
    this.realEpoch = rt.host.now();
    this.clock = 0;
    this.watchFn = () => this.watchdog();
    this.continueFn = () => {
      this.yieldPending = false;
      this.sliceStart = rt.host.now();
      this.requestTurn();
    };
    this.realTimerFn = () => {
      this.realTimer = null;
      this.realTimerAt = Infinity;
      this.kick();
    };
  }

  // ---------------------------------------------------------------- public API

  /** Hub time in seconds: virtual in sim mode; real seconds since the hub was created in real mode. */
  now(): number {
    if (this.mode === 'real') this.updateRealClock();
    return this.clock / NS;
  }

  /** The running hash of every event so far (16 hex digits): same program and seed, same hash. */
  traceHash(): string {
    return this.trace.hash();
  }

  /** The full event list; needs `{ trace: true }`. */
  traceEvents(): ReturnType<Trace['events']> {
    return this.trace.events();
  }

  /** Names of the greenlets that were spawned but never got to run before main returned. */
  get neverRan(): readonly string[] {
    return this.unstarted.map((u) => u.name);
  }

  /** The same, with why each never ran (the CLI warns with it). @internal */
  get neverRanDetails(): readonly NeverRan[] {
    return this.unstarted;
  }

  /** Whether the hub has finished (its run returned) and can run nothing more. */
  get closed(): boolean {
    return this.state === State.Closed;
  }

  /** The network this hub's sockets use (in-memory in sim mode, TCP in real mode). */
  get net(): unknown {
    if (this.netInstance === null) {
      if (rt.netFactory === null) throw new Error('no network is installed: import geventjs, not its core alone');
      this.netInstance = rt.netFactory(this);
    }
    return this.netInstance;
  }

  /** Registers a function called when the hub closes (sockets, servers). Returns its remover. */
  onClose(fn: () => void): () => void {
    this.closers.push(fn);
    return () => {
      const i = this.closers.indexOf(fn);
      if (i >= 0) this.closers.splice(i, 1);
    };
  }

  /**
   * Runs `main` as the main greenlet and resolves with its value (or rejects with its error). When main
   * returns, greenlets still alive are killed with GreenletExit (their `finally` blocks run) and sockets
   * are closed. Without `main`, runs until nothing is left to do (or until `until`).
   * @example
   * const hub = new Hub({ seed: 3 });
   * await hub.run(async () => { spawn(worker); await sleep(1); });
   */
  run<T>(main?: () => T | Promise<T>, options: RunOptions = {}): Promise<Awaited<T>> {
    if (this.state !== State.New) {
      return Promise.reject(new Error(this.state === State.Closed ? 'this hub has finished; create a new Hub' : 'this hub is already running'));
    }
    if (main !== undefined && typeof main !== 'function') {
      return Promise.reject(new TypeError(`run(main): main must be a function, got ${typeof main}`));
    }
    const promise = new Promise<Awaited<T>>((res, rej) => {
      this.runResolve = res as (v: unknown) => void;
      this.runReject = rej;
    });
    this.state = State.Running;
    this.sliceStart = rt.host.now();
    this.updateHalted();
    this.trace.record(K_RUN, this.clock, -1, this.seed % 2147483647, 0, this.mode);
    // nothing runs before both main and the deadline are in place (a kick would run the loop, and time, at once)
    this.holdKicks++;
    try {
      if (main !== undefined) {
        const g = this.createMain(main as () => unknown);
        g.start();
      }
      if (options.until !== undefined) {
        const t = new Timer(untilReached, this);
        this.addTimer(t, toNs(options.until, 'until'), PRIORITY_DEFAULT);
      }
    } finally {
      this.holdKicks--;
    }
    this.requestTurn();
    return promise;
  }

  /**
   * Adopts a promise the hub does not own, so a greenlet can wait on real I/O (a file, `fetch`).
   * In sim mode the hub stands still (virtual time does not move) until the promise settles, and the
   * greenlet resumes as if the call had been instantaneous; in real mode other greenlets run meanwhile.
   * A plain `await` of such a promise in sim mode is reported as an error naming the greenlet.
   * @example
   * const text = await getHub().external(fs.promises.readFile('config.json', 'utf8'));
   */
  external<T>(promise: PromiseLike<T>): Promise<T> {
    const g = this.currentForPark('external()');
    // the park's target is this token: a settle that arrives after g stopped waiting (killed) is ignored
    const token: ExternalToken = { g, ok: false, value: undefined, describe: () => 'a promise' };
    if (this.mode === 'sim') {
      this.frozen++;
      this.updateHalted();
    } else {
      this.externalSources++;
    }
    const settle = (ok: boolean, v: unknown): void => {
      if (this.mode === 'sim') {
        this.frozen--;
        this.updateHalted();
      } else {
        this.externalSources--;
      }
      if (this.state === State.Closed || g.parkTarget !== token || g.res === null) return;
      token.ok = ok;
      token.value = v;
      if (this.mode === 'sim') this.scheduleFront(wakeExternal, token);
      else this.schedule(wakeExternal, token);
      this.kick();
    };
    promise.then(
      (v) => settle(true, v),
      (e) => settle(false, e),
    );
    return this.park(g, R_EXTERNAL, token) as Promise<T>;
  }

  private updateHalted(): void {
    this.halted = this.frozen > 0 || this.state === State.Closed || this.state === State.New;
  }

  /** Names given to greenlets (most keep `Greenlet-N` and are not here). */
  private readonly names = new WeakMap<Greenlet<unknown>, string>();

  /** @internal */
  nameGreenlet(g: Greenlet<unknown>, name: string): void {
    this.names.set(g, name);
  }

  /** @internal */
  greenletName(g: Greenlet<unknown>): string | undefined {
    return this.names.get(g);
  }

  /** Greenlet slots index per-greenlet numbers kept in typed arrays (park times). @internal */
  allocSlot(): number {
    const free = this.freeSlots.pop();
    if (free !== undefined) return free;
    const slot = this.slotCount++;
    if (slot === this.parkTimes.length) {
      const bigger = new Float64Array(slot * 2);
      bigger.set(this.parkTimes);
      this.parkTimes = bigger;
    }
    return slot;
  }

  /** @internal */
  freeSlot(slot: number): void {
    this.freeSlots.push(slot);
  }

  /** Counts an outside source (a real socket with a waiting greenlet) that may wake a greenlet. @internal */
  addExternalSource(delta: number): void {
    this.externalSources += delta;
  }

  // ---------------------------------------------------------------- greenlets (internal API)

  /** @internal */
  nextGreenletId(): number {
    return ++this.idCounter;
  }

  /** @internal Creates the main greenlet for run(). */
  private createMain(fn: () => unknown): Greenlet<unknown> {
    const g = Greenlet.create(fn, [], this, 0, 'main', null);
    g.errorWatchers++; // main's error goes to the caller of run(), not to the reporter
    this.main = g;
    return g;
  }

  /**
   * The greenlet making a blocking call: the running greenlet of this hub, or — for module-level code
   * of the default hub — its implicit main greenlet. @internal
   */
  currentForPark(what: string): Greenlet<unknown> {
    const g = rt.current;
    if (g !== null) {
      if (g.hub !== this) throw new Error(`${what}: ${g.name} belongs to another hub`);
      return g;
    }
    if (rt.active === this && this.dispatching) {
      const s = this.starting;
      if (s !== null && s.res !== null) {
        // the first synchronous part of a body blocked twice: the first call's promise was dropped
        throw new Error(
          `${what}: ${s.name} is already blocked in ${nameOf(s.parkReason)}: a blocking call was not awaited (every blocking geventjs call returns a Promise)`,
        );
      }
      throw new Error(`${what}: cannot block inside a hub callback (a rawlink or a timer callback)`);
    }
    if (this.implicitMain && this.main !== null && this.main.res === null) return this.main;
    if (this.state === State.Closed) throw new Error(`${what}: the hub has finished`);
    throw new Error(`${what}: blocking call outside a greenlet of this hub; use run() or spawn()`);
  }

  /** @internal Registers a new greenlet (spawn). */
  registerGreenlet(g: Greenlet<unknown>, parent: Greenlet<unknown> | null): void {
    this.greenlets.add(g);
    this.trace.record(K_SPAWN, this.clock, g.id, parent === null ? -1 : parent.id, 0, g.name);
  }

  /**
   * Parks greenlet `g` (which must be the caller) with a reason; the caller set up whatever wakes it.
   * Returns the promise it awaits. @internal
   */
  park(g: Greenlet<unknown>, reason: number, target?: unknown): Promise<unknown> {
    if (g.res !== null) {
      throw new Error(
        `${g.name} is already blocked in ${nameOf(g.parkReason)}: a blocking call was not awaited (every blocking geventjs call returns a Promise)`,
      );
    }
    if (g.finished) throw g.exception; // detached (it awaited a foreign promise): it may not block again
    const p = new Promise(capture);
    g.res = slotRes;
    g.parkReason = reason;
    g.parkTarget = target;
    this.parkTimes[g.slot] = this.clock;
    // not hashed: the switch that ends this park carries the reason (kept in the full list for timelines)
    if (this.trace.observed) this.trace.note(K_PARK, this.clock, g.id, reason, 0);
    if (this.running === g) {
      this.running = null;
      if (rt.current === g) rt.current = null;
    }
    if (rt.active === this) this.dispatch();
    else this.requestTurn();
    return p;
  }

  /** @internal A greenlet finished (value or error); links notify through the callback queue. */
  greenletDone(g: Greenlet<unknown>): void {
    this.greenlets.delete(g);
    this.freeSlot(g.slot);
    if (this.running === g) {
      this.running = null;
      if (rt.current === g) rt.current = null;
    }
    if (g.res !== null) {
      // finished while a blocking call was pending: it was not awaited
      this.reportError(
        new Error(`${g.name} returned while blocked in ${nameOf(g.parkReason)}: a blocking call was not awaited`),
        g,
      );
      this.unpark(g);
      g.res = null;
    }
    if (g === this.main && this.state === State.Running) this.beginShutdown();
    else if (this.state === State.ShuttingDown && this.greenlets.size === 0) this.completeRun();
    // (not while shutdown is still queueing its GreenletExits: an unstarted greenlet dies in there)
    if (this.state !== State.Closed && this.holdKicks === 0) {
      if (rt.active === this) this.dispatch();
      else this.requestTurn();
    }
  }

  /** Removes whatever `g` is parked on (a waiter node, its timer). @internal */
  private unpark(g: Greenlet<unknown>): void {
    g.wakeMap = null;
    const node = g.parkNode;
    if (node !== null) {
      g.parkNode = null;
      node.list?.remove(node);
    }
    if (g.index !== TIMER_IDLE) this.cancelTimer(g); // a greenlet is its own timer
    const cleanup = g.parkCleanup;
    if (cleanup !== null) {
      g.parkCleanup = null;
      cleanup(g);
    }
  }

  /** Switches into parked greenlet `g`, resolving its blocking call with `value`. @internal */
  wakeWaiter(g: Greenlet<unknown>, value: unknown): void {
    const res = g.res;
    if (res === null) return;
    if (this.holdSwitch !== null && this.holdSwitch(g, redoWake, { g, value }, false)) return;
    const map = g.wakeMap;
    if (map !== null) {
      // the blocking call computes its result here, in the hub, so the greenlet resumes with it
      value = map(g, value);
      if (value === STAY_PARKED) return;
    }
    this.unpark(g);
    g.res = null;
    this.enter(g);
    res(value);
  }

  /** Throws `error` into parked greenlet `g`. Returns false if it was not parked. @internal */
  throwInto(g: Greenlet<unknown>, error: unknown): boolean {
    const res = g.res;
    if (res === null) return false;
    if (this.holdSwitch !== null && this.holdSwitch(g, redoThrow, { g, value: error }, true)) return true;
    const reason = g.parkReason;
    if ((reason === R_SLEEP && g.index === TIMER_IDLE) || reason === R_IDLE || reason === R_WAIT_ALL) {
      this.dropQueuedWake(g);
    }
    this.unpark(g);
    g.res = null;
    this.trace.record(K_THROW, this.clock, g.id, internName(error instanceof Error ? error.name : 'value'), 0);
    this.enter(g);
    res(rejection(error));
    return true;
  }

  /**
   * Cancels a wake already queued for `g` (by `sleep(0)`, `idle()`, `wait()`) when `g` is thrown into
   * instead: left in the queue, it would end g's *next* blocking call at once. gevent's Waiter ignores
   * such a late switch the same way.
   */
  private dropQueuedWake(g: Greenlet<unknown>): void {
    for (let i = this.qHead; i !== this.qTail; i = (i + 1) & this.qMask) {
      if (this.qArg[i] === g && (this.qFn[i] === wakeSleeper || this.qFn[i] === wakeNotified)) {
        this.qFn[i] = noop;
        return;
      }
    }
  }

  /** @internal Marks `g` as the running greenlet. */
  enter(g: Greenlet<unknown>): void {
    if (this.running !== null) {
      throw new Error(`geventjs internal error: switch into ${g.name} while ${this.running.name} runs`);
    }
    this.running = g;
    if (this.sim) {
      if (g.spinEpoch !== this.epoch) {
        g.spinEpoch = this.epoch;
        g.spins = 0;
      } else if (++g.spins >= SPIN_LIMIT) {
        // a loop that never sleeps: charge it virtual time so timers can fire under it
        g.spins = 0;
        this.clock += SPIN_CHARGE_NS;
        this.epoch++;
        this.forcePoll = true;
        this.trace.record(K_CHARGE, this.clock, -1, g.id, 0);
      }
      if (!this.watchArmed) {
        this.watchArmed = true;
        rt.host.macrotask(this.watchFn);
      }
    }
    this.trace.record(K_SWITCH, this.clock, g.id, g.parkReason, 0);
    if (g === this.main && this.implicitMain) {
      // module-level code runs outside the turn: other hubs may take theirs meanwhile
      rt.current = null;
      this.releaseTurn();
    } else {
      rt.current = g;
    }
  }

  // ---------------------------------------------------------------- callbacks and timers

  /**
   * Queues `fn(arg)` at the tail of the hub's FIFO callback queue. Safe from anywhere: from a greenlet,
   * a hub callback, or outside the hub (a real socket event), in which case the hub wakes up.
   * @internal
   */
  schedule(fn: HubCallback, arg: unknown): void {
    let tail = this.qTail;
    this.qFn[tail] = fn;
    this.qArg[tail] = arg;
    tail = (tail + 1) & this.qMask;
    this.qTail = tail;
    if (tail === this.qHead) this.growQueue();
    if (this.running === null && !this.dispatching) this.kick();
  }

  /**
   * Queues `t` as I/O that became ready now: it fires at the hub's next poll, once the callback queue
   * is empty, ahead of the timers due then — as gevent's loop runs its callbacks before it polls, and
   * libev invokes the I/O a poll reports before the timers that expired. Sim mode's network delivers
   * through it, so a reader wakes after the callbacks its sender queued (an `Event.set()`, a
   * `sleep(0)`), as in gevent. `t` must not be queued already. @internal
   */
  scheduleIo(t: TimerLike): void {
    t.index = TIMER_DUE; // (cancelTimer makes it idle, and the poll's batch then skips it)
    this.ioQueue[this.ioCount++] = t;
    if (this.running === null && !this.dispatching) this.kick();
  }

  /** Queues `fn(arg)` at the head of the callback queue. @internal */
  scheduleFront(fn: HubCallback, arg: unknown): void {
    const head = (this.qHead - 1) & this.qMask;
    this.qHead = head;
    this.qFn[head] = fn;
    this.qArg[head] = arg;
    if (head === this.qTail) this.growQueue();
  }

  private growQueue(): void {
    // the ring is full (head === tail after a push): unroll it into arrays twice the size
    const n = this.qFn.length;
    const fns = new Array<HubCallback | undefined>(n * 2);
    const args = new Array<unknown>(n * 2);
    for (let i = 0; i < n; i++) {
      const j = (this.qHead + i) & this.qMask;
      fns[i] = this.qFn[j];
      args[i] = this.qArg[j];
    }
    this.qFn = fns;
    this.qArg = args;
    this.qHead = 0;
    this.qTail = n;
    this.qMask = n * 2 - 1;
  }

  /** Schedules timer `t` to fire `ns` nanoseconds from now. @internal */
  addTimer(t: TimerLike, ns: number, priority: number): void {
    if (t.index !== TIMER_IDLE) this.cancelTimer(t);
    if (this.mode === 'real') this.updateRealClock();
    const deadline = this.clock + ns;
    if (deadline === Infinity) return; // never fires
    this.timers.push(t, deadline, priority * SEQ_SPAN + ++this.seq);
    if (this.running === null && !this.dispatching) this.kick();
  }

  /** Cancels timer `t` if it is scheduled or due. @internal */
  cancelTimer(t: TimerLike): void {
    if (t.index >= 0) this.timers.remove(t);
    else t.index = TIMER_IDLE; // due in the current batch: the batch skips it
  }

  // ---------------------------------------------------------------- blocking primitives of the core

  /** @internal `sleep(seconds)` for the current greenlet. */
  sleep(seconds: number): Promise<void> {
    const g0 = rt.current;
    if (
      g0 !== null &&
      this.running === g0 &&
      this.sim &&
      typeof seconds === 'number' &&
      seconds > 0 &&
      seconds < Infinity &&
      g0.res === null &&
      g0.index === TIMER_IDLE
    ) {
      // the common case, inlined: a running greenlet sleeps on the virtual clock (same steps as below)
      g0.fn = wakeSleeper;
      this.timers.push(g0, this.clock + Math.round(seconds * NS), ++this.seq);
      const p = new Promise(capture);
      g0.res = slotRes;
      g0.parkReason = R_SLEEP;
      g0.parkTarget = undefined;
      this.parkTimes[g0.slot] = this.clock;
      if (this.trace.observed) this.trace.note(K_PARK, this.clock, g0.id, R_SLEEP, 0);
      this.running = null;
      rt.current = null;
      if (rt.active === this) this.dispatch();
      else this.requestTurn();
      return p as Promise<void>;
    }
    const ns = toNs(seconds);
    const g = this.currentForPark('sleep()');
    if (ns === 0) {
      this.schedule(wakeSleeper, g);
    } else if (ns !== Infinity) {
      // the greenlet is its own timer: waking it touches one object
      g.fn = wakeSleeper;
      this.addTimer(g, ns, PRIORITY_DEFAULT);
    }
    return this.park(g, R_SLEEP) as Promise<void>;
  }

  /**
   * Parks the current greenlet on `linkable` until it notifies (true) or `seconds` pass (false).
   * @internal
   */
  waitOn(linkable: Linkable, reason: number, seconds: number | null | undefined, wakeMap: Greenlet<unknown>['wakeMap'] = null): Promise<boolean> {
    const g = this.currentForPark(nameOf(reason));
    const ns = seconds === null || seconds === undefined ? Infinity : toNs(seconds, 'timeout');
    g.wakeMap = wakeMap;
    g.parkNode = linkable.addWaiter(g);
    if (ns !== Infinity) this.armWaitTimer(g, ns);
    return this.park(g, reason, linkable) as Promise<boolean>;
  }

  /** Arms `g`'s timer to wake it with `false` after `ns`. @internal */
  armWaitTimer(g: Greenlet<unknown>, ns: number): void {
    // (a zero timeout still lets ready callbacks run first, as gevent's timer at "now" does)
    g.fn = wakeTimedOut;
    this.addTimer(g, ns, PRIORITY_TIMEOUT); // a blocking call's timeout is a gevent Timeout
  }

  /**
   * @internal Parks the current greenlet until the hub's next poll, as an I/O watcher started now first
   * fires there (after the callbacks queued meanwhile). StreamServer resumes accepting this way when
   * its pool frees a place, as gevent's server restarts its listener's watcher.
   */
  nextPoll(what: string): Promise<void> {
    const g = this.currentForPark(what);
    g.fn = wakeSleeper;
    this.scheduleIo(g);
    return this.park(g, R_POLL) as Promise<void>;
  }

  /** @internal `idle()`: wakes when the callback queue is empty, before time moves on. */
  idle(): Promise<void> {
    const g = this.currentForPark('idle()');
    this.idleWaiters.push(g);
    g.parkCleanup = removeIdleWaiter;
    return this.park(g, R_IDLE) as Promise<void>;
  }

  /** @internal `wait()` with no objects: wakes when the hub has nothing else to do. */
  waitDrained(seconds: number | null | undefined): Promise<boolean> {
    const g = this.currentForPark('wait()');
    this.drainWaiters.push(g);
    g.parkCleanup = removeDrainWaiter;
    const ns = seconds === null || seconds === undefined ? Infinity : toNs(seconds, 'timeout');
    if (ns !== Infinity) this.armWaitTimer(g, ns);
    return this.park(g, R_WAIT_ALL) as Promise<boolean>;
  }

  /** @internal */
  removeFrom(list: Greenlet<unknown>[], g: Greenlet<unknown>): void {
    const i = list.indexOf(g);
    if (i >= 0) list.splice(i, 1);
  }

  /** @internal */
  get idleList(): Greenlet<unknown>[] {
    return this.idleWaiters;
  }
  /** @internal */
  get drainList(): Greenlet<unknown>[] {
    return this.drainWaiters;
  }

  // ---------------------------------------------------------------- errors

  /** Reports an error through the reporter; never throws. @internal */
  reportError(error: unknown, g: Greenlet<unknown> | null): void {
    try {
      this.reporter(error, g, this);
    } catch (e) {
      try {
        console.error('geventjs: the error reporter failed:', e, 'while reporting', error);
      } catch {
        /* nothing left to do */
      }
    }
  }

  /** The LoopExit describing every blocked greenlet. @internal */
  makeLoopExit(): LoopExit {
    const blocked: BlockedGreenlet[] = [];
    const list = [...this.greenlets];
    if (this.main !== null && !list.includes(this.main)) list.unshift(this.main);
    list.sort((a, b) => (a === this.main ? -1 : b === this.main ? 1 : 0));
    for (const g of list) {
      if (g.res === null) continue;
      blocked.push({ greenlet: g.name, waitingOn: describeWait(g), since: this.parkTimes[g.slot]! / NS });
    }
    return new LoopExit(blocked);
  }

  // ---------------------------------------------------------------- the loop

  /** Takes the turn (one hub dispatches at a time in a realm) and dispatches. @internal */
  requestTurn(): void {
    if (this.state === State.Closed || this.state === State.New) return;
    if (rt.active === this) {
      if (!this.dispatching && this.running === null) this.dispatch();
      return;
    }
    if (rt.active === null) {
      rt.active = this;
      this.dispatch();
      return;
    }
    if (!this.waitingTurn) {
      this.waitingTurn = true;
      rt.waiting.push(this);
    }
  }

  private releaseTurn(): void {
    if (rt.active !== this) return;
    rt.active = null;
    const next = rt.waiting.shift();
    if (next !== undefined) {
      next.waitingTurn = false;
      queueMicrotask(() => next.requestTurn());
    }
  }

  /** Wakes an idle hub after something happened outside it. @internal */
  kick(): void {
    if (this.state !== State.Running && this.state !== State.ShuttingDown) return;
    // holding the turn means a greenlet of ours runs or we are dispatching: the loop will see it
    if (rt.active === this || this.running !== null || this.dispatching || this.yieldPending || this.holdKicks > 0) return;
    this.requestTurn();
  }

  private dispatch(): void {
    if (this.dispatching) return;
    // Fast path (sim): no callback queued, no notification pass or timer batch in flight, and the
    // next timer is the only one due at its instant — fire it directly (usually a sleeper's wake).
    if (
      this.running === null &&
      this.sim &&
      this.qHead === this.qTail &&
      this.ioCount === 0 &&
      this.notifier === null &&
      this.dueIndex >= this.dueCount &&
      !this.halted &&
      !this.forcePoll &&
      this.sinceYield < YIELD_EVERY &&
      this.idleWaiters.length === 0 &&
      this.drainWaiters.length === 0
    ) {
      const heap = this.timers;
      const t = heap.popSole();
      if (t !== undefined) {
        const top = heap.soleDeadline;
        if (top > this.clock) {
          this.clock = top;
          this.epoch++;
        }
        this.sinceYield++;
        this.dispatching = true;
        try {
          t.fn(t.arg);
        } catch (e) {
          this.reportError(e, null);
        } finally {
          this.dispatching = false;
        }
        if (this.running !== null) return;
      }
    }
    this.dispatching = true;
    try {
      for (;;) {
        try {
          this.loop();
          return;
        } catch (e) {
          // a callback threw (they are the hub's own, or a user's link): report it and go on
          this.reportError(e, null);
        }
      }
    } finally {
      this.dispatching = false;
    }
  }

  private loop(): void {
    for (;;) {
      if (this.running !== null) return;
      if (this.halted) {
        this.releaseTurn();
        return;
      }
      if (++this.sinceYield > YIELD_EVERY) {
        this.sinceYield = 0;
        if (!this.sim || rt.host.now() - this.sliceStart >= SLICE_MS) {
          this.yieldPending = true;
          this.releaseTurn();
          rt.host.macrotask(this.continueFn);
          return;
        }
      }
      const notifier = this.notifier;
      if (notifier !== null) {
        notifier.stepNotify(this);
        continue;
      }
      if (this.dueIndex < this.dueCount) {
        const t = this.due[this.dueIndex]!;
        this.due[this.dueIndex++] = undefined;
        if (t.index === TIMER_DUE) {
          t.index = TIMER_IDLE;
          t.fn(t.arg);
        }
        continue;
      }
      const head = this.qHead;
      if (head !== this.qTail && !this.forcePoll) {
        if (this.perturb) this.shuffleHead();
        const fn = this.qFn[head]!;
        const arg = this.qArg[head];
        this.qFn[head] = undefined;
        this.qArg[head] = undefined;
        this.qHead = (head + 1) & this.qMask;
        fn(arg);
        if (!this.sim && ++this.callbacksSincePoll >= 64) {
          this.callbacksSincePoll = 0;
          if (rt.host.now() - this.lastRealPoll >= REAL_POLL_MS) this.forcePoll = true;
        }
        continue;
      }
      this.forcePoll = false;
      if (!this.poll()) return;
    }
  }

  /**
   * Collects due timers; advances the virtual clock when nothing else can happen. Returns false when
   * the hub goes idle (it has then released the turn, raised LoopExit, or finished the run).
   */
  private poll(): boolean {
    const heap = this.timers;
    const hasCallbacks = this.qHead !== this.qTail;
    if (this.mode === 'real') {
      this.updateRealClock();
      this.lastRealPoll = rt.host.now();
    }
    const top = heap.topDeadline();
    const io = this.ioCount;
    if (!hasCallbacks && io === 0) {
      if (this.idleWaiters.length > 0 && top > this.clock) {
        for (const g of this.idleWaiters.splice(0)) {
          g.parkCleanup = null;
          this.schedule(wakeSleeper, g);
        }
        return true;
      }
      // a wait() timeout does not keep the hub busy (gevent's hub.join arms its timer with ref=False)
      if (top === Infinity || (this.drainWaiters.length > 0 && top > this.clock && this.onlyDrainTimers())) {
        return this.onEmpty();
      }
      if (top > this.clock) {
        if (this.mode === 'sim') {
          this.clock = top;
          this.epoch++;
        } else {
          this.armRealTimer(top);
          this.releaseTurn();
          return false;
        }
      }
    }
    // the I/O that became ready comes first, then all timers due now; they fire in this pass (timers
    // started and I/O readied meanwhile wait for the next), as libev does
    const due = this.due;
    let n = 0;
    if (io > 0) {
      const q = this.ioQueue;
      for (let i = 0; i < io; i++) {
        due[n++] = q[i];
        q[i] = undefined;
      }
      this.ioCount = 0;
    }
    const now = this.clock;
    for (;;) {
      const t = heap.popDue(now);
      if (t === undefined) break;
      t.index = TIMER_DUE;
      due[n++] = t;
    }
    if (this.mode === 'real' && n > 1) orderByPriority(due, n);
    this.dueCount = n;
    this.dueIndex = 0;
    if (this.perturb && n > 1) {
      for (let i = n - 1; i > 0; i--) {
        const j = this.random.int(i + 1);
        const t = due[i];
        due[i] = due[j];
        due[j] = t;
      }
    }
    return true;
  }

  /** Perturbed scheduling: swaps a randomly drawn ready callback to the head of the queue. */
  private shuffleHead(): void {
    const len = (this.qTail - this.qHead) & this.qMask;
    if (len < 2) return;
    const j = (this.qHead + this.random.int(len)) & this.qMask;
    const h = this.qHead;
    const fn = this.qFn[h];
    const arg = this.qArg[h];
    this.qFn[h] = this.qFn[j];
    this.qArg[h] = this.qArg[j];
    this.qFn[j] = fn;
    this.qArg[j] = arg;
  }

  /** Whether every scheduled timer is the timeout of a `wait()` with no objects. */
  private onlyDrainTimers(): boolean {
    let n = 0;
    for (const g of this.drainWaiters) if (g.index >= 0) n++;
    return n === this.timers.size;
  }

  /** Nothing is queued and no timer is scheduled (but the timeouts of `wait()`s). */
  private onEmpty(): boolean {
    if (this.mode === 'real' && this.externalSources > 0) {
      // an open socket may still wake someone: wait() is not drained yet, but its timeout still runs
      const top = this.timers.topDeadline();
      if (top !== Infinity) this.armRealTimer(top);
      this.releaseTurn();
      return false;
    }
    if (this.drainWaiters.length > 0) {
      for (const g of this.drainWaiters.splice(0)) {
        g.parkCleanup = null;
        this.schedule(wakeNotified, g);
      }
      return true;
    }
    if (this.state === State.ShuttingDown) {
      // what is left is blocked forever: abandon it
      this.completeRun();
      return false;
    }
    const main = this.main;
    if (main !== null && main.res !== null) {
      const err = this.makeLoopExit();
      this.trace.record(K_LOOPEXIT, this.clock, main.id, err.blocked.length, 0);
      this.throwInto(main, err);
      return true;
    }
    if (main === null && this.runResolve !== null) {
      // run() without main: nothing left to do
      this.beginShutdown();
      return this.state !== State.Closed;
    }
    this.releaseTurn();
    return false;
  }

  private updateRealClock(): void {
    const ns = Math.round((rt.host.now() - this.realEpoch) * 1e6);
    if (ns > this.clock) this.clock = ns;
  }

  private armRealTimer(deadlineNs: number): void {
    if (this.realTimer !== null && this.realTimerAt <= deadlineNs) return;
    if (this.realTimer !== null) rt.host.clearTimeout(this.realTimer);
    this.realTimerAt = deadlineNs;
    const ms = Math.max(0, (deadlineNs - this.clock) / 1e6);
    this.realTimer = rt.host.setTimeout(this.realTimerFn, Math.ceil(ms));
  }

  /** A macrotask passed while a greenlet was still running: it awaits a promise the hub does not own. */
  private watchdog(): void {
    this.watchArmed = false;
    const g = this.running;
    if (g === null || this.state === State.Closed) return;
    if (g === this.main && this.implicitMain) return; // module-level code may do as it likes
    const err = codedError(
      'ERR_GEVENTJS_FOREIGN_AWAIT',
      `${g.name} awaited a promise the hub does not own (real I/O or a real timer). In sim mode that would ` +
        `freeze virtual time or lose determinism. Adopt it with \`await getHub().external(promise)\`, or use ` +
        `geventjs's own blocking calls.`,
    );
    this.trace.record(K_FOREIGN, this.clock, g.id, 0, 0);
    const main = this.main;
    // main hears of it (the run fails); joiners of g wake, for g dies with the error (and may not block
    // again should its promise ever settle)
    if (main !== null && main !== g) this.schedule(throwIntoMain, err);
    g.detachWith(err);
    if (main === null) this.fail(err);
  }

  // ---------------------------------------------------------------- ending

  private beginShutdown(): void {
    if (this.state !== State.Running) return;
    this.state = State.ShuttingDown;
    const alive = [...this.greenlets];
    for (const g of alive) {
      if (g.hasRun) continue;
      // started: spawned, or due to start later; else never started
      const why = !g.started ? 'never started' : g.startsLater ? 'start was still due' : 'never switched to';
      this.unstarted.push({ name: g.name, why });
    }
    if (alive.length === 0) {
      this.completeRun();
      return;
    }
    // nothing may run until every greenlet has its GreenletExit queued (a kick would start the
    // greenlets that never ran instead of killing them)
    this.holdKicks++;
    try {
      for (const g of alive) g.killNoWait(new GreenletExit());
      const t = (this.shutdownTimer = new Timer(shutdownTimedOut, this));
      this.addTimer(t, toNs(this.options.shutdownTimeout ?? 1), PRIORITY_DEFAULT);
    } finally {
      this.holdKicks--;
    }
    if (this.greenlets.size === 0) this.completeRun();
  }

  /** @internal */
  shutdownTimedOut(): void {
    if (this.state !== State.ShuttingDown) return;
    const names = [...this.greenlets].map((g) => g.name).join(', ');
    this.reportError(new Error(`greenlets still alive ${this.options.shutdownTimeout ?? 1}s after GreenletExit, abandoned: ${names}`), null);
    this.completeRun();
  }

  private completeRun(): void {
    if (this.state === State.Closed) return;
    this.state = State.Closed;
    this.updateHalted();
    if (this.shutdownTimer !== null) this.cancelTimer(this.shutdownTimer);
    this.timers.clear();
    this.qHead = this.qTail = 0;
    this.qFn.fill(undefined);
    this.qArg.fill(undefined);
    this.notifier = null;
    if (this.realTimer !== null) {
      rt.host.clearTimeout(this.realTimer);
      this.realTimer = null;
    }
    for (const close of this.closers.splice(0).reverse()) {
      try {
        close();
      } catch (e) {
        this.reportError(e, null);
      }
    }
    this.greenlets.clear();
    this.releaseTurn();
    const main = this.main;
    const res = this.runResolve;
    const rej = this.runReject;
    this.runResolve = this.runReject = null;
    if (res !== null && rej !== null) {
      if (main === null || this.implicitMain) res(undefined);
      else if (main.exception !== null) rej(main.exception);
      else if (!main.ready()) rej(new Error('main did not finish'));
      else res(main.value);
    }
    if (this.endResolve !== null) this.endResolve();
    if (rt.defaultHub === this) rt.defaultHub = null;
    renewShapes(this.constructor);
  }

  /** A keeper's main greenlet, with a link (see core/shapes.ts). @internal */
  keepMain(): void {
    this.createMain(noop).rawlink(noop);
  }

  private fail(err: unknown): void {
    if (this.state === State.Closed) return;
    const rej = this.runReject;
    this.runResolve = this.runReject = null;
    this.completeRun();
    if (rej !== null) rej(err);
  }

  // ---------------------------------------------------------------- the default hub's implicit main

  /** @internal Makes module-level code the running main greenlet of this (default) hub. */
  adoptImplicitMain(): void {
    const g = Greenlet.create(noop, [], this, 0, 'main', null);
    g.markStarted();
    this.main = g;
    this.implicitMain = true;
    this.state = State.Running;
    this.sliceStart = rt.host.now();
    this.updateHalted();
    this.running = g;
    this.trace.record(K_RUN, this.clock, -1, this.seed % 2147483647, 0, this.mode);
  }

  /**
   * Ends the module-level program of the default hub: greenlets still alive are killed, sockets closed.
   * Used by the CLI once the program's module has finished; resolves when the hub has closed.
   * @returns the greenlets that never got to run (the CLI warns about them)
   */
  async endMain(): Promise<Greenlet<unknown>[]> {
    const neverRan = [...this.greenlets].filter((g) => !g.started);
    if (this.state === State.Closed || this.state === State.New) return neverRan;
    const main = this.main;
    if (main === null || !this.implicitMain) throw new Error('endMain() is for the default hub of a module-level program');
    this.endPromise ??= new Promise<void>((res) => (this.endResolve = res));
    if (main.res !== null) {
      this.unpark(main);
      main.res = null;
    }
    main.markFinished(undefined, false);
    this.greenlets.delete(main);
    if (this.running === main) this.running = null;
    this.beginShutdown();
    this.requestTurn();
    await this.endPromise;
    return neverRan;
  }
}

function noop(): void {}

// the default hub is created through the runtime (so modules that only need getHub() need not import this one)
rt.newHub ??= (): Hub => new Hub();
keepShapes(() => keeperHub(Hub), Hub);

/**
 * An unused hub of a library hub class, with a main greenlet that was never started and has a link:
 * it keeps the maps of the hub, the greenlet and the waiter lists alive (see core/shapes.ts). @internal
 */
export function keeperHub(cls: new (options: HubOptions) => Hub): Hub {
  const hub = new cls({ mode: 'sim', seed: 0 });
  hub.keepMain();
  return hub;
}

function describeWait(g: Greenlet<unknown>): string {
  const reason = nameOf(g.parkReason);
  const target = g.parkTarget as { describe?: () => string; name?: string } | undefined;
  if (target === undefined || target === null) return reason;
  if (typeof target.describe === 'function') {
    const d = target.describe();
    return d === '' ? reason : `${reason} (${d})`;
  }
  return reason;
}

// Hub callbacks: plain functions taking one argument, so scheduling allocates nothing.
function wakeSleeper(g: Greenlet<unknown>): void {
  g.hub.wakeWaiter(g, undefined);
}
function wakeNotified(g: Greenlet<unknown>): void {
  g.hub.wakeWaiter(g, true);
}
function wakeTimedOut(g: Greenlet<unknown>): void {
  g.hub.wakeWaiter(g, false);
}
interface ExternalToken {
  g: Greenlet<unknown>;
  ok: boolean;
  value: unknown;
  describe(): string;
}
function wakeExternal(token: ExternalToken): void {
  const g = token.g;
  if (g.parkTarget !== token) return;
  if (token.ok) g.hub.wakeWaiter(g, token.value);
  else g.hub.throwInto(g, token.value);
}
function redoWake(w: { g: Greenlet<unknown>; value: unknown }): void {
  w.g.hub.wakeWaiter(w.g, w.value);
}
function redoThrow(w: { g: Greenlet<unknown>; value: unknown }): void {
  w.g.hub.throwInto(w.g, w.value);
}
function removeIdleWaiter(g: Greenlet<unknown>): void {
  g.hub.removeFrom(g.hub.idleList, g);
}
function removeDrainWaiter(g: Greenlet<unknown>): void {
  g.hub.removeFrom(g.hub.drainList, g);
}
function shutdownTimedOut(hub: Hub): void {
  hub.shutdownTimedOut();
}
function untilReached(hub: Hub): void {
  const main = hub.main;
  if (main !== null && !main.ready()) main.killNoWait(new GreenletExit('run(until) reached'));
  else if (main === null) (hub as unknown as { beginShutdown(): void }).beginShutdown();
}
function throwIntoMain(err: unknown): void {
  const hub = rt.active;
  if (hub === null) return;
  const main = hub.main;
  if (main !== null && !hub.throwInto(main, err)) hub.reportError(err, null);
}

// ------------------------------------------------------------------ module-level access

export { getHub, defaultHub };

/**
 * Runs `main` on a fresh hub (`new Hub(options).run(main)`) and resolves with its value.
 * @example
 * const v = await run(async () => { await sleep(1); return 'done'; }, { seed: 42 });
 */
export function run<T>(main: () => T | Promise<T>, options: HubOptions & RunOptions = {}): Promise<Awaited<T>> {
  const hub = new Hub(options);
  return hub.run(main, options.until !== undefined ? { until: options.until } : {});
}

export type { Link, ListNode };
