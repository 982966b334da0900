import { describe, it, expect, beforeAll, onTestFinished } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, mkdtempSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;

interface Result { code: number; stdout: string; stderr: string }

function geventjs(...args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile('node', ['bin/geventjs.js', ...args], { cwd: root, env: { ...process.env, GEVENTJS_MODE: '', GEVENTJS_SEED: '' } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

beforeAll(() => {
  if (!existsSync(join(root, 'dist/cli.js'))) execSync('npx tsup', { cwd: root, stdio: 'ignore' });
});

const TUTORIAL = ['egon eat 1', 'egon play 1', 'egon play 2', 'egon eat 2', '主'];

function programLines(stdout: string): string[] {
  return stdout.split('\n').filter((l) => TUTORIAL.includes(l));
}

describe('geventjs run: the README example (module-level program)', () => {
  it('sim mode: the tutorial order, exactly 2 virtual seconds', async () => {
    const r = await geventjs('run', 'examples/tutorial.ts');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('geventjs: examples/tutorial.ts — mode sim, seed 1');
    expect(programLines(r.stdout)).toEqual(TUTORIAL);
    expect(r.stdout).toMatch(/^virtual 2 s · wall [\d.]+ m?s · trace [0-9a-f]{16}$/m);
  });

  it('real mode (--real): the same order, about 2 s of real time', async () => {
    const r = await geventjs('run', 'examples/tutorial.ts', '--real');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('mode real, seed 1');
    expect(programLines(r.stdout)).toEqual(TUTORIAL);
    const virtual = Number(/^hub time \(real\) ([\d.]+) s · wall [\d.]+ m?s · trace [0-9a-f]{16} \(real mode: differs run to run\)$/m.exec(r.stdout)![1]);
    expect(virtual).toBeGreaterThanOrEqual(2);
    expect(virtual).toBeLessThan(3);
  });
});

describe('geventjs run: scenarios', () => {
  it('--json prints one result object; the same seed gives the same trace hash', async () => {
    const a = await geventjs('run', 'sim/tutorial.ts', '--json', '--seed', '7');
    const b = await geventjs('run', 'sim/tutorial.ts', '--json', '--seed', '7');
    expect(a.code).toBe(0);
    const ra = JSON.parse(a.stdout);
    const rb = JSON.parse(b.stdout);
    expect(ra).toMatchObject({ ok: true, scenario: 'tutorial', mode: 'sim', seed: 7, summary: { greenlets: 2, elapsed: 2 }, virtualSeconds: 2 });
    expect(ra.traceHash).toMatch(/^[0-9a-f]{16}$/);
    expect(rb.traceHash).toBe(ra.traceHash);
    // the program's own output went to stderr, keeping stdout parseable
    expect(a.stderr).toContain('egon eat 1');
  });

  it('fills options from --<option> flags', async () => {
    const r = await geventjs('run', 'sim/tutorial.ts', '--name', 'bob');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('bob eat 1');
    expect(r.stdout).toContain('summary: {"greenlets":2,"elapsed":2}');
  });

  it('an unknown option is a usage error (exit 2) naming the option and the known ones', async () => {
    const r = await geventjs('run', 'sim/tutorial.ts', '--clients', '5');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown option --clients for scenario tutorial (its options: --name)');
  });

  it('--trace writes one JSON event per line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'geventjs-'));
    const file = join(dir, 'trace.jsonl');
    const r = await geventjs('run', 'sim/tutorial.ts', '--trace', file);
    expect(r.code).toBe(0);
    const events = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const kinds = new Set(events.map((e: { kind: string }) => e.kind));
    expect([...kinds]).toEqual(expect.arrayContaining(['spawn', 'switch', 'park', 'exit']));
    expect(events.find((e: { kind: string; reason?: string }) => e.kind === 'park' && e.reason === 'sleep')).toBeTruthy();
    expect(events.at(-1).t).toBe(2);
  });
});

// A package without "type": "module" (what `npm init` writes): Node loads a .ts file there as CommonJS.
describe('geventjs run: TypeScript in a CommonJS package', () => {
  const dir = 'test/fixtures/cli-commonjs';

  it('runs a scenario there, as `tsx file.ts` would (its default export found through __esModule)', async () => {
    const r = await geventjs('run', `${dir}/scenario.ts`, '--sleepers', '4', '--json');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as { scenario: string; summary: { elapsed: number } };
    expect(result.scenario).toBe('commonjs');
    expect(result.summary).toEqual({ elapsed: 4 });
  });

  it('explores it too (the workers load it the same way)', async () => {
    const r = await geventjs('explore', `${dir}/scenario.ts`, '--seeds', '1..4', '--workers', '2', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ scenario: 'commonjs', ran: 4, failures: [] });
  });

  it('a module-level program with top-level await there is a usage error saying what to change', async () => {
    const r = await geventjs('run', `${dir}/program.ts`);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('program.ts uses top-level await, but it is loaded as CommonJS');
    expect(r.stderr).toContain('add "type": "module" to that package.json, or rename the file to program.mts');
    expect(r.stderr).not.toContain('ERR_REQUIRE');
    expect(r.stdout).not.toContain('this line must not appear');
  });
});

describe('geventjs run: failures', () => {
  it('LoopExit: exit 1 with the report of every blocked greenlet and a replay command', async () => {
    const r = await geventjs('run', 'test/fixtures/cli/deadlock.ts', '--seed', '3');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('LoopExit: This operation would block forever');
    expect(r.stderr).toContain('main waiting on Greenlet.join (Greenlet-1) since 0.000s');
    expect(r.stderr).toContain('Greenlet-1 waiting on sleep since 0.000s');
    expect(r.stderr).toContain('replay with: geventjs run test/fixtures/cli/deadlock.ts --seed 3');
  });

  it('warns about greenlets that never ran', async () => {
    const r = await geventjs('run', 'test/fixtures/cli/never-ran.ts');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('main done');
    expect(r.stdout).not.toContain('this line must not appear');
    expect(r.stderr).toContain('warning: Greenlet-1 was to start later, but main returned first');
    expect(r.stderr).toContain('warning: Greenlet-2 was created but never started (start() was not called)');
    expect(r.stderr).toContain('warning: Greenlet-3 was spawned but never ran (main never blocked after spawning it)');
  });

  it('an unhandled greenlet error is reported with its virtual time and fails the run; main goes on', async () => {
    const r = await geventjs('run', 'test/fixtures/cli/crash.ts');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('main survived');
    expect(r.stderr).toContain('RangeError: boom');
    expect(r.stderr).toContain('0.500000 Greenlet-1 failed with RangeError');
  });

  it.each([['sim'], ['real']])('a rejected promise nothing awaited is reported and fails the run (%s mode)', async (mode) => {
    const r = await geventjs('run', 'test/fixtures/cli/stray-rejection.ts', ...(mode === 'real' ? ['--real'] : []));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('main went on');
    expect(r.stderr).toContain('geventjs: unhandled promise rejection (nothing awaited it): RangeError: nobody awaits this');
    expect(r.stderr).toContain('geventjs: 1 unhandled promise rejection (reported above)\n');
  });

  it.each([['sim'], ['real']])('Ctrl-C during a module-level program: finally blocks run, greenlets die, exit 130 (%s mode)', async (mode) => {
    const child = spawn('node', ['bin/geventjs.js', 'run', 'test/fixtures/cli/forever.ts', ...(mode === 'real' ? ['--real'] : [])], {
      cwd: root,
      env: { ...process.env, GEVENTJS_MODE: '', GEVENTJS_SEED: '' },
    });
    onTestFinished(() => void child.kill('SIGKILL')); // a child that ignored the SIGINT must not outlive the test
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (d) => {
      stdout += d;
      if (!sent && stdout.includes('main blocks')) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(code).toBe(130); // (it was Node's 13: the module's top-level await never settled)
    expect(stdout).toContain('main finally');
    expect(stdout).toContain('worker finally');
    expect(stdout).toMatch(/^(virtual|hub time \(real\)) [\d.]+ s · wall [\d.]+ m?s · trace [0-9a-f]{16}/m);
    expect(stderr).toContain('geventjs: interrupted (SIGINT)');
  });

  it("gevent's echoserver example in sim mode: a scripted telnet session, lines read with makefile().readline()", async () => {
    const r = await geventjs('run', 'examples/echoserver.ts');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => !l.startsWith('geventjs: ') && !l.startsWith('virtual ') && l !== '');
    expect(lines).toEqual([
      'Starting echo server on port 16000',
      expect.stringMatching(/^New connection from 127\.0\.0\.1:\d+$/),
      '> Welcome to the echo server! Type quit to exit.',
      'echoed "hello\\r\\n"',
      '> hello',
      'echoed "gevent in TypeScript\\r\\n"',
      '> gevent in TypeScript',
      'client quit',
      '> (connection closed: EOF)',
    ]);
  });

  it("gevent's echoserver example over real TCP: a node:net client is greeted, echoed, let go on quit; Ctrl-C stops it", async () => {
    const child = spawn('node', ['bin/geventjs.js', 'run', 'examples/echoserver.ts', '--real'], {
      cwd: root,
      env: { ...process.env, GEVENTJS_MODE: '', GEVENTJS_SEED: '', PORT: '0' },
    });
    onTestFinished(() => void child.kill('SIGKILL'));
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    const closed = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    const port = await new Promise<number>((resolve, reject) => {
      const check = (): void => {
        const m = /Starting echo server on port (\d+)/.exec(stdout);
        if (m) resolve(Number(m[1]));
      };
      child.stdout.on('data', check);
      void closed.then((c) => reject(new Error(`the server exited (${c}) before it listened: ${stdout}`)));
    });
    const { connect } = await import('node:net');
    const heard = await new Promise<string>((resolve, reject) => {
      const c = connect(port, '127.0.0.1');
      let got = '';
      c.setEncoding('utf8');
      c.on('data', (d) => {
        got += d;
        // the greeting, then the echo, is the cue for the next line (a line in two writes is one line)
        if (got.endsWith('exit.\r\n')) {
          c.write('one ');
          c.write('line\r\n');
        }
        if (got.endsWith('one line\r\n')) c.write('quit\r\n');
      });
      c.on('end', () => resolve(got)); // the server closes the connection after quit
      c.on('error', reject);
    });
    expect(heard).toBe('Welcome to the echo server! Type quit to exit.\r\none line\r\n');
    child.kill('SIGINT');
    expect(await closed).toBe(130);
    expect(stdout).toContain('echoed "one line\\r\\n"\nclient quit\n');
  });

  it('usage errors exit 2', async () => {
    expect((await geventjs()).code).toBe(2);
    expect((await geventjs('run')).code).toBe(2);
    const missing = await geventjs('run', 'no/such/file.ts');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no such file: no/such/file.ts');
    expect(missing.stderr).not.toContain('Usage:'); // the one-line error is not buried under the help
    expect(missing.stderr).toContain('(geventjs --help for usage)');
    expect((await geventjs()).stderr).toContain('Usage:'); // no command at all: the whole help
    const badSeed = await geventjs('run', 'sim/tutorial.ts', '--seed', 'x');
    expect(badSeed.code).toBe(2);
    expect(badSeed.stderr).toContain('--seed needs a non-negative integer');
  });
});
