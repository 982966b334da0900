/**
 * The explore worker pool (a Node driver): runs a scenario over a sequence of seeds in
 * `node:worker_threads` workers, each seed on a fresh hub, and collects the failing seeds.
 *
 * The seeds are `first + k * stride` for `k < count` (a shard of an `A..B` range). They are handed out
 * in ascending order, in batches sized to take a few tens of milliseconds, so the messages cost little
 * and the tail of a sweep still spreads over every worker.
 *
 * Stopping at the first failure without depending on the worker count: the lowest failing seed so far
 * is a stop line in shared memory, which every worker checks before each seed. Nothing above the line
 * is handed out; a worker busy above it is terminated at once; a worker busy below it finishes (its
 * seeds may fail lower still). Since seeds are handed out in order, when the pool drains every seed
 * below the final line has passed, so the report — the lowest failing seed of the shard — is the same
 * with 1 worker or 16.
 */
import { Worker } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import type { FaultPreset } from './seed.js';
import type { OptionValue } from '../sim/scenario.js';

/** What a worker is started with. @internal */
export interface WorkerData {
  file: string;
  /** Scenario options as given on the command line. */
  options: Record<string, string | boolean>;
  faults: FaultPreset;
  /** BigInt64Array: [0] the stop line, [1 + index] the seed worker `index` is running (-1: none). */
  shared: SharedArrayBuffer;
  index: number;
  stopOnFailure: boolean;
}

/** Pool → worker. @internal */
export type ToWorker = { type: 'batch'; seed0: number; stride: number; count: number };

/** Worker → pool. @internal */
export type FromWorker =
  | { type: 'ready'; scenario: string; options: Record<string, OptionValue> }
  | { type: 'loadError'; usage: boolean; error: string }
  | { type: 'done'; ran: number; ms: number; failures: SeedFailure[] };

/**
 * A sweep: which seeds, of what, how.
 * @example
 * // seeds 2, 5, 8, … of 1..100 (shard 2/3), stopping at the first failure
 * const plan: SweepPlan = { file: '/abs/sim/kv.ts', options: {}, faults: 'partitions', first: 2, stride: 3, count: 33, workers: 2, stopOnFailure: true };
 */
export interface SweepPlan {
  /** Absolute path of the scenario module. */
  file: string;
  options: Record<string, string | boolean>;
  faults: FaultPreset;
  /** Seeds are first + k * stride, k < count. */
  first: number;
  stride: number;
  count: number;
  workers: number;
  /** Stop at the lowest failing seed (false: `--all`). */
  stopOnFailure: boolean;
}

/**
 * A failing seed and its error on one line.
 * @example
 * const f: SeedFailure = { seed: 17, error: 'Error: kv: stale read: …' };
 */
export interface SeedFailure {
  seed: number;
  error: string;
}

/**
 * Progress of a sweep, as the pool reports it.
 * @example
 * new SeedPool(plan, (p: SweepProgress) => console.error(`${p.done} seeds, ${p.failures} failing`));
 */
export interface SweepProgress {
  /** Seeds finished. */
  done: number;
  /** Failing seeds found so far. */
  failures: number;
}

/**
 * What a sweep found.
 * @example
 * const r: SweepResult = await pool.run();
 * if (r.failures.length > 0) console.log(`lowest failing seed: ${r.failures[0].seed}`);
 */
export interface SweepResult {
  /** The scenario's name and its parsed options overrides, as the workers loaded them (null: no worker ran). */
  scenario: string | null;
  options: Record<string, OptionValue>;
  /** Seeds run (with stopOnFailure: every seed of the shard up to the failing one). */
  ran: number;
  /** Ascending by seed; with stopOnFailure at most one, the lowest failing seed. */
  failures: SeedFailure[];
  interrupted: boolean;
  /** Workers started. */
  workers: number;
}

const NONE = -1n;
const NO_LIMIT = BigInt(Number.MAX_SAFE_INTEGER) + 1n;
/** A batch should take about this long (ms), once the cost of a seed is known. */
const BATCH_MS = 40;

interface Batch {
  seed0: number;
  stride: number;
  count: number;
}

interface Entry {
  index: number;
  worker: Worker;
  ready: boolean;
  batch: Batch | null;
  /** Terminated by the pool (stop line, cancel, end): its exit is expected. */
  retired: boolean;
  lastError: unknown;
}

/**
 * The workers could not load the scenario: `usage` when the file is not a scenario or an option does
 * not fit it (the user's mistake), else the error the import threw.
 * @example
 * try { await pool.run(); } catch (e) { if (e instanceof ScenarioLoadError && e.usage) process.exitCode = 2; }
 */
export class ScenarioLoadError extends Error {
  readonly usage: boolean;
  constructor(message: string, usage: boolean) {
    super(message);
    this.name = 'ScenarioLoadError';
    this.usage = usage;
  }
}

