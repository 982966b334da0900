// The explore worker pool and progress bar, in-process (the pool's workers load the TypeScript
// sources through tsx, as they load a user's TypeScript scenario).
import { describe, it, expect } from 'vitest';
import { fileURLToPath } from 'node:url';
import { SeedPool, ScenarioLoadError, type SweepProgress } from '../../src/cli/explore-pool.js';
import { ProgressBar } from '../../src/cli/progress.js';
import { shardSeeds } from '../../src/cli/explore.js';
import { runSeed } from '../../src/vitest.js';
import planted from '../fixtures/explore/planted.js';

const PLANTED = fileURLToPath(new URL('../fixtures/explore/planted.ts', import.meta.url));
const BROKEN = fileURLToPath(new URL('../fixtures/explore/broken.ts', import.meta.url));
const NEVER_RAN = fileURLToPath(new URL('../fixtures/cli/never-ran.ts', import.meta.url));

describe('SeedPool', () => {
  it('runs every seed of a strided sequence once and reports the failing ones in order', async () => {
    const progress: SweepProgress[] = [];
    const pool = new SeedPool(
      { file: PLANTED, options: { rate: '0.2' }, faults: 'none', first: 3, stride: 2, count: 40, workers: 2, stopOnFailure: false },
      (p) => progress.push(p),
    );
    const r = await pool.run();
    const expected: number[] = [];
    for (let k = 0; k < 40; k++) {
      const seed = 3 + 2 * k;
      if (!(await runSeed(planted, seed, { options: { rate: 0.2 } })).ok) expected.push(seed);
    }
    expect(r.interrupted).toBe(false);
    expect(r.workers).toBe(2);
    expect(r.ran).toBe(40);
    expect(r.failures.map((f) => f.seed)).toEqual(expected);
    expect(progress.at(-1)).toEqual({ done: 40, failures: expected.length });
    // progress only grows
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.done).toBeGreaterThanOrEqual(progress[i - 1]!.done);
  });

  it('cancel() before the workers are up resolves at once, interrupted, nothing run', async () => {
    const pool = new SeedPool({ file: PLANTED, options: {}, faults: 'none', first: 1, stride: 1, count: 1000, workers: 2, stopOnFailure: true });
    pool.cancel();
    expect(await pool.run()).toEqual({ scenario: null, options: {}, ran: 0, failures: [], interrupted: true, workers: 0 });
  });

  it('never starts more workers than seeds', async () => {
    const pool = new SeedPool({ file: PLANTED, options: { rate: '0' }, faults: 'none', first: 7, stride: 1, count: 1, workers: 4, stopOnFailure: true });
    expect(await pool.run()).toEqual({ scenario: 'planted', options: { rate: 0 }, ran: 1, failures: [], interrupted: false, workers: 1 });
  });

  it('workers that cannot take the scenario reject the sweep: a usage error for an unknown option or a non-scenario', async () => {
    const pool = new SeedPool({ file: PLANTED, options: { nosuch: '1' }, faults: 'none', first: 1, stride: 1, count: 5, workers: 2, stopOnFailure: true });
    const err = await pool.run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScenarioLoadError);
    expect(err).toMatchObject({ usage: true, message: 'unknown option --nosuch for scenario planted (its options: --rate, --workers, --rounds, --slow, --burn)' });
    const plain = new SeedPool({ file: NEVER_RAN, options: {}, faults: 'none', first: 1, stride: 1, count: 5, workers: 1, stopOnFailure: true });
    await expect(plain.run()).rejects.toMatchObject({ usage: true, message: 'is not a scenario (its default export is not defineScenario(...))' });
  });

  it('a scenario whose import throws rejects the sweep with the error (not a usage error)', async () => {
    const pool = new SeedPool({ file: BROKEN, options: {}, faults: 'none', first: 1, stride: 1, count: 5, workers: 1, stopOnFailure: true });
    const err = (await pool.run().catch((e: unknown) => e)) as ScenarioLoadError;
    expect(err.usage).toBe(false);
    expect(err.message).toMatch(/^an explore worker could not load .*broken\.ts:\nError: this module fails to load/);
  });

  it('reports the scenario name and its parsed options from the workers', async () => {
    const pool = new SeedPool({ file: PLANTED, options: { rate: '0', rounds: '2' }, faults: 'none', first: 1, stride: 1, count: 3, workers: 1, stopOnFailure: true });
    expect(await pool.run()).toMatchObject({ scenario: 'planted', options: { rate: 0, rounds: 2 }, ran: 3, failures: [] });
  });
});

describe('shardSeeds', () => {
  it('shard i of n takes A+i-1, A+i-1+n, … up to B', () => {
    expect(shardSeeds([1, 10], [1, 1])).toEqual({ first: 1, stride: 1, count: 10 });
    expect(shardSeeds([1, 10], [2, 3])).toEqual({ first: 2, stride: 3, count: 3 }); // 2, 5, 8
    expect(shardSeeds([1, 10], [1, 3])).toEqual({ first: 1, stride: 3, count: 4 }); // 1, 4, 7, 10
    expect(shardSeeds([5, 5], [2, 2])).toEqual({ first: 6, stride: 2, count: 0 });
  });
});

describe('ProgressBar', () => {
  it('draws seeds done / total, failures and seeds/s on a TTY, and erases itself', async () => {
    const writes: string[] = [];
    const tty = { isTTY: true, columns: 100, write: (s: string) => writes.push(s) };
    const bar = new ProgressBar(10_000, tty);
    bar.start();
    bar.update(2_500, 1);
    expect(bar.line(100)).toMatch(/^\[#{8}\.{22}\] 2,500\/10,000 seeds · 1 failure · [\d.]+ seeds\/s$/);
    await new Promise((r) => setTimeout(r, 150)); // the bar redraws every 100 ms of real time
    bar.stop();
    expect(writes[0]).toMatch(/^\r\[#+\.+\] 2,500\/10,000 seeds · 1 failure · [\d.]+ seeds\/s\x1b\[K$/);
    expect(writes.at(-1)).toBe('\r\x1b[K');
  });

  it('stays silent when the stream is not a TTY', async () => {
    const writes: string[] = [];
    const bar = new ProgressBar(10, { isTTY: false, write: (s: string) => writes.push(s) });
    bar.start();
    bar.update(5, 0);
    await new Promise((r) => setTimeout(r, 150));
    bar.stop();
    expect(writes).toEqual([]);
  });
});
