// The built `geventjs/vitest` subpath, as a user's test suite loads it: a child vitest run over
// test/fixtures/explore/vitest/ (no alias, so the imports resolve through package.json's exports to dist/).
import { it, expect, beforeAll } from 'vitest';
import { execFile, execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runSeed } from '../../src/vitest.js';
import planted from '../fixtures/explore/planted.js';

const root = new URL('../..', import.meta.url).pathname;

beforeAll(() => {
  if (!existsSync(join(root, 'dist/vitest.js'))) execSync('npx tsup', { cwd: root, stdio: 'ignore' });
});

interface Assertion { title: string; status: string; failureMessages: string[] }

it('simTest from the built package: a passing sweep passes, a failing one names the seed and the replay', async () => {
  const stdout = await new Promise<string>((resolve) =>
    execFile(
      'node',
      ['node_modules/vitest/vitest.mjs', 'run', '--config', 'test/fixtures/explore/vitest/vitest.config.mjs', '--reporter', 'json'],
      { cwd: root, env: { ...process.env, GEVENTJS_MODE: '', GEVENTJS_SEED: '' } },
      (_e, out) => resolve(out),
    ),
  );
  const report = JSON.parse(stdout) as { numPassedTests: number; numFailedTests: number; testResults: { assertionResults: Assertion[] }[] };
  const tests = report.testResults.flatMap((f) => f.assertionResults);
  expect(tests.map((t) => [t.title, t.status])).toEqual([
    ['planted passes when the bug is off', 'passed'],
    ['planted fails on its lowest failing seed', 'failed'],
  ]);
  // what the same sweep finds in this process
  let seed = 1;
  while ((await runSeed(planted, seed)).ok) seed++;
  const { error } = await runSeed(planted, seed);
  const message = tests[1]!.failureMessages[0]!;
  expect(message.split('\n').slice(0, 3)).toEqual([
    `SimTestFailure: scenario planted failed with seed ${seed}: ${error}`,
    `  replay: geventjs run test/fixtures/explore/planted.ts --seed ${seed}`,
    `  (${seed} of 50 seeds run from 1..50, faults none; 1 failed)`,
  ]);
});
