/**
 * Same seed, same trace, byte for byte, in Node and in a browser (DESIGN.md).
 *
 * The browser entry (`src/browser.ts`) is bundled by esbuild for `platform: 'browser'`, with every Node
 * built-in refused, and run in Debian's Chromium driven by playwright-core. The very same programs
 * (test/browser/fixtures/programs.ts: the tutorial, the echo scenario, a core-only program of 300
 * greenlets with seeded random sleeps) run here in Node on `src/index.ts`; the test compares trace
 * hashes, summaries, virtual times and the full event lists as JSON lines.
 *
 * Without /usr/bin/chromium the browser half is skipped: `apt-get install -y chromium` (CI does).
 */
import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';
import { build, type Plugin } from 'esbuild';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as nodeEngine from 'geventjs';
import { runPrograms, type RunRecord } from './fixtures/programs.js';
import type { PageReport } from './fixtures/entry.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const TUTORIAL_OUTPUT = ['egon eat 1', 'egon play 1', 'egon play 2', 'egon eat 2', '主'];

if (!haveChromium) {
  console.warn(
    `test/browser: ${CHROMIUM} not found, so the Chromium parity tests are SKIPPED. ` +
      `Install Debian's chromium to run them: sudo apt-get update && sudo apt-get install -y chromium (CI does).`,
  );
}

// ------------------------------------------------------------------ the bundle

const BUILTIN = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** Fails the build on any Node built-in: `node:*` and bare names such as 'net' or 'fs/promises'. */
const noNodeBuiltins: Plugin = {
  name: 'no-node-builtins',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      const bare = args.path.split('/')[0]!;
      if (args.path.startsWith('node:') || BUILTIN.has(args.path) || BUILTIN.has(bare)) {
        return { errors: [{ text: `Node built-in "${args.path}" reached from ${relative(root, args.importer) || '(entry)'}: the browser entry must not need it` }] };
      }
      return undefined;
    });
  },
};

async function bundle(entry: string): Promise<{ code: string; inputs: string[] }> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    write: false,
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: root,
    alias: { geventjs: './src/browser.ts' },
    plugins: [noNodeBuiltins],
  });
  return { code: result.outputFiles[0]!.text, inputs: Object.keys(result.metafile.inputs) };
}

/** The message esbuild fails with, or null when the build succeeds. */
async function buildError(entry: string): Promise<string | null> {
  try {
    await bundle(entry);
    return null;
  } catch (e) {
    return (e as { errors?: { text: string }[] }).errors?.map((x) => x.text).join('\n') ?? String(e);
  }
}

describe('the browser bundle', () => {
  it('builds from src/browser.ts with no Node built-in reachable (sim/tutorial.ts and sim/echo.ts included)', async () => {
    const { code, inputs } = await bundle('test/browser/fixtures/entry.ts');
    expect(code.length).toBeGreaterThan(10_000);
    expect(inputs).toContain('src/browser.ts');
    expect(inputs).toContain('src/net/fabric.ts');
    expect(inputs).toContain('sim/tutorial.ts');
    expect(inputs).toContain('sim/echo.ts');
    expect(inputs).not.toContain('src/index.ts');
    expect(inputs).not.toContain('src/net/tcp.ts');
  });

  it('the guard refuses Node built-ins: src/index.ts reaches node:net through src/net/tcp.ts', async () => {
    // the Node entry is the proof that the guard bites: it must fail, naming the TCP adapter
    expect(await buildError('src/index.ts')).toMatch(/Node built-in "node:net" reached from src\/net\/tcp\.ts/);
  });
});

// ------------------------------------------------------------------ Node and Chromium, side by side

/** Runs the programs here in Node, capturing the tutorial's prints. */
async function runInNode(): Promise<{ records: RunRecord[]; logs: string[] }> {
  const logs: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    logs.push(args.map(String).join(' '));
  });
  try {
    const t0 = performance.now.bind(performance);
    return { records: await runPrograms(t0), logs };
  } finally {
    spy.mockRestore();
  }
}

const title = haveChromium
  ? 'Node and Chromium: same seed, same trace, byte for byte'
  : `Node and Chromium (SKIPPED: ${CHROMIUM} not found; install Debian's chromium: apt-get install -y chromium)`;

