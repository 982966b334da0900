/**
 * An explore worker (a Node driver): a `node:worker_threads` thread that loads the scenario once and
 * runs the seeds the pool hands it, each on a fresh sim-mode hub. Workers share nothing but the
 * pool's stop line (the lowest failing seed so far, in shared memory), so a sweep's findings do not
 * depend on how many workers there are.
 *
 * Protocol (see explore-pool.ts): the worker posts `ready` (or `loadError`); the pool posts a `batch`
 * (seeds `seed0 + k * stride`, k < count); the worker posts `done` at the end of the batch, with
 * the batch's failing seeds (one message per batch: the pool's thread shares the cores with the
 * workers). With `stopOnFailure`, a batch stops at its first failure — lowering the stop line at
 * once, for the other workers — and skips seeds above the line.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { importFile } from './load.js';
import { runSeed, errorLine } from './seed.js';
import { isScenario, parseScenarioOptions, type OptionValue, type Scenario } from '../sim/scenario.js';
import type { WorkerData, ToWorker, FromWorker, SeedFailure } from './explore-pool.js';

const data = workerData as WorkerData;
const port = parentPort!;
const shared = new BigInt64Array(data.shared);
const LIMIT = 0;
const slot = 1 + data.index;

// A sweep runs thousands of seeds: the scenario's own output would drown the report (replay a seed
// to see it).
for (const k of ['log', 'info', 'debug', 'warn', 'error', 'trace', 'dir', 'table'] as const) {
  (console as unknown as Record<string, () => void>)[k] = () => {};
}

// An error that escapes every hub (a stray promise rejection) fails the seed that is running.
let stray: unknown = null;
let strayCount = 0;
process.on('unhandledRejection', (e) => {
  strayCount++;
  stray ??= e;
});
process.on('uncaughtException', (e) => {
  strayCount++;
  stray ??= e;
});

function post(m: FromWorker): void {
  port.postMessage(m);
}

/** Lowers the shared stop line to `seed` unless it is already lower. */
function lowerLimit(seed: number): void {
  const s = BigInt(seed);
  for (;;) {
    const cur = Atomics.load(shared, LIMIT);
    if (cur <= s) return;
    if (Atomics.compareExchange(shared, LIMIT, cur, s) === cur) return;
  }
}

/** Loads the scenario; a file that is not one, or an option it lacks, is the user's mistake (`usage`). */
async function load(): Promise<{ scenario: Scenario; options: Partial<Record<string, OptionValue>> } | null> {
  let mod;
  try {
    mod = await importFile(data.file);
  } catch (e) {
    post({ type: 'loadError', usage: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    return null;
  }
  if (!isScenario(mod.default)) {
    post({ type: 'loadError', usage: true, error: 'is not a scenario (its default export is not defineScenario(...))' });
    return null;
  }
  const scenario = mod.default;
  try {
    return { scenario, options: parseScenarioOptions(scenario, data.options) };
  } catch (e) {
    post({ type: 'loadError', usage: true, error: (e as Error).message });
    return null;
  }
}

function serve(scenario: Scenario, options: Partial<Record<string, OptionValue>>): void {
  port.on('message', async (m: ToWorker) => {
    if (m.type !== 'batch') return;
    let ran = 0;
    const failures: SeedFailure[] = [];
    const t0 = performance.now();
    for (let k = 0; k < m.count; k++) {
      const seed = m.seed0 + k * m.stride;
      if (data.stopOnFailure && BigInt(seed) > Atomics.load(shared, LIMIT)) break;
      Atomics.store(shared, slot, BigInt(seed));
      stray = null;
      strayCount = 0;
      const r = await runSeed(scenario, seed, { faults: data.faults, options });
      ran++;
      let error = r.error;
      if (error === null && stray !== null) {
        error = `unhandled outside the hub: ${errorLine(stray)}${strayCount > 1 ? ` (+${strayCount - 1} more)` : ''}`;
      }
      if (error !== null) {
        failures.push({ seed, error });
        if (data.stopOnFailure) {
          lowerLimit(seed);
          break;
        }
      }
    }
    Atomics.store(shared, slot, -1n);
    post({ type: 'done', ran, ms: performance.now() - t0, failures });
  });
  post({ type: 'ready', scenario: scenario.name, options: options as Record<string, OptionValue> });
}

// no top-level await: the worker is built as CommonJS too
void load().then((loaded) => {
  if (loaded !== null) serve(loaded.scenario, loaded.options);
});
