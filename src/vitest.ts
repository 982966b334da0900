/**
 * `geventjs/vitest`: sweep a scenario over seeds inside a vitest test.
 *
 * `simTest(name, scenario, { seeds })` registers one `it` that runs the scenario once per seed, each
 * on a fresh sim-mode hub, in this process, one after another; the first failing seed fails the test
 * with a message that carries the seed, the scenario's error and the command that replays it. For
 * sweeps of thousands of seeds on every core, use `geventjs explore` (worker threads) instead.
 *
 * This module imports `vitest` (an optional peer dependency): load it only from test files.
 * @packageDocumentation
 */
import { it } from 'vitest';
import { isScenario, type OptionValue, type Scenario } from './sim/scenario.js';
import { FAULT_PRESETS, isFaultPreset, replayCommand, runSeed, type FaultPreset, type SeedOptions, type SeedOutcome } from './cli/seed.js';

export { runSeed, replayCommand, FAULT_PRESETS, isFaultPreset, type FaultPreset, type SeedOptions, type SeedOutcome };

/**
 * Which seeds to run: `'A..B'` (inclusive), a count `N` (seeds 1..N), or a list.
 * @example
 * const a: Seeds = '1..500';
 * const b: Seeds = 100;        // 1..100
 * const c: Seeds = [3, 17, 42];
 */
export type Seeds = string | number | readonly number[];

/**
 * Options of `simTest` and `checkSeeds`.
 * @example
 * const o: SimTestOptions = { seeds: '1..200', faults: 'chaos', options: { clients: 5 }, file: 'sim/echo.ts' };
 */
export interface SimTestOptions<O = Record<string, OptionValue>> extends SeedOptions<O> {
  seeds: Seeds;
  /**
   * The scenario's module (a path relative to the working directory, or a file URL), for the replay
   * command. Not needed when the scenario itself is given as a path.
   */
  file?: string | URL;
  /** Run every seed and report every failure (default: stop at the first). */
  all?: boolean;
  /** The test's timeout in ms (vitest's own default otherwise). */
  timeout?: number;
}

/**
 * What `checkSeeds` found.
 * @example
 * const r: SweepReport = await checkSeeds(echo, { seeds: 50 });
 * r.ran; // 50
 */
export interface SweepReport {
  scenario: string;
  ran: number;
  /** The failing seeds, in the order run (at most one unless `all`). */
  failures: (SeedOutcome & { replay: string })[];
}

/**
 * The error a failing sweep throws: `seed`, `replay` and every failure found are properties too; its
 * `cause` is what the scenario threw.
 * @example
 * try { await checkSeeds(echo, { seeds: 100, faults: 'chaos' }); }
 * catch (e) { if (e instanceof SimTestFailure) console.log(e.seed, e.replay); }
 */
export class SimTestFailure extends Error {
  readonly seed: number;
  readonly replay: string;
  readonly failures: SweepReport['failures'];
  constructor(message: string, report: SweepReport, cause: unknown) {
    super(message, { cause });
    this.name = 'SimTestFailure';
    const first = report.failures[0]!;
    this.seed = first.seed;
    this.replay = first.replay;
    this.failures = report.failures;
  }
}

/**
 * Expands `Seeds` into the list of seeds to run.
 * @example
 * parseSeeds('3..5'); // [3, 4, 5]
 * parseSeeds(2);      // [1, 2]
 */
export function parseSeeds(seeds: Seeds): number[] {
  let out: number[];
  if (typeof seeds === 'number') {
    if (!Number.isSafeInteger(seeds) || seeds < 1) throw new RangeError(`seeds: a count must be a positive integer, got ${seeds}`);
    out = Array.from({ length: seeds }, (_, i) => i + 1);
  } else if (typeof seeds === 'string') {
    const m = /^\s*(\d+)\s*(?:\.\.\s*(\d+)\s*)?$/.exec(seeds);
    const a = m ? Number(m[1]) : NaN;
    const b = m ? (m[2] !== undefined ? Number(m[2]) : a) : NaN;
    if (!m || !Number.isSafeInteger(a) || !Number.isSafeInteger(b) || b < a) throw new RangeError(`seeds: expected 'A..B' with A <= B, got ${JSON.stringify(seeds)}`);
    out = Array.from({ length: b - a + 1 }, (_, i) => a + i);
  } else if (Array.isArray(seeds)) {
    out = [...(seeds as readonly number[])];
  } else {
    throw new TypeError(`seeds must be 'A..B', a count or an array of seeds, got ${String(seeds)}`);
  }
  for (const s of out) if (!Number.isSafeInteger(s) || s < 0) throw new RangeError(`seeds: ${String(s)} is not a non-negative integer`);
  if (out.length === 0) throw new RangeError('seeds: no seed to run');
  return out;
}

/** A path for the replay command: relative to the working directory when it is inside it. */
function displayPath(file: string | URL): string {
  let p = typeof file === 'string' ? file : decodeURIComponent(file.pathname);
  if (typeof file === 'string' && file.startsWith('file:')) p = decodeURIComponent(new URL(file).pathname);
  const cwd = typeof process !== 'undefined' && typeof process.cwd === 'function' ? process.cwd() : '';
  if (cwd !== '' && p.startsWith(cwd + '/')) p = p.slice(cwd.length + 1);
  return p;
}

function isAbsolute(p: string): boolean {
  return p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p);
}

