/**
 * `geventjs explore <scenario> --seeds A..B [--workers N] [--shard i/n] [--faults preset] [--all] [--json]`
 * (a Node driver): sweeps a scenario over a range of seeds in worker threads and reports the failing
 * seeds, each with a one-line replay command.
 *
 * Sharding (`--shard i/n`, 1-based like vitest): shard i takes the seeds A + (i-1), A + (i-1) + n,
 * A + (i-1) + 2n, … of the range — interleaved, so every shard starts at the low seeds and gets its
 * share of a range of any size; every seed is in exactly one shard.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { relative, resolve } from 'node:path';
import { rt } from '../core/runtime.js';
import { isScenario, parseScenarioOptions } from '../sim/scenario.js';
import { parseSeedRange, UsageError, type ParsedArgs } from './args.js';
import { importFile } from './load.js';
import { SeedPool, ScenarioLoadError, type SeedFailure } from './explore-pool.js';
import { ProgressBar } from './progress.js';
import { FAULT_PRESETS, isFaultPreset, replayCommand, type FaultPreset } from './seed.js';

const NOT_A_SCENARIO = 'is not a scenario (its default export is not defineScenario(...))';

/**
 * CLI flags of `explore` (every other `--name value` is a scenario option, so a scenario option
 * with one of these names cannot be set from explore).
 * @example
 * EXPLORE_FLAGS.includes('shard'); // true
 */
export const EXPLORE_FLAGS = ['seeds', 'workers', 'shard', 'faults', 'all', 'json', 'help', 'version'];
/**
 * The flags of `explore` that take no value.
 * @example
 * EXPLORE_BOOLEANS.includes('all'); // true
 */
export const EXPLORE_BOOLEANS = ['all', 'json', 'help', 'version'];

/**
 * Parses `--shard i/n` (1-based, like vitest); a UsageError otherwise.
 * @example
 * parseShard('2/4'); // [2, 4]
 */
export function parseShard(text: string): [number, number] {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const i = m ? Number(m[1]) : NaN;
  const n = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(i) || !Number.isSafeInteger(n) || n < 1 || i < 1 || i > n) {
    throw new UsageError(`--shard needs i/n with 1 <= i <= n (1-based, like vitest), got ${JSON.stringify(text)}`);
  }
  return [i, n];
}

/**
 * Parses `--faults` (default `none`); an unknown preset is a UsageError.
 * @example
 * parseFaults('chaos'); // 'chaos'
 */
export function parseFaults(text: string | true | undefined): FaultPreset {
  if (text === undefined) return 'none';
  if (!isFaultPreset(text)) throw new UsageError(`unknown fault preset ${JSON.stringify(text)} (presets: ${FAULT_PRESETS.join(', ')})`);
  return text;
}

function parseWorkers(text: string | true | undefined): number {
  if (text === undefined) return availableParallelism();
  const n = Number(text);
  if (typeof text !== 'string' || !/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`--workers needs a positive integer, got ${JSON.stringify(text)}`);
  }
  return n;
}

/**
 * The seeds of shard i/n of the range A..B, as first + k * stride for k < count (interleaved).
 * @example
 * shardSeeds([1, 10], [2, 3]); // { first: 2, stride: 3, count: 3 }: seeds 2, 5, 8
 */
export function shardSeeds(range: [number, number], shard: [number, number]): { first: number; stride: number; count: number } {
  const [a, b] = range;
  const [i, n] = shard;
  const first = a + (i - 1);
  const count = first > b ? 0 : Math.floor((b - first) / n) + 1;
  return { first, stride: n, count };
}

function formatWall(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
}

/**
 * Runs the explore command; returns the exit code (0 all passed, 1 a failing seed, 130 interrupted;
 * usage mistakes throw UsageError, which main turns into 2).
 * @example
 * const code = await cmdExplore(parseArgs(['explore', 'sim/kv.ts', '--seeds', '1..100'], EXPLORE_FLAGS, EXPLORE_BOOLEANS));
 */
