/**
 * What the suites share: a sim hub that collects error reports, a logger that stamps each line with
 * the virtual time, a way to run code in a hub callback, an error to throw on purpose, and the
 * smallest waitable.
 */
import { Hub, Event, Linkable, getHub, type HubOptions } from 'geventjs';
import { internName } from '../src/core/trace.js';

/** A sim-mode hub (seed 1) whose reporter collects `[error, greenlet name]` instead of printing. */
export function simHub(options: HubOptions = {}): { hub: Hub; reports: [unknown, string | null][] } {
  const reports: [unknown, string | null][] = [];
  const hub = new Hub({ mode: 'sim', seed: 1, reporter: (e, g) => reports.push([e, g === null ? null : g.name]), ...options });
  return { hub, reports };
}

/** `say(what)` appends `"<virtual time> <what>"` to `out`. */
export function logger(): { out: string[]; say: (what: string) => void } {
  const out: string[] = [];
  return { out, say: (what) => out.push(`${getHub().now()} ${what}`) };
}

/** Runs `fn` in a hub callback (gevent's `loop.run_callback`), through a set Event's link. */
export function inHub(fn: () => void): void {
  const ev = new Event();
  ev.set();
  ev.rawlink(() => fn());
}

/** The error the tests raise on purpose. */
export class ExpectedError extends Error {
  constructor(message = 'expected') {
    super(message);
    this.name = 'ExpectedError';
  }
}

const FLAG_WAIT = internName('Flag.wait');

/** A one-shot flag on the Linkable protocol (what Event builds on); `describe()` shows in LoopExit reports. */
export class Flag extends Linkable {
  private on = false;
  constructor(readonly label: string) {
    super();
  }
  ready(): boolean {
    return this.on;
  }
  set(): void {
    this.on = true;
    this.checkAndNotify();
  }
  wait(): Promise<boolean> {
    // the hub's own parking on a linkable, as Event.wait does
    return (this.hub as unknown as { waitOn(l: Linkable, reason: number, s: null): Promise<boolean> }).waitOn(this, FLAG_WAIT, null);
  }
  override describe(): string {
    return `flag ${this.label}`;
  }
}

/**
 * What the promise `call()` returns rejects with. Fails the test if `call` throws at once instead (a
 * blocking call reports every error through its promise) or if the promise resolves.
 */
export async function rejected(call: () => Promise<unknown>): Promise<unknown> {
  let p: Promise<unknown>;
  try {
    p = call();
  } catch (e) {
    throw new Error(`expected a rejected promise, but the call threw at once: ${String(e)}`);
  }
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejected promise, got a value');
}

/** What `fn()` throws (fails the test if it does not). */
export async function thrown(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error, got none');
}