describe.skipIf(!haveChromium)(title, () => {
  let profile = '';
  let context: BrowserContext | null = null;
  let page: Page;
  const pageLogs: string[] = [];
  const pageErrors: string[] = [];
  let node: { records: RunRecord[]; logs: string[] };
  let browser: PageReport;
  const byName = (records: RunRecord[], name: string): RunRecord => {
    const r = records.find((x) => x.name === name);
    if (r === undefined) throw new Error(`no run named ${name}`);
    return r;
  };

  beforeAll(async () => {
    const { code } = await bundle('test/browser/fixtures/entry.ts');
    profile = mkdtempSync(join(tmpdir(), 'geventjs-chromium-'));
    // Playwright refuses --user-data-dir in launch(); a persistent context on a fresh directory is the same
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      timeout: 20_000,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(20_000);
    page.on('console', (m) => {
      if (m.type() === 'log') pageLogs.push(m.text());
    });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.setContent('<!doctype html><meta charset="utf-8"><title>geventjs parity</title>');
    await page.addScriptTag({ content: code });
    [browser] = await Promise.all([
      page.evaluate(() => (globalThis as unknown as { geventjsParity: { run(): Promise<PageReport> } }).geventjsParity.run()),
      // its last print: every console message of the run has arrived
      page.waitForEvent('console', { predicate: (m) => m.text() === 'geventjs-parity: done', timeout: 20_000 }),
    ]);
    node = await runInNode();
    for (const b of browser.records) {
      const n = byName(node.records, b.name);
      console.info(
        `${b.name.padEnd(20)} chromium ${b.traceHash}, node ${n.traceHash}; virtual ${b.virtualSeconds} s; ` +
          `${b.eventCount < 0 ? 'hash only' : `${b.eventCount} events`}; wall: chromium ${b.wallMs.toFixed(1)} ms, node ${n.wallMs.toFixed(1)} ms`,
      );
    }
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    if (profile !== '') rmSync(profile, { recursive: true, force: true });
  }, 20_000);

  it('the page ran the browser entry, without errors', () => {
    expect(pageErrors).toEqual([]);
    expect(browser.exports).toContain('MemoryNet');
    expect(browser.exports).not.toContain('TcpNet'); // the browser entry has only the in-memory network
    expect(Object.keys(nodeEngine)).toContain('TcpNet');
    expect(browser.hasSetImmediate).toBe(false); // so the hub hops macrotasks with a MessageChannel there
    expect(browser.records.map((r) => r.name)).toEqual(['tutorial', 'echo 20x5', 'core 300 greenlets', 'echo 200x20']);
    expect(node.records.map((r) => r.name)).toEqual(browser.records.map((r) => r.name));
  });

  it.each(['tutorial', 'echo 20x5', 'core 300 greenlets', 'echo 200x20'])('%s: same trace hash, summary and virtual time', (name) => {
    const n = byName(node.records, name);
    const b = byName(browser.records, name);
    expect(b.traceHash).toMatch(/^[0-9a-f]{16}$/);
    expect(b.traceHash).toBe(n.traceHash);
    expect(b.summary).toEqual(n.summary);
    expect(b.virtualSeconds).toBe(n.virtualSeconds);
    expect(b.eventCount).toBe(n.eventCount);
  });

  it.each(['tutorial', 'echo 20x5', 'core 300 greenlets'])('%s: the full event lists are identical, byte for byte', (name) => {
    const n = byName(node.records, name);
    const b = byName(browser.records, name);
    expect(n.events).not.toBeNull();
    expect(n.eventCount).toBeGreaterThan(10);
    // compare line by line first, so a difference names the first event that differs
    const nl = n.events!.split('\n');
    const bl = b.events!.split('\n');
    const first = nl.findIndex((line, i) => line !== bl[i]);
    expect(first === -1 ? null : { index: first, node: nl[first], chromium: bl[first] }).toBeNull();
    expect(b.events).toBe(n.events);
  });

  it('the runs end at the virtual times the programs imply', () => {
    expect(byName(browser.records, 'tutorial').virtualSeconds).toBe(2); // eat sleeps 2 s, play 1 s
    expect(byName(browser.records, 'tutorial').summary).toEqual({ greenlets: 2, elapsed: 2 });
    const echo = byName(browser.records, 'echo 20x5').summary as { roundTrips: number; clients: number };
    expect(echo).toMatchObject({ clients: 20, roundTrips: 100 });
    const core = byName(browser.records, 'core 300 greenlets').summary as { finished: number; order: number[] };
    expect(core.finished).toBe(300);
    expect([...core.order].sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });

  it('nothing waits on real time in sim mode: no real timer, and 2 virtual seconds take far less wall time', () => {
    expect(browser.timers).toEqual([]);
    // the control: a real-mode sleep(0.01) is seen by the same spy — as a timer for what is left of its
    // 10 ms when it is armed, which is less when the page was busy in between (a loaded CI machine)
    expect(browser.realModeTimers.length).toBeGreaterThan(0);
    for (const ms of browser.realModeTimers) expect(ms >= 0 && ms <= 10).toBe(true);
    const tut = byName(browser.records, 'tutorial');
    expect(tut.virtualSeconds).toBe(2);
    expect(tut.wallMs).toBeLessThan(1000);
  });

  it("the tutorial prints in the page in the tutorial's order, as in Node", () => {
    expect(pageLogs.filter((l) => l !== 'geventjs-parity: done')).toEqual(TUTORIAL_OUTPUT);
    expect(node.logs).toEqual(TUTORIAL_OUTPUT);
  });
});