export async function cmdExplore(parsed: ParsedArgs): Promise<number> {
  const fileArg = parsed.positional[0];
  if (fileArg === undefined) throw new UsageError('explore needs a scenario: geventjs explore <scenario> --seeds A..B');
  if (parsed.positional.length > 1) throw new UsageError(`unexpected argument ${parsed.positional[1]!}`);
  const file = resolve(fileArg);
  if (!existsSync(file)) throw new UsageError(`no such file: ${fileArg}`);
  const seedsFlag = parsed.flags.get('seeds');
  if (typeof seedsFlag !== 'string') throw new UsageError('explore needs --seeds A..B (an inclusive range)');
  const range = parseSeedRange(seedsFlag);
  const shardFlag = parsed.flags.get('shard');
  const shard = typeof shardFlag === 'string' ? parseShard(shardFlag) : null;
  const faults = parseFaults(parsed.flags.get('faults'));
  const workers = parseWorkers(parsed.flags.get('workers'));
  const all = parsed.flags.get('all') === true;
  const json = parsed.flags.get('json') === true;
  const display = relative(process.cwd(), file) || file;

  const { first, stride, count } = shardSeeds(range, shard ?? [1, 1]);
  const info = (line: string): void => void (json ? process.stderr : process.stdout).write(line + '\n');
  const shardText = shard ? ` (shard ${shard[0]}/${shard[1]}: ${count.toLocaleString('en-US')} seeds)` : '';
  const nWorkers = Math.max(1, Math.min(workers, count));
  const header = (): void =>
    info(`geventjs explore: ${display} — seeds ${range[0]}..${range[1]}${shardText}, faults ${faults}, ${nWorkers} worker${nWorkers === 1 ? '' : 's'}${all ? ', all seeds' : ''}`);

  // The workers load the scenario (the first to load it starts the sweep); this thread loads it only
  // when no worker will (an empty shard), to check it all the same.
  let scenarioName: string | null = null;
  let scenarioOptions: Record<string, unknown> = {};
  if (count === 0) {
    const mod = await importFile(file);
    if (!isScenario(mod.default)) throw new UsageError(`${fileArg} ${NOT_A_SCENARIO}`);
    scenarioName = mod.default.name;
    try {
      scenarioOptions = parseScenarioOptions(mod.default, parsed.options);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    header();
  }

  const bar = new ProgressBar(count);
  const pool = new SeedPool(
    { file, options: parsed.options, faults, first, stride, count, workers, stopOnFailure: !all },
    (p) => bar.update(p.done, p.failures),
    () => {
      header();
      bar.start();
    },
  );
  const onSigint = (): void => {
    process.once('SIGINT', () => process.exit(130));
    pool.cancel();
  };
  process.once('SIGINT', onSigint);
  const wall0 = rt.host.now();
  let result;
  try {
    result = await pool.run();
  } catch (e) {
    if (e instanceof ScenarioLoadError && e.usage) throw new UsageError(e.message === NOT_A_SCENARIO ? `${fileArg} ${NOT_A_SCENARIO}` : e.message);
    throw e;
  } finally {
    bar.stop();
    process.removeListener('SIGINT', onSigint);
  }
  const wallMs = rt.host.now() - wall0;
  const seedsPerSecond = wallMs > 0 ? result.ran / (wallMs / 1000) : 0;
  const replay = (f: SeedFailure): string => replayCommand(display, f.seed, faults, parsed.options);
  const failures = result.failures.map((f) => ({ seed: f.seed, error: f.error, replay: replay(f) }));
  const ok = failures.length === 0 && !result.interrupted;

  if (json) {
    const out = {
      scenario: result.scenario ?? scenarioName,
      file: display,
      seeds: range,
      shard,
      faults,
      options: result.scenario !== null ? result.options : scenarioOptions,
      workers: result.workers,
      ran: result.ran,
      failures,
      wallMs: Math.round(wallMs * 10) / 10,
      seedsPerSecond: Math.round(seedsPerSecond * 10) / 10,
      ok,
      ...(result.interrupted ? { interrupted: true } : {}),
    };
    process.stdout.write(JSON.stringify(out) + '\n');
  } else {
    for (const f of failures) {
      info(`FAIL seed ${f.seed}: ${f.error}`);
      info(`  replay: ${f.replay}`);
    }
  }
  if (result.interrupted) process.stderr.write('geventjs explore: interrupted\n');
  const nf = failures.length;
  const stopped = !all && nf > 0 ? ` (stopped at the first failure; --all runs every seed)` : '';
  info(
    `explore: ${result.ran.toLocaleString('en-US')} seed${result.ran === 1 ? '' : 's'} run · ${nf} failure${nf === 1 ? '' : 's'} · wall ${formatWall(wallMs)} · ${seedsPerSecond.toFixed(1)} seeds/s${stopped}`,
  );
  if (result.interrupted) return 130;
  return ok ? 0 : 1;
}
