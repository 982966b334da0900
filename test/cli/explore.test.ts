// geventjs explore: sweeps over a fixture scenario with a planted bug (fails on the seeds whose first
// draw is under --rate), run through the built CLI (node bin/geventjs.js) as a user would.
import { describe, it, expect, beforeAll, onTestFinished } from 'vitest';
import { execFile, execSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import planted from '../fixtures/explore/planted.js';
import { runSeed } from '../../src/vitest.js';

const root = new URL('../..', import.meta.url).pathname;
const PLANTED = 'test/fixtures/explore/planted.ts';
const UNHANDLED = 'test/fixtures/explore/unhandled.ts';

interface Result { code: number; stdout: string; stderr: string }

function geventjs(...args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile('node', ['bin/geventjs.js', ...args], { cwd: root, env: { ...process.env, GEVENTJS_MODE: '', GEVENTJS_SEED: '' } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

async function exploreJson(...args: string[]): Promise<{ code: number; result: ExploreJson; stderr: string }> {
  const r = await geventjs('explore', ...args, '--json');
  const lines = r.stdout.trim().split('\n');
  expect(lines).toHaveLength(1); // exactly one JSON object on stdout
  return { code: r.code, result: JSON.parse(lines[0]!) as ExploreJson, stderr: r.stderr };
}

interface ExploreJson {
  scenario: string;
  file: string;
  seeds: [number, number];
  shard: [number, number] | null;
  faults: string;
  options: Record<string, unknown>;
  workers: number;
  ran: number;
  failures: { seed: number; error: string; replay: string }[];
  wallMs: number;
  seedsPerSecond: number;
  ok: boolean;
}

/** The failing seeds of the planted scenario in [a, b], found in this process, one seed at a time. */
async function failingSeeds(a: number, b: number, options: Record<string, number> = {}): Promise<number[]> {
  const out: number[] = [];
  for (let s = a; s <= b; s++) if (!(await runSeed(planted, s, { options })).ok) out.push(s);
  return out;
}

beforeAll(() => {
  if (!existsSync(join(root, 'dist/cli.js')) || !existsSync(join(root, 'dist/explore-worker.js'))) execSync('npx tsup', { cwd: root, stdio: 'ignore' });
});

describe('geventjs explore: stop at the first failure', () => {
  it('reports the lowest failing seed of the range, the same with 1 and 2 workers, even when a higher one fails first', async () => {
    const expected = await failingSeeds(1, 60);
    expect(expected.length).toBeGreaterThanOrEqual(2);
    const lowest = expected[0]!;
    // seed `lowest` burns CPU first: a second worker meanwhile runs on and finds a higher failing seed
    const slow = ['--slow', String(lowest), '--burn', '50000000'];
    const one = await exploreJson(PLANTED, '--seeds', '1..60', '--workers', '1', ...slow);
    const two = await exploreJson(PLANTED, '--seeds', '1..60', '--workers', '2', ...slow);
    for (const r of [one, two]) {
      expect(r.code).toBe(1);
      expect(r.result.ok).toBe(false);
      expect(r.result.failures.map((f) => f.seed)).toEqual([lowest]);
      expect(r.result.failures[0]!.error).toBe(`Error: planted bug hit at ${(await runSeed(planted, lowest)).virtualSeconds.toFixed(3)}s in main (seed ${lowest})`);
      expect(r.result.ran).toBe(lowest); // every seed up to the failing one, none after
    }
    expect(one.result.workers).toBe(1);
    expect(two.result.workers).toBe(2);
  });

  it('prints the failing seed with its error and a replay command, then the summary line', async () => {
    const [lowest] = await failingSeeds(1, 30);
    const r = await geventjs('explore', PLANTED, '--seeds', '1..30', '--workers', '2');
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe(`geventjs explore: ${PLANTED} — seeds 1..30, faults none, 2 workers`);
    expect(lines[1]).toBe(`FAIL seed ${lowest}: Error: planted bug hit at ${(await runSeed(planted, lowest!)).virtualSeconds.toFixed(3)}s in main (seed ${lowest})`);
    expect(lines[2]).toBe(`  replay: geventjs run ${PLANTED} --seed ${lowest}`);
    expect(lines[3]).toMatch(new RegExp(`^explore: ${lowest} seeds run · 1 failure · wall [\\d.]+ m?s · [\\d.]+ seeds/s \\(stopped at the first failure; --all runs every seed\\)$`));
    expect(r.stderr).toBe(''); // no progress bar: stderr is not a TTY
  });

  it('the replay command reproduces the failure', async () => {
    const { result } = await exploreJson(PLANTED, '--seeds', '1..40', '--rate', '0.1', '--faults', 'none');
    const f = result.failures[0]!;
    expect(f.replay).toBe(`geventjs run ${PLANTED} --seed ${f.seed} --rate 0.1`);
    const argv = f.replay.split(' ');
    expect(argv.slice(0, 2)).toEqual(['geventjs', 'run']);
    const replayed = await geventjs(...argv.slice(1), '--json');
    expect(replayed.code).toBe(1);
    const one = JSON.parse(replayed.stdout);
    expect(`${one.error}`).toBe(f.error);
    expect(one.seed).toBe(f.seed);
    // and the seed before it passes, as the sweep said
    const before = await geventjs(...argv.slice(1, 3), '--seed', String(f.seed - 1), '--rate', '0.1');
    expect(before.code).toBe(0);
  });

  it('a greenlet error nobody handled and a LoopExit fail a seed too', async () => {
    const crash = await exploreJson(UNHANDLED, '--seeds', '1..20', '--mode', 'crash');
    expect(crash.code).toBe(1);
    const seed = crash.result.failures[0]!.seed;
    expect(crash.result.failures[0]!.error).toBe(`Greenlet-1 died of RangeError: boom on seed ${seed} (1 greenlet error nobody handled)`);
    const deadlock = await exploreJson(UNHANDLED, '--seeds', '1..20', '--mode', 'deadlock');
    expect(deadlock.code).toBe(1);
    expect(deadlock.result.failures).toEqual([
      {
        seed, // the same draw decides both modes
        error: 'LoopExit: This operation would block forever (main waiting on Event.wait (Event clear) since 0.000s)',
        replay: `geventjs run ${UNHANDLED} --seed ${seed} --mode deadlock`,
      },
    ]);
  });
});

describe('geventjs explore: a seed that kills its worker', () => {
  const EXITS = 'test/fixtures/explore/exits.ts';

  it('--all: that seed fails, a new worker takes over, and every other failing seed is still found', async () => {
    const baseline = await exploreJson(EXITS, '--seeds', '1..60', '--all', '--workers', '1');
    const doomed = baseline.result.failures.map((f) => f.seed);
    expect(doomed.length).toBeGreaterThan(2);
    // a passing seed just after a doomed one, late enough that batches hold several seeds: the
    // batch's earlier failure died with the worker and must be found again
    const exitOn = 1 + doomed.find((s) => s > 30 && s < 60 && !doomed.includes(s + 1))!;
    for (const workers of ['1', '2']) {
      const r = await exploreJson(EXITS, '--seeds', '1..60', '--all', '--exitOn', String(exitOn), '--workers', workers);
      expect(r.result.ran).toBe(60);
      expect(r.result.failures.map((f) => f.seed)).toEqual([...doomed, exitOn].sort((a, b) => a - b));
      expect(r.result.failures.find((f) => f.seed === exitOn)).toEqual({
        seed: exitOn,
        error: 'the worker running this seed died (exit code 3)',
        replay: `geventjs run ${EXITS} --seed ${exitOn} --exitOn ${exitOn}`,
      });
    }
  });

  it('without --all it is the lowest failing seed when it comes first', async () => {
    const r = await exploreJson(EXITS, '--seeds', '1..60', '--exitOn', '2', '--workers', '2');
    expect(r.code).toBe(1);
    expect(r.result.failures).toEqual([{ seed: 2, error: 'the worker running this seed died (exit code 3)', replay: `geventjs run ${EXITS} --seed 2 --exitOn 2` }]);
    expect(r.result.ran).toBe(2);
  });
});

describe('geventjs explore --all', () => {
  it('lists every failing seed of the range, as an in-process loop finds them, with 1 and 2 workers', async () => {
    const expected = await failingSeeds(1, 300);
    expect(expected.length).toBeGreaterThan(5);
    const one = await exploreJson(PLANTED, '--seeds', '1..300', '--all', '--workers', '1');
    const two = await exploreJson(PLANTED, '--seeds', '1..300', '--all', '--workers', '2');
    for (const r of [one, two]) {
      expect(r.code).toBe(1);
      expect(r.result.ran).toBe(300);
      expect(r.result.failures.map((f) => f.seed)).toEqual(expected);
    }
    expect(two.result.failures).toEqual(one.result.failures);
  });

  it('--json: the shape of the report', async () => {
    const { code, result } = await exploreJson(PLANTED, '--seeds', '10..49', '--all', '--workers', '2', '--rate', '0.1');
    expect(code).toBe(1);
    expect(Object.keys(result)).toEqual(['scenario', 'file', 'seeds', 'shard', 'faults', 'options', 'workers', 'ran', 'failures', 'wallMs', 'seedsPerSecond', 'ok']);
    const expected = await failingSeeds(10, 49, { rate: 0.1 });
    expect(result).toMatchObject({
      scenario: 'planted',
      file: PLANTED,
      seeds: [10, 49],
      shard: null,
      faults: 'none',
      options: { rate: 0.1 },
      workers: 2,
      ran: 40,
      ok: false,
    });
    expect(result.failures).toEqual(
      expected.map((seed) => ({ seed, error: expect.stringMatching(new RegExp(`^Error: planted bug hit at [\\d.]+s in main \\(seed ${seed}\\)$`)), replay: `geventjs run ${PLANTED} --seed ${seed} --rate 0.1` })),
    );
    expect(result.wallMs).toBeGreaterThan(0);
    expect(result.seedsPerSecond).toBeCloseTo(40 / (result.wallMs / 1000), 0);
  });

  it('a large --json report reaches the end of a pipe whole', async () => {
    const { result } = await exploreJson(PLANTED, '--seeds', '1..3000', '--all', '--rate', '1', '--rounds', '1');
    expect(result.failures).toHaveLength(3000); // ~370 KB of JSON
    expect(result.failures.at(-1)!.seed).toBe(3000);
  });
});

describe('geventjs explore --shard i/n', () => {
  it('the shards of a range cover each seed exactly once', async () => {
    // with --rate 1 every seed fails, so with --all the failures list the seeds each shard ran
    const n = 3;
    const shards = await Promise.all(
      Array.from({ length: n }, (_, i) => exploreJson(PLANTED, '--seeds', '5..104', '--all', '--rate', '1', '--shard', `${i + 1}/${n}`, '--workers', '1')),
    );
    const seen: number[] = [];
    shards.forEach((s, i) => {
      expect(s.result.shard).toEqual([i + 1, n]);
      const seeds = s.result.failures.map((f) => f.seed);
      expect(s.result.ran).toBe(seeds.length);
      // interleaved: shard i takes A+i-1, A+i-1+n, ...
      expect(seeds.every((x) => (x - 5) % n === i)).toBe(true);
      seen.push(...seeds);
    });
    expect(seen.length).toBe(100); // no overlap…
    expect([...new Set(seen)].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, k) => 5 + k)); // …and nothing missed
    expect(shards.map((s) => s.result.ran)).toEqual([34, 33, 33]);
  });

  it('a shard stops at its own lowest failing seed', async () => {
    const expected = (await failingSeeds(1, 200)).filter((s) => (s - 1) % 4 === 1);
    const { result } = await exploreJson(PLANTED, '--seeds', '1..200', '--shard', '2/4');
    expect(result.failures.map((f) => f.seed)).toEqual([expected[0]]);
    expect(result.ran).toBe((expected[0]! - 2) / 4 + 1);
  });

  it('a shard with no seed in a short range runs nothing and passes', async () => {
    const r = await exploreJson(PLANTED, '--seeds', '1..2', '--shard', '3/3', '--rate', '1');
    expect(r.code).toBe(0);
    expect(r.result).toMatchObject({ ran: 0, failures: [], ok: true });
  });
});

describe('geventjs explore: exit codes', () => {
  it('0 when every seed passes', async () => {
    const r = await geventjs('explore', PLANTED, '--seeds', '1..50', '--rate', '0', '--workers', '2');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^explore: 50 seeds run · 0 failures · wall [\d.]+ m?s · [\d.]+ seeds\/s$/m);
    expect(r.stdout).not.toContain('FAIL');
  });

  it('2 on usage errors, before any seed runs', async () => {
    const cases: [string[], string][] = [
      [[PLANTED], 'explore needs --seeds A..B'],
      [[PLANTED, '--seeds', '9..3'], '--seeds: 9..3 is not a range A..B with A <= B'],
      [[PLANTED, '--seeds', 'x'], '--seeds needs A..B (inclusive) or a single seed, got "x"'],
      [[PLANTED, '--seeds', '1..5', '--faults', 'mayhem'], 'unknown fault preset "mayhem" (presets: none, latency, partitions, crashes, chaos, all)'],
      [[PLANTED, '--seeds', '1..5', '--shard', '0/2'], '--shard needs i/n with 1 <= i <= n (1-based, like vitest), got "0/2"'],
      [[PLANTED, '--seeds', '1..5', '--shard', '3/2'], '--shard needs i/n'],
      [[PLANTED, '--seeds', '1..5', '--workers', '0'], '--workers needs a positive integer, got "0"'],
      [[PLANTED, '--seeds', '1..5', '--clients', '3'], 'unknown option --clients for scenario planted (its options: --rate, --workers, --rounds, --slow, --burn)'],
      [[PLANTED, '--seeds', '1..5', '--rate', 'lots'], 'option --rate needs a number, got "lots"'],
      [['test/fixtures/cli/never-ran.ts', '--seeds', '1..5'], 'test/fixtures/cli/never-ran.ts is not a scenario'],
      [['no/such/scenario.ts', '--seeds', '1..5'], 'no such file: no/such/scenario.ts'],
      [[], 'explore needs a scenario'],
    ];
    const results = await Promise.all(cases.map(([args]) => geventjs('explore', ...args)));
    results.forEach((r, i) => {
      expect(r.code, cases[i]![0].join(' ')).toBe(2);
      expect(r.stderr).toContain(cases[i]![1]);
      expect(r.stdout).not.toContain('seeds run');
    });
  });

  it('run takes --faults too (a usage error for an unknown preset or a plain program)', async () => {
    const ok = await geventjs('run', PLANTED, '--seed', '1', '--faults', 'none', '--json');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ seed: 1, faults: 'none', ok: true });
    const bad = await geventjs('run', PLANTED, '--faults', 'mayhem');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown fault preset "mayhem"');
    const plain = await geventjs('run', 'test/fixtures/cli/never-ran.ts', '--faults', 'chaos');
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain('--faults needs a scenario');
  });

  it('130 on SIGINT: the workers stop at once', async () => {
    const child = spawn('node', ['bin/geventjs.js', 'explore', PLANTED, '--seeds', '1..100000000', '--rate', '0', '--json'], { cwd: root });
    onTestFinished(() => void child.kill('SIGKILL')); // a child that ignored the SIGINT must not outlive the test
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      if (stderr.includes('geventjs explore:')) child.kill('SIGINT'); // the header: the sweep has started
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(code).toBe(130);
    const result = JSON.parse(stdout.trim());
    expect(result).toMatchObject({ ok: false, interrupted: true, failures: [] });
    expect(result.ran).toBeLessThan(100000000);
    expect(stderr).toContain('geventjs explore: interrupted');
  });
});