/** Where the worker script is: next to this module in dist/ (or the .ts source, run through tsx). */
function workerScript(): { url: URL; ts: boolean } {
  const here: string = typeof __filename === 'string' ? pathToFileURL(__filename).href : import.meta.url;
  const ts = /\.[cm]?ts$/.test(new URL(here).pathname);
  const ext = ts ? '.ts' : here.endsWith('.cjs') ? '.cjs' : '.js';
  return { url: new URL(`./explore-worker${ext}`, here), ts };
}

function startWorker(data: WorkerData): Worker {
  const { url, ts } = workerScript();
  const opts = { workerData: data, stdout: true, stderr: true } as const;
  let w: Worker;
  if (ts) {
    // running from the sources (tests): register tsx in the worker, then load the TypeScript worker
    const api = createRequire(url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs'); // the ESM build of tsx's API
    const code = `import(${JSON.stringify(pathToFileURL(api).href)}).then((a) => { a.register(); return import(${JSON.stringify(url.href)}); });`;
    w = new Worker(code, { ...opts, eval: true });
  } else {
    w = new Worker(url, opts);
  }
  // the workers silence the scenario's console; drain whatever else writes to their streams
  w.stdout.resume();
  w.stderr.resume();
  return w;
}

/**
 * Runs a sweep in a pool of worker threads.
 * @example
 * const pool = new SeedPool({ file, options: {}, faults: 'none', first: 1, stride: 1, count: 1000, workers: 2, stopOnFailure: true });
 * const { failures } = await pool.run();
 */
export class SeedPool {
  private readonly plan: SweepPlan;
  private readonly shared: BigInt64Array;
  private readonly entries: Entry[] = [];
  private readonly onProgress: (p: SweepProgress) => void;
  private readonly onStart: () => void;
  private nextK = 0;
  private readonly requeued: Batch[] = [];
  private failures: SeedFailure[] = [];
  private done = 0;
  private seedMs = 0;
  private seedsTimed = 0;
  private cancelled = false;
  private loaded: { scenario: string; options: Record<string, OptionValue> } | null = null;
  private finished = false;
  private started = false;
  private resolve!: (r: SweepResult) => void;
  private reject!: (e: Error) => void;
  private readonly result: Promise<SweepResult>;

  /**
   * @param onProgress called as seeds finish
   * @param onStart called once, when the first worker has loaded the scenario
   */
  constructor(plan: SweepPlan, onProgress: (p: SweepProgress) => void = () => {}, onStart: () => void = () => {}) {
    if (!Number.isSafeInteger(plan.workers) || plan.workers < 1) throw new RangeError(`workers must be a positive integer, got ${plan.workers}`);
    this.plan = plan;
    this.onProgress = onProgress;
    this.onStart = onStart;
    this.shared = new BigInt64Array(new SharedArrayBuffer(8 * (1 + plan.workers)));
    this.shared.fill(NONE);
    this.shared[0] = NO_LIMIT;
    this.result = new Promise<SweepResult>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  /** Starts the workers and resolves when the sweep is over (or cancelled). */
  run(): Promise<SweepResult> {
    if (this.started || this.finished) return this.result; // cancelled before it started
    this.started = true;
    const n = Math.min(this.plan.workers, this.plan.count);
    if (n === 0) this.finish();
    else for (let i = 0; i < n; i++) this.spawn(i);
    return this.result;
  }

  /** Stops every worker at once (SIGINT); `run()` resolves with `interrupted: true`. */
  cancel(): void {
    if (this.finished) return;
    this.cancelled = true;
    this.finish();
  }

  private spawn(index: number): void {
    Atomics.store(this.shared, 1 + index, NONE);
    const data: WorkerData = {
      file: this.plan.file,
      options: this.plan.options,
      faults: this.plan.faults,
      shared: this.shared.buffer as SharedArrayBuffer,
      index,
      stopOnFailure: this.plan.stopOnFailure,
    };
    const entry: Entry = { index, worker: startWorker(data), ready: false, batch: null, retired: false, lastError: null };
    this.entries[index] = entry;
    entry.worker.on('message', (m: FromWorker) => this.onMessage(entry, m));
    entry.worker.on('error', (e) => (entry.lastError = e));
    entry.worker.on('exit', (code) => this.onExit(entry, code));
  }

  private limit(): bigint {
    return Atomics.load(this.shared, 0);
  }

  private lowerLimit(seed: number): void {
    const s = BigInt(seed);
    for (;;) {
      const cur = Atomics.load(this.shared, 0);
      if (cur <= s) return;
      if (Atomics.compareExchange(this.shared, 0, cur, s) === cur) return;
    }
  }

  private onMessage(e: Entry, m: FromWorker): void {
    if (this.finished || e.retired) return;
    switch (m.type) {
      case 'ready':
        e.ready = true;
        if (this.loaded === null) {
          this.loaded = { scenario: m.scenario, options: m.options };
          this.onStart();
        }
        this.dispatch(e);
        break;
      case 'loadError':
        this.fail(m.usage ? new ScenarioLoadError(m.error, true) : new ScenarioLoadError(`an explore worker could not load ${this.plan.file}:\n${m.error}`, false));
        return;
      case 'done':
        this.done += m.ran;
        e.batch = null;
        if (m.failures.length > 0) {
          this.failures.push(...m.failures);
          if (this.plan.stopOnFailure) {
            this.lowerLimit(m.failures[0]!.seed); // the worker lowered it already; a no-op unless it died since
            this.retireAboveLimit();
          }
        }
        if (m.ran > 0) {
          this.seedMs += m.ms;
          this.seedsTimed += m.ran;
        }
        this.dispatch(e);
        break;
    }
    this.onProgress({ done: this.done, failures: this.failures.length });
    this.checkFinished();
  }

  /** Terminates workers running a seed above the stop line: their result cannot matter. */
  private retireAboveLimit(): void {
    const limit = this.limit();
    for (const e of this.entries) {
      if (e.retired || e.batch === null) continue;
      const running = Atomics.load(this.shared, 1 + e.index);
      if (running !== NONE && running > limit) this.retire(e);
    }
  }

  private retire(e: Entry): void {
    e.retired = true;
    e.batch = null;
    void e.worker.terminate();
  }

  private onExit(e: Entry, code: number): void {
    if (e.retired || this.finished) return;
    // a worker died on its own (process.exit in a scenario, out of memory, a crash in the loader)
    e.retired = true;
    const why = e.lastError instanceof Error ? `${e.lastError.name}: ${e.lastError.message.split('\n')[0]!}` : `exit code ${code}`;
    const running = Atomics.load(this.shared, 1 + e.index);
    const batch = e.batch;
    e.batch = null;
    if (!e.ready || batch === null || running === NONE) {
      this.fail(new Error(`an explore worker exited unexpectedly (${why})`));
      return;
    }
    const seed = Number(running);
    const k = (seed - batch.seed0) / batch.stride;
    this.done += 1;
    this.failures.push({ seed, error: `the worker running this seed died (${why})` });
    if (this.plan.stopOnFailure) {
      // the seeds before it in the batch passed (a batch stops at its first failure)
      this.done += k;
      this.lowerLimit(seed);
      this.retireAboveLimit();
    } else {
      // the batch's results died with the worker: run the seeds before and after the fatal one again
      if (k > 0) this.requeued.push({ seed0: batch.seed0, stride: batch.stride, count: k });
      if (batch.count - k - 1 > 0) this.requeued.push({ seed0: seed + batch.stride, stride: batch.stride, count: batch.count - k - 1 });
    }
    if (this.hasWork()) this.spawn(e.index);
    this.onProgress({ done: this.done, failures: this.failures.length });
    this.checkFinished();
  }

  private hasWork(): boolean {
    if (this.cancelled) return false;
    if (this.plan.stopOnFailure && this.limit() !== NO_LIMIT) return false; // everything not handed out is above the line
    return this.requeued.length > 0 || this.nextK < this.plan.count;
  }

  private batchSize(): number {
    const remaining = this.plan.count - this.nextK;
    const perSeed = this.seedsTimed > 0 ? this.seedMs / this.seedsTimed : Infinity;
    const byTime = Math.max(1, Math.floor(BATCH_MS / perSeed));
    const fair = Math.max(1, Math.ceil(remaining / (2 * this.plan.workers)));
    return Math.min(byTime, fair, remaining);
  }

  private dispatch(e: Entry): void {
    if (e.retired || !e.ready || e.batch !== null || !this.hasWork()) return;
    let batch: Batch;
    if (this.requeued.length > 0) {
      batch = this.requeued.shift()!;
    } else {
      const count = this.batchSize();
      batch = { seed0: this.plan.first + this.nextK * this.plan.stride, stride: this.plan.stride, count };
      this.nextK += count;
    }
    e.batch = batch;
    const m: ToWorker = { type: 'batch', ...batch };
    e.worker.postMessage(m);
  }

  private checkFinished(): void {
    if (this.finished) return;
    if (this.hasWork()) return;
    if (this.entries.some((e) => !e.retired && e.batch !== null)) return;
    this.finish();
  }

  private fail(error: Error): void {
    if (this.finished) return;
    this.finished = true;
    for (const e of this.entries) if (!e.retired) this.retire(e);
    this.reject(error);
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    for (const e of this.entries) if (!e.retired) this.retire(e);
    const sorted = [...this.failures].sort((a, b) => a.seed - b.seed);
    let failures = sorted;
    let ran = this.done;
    if (this.plan.stopOnFailure && sorted.length > 0) {
      failures = [sorted[0]!];
      // every seed of the shard up to the lowest failing one ran (see the module's comment)
      if (!this.cancelled) ran = (sorted[0]!.seed - this.plan.first) / this.plan.stride + 1;
    }
    this.resolve({
      scenario: this.loaded?.scenario ?? null,
      options: this.loaded?.options ?? {},
      ran,
      failures,
      interrupted: this.cancelled,
      workers: this.entries.length,
    });
  }
}
