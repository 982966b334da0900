/**
 * What the core suites share: a sim hub that collects error reports, a logger that stamps each line with
 * the virtual time, and an error class to throw on purpose.
 */
import { Hub, getHub, type HubOptions } from 'geventjs';

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

/** The error the tests raise on purpose. */
export class ExpectedError extends Error {
  constructor(message = 'expected') {
    super(message);
    this.name = 'ExpectedError';
  }
}
