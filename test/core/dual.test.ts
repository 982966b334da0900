/**
 * One instance of module state when the ESM and CJS builds are mixed in one process (DESIGN.md: "Module
 * state (the default hub, the current greenlet) must be one instance even if a user mixes the ESM and CJS
 * builds"). Runs test/fixtures/dual/mixed-builds.mjs in a child Node process against `dist/` (built by
 * `npm test`; built here if missing) and checks what each build saw of the other.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync, execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface Seen {
  resolved: { esm: string; cjs: string };
  twoModuleInstances: boolean;
  runtimeShared: boolean;
  crossCurrent: {
    getcurrentSame: boolean;
    getHubSame: boolean;
    name: string;
    afterCjsSleep: number;
    value: string;
    cjsSpawned: { name: string; sameHub: boolean; value: string };
    mainSame: boolean;
  };
  crossInstanceof: Record<string, boolean | number>;
  crossLoopExit: { esm: boolean; cjs: boolean; blocked: unknown[] } | string;
  concurrent: { orders: string[][]; hashes: string[]; times: number[] };
}

let seen: Seen;

beforeAll(() => {
  if (!existsSync(join(root, 'dist/index.js')) || !existsSync(join(root, 'dist/index.cjs'))) {
    execSync('npx tsup', { cwd: root, stdio: 'ignore' });
  }
  const stdout = execFileSync(process.execPath, [join(root, 'test/fixtures/dual/mixed-builds.mjs')], {
    cwd: root,
    env: { ...process.env, GEVENTJS_MODE: '', GEVENTJS_SEED: '' },
    encoding: 'utf8',
  });
  seen = JSON.parse(stdout) as Seen;
}, 120_000);

describe('mixing the ESM and CJS builds in one process', () => {
  it('the package name resolves to dist/index.js for import and dist/index.cjs for require: two module instances', () => {
    expect(seen.resolved).toEqual({ esm: join(root, 'dist/index.js'), cjs: join(root, 'dist/index.cjs') });
    expect(seen.twoModuleInstances).toBe(true);
    expect(seen.runtimeShared).toBe(true);
  });

  it('a greenlet spawned with the ESM build is getcurrent() for the CJS build, on the same getHub()', () => {
    expect(seen.crossCurrent).toEqual({
      getcurrentSame: true,
      getHubSame: true,
      name: 'Greenlet-1',
      // the CJS build's sleep(1) parked the ESM build's greenlet on the shared hub's clock
      afterCjsSleep: 1,
      value: 'esm greenlet done',
      // and a greenlet spawned by the CJS build in the same program joins that hub and its name counter
      cjsSpawned: { name: 'Greenlet-2', sameHub: true, value: 'Greenlet-2' },
      mainSame: true,
    });
  });

  it('instanceof GreenletExit, Timeout and Greenlet work across builds (and stay false for other objects)', () => {
    expect(seen.crossInstanceof).toEqual({
      greenletExit: true,
      greenletExitCjs: true,
      greenlet: true,
      timeout: true,
      timeoutAt: 0.5,
      withTimeout: true,
      notAnError: true,
    });
  });

  it('a LoopExit from a hub run by one build is a LoopExit for the other', () => {
    expect(seen.crossLoopExit).toEqual({
      esm: true,
      cjs: true,
      blocked: [
        { greenlet: 'main', waitingOn: 'Greenlet.join (Greenlet-1)', since: 0 },
        { greenlet: 'Greenlet-1', waitingOn: 'sleep', since: 0 },
      ],
    });
  });

  it('hubs of both builds running at once, same program and seed: same order, same clock, same trace hash', () => {
    const { orders, hashes, times } = seen.concurrent;
    expect(orders[1]).toEqual(orders[0]);
    expect(orders[2]).toEqual(orders[0]);
    expect([...orders[0]!].sort()).toEqual(['Greenlet-1', 'Greenlet-2', 'Greenlet-3']);
    expect(new Set(hashes).size).toBe(1);
    expect(hashes[0]).toMatch(/^[0-9a-f]{16}$/);
    expect(new Set(times).size).toBe(1);
    expect(times[0]).toBeGreaterThan(0);
  });
});
