/**
 * The determinism self-check (madsim's MADSIM_TEST_CHECK_DETERMINISM): run a scenario twice with the
 * same seed and full traces, and compare the event lists — the first event that differs is where
 * something outside the seed (Math.random, Date.now, a real timer, an unordered map) got in.
 */
import type { TraceEvent } from '../core/trace.js';
import type { Hub } from '../core/hub.js';
import { runScenario, type OptionValue, type RunScenarioOptions, type Scenario } from './scenario.js';

/**
 * What `checkDeterminism` found when both runs agreed.
 * @example
 * const { events, traceHash, outcome } = await checkDeterminism(kv, 3, { faults: 'all' });
 */
export interface DeterminismReport {
  scenario: string;
  seed: number;
  /** Events in each trace. */
  events: number;
  /** The trace hash of both runs. */
  traceHash: string;
  /** How each run ended: its summary, or the error it threw (both runs end alike). */
  outcome: { ok: true; summary: unknown } | { ok: false; error: string };
}

/**
 * Thrown by `checkDeterminism` when two runs of one seed differ: names the first differing event.
 * @example
 * try { await checkDeterminism(scenario, 7) } catch (e) {
 *   if (e instanceof NondeterminismError) console.log(e.index, e.first, e.second);
 * }
 */
export class NondeterminismError extends Error {
  constructor(
    message: string,
    /** Index of the first differing event (the length of the shorter trace if one is a prefix of the other). */
    readonly index: number,
    /** That event in the first run (undefined if the first run ended there). */
    readonly first: TraceEvent | undefined,
    /** That event in the second run. */
    readonly second: TraceEvent | undefined,
    /** The trace hashes of the two runs. */
    readonly hashes: [string, string],
  ) {
    super(message);
    this.name = 'NondeterminismError';
  }
}

interface Run {
  events: TraceEvent[];
  hash: string;
  ok: boolean;
  summary: unknown;
  error: string;
}

async function once<O extends Record<string, OptionValue>, S>(scenario: Scenario<O, S>, seed: number, options: RunScenarioOptions<O>): Promise<Run> {
  let hub: Hub | null = null;
  const onHub = options.onHub;
  try {
    const r = await runScenario(scenario, {
      ...options,
      seed,
      mode: 'sim',
      trace: true,
      onHub: (h) => {
        hub = h;
        onHub?.(h);
      },
    });
    return { events: r.hub.traceEvents(), hash: r.traceHash, ok: true, summary: r.summary, error: '' };
  } catch (e) {
    const h = hub as Hub | null;
    if (h === null) throw e;
    return { events: h.traceEvents(), hash: h.traceHash(), ok: false, summary: undefined, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
}

/** An event without its position, for comparing. */
function key(ev: TraceEvent | undefined): string {
  if (ev === undefined) return '(end of trace)';
  const { seq: _seq, ...rest } = ev;
  void _seq;
  return JSON.stringify(rest);
}

/**
 * Runs `scenario` twice with `seed` in sim mode with full traces (options as `runScenario`'s: faults,
 * perturb, scenario options…) and compares the two event lists. Resolves with a report when they are
 * identical; rejects with a `NondeterminismError` naming the first event that differs (its index and
 * both versions) and both trace hashes. A scenario that throws must throw alike both times.
 * @example
 * const report = await checkDeterminism(echo, 7, { faults: 'chaos', options: { clients: 5 } });
 * report.traceHash; // the same in both runs
 */
export async function checkDeterminism<O extends Record<string, OptionValue>, S>(
  scenario: Scenario<O, S>,
  seed: number,
  options: Omit<RunScenarioOptions<O>, 'seed' | 'mode' | 'trace'> = {},
): Promise<DeterminismReport> {
  const a = await once(scenario, seed, options);
  const b = await once(scenario, seed, options);
  const n = Math.max(a.events.length, b.events.length);
  for (let i = 0; i < n; i++) {
    const ka = key(a.events[i]);
    const kb = key(b.events[i]);
    if (ka !== kb) {
      throw new NondeterminismError(
        `scenario ${scenario.name} is not deterministic with seed ${seed}: the traces differ at event ${i}\n` +
          `  first run:  ${ka}\n  second run: ${kb}\n  trace hashes ${a.hash} and ${b.hash}`,
        i,
        a.events[i],
        b.events[i],
        [a.hash, b.hash],
      );
    }
  }
  if (a.hash !== b.hash || a.ok !== b.ok || a.error !== b.error) {
    throw new NondeterminismError(
      `scenario ${scenario.name} is not deterministic with seed ${seed}: same events, but ` +
        (a.hash !== b.hash ? `trace hashes ${a.hash} and ${b.hash}` : `it ended ${a.ok ? 'ok' : a.error} then ${b.ok ? 'ok' : b.error}`),
      n,
      undefined,
      undefined,
      [a.hash, b.hash],
    );
  }
  return {
    scenario: scenario.name,
    seed,
    events: a.events.length,
    traceHash: a.hash,
    outcome: a.ok ? { ok: true, summary: a.summary } : { ok: false, error: a.error },
  };
}
