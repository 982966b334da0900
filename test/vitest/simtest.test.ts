// geventjs/vitest: simTest sweeps a scenario over seeds inside one vitest test; checkSeeds is the
// runner under it (called directly here to see a failure without failing the suite).
// (Imported by relative path: vitest.config.ts aliases 'geventjs' itself to src/index.ts.)
import { describe, it, expect, beforeAll } from 'vitest';
import { execFile, execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { simTest, checkSeeds, runSeed, parseSeeds, SimTestFailure } from '../../src/vitest.js';
import { LoopExit } from 'geventjs';
import planted from '../fixtures/explore/planted.js';
import unhandled from '../fixtures/explore/unhandled.js';

const root = new URL('../..', import.meta.url).pathname;
const PLANTED = 'test/fixtures/explore/planted.ts';

/** The failing seeds of the planted scenario in [a, b] at the given rate, one runSeed at a time. */
async function failingSeeds(a: number, b: number, rate = 0.05): Promise<number[]> {
  const out: number[] = [];
  for (let s = a; s <= b; s++) if (!(await runSeed(planted, s, { options: { rate } })).ok) out.push(s);
  return out;
}

// simTest itself, registering real tests that pass
simTest('simTest: a scenario that passes every seed (scenario object)', planted, { seeds: '1..100', options: { rate: 0 } });
simTest('simTest: a scenario given by its path, seeds as a count', PLANTED, { seeds: 25, options: { rate: 0 } });
simTest('simTest: seeds as a list, a fault preset', planted, { seeds: [2, 3, 5, 6, 7], faults: 'none', options: { rate: 0.05 } });

describe('runSeed', () => {
  it('a passing seed: the summary, the trace hash, the virtual time', async () => {
    const r = await runSeed(planted, 1, { options: { rate: 0 } });
    expect(r).toMatchObject({ seed: 1, ok: true, error: null, cause: null });
    expect(r.summary).toMatchObject({ steps: 15 });
    expect(r.traceHash).toMatch(/^[0-9a-f]{16}$/);
    expect(r.virtualSeconds).toBe((r.summary as { virtual: number }).virtual);
    // the same seed, the same run
    expect((await runSeed(planted, 1, { options: { rate: 0 } })).traceHash).toBe(r.traceHash);
  });

  it('a failing seed: the error on one line, what was thrown as the cause', async () => {
    const [seed] = await failingSeeds(1, 50);
    const r = await runSeed(planted, seed!);
    expect(r.ok).toBe(false);
    expect(r.error).toBe(`Error: planted bug hit at ${r.virtualSeconds.toFixed(3)}s in main (seed ${seed})`);
    expect(r.cause).toBeInstanceOf(Error);
  });

  it('a greenlet dying of an error nobody handled fails the seed; so does LoopExit', async () => {
    let seed = 1;
    while ((await runSeed(unhandled, seed)).ok) seed++;
    const crash = await runSeed(unhandled, seed);
    expect(crash.error).toBe(`Greenlet-1 died of RangeError: boom on seed ${seed} (1 greenlet error nobody handled)`);
    expect(crash.summary).toEqual({ unlucky: true }); // main itself returned
    expect(crash.virtualSeconds).toBe(0.5);
    const deadlock = await runSeed(unhandled, seed, { options: { mode: 'deadlock' } });
    expect(deadlock.cause).toBeInstanceOf(LoopExit);
    expect(deadlock.error).toBe('LoopExit: This operation would block forever (main waiting on Event.wait (Event clear) since 0.000s)');
    expect(deadlock.virtualSeconds).toBe(0.1);
  });

  it('bad arguments throw', async () => {
    await expect(runSeed(planted, -1)).rejects.toThrow(RangeError);
    await expect(runSeed(planted, 1, { faults: 'mayhem' as 'none' })).rejects.toThrow('unknown fault preset "mayhem"');
  });
});

describe('checkSeeds (the runner under simTest)', () => {
  beforeAll(() => {
    if (!existsSync(join(root, 'dist/cli.js'))) execSync('npx tsup', { cwd: root, stdio: 'ignore' });
  });

  it('resolves with the report when every seed passes', async () => {
    expect(await checkSeeds(planted, { seeds: '1..30', options: { rate: 0 } })).toEqual({ scenario: 'planted', ran: 30, failures: [] });
  });

  it('throws at the first failing seed: the message carries the seed, the error and the replay command', async () => {
    const [seed] = await failingSeeds(1, 60);
    const err = await checkSeeds(planted, { seeds: '1..60', file: PLANTED }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SimTestFailure);
    const f = err as SimTestFailure;
    const r = await runSeed(planted, seed!);
    expect(f.message.split('\n')).toEqual([
      `scenario planted failed with seed ${seed}: ${r.error}`,
      `  replay: geventjs run ${PLANTED} --seed ${seed}`,
      `  (${seed} of 60 seeds run from 1..60, faults none; 1 failed)`,
    ]);
    expect(f.seed).toBe(seed);
    expect(f.replay).toBe(`geventjs run ${PLANTED} --seed ${seed}`);
    expect(f.cause).toBeInstanceOf(Error);
    expect((f.cause as Error).message).toBe(`planted bug hit at ${r.virtualSeconds.toFixed(3)}s in main (seed ${seed})`);
  });

  it('the replay command in the message reproduces the failure', async () => {
    const f = (await checkSeeds(PLANTED, { seeds: '1..80', options: { rate: 0.1 } }).catch((e: unknown) => e)) as SimTestFailure;
    expect(f.replay).toBe(`geventjs run ${PLANTED} --seed ${f.seed} --rate 0.1`);
    const out = await new Promise<{ code: number; stdout: string }>((resolve) =>
      execFile('node', ['bin/geventjs.js', ...f.replay.split(' ').slice(1), '--json'], { cwd: root }, (e, stdout) =>
        resolve({ code: e ? Number(e.code) : 0, stdout }),
      ),
    );
    expect(out.code).toBe(1);
    expect(JSON.parse(out.stdout)).toMatchObject({ seed: f.seed, ok: false, error: f.failures[0]!.error });
  });

  it('all: runs every seed and lists every failure', async () => {
    const expected = await failingSeeds(1, 150);
    const f = (await checkSeeds(planted, { seeds: 150, all: true, file: new URL('../fixtures/explore/planted.ts', import.meta.url) }).catch((e: unknown) => e)) as SimTestFailure;
    expect(f.failures.map((x) => x.seed)).toEqual(expected);
    expect(f.failures.map((x) => x.replay)).toEqual(expected.map((s) => `geventjs run ${PLANTED} --seed ${s}`));
    expect(f.message).toContain(`also seed ${expected[1]}: `);
    expect(f.message.split('\n').at(-1)).toBe(`  (150 of 150 seeds run from 1..150, faults none; ${expected.length} failed)`);
  });

  it('without a file, the replay is a runSeed call', async () => {
    const f = (await checkSeeds(planted, { seeds: '1..60', faults: 'none', options: { rate: 0.1 } }).catch((e: unknown) => e)) as SimTestFailure;
    expect(f.replay).toBe(`runSeed(planted, ${f.seed}, {"options":{"rate":0.1}})  (pass \`file\` to simTest for a geventjs run command)`);
  });

  it('rejects what is not a scenario', async () => {
    await expect(checkSeeds('test/fixtures/cli/never-ran.ts', { seeds: 1 })).rejects.toThrow('test/fixtures/cli/never-ran.ts is not a scenario');
    await expect(checkSeeds(planted, { seeds: 1, faults: 'mayhem' as 'none' })).rejects.toThrow('unknown fault preset "mayhem"');
  });
});

describe('parseSeeds', () => {
  it("'A..B', a count from 1, a list", () => {
    expect(parseSeeds('3..6')).toEqual([3, 4, 5, 6]);
    expect(parseSeeds('9')).toEqual([9]);
    expect(parseSeeds(3)).toEqual([1, 2, 3]);
    expect(parseSeeds([8, 2])).toEqual([8, 2]);
  });

  it('bad seeds are a RangeError (at collection time for simTest)', () => {
    expect(() => parseSeeds('6..3')).toThrow("seeds: expected 'A..B' with A <= B, got \"6..3\"");
    expect(() => parseSeeds(0)).toThrow('a count must be a positive integer, got 0');
    expect(() => parseSeeds([1.5])).toThrow('1.5 is not a non-negative integer');
    expect(() => parseSeeds([])).toThrow('no seed to run');
    expect(() => simTest('never registered', planted, { seeds: 'x' })).toThrow(RangeError);
  });
});
