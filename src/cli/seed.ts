/**
 * One seed of a scenario, run to a verdict: the unit of work of `geventjs explore`'s workers and of
 * `geventjs/vitest`'s `simTest`. No Node built-ins here (the vitest helper may run anywhere vitest does).
 *
 * A seed fails when the scenario throws (an invariant broke), when the hub raises LoopExit, or when a
 * greenlet died of an error nobody handled (the hub's reporter saw it) — the same rule as `geventjs run`.
 */
import { runScenario, type OptionValue, type RunScenarioOptions, type Scenario } from '../sim/scenario.js';
import { FAULT_PRESETS, isFaultPreset, type FaultPreset } from '../sim/presets.js';
import type { Greenlet } from '../core/greenlet.js';
import { LoopExit } from '../core/errors.js';
import type { Mode, Reporter } from '../core/hub.js';

// The fault presets (none, latency, partitions, crashes, chaos, all) are the sim layer's.
export { FAULT_PRESETS, isFaultPreset, type FaultPreset };

/**
 * How to run one seed.
 * @example
 * const how: SeedOptions = { faults: 'chaos', options: { clients: 5 } };
 */
export interface SeedOptions<O = Record<string, OptionValue>> {
  /** Fault preset (default `'none'`). */
  faults?: FaultPreset;
  /** Overrides of the scenario's option defaults. */
  options?: Partial<O>;
  /** `'sim'` (default) or `'real'`. */
  mode?: Mode;
}

/**
 * The verdict on one seed.
 * @example
 * const r: SeedOutcome = await runSeed(scenario, 7);
 * if (!r.ok) console.log(r.seed, r.error);
 */
export interface SeedOutcome {
  seed: number;
  ok: boolean;
  /** The failure on one line (`Name: first line of the message`), or null. */
  error: string | null;
  /** What was thrown (or the first error a greenlet died of), when the seed failed. */
  cause: unknown;
  /** The scenario's summary, when it returned one. */
  summary: unknown;
  /** Trace hash at the end of the run, or null when the run did not get that far. */
  traceHash: string | null;
  /** Hub time at the end, seconds. */
  virtualSeconds: number;
}

/**
 * The first line of an error, prefixed with its name: what a sweep prints for a failing seed.
 * @example
 * errorLine(new RangeError('boom\nmore')); // 'RangeError: boom'
 */
export function errorLine(e: unknown): string {
  if (e instanceof LoopExit && e.blocked.length > 0) {
    // its first line says nothing of who: name the first blocked greenlet
    const b = e.blocked[0]!;
    const more = e.blocked.length > 1 ? `; ${e.blocked.length - 1} more blocked` : '';
    return `LoopExit: This operation would block forever (${b.greenlet} waiting on ${b.waitingOn} since ${b.since.toFixed(3)}s${more})`;
  }
  if (e instanceof Error) {
    const msg = String(e.message ?? '').split('\n')[0]!.trim();
    const name = e.name || 'Error';
    return msg === '' ? name : `${name}: ${msg}`;
  }
  if (typeof e === 'string') return e.split('\n')[0]!;
  try {
    return `thrown: ${JSON.stringify(e)}`;
  } catch {
    return `thrown: ${String(e)}`;
  }
}

/**
 * Runs one seed of a scenario on a fresh hub and returns the verdict; never throws for the scenario's
 * own failures (bad arguments still throw).
 * @example
 * import echo from './sim/echo.ts';
 * const r = await runSeed(echo, 17, { faults: 'chaos', options: { clients: 50, messages: 20 } });
 * r.ok; // false: under stream chaos the tutorial's echo server shows its framing bug
 */
export async function runSeed<O extends Record<string, OptionValue>>(
  scenario: Scenario<O, unknown>,
  seed: number,
  how: SeedOptions<O> = {},
): Promise<SeedOutcome> {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative integer, got ${String(seed)}`);
  const faults = how.faults ?? 'none';
  if (!isFaultPreset(faults)) throw new RangeError(`unknown fault preset ${JSON.stringify(faults)} (presets: ${FAULT_PRESETS.join(', ')})`);
  const reported: { error: unknown; greenlet: Greenlet<unknown> | null }[] = [];
  const reporter: Reporter = (error, greenlet) => {
    reported.push({ error, greenlet });
  };
  let hubRef: { now(): number; traceHash(): string } | null = null;
  const opts: RunScenarioOptions<O> = {
    seed,
    mode: how.mode ?? 'sim',
    options: how.options ?? {},
    faults,
    hub: { reporter },
    onHub: (h) => (hubRef = h),
  };
  try {
    const r = await runScenario(scenario, opts);
    if (reported.length > 0) return failed(seed, reportedCause(reported), reportedLine(reported), r.summary, r.traceHash, r.virtualSeconds);
    return { seed, ok: true, error: null, cause: null, summary: r.summary, traceHash: r.traceHash, virtualSeconds: r.virtualSeconds };
  } catch (e) {
    const h = hubRef as { now(): number; traceHash(): string } | null;
    return failed(seed, e, errorLine(e), undefined, h?.traceHash() ?? null, h?.now() ?? 0);
  }
}

function failed(seed: number, cause: unknown, error: string, summary: unknown, traceHash: string | null, virtualSeconds: number): SeedOutcome {
  return { seed, ok: false, error, cause, summary, traceHash, virtualSeconds };
}

function reportedCause(reported: { error: unknown }[]): unknown {
  return reported[0]!.error;
}

function reportedLine(reported: { error: unknown; greenlet: Greenlet<unknown> | null }[]): string {
  const first = reported[0]!;
  const who = first.greenlet ? first.greenlet.name : 'a hub callback';
  const n = reported.length;
  return `${who} died of ${errorLine(first.error)} (${n} greenlet error${n === 1 ? '' : 's'} nobody handled)`;
}

/**
 * Quotes a word for a POSIX shell when it needs it.
 * @example
 * shellWord('sim/echo.ts'); // 'sim/echo.ts'
 * shellWord('hello world'); // "'hello world'"
 */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The one-line command that replays a seed: `geventjs run <file> --seed N [--faults preset] [--option value ...]`.
 * `options` are scenario options as given on the command line (strings) or as values; `flags` are
 * further CLI flags (`--real`).
 * @example
 * replayCommand('sim/echo.ts', 17, 'chaos', { clients: 50 });
 * // 'geventjs run sim/echo.ts --seed 17 --faults chaos --clients 50'
 */
export function replayCommand(
  file: string,
  seed: number,
  faults: FaultPreset,
  options: Record<string, string | OptionValue>,
  flags: readonly string[] = [],
): string {
  const parts = ['geventjs', 'run', shellWord(file), '--seed', String(seed), ...flags];
  if (faults !== 'none') parts.push('--faults', faults);
  for (const [k, v] of Object.entries(options)) {
    parts.push(`--${k}`);
    if (v !== true) parts.push(shellWord(String(v)));
  }
  return parts.join(' ');
}
