/**
 * Process-wide state shared by every copy of geventjs loaded in one realm.
 *
 * The ESM and CJS builds are two module instances; if a program mixes them, both must agree on which
 * greenlet is running and which hub is the default. So the state lives on `globalThis` under a
 * registered symbol, and the builds only hold a reference to it.
 *
 * The real host primitives (timers, the macrotask hop, the monotonic clock) are captured here, when the
 * first copy loads, so that a later monkey patch of the globals cannot turn the real-mode hub against
 * itself.
 * @internal
 */
import type { Hub } from './hub.js';
import type { Greenlet } from './greenlet.js';

export interface HostPrimitives {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Run `fn` in a later macrotask (setImmediate in Node, a MessageChannel hop in browsers). */
  macrotask(fn: () => void): void;
  /** Monotonic milliseconds. */
  now(): number;
}

export interface Runtime {
  /** Version of the state layout; a copy with another layout refuses to share it. */
  readonly layout: 1;
  /** The greenlet whose code runs right now, in whichever hub; null between greenlets. */
  current: Greenlet | null;
  /** The hub holding the turn: only one hub dispatches at a time in a realm. */
  active: Hub | null;
  /** Hubs waiting for the turn, FIFO. */
  waiting: Hub[];
  /** The hub of module-level code, created on first use. */
  defaultHub: Hub | null;
  /** Creates the default hub, when a driver (the CLI) wants to choose its options. */
  defaultHubFactory: (() => Hub) | null;
  /** `new Hub()`, installed by hub.ts when it loads. */
  newHub: (() => Hub) | null;
  /** Fills `hub.net` on first use; installed by the package entry. */
  netFactory: ((hub: Hub) => unknown) | null;
  host: HostPrimitives;
  hubCount: number;
}

const KEY = Symbol.for('geventjs.runtime');

function captureHost(): HostPrimitives {
  const g = globalThis as unknown as {
    setTimeout: (fn: () => void, ms: number) => unknown;
    clearTimeout: (h: unknown) => void;
    setImmediate?: (fn: () => void) => unknown;
    MessageChannel?: typeof MessageChannel;
    performance?: { now(): number };
  };
  const setT = g.setTimeout.bind(globalThis);
  const clearT = g.clearTimeout.bind(globalThis);
  let macrotask: (fn: () => void) => void;
  if (typeof g.setImmediate === 'function') {
    const si = g.setImmediate.bind(globalThis);
    macrotask = (fn) => void si(fn);
  } else if (typeof g.MessageChannel === 'function') {
    // One channel, a FIFO of callbacks: a hop costs one message, no timer clamping.
    const channel = new g.MessageChannel();
    const fifo: (() => void)[] = [];
    channel.port1.onmessage = () => {
      const fn = fifo.shift();
      if (fn) fn();
    };
    macrotask = (fn) => {
      fifo.push(fn);
      channel.port2.postMessage(0);
    };
  } else {
    macrotask = (fn) => void setT(fn, 0);
  }
  const perf = g.performance;
  const now = perf && typeof perf.now === 'function' ? perf.now.bind(perf) : Date.now;
  return { setTimeout: setT, clearTimeout: clearT, macrotask, now };
}

function createRuntime(): Runtime {
  return {
    layout: 1,
    current: null,
    active: null,
    waiting: [],
    defaultHub: null,
    defaultHubFactory: null,
    newHub: null,
    netFactory: null,
    host: captureHost(),
    hubCount: 0,
  };
}

const holder = globalThis as unknown as Record<symbol, Runtime | undefined>;
const existing = holder[KEY];
if (existing !== undefined && existing.layout !== 1) {
  throw new Error('geventjs: another, incompatible copy of geventjs is loaded in this realm');
}

/** The one shared runtime. @internal */
export const rt: Runtime = existing ?? (holder[KEY] = createRuntime());

/** Reads an environment variable where there is one (Node); empty counts as unset. @internal */
export function env(name: string): string | undefined {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  const value = proc?.env?.[name];
  return value === '' ? undefined : value;
}

/**
 * The hub whose greenlet is running, else the default hub (created on first use from
 * `GEVENTJS_MODE` and `GEVENTJS_SEED`).
 * @example
 * getHub().now(); // seconds on the current hub's clock
 */
export function getHub(): Hub {
  const g = rt.current;
  if (g !== null) return g.hub;
  const active = rt.active;
  if (active !== null) return active;
  return defaultHub();
}

/** The default hub: the one module-level code runs on. @internal */
export function defaultHub(): Hub {
  let hub = rt.defaultHub;
  if (hub === null) {
    const make = rt.defaultHubFactory ?? rt.newHub;
    if (make === null) throw new Error('geventjs: the hub module is not loaded');
    hub = make();
    rt.defaultHub = hub;
    hub.adoptImplicitMain();
  }
  return hub;
}
