/** Shared by the sync tests: a hub with a collecting reporter, a timestamped log, hub callbacks. */
import { Hub, Event, getHub, type HubOptions } from 'geventjs';

/** A sim hub whose reporter collects `[error, greenlet name]` instead of printing. */
export function simHub(options: HubOptions = {}): { hub: Hub; reports: [unknown, string | null][] } {
  const reports: [unknown, string | null][] = [];
  const hub = new Hub({ mode: 'sim', seed: 1, reporter: (e, g) => reports.push([e, g === null ? null : g.name]), ...options });
  return { hub, reports };
}

/** A log whose lines start with the virtual time at which they were written. */
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

/** The error a test raises on purpose. */
export class ExpectedError extends Error {
  constructor(message = 'expected') {
    super(message);
    this.name = 'ExpectedError';
  }
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