async function loadScenario(target: Scenario | string | URL): Promise<{ scenario: Scenario; file: string | URL | undefined }> {
  if (isScenario(target)) return { scenario: target, file: undefined };
  if (typeof target === 'string' || target instanceof URL) {
    let href: string;
    if (target instanceof URL) href = target.href;
    else if (target.startsWith('file:')) href = target;
    else {
      const cwd = typeof process !== 'undefined' ? process.cwd() : '';
      href = new URL(isAbsolute(target) ? target : `${cwd}/${target}`, 'file:///').href;
    }
    const mod = (await import(/* @vite-ignore */ href)) as { default?: unknown };
    if (!isScenario(mod.default)) throw new TypeError(`${String(target)} is not a scenario (its default export is not defineScenario(...))`);
    return { scenario: mod.default, file: target };
  }
  throw new TypeError('simTest needs a scenario (defineScenario(...)) or the path of its module');
}

function replayFor(scenario: Scenario, file: string | URL | undefined, seed: number, how: SeedOptions): string {
  if (file !== undefined) {
    return replayCommand(displayPath(file), seed, how.faults ?? 'none', (how.options ?? {}) as Record<string, OptionValue>, how.mode === 'real' ? ['--real'] : []);
  }
  const args: Record<string, unknown> = {};
  if (how.faults !== undefined && how.faults !== 'none') args.faults = how.faults;
  if (how.options !== undefined && Object.keys(how.options).length > 0) args.options = how.options;
  if (how.mode === 'real') args.mode = 'real';
  const extra = Object.keys(args).length > 0 ? `, ${JSON.stringify(args)}` : '';
  return `runSeed(${scenario.name}, ${seed}${extra})  (pass \`file\` to simTest for a geventjs run command)`;
}

/**
 * Runs a scenario over seeds in this process and throws a `SimTestFailure` at the first failing seed
 * (or, with `all`, after the last seed if any failed); resolves with the report otherwise. The
 * runner under `simTest`, usable on its own.
 * @example
 * import { checkSeeds } from 'geventjs/vitest';
 * const report = await checkSeeds(new URL('../sim/echo.ts', import.meta.url), { seeds: '1..20', options: { clients: 5 } });
 */
export async function checkSeeds<O extends Record<string, OptionValue>>(
  target: Scenario<O, unknown> | string | URL,
  opts: SimTestOptions<O>,
): Promise<SweepReport> {
  if (typeof opts !== 'object' || opts === null) throw new TypeError('checkSeeds needs options with seeds');
  const seeds = parseSeeds(opts.seeds);
  if (opts.faults !== undefined && !isFaultPreset(opts.faults)) {
    throw new RangeError(`unknown fault preset ${JSON.stringify(opts.faults)} (presets: ${FAULT_PRESETS.join(', ')})`);
  }
  const { scenario, file: loadedFrom } = await loadScenario(target as Scenario | string | URL);
  const file = opts.file ?? loadedFrom;
  const how: SeedOptions = { faults: opts.faults, options: opts.options as Record<string, OptionValue> | undefined, mode: opts.mode };
  const report: SweepReport = { scenario: scenario.name, ran: 0, failures: [] };
  for (const seed of seeds) {
    const r = await runSeed(scenario, seed, how);
    report.ran++;
    if (!r.ok) {
      report.failures.push({ ...r, replay: replayFor(scenario, file, seed, how) });
      if (!opts.all) break;
    }
  }
  if (report.failures.length > 0) throw failure(report, seeds, how);
  return report;
}

function failure(report: SweepReport, seeds: number[], how: SeedOptions): SimTestFailure {
  const first = report.failures[0]!;
  const which = describeSeeds(seeds);
  const lines = [
    `scenario ${report.scenario} failed with seed ${first.seed}: ${first.error}`,
    `  replay: ${first.replay}`,
  ];
  for (const f of report.failures.slice(1)) lines.push(`  also seed ${f.seed}: ${f.error}`, `    replay: ${f.replay}`);
  lines.push(`  (${report.ran} of ${seeds.length} seeds run from ${which}, faults ${how.faults ?? 'none'}; ${report.failures.length} failed)`);
  return new SimTestFailure(lines.join('\n'), report, first.cause);
}

function describeSeeds(seeds: number[]): string {
  const a = seeds[0]!;
  const contiguous = seeds.every((s, i) => s === a + i);
  return contiguous ? `${a}..${seeds[seeds.length - 1]!}` : `[${seeds.slice(0, 5).join(', ')}${seeds.length > 5 ? ', …' : ''}]`;
}

/**
 * Registers a vitest test that runs a scenario over seeds; it fails at the first failing seed with a
 * message that carries the seed, the scenario's error and a one-line replay command.
 * @example
 * import { simTest } from 'geventjs/vitest';
 * import echoFramed from '../sim/echo-framed.ts';
 *
 * simTest('echo-framed survives stream chaos', echoFramed, { seeds: '1..200', faults: 'chaos', options: { clients: 5 }, file: 'sim/echo-framed.ts' });
 * simTest('kv-fixed holds under partitions', 'sim/kv-fixed.ts', { seeds: 50, faults: 'partitions' });  // a path works too
 * simTest('tutorial echo under chaos', 'sim/echo.ts', { seeds: 10, faults: 'chaos', options: { clients: 5 } });
 * // fails; the message reads:
 * //   scenario echo failed with seed 1: Error: echo: 27 of 50 round trips; 7 clients failed
 * //     replay: geventjs run sim/echo.ts --seed 1 --faults chaos --clients 5
 */
export function simTest<O extends Record<string, OptionValue>>(name: string, scenario: Scenario<O, unknown> | string | URL, opts: SimTestOptions<O>): void {
  parseSeeds(opts.seeds); // bad seeds fail at collection, not at run time
  it(
    name,
    async () => {
      await checkSeeds(scenario, opts);
    },
    opts.timeout,
  );
}
