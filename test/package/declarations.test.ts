// The published declarations, as a user's TypeScript project checks them: test/fixtures/consumer is
// a strict project with no @types/node and no lib beyond ES2022 that imports 'geventjs' (ESM and
// CommonJS) and 'geventjs/vitest' through package.json's exports, into dist/.
import { it, expect, beforeAll } from 'vitest';
import { execFile, execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;

beforeAll(() => {
  if (!existsSync(join(root, 'dist/index.d.ts'))) execSync('npx tsup', { cwd: root, stdio: 'ignore' });
});

it('dist/*.d.ts type-check in a strict project without @types/node (using, Disposable included)', async () => {
  const out = await new Promise<string>((resolve) =>
    execFile('node', ['node_modules/typescript/bin/tsc', '-p', 'test/fixtures/consumer'], { cwd: root }, (_e, stdout, stderr) => resolve(stdout + stderr)),
  );
  expect(out.trim()).toBe('');
});
