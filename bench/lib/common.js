// Shared pieces of the benchmark children: the workload's delays and checksum, the timer heap of the
// references, memory sampling, the measure loop (warm-up, then several runs) and the child protocol
// (one JSON line on stdout; progress on stderr).
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { pathToFileURL, fileURLToPath } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';

export const BENCH_DIR = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const ROOT = path.dirname(BENCH_DIR);

/**
 * The built package under test: `dist/index.js`, or `GEVENTJS_DIST` (a path to another build's
 * index.js), or a child's `--dist path` (run.js --against).
 */
export function distPath(override) {
  return path.resolve(override || process.env.GEVENTJS_DIST || path.join(ROOT, 'dist', 'index.js'));
}

export async function importDist(override) {
  const p = distPath(override);
  if (!fs.existsSync(p)) throw new Error(`${p} does not exist: run \`npm run build\` (npx tsup) first`);
  return import(pathToFileURL(p).href);
}

// ------------------------------------------------------------------ arguments

/** `--name value` and `--flag` pairs into an object (numbers converted). */
export function parseArgs(argv, defaults) {
  const out = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const key = a.slice(2);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) {
      out[key] = true;
    } else {
      out[key] = /^-?\d+(\.\d+)?(e\d+)?$/i.test(next) ? Number(next) : next;
      i++;
    }
  }
  return out;
}

// ------------------------------------------------------------------ the workload

/** Delays are whole milliseconds in [1, MAX_DELAY_MS], so every contender (fake-timers too) sees the same. */
export const MAX_DELAY_MS = 1000;

/**
 * The j-th delay of greenlet i, in ms: a seeded counter-based PRNG (a murmur3 finaliser over
 * (seed, i, j)), so the delays do not depend on the order in which contenders draw them.
 */
export function delayMs(seed, i, j) {
  let z = (Math.imul(seed, 0x9e3779b1) + Math.imul(i, 0x01000193) + Math.imul(j, 0x85ebca77)) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return 1 + ((z >>> 0) % MAX_DELAY_MS);
}

export const CHECKSUM_SEED = 0x811c9dc5 | 0;

/** Order-sensitive checksum step over one wake-up (greenlet index, wake time in ms). */
export function mix(h, g, tMs) {
  h = Math.imul(h ^ g, 0x01000193);
  h = Math.imul(h ^ tMs, 0x01000193);
  return h ^ (h >>> 15);
}

export function hex32(h) {
  return (h >>> 0).toString(16).padStart(8, '0');
}

// ------------------------------------------------------------------ the references' timer heap

/**
 * A binary min-heap of entries ordered by (deadline, seq) — the hub's order for timers of one priority:
 * earliest deadline first, equal deadlines in insertion order. Entries carry `deadline` and `seq`.
 */
export class Heap {
  constructor() {
    this.items = [];
  }
  push(t) {
    const items = this.items;
    let i = items.length;
    items.push(t);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent];
      if (p.deadline < t.deadline || (p.deadline === t.deadline && p.seq < t.seq)) break;
      items[i] = p;
      i = parent;
    }
    items[i] = t;
  }
  pop() {
    const items = this.items;
    const top = items[0];
    if (top === undefined) return undefined;
    const last = items.pop();
    const n = items.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        let c = l;
        let child = items[l];
        const r = l + 1;
        if (r < n) {
          const rc = items[r];
          if (rc.deadline < child.deadline || (rc.deadline === child.deadline && rc.seq < child.seq)) {
            c = r;
            child = rc;
          }
        }
        if (last.deadline < child.deadline || (last.deadline === child.deadline && last.seq < child.seq)) break;
        items[i] = child;
        i = c;
      }
      items[i] = last;
    }
    return top;
  }
}

// ------------------------------------------------------------------ memory

/** Every this many wake-ups (a power of two minus one as a mask) a contender samples memory. */
export const SAMPLE_MASK = 0x3fff;

export const mem = { peakHeap: 0, peakRss: 0 };

/** Samples heapUsed and RSS; contenders call it every SAMPLE_MASK+1 wake-ups. */
export function sampleMemory() {
  const m = process.memoryUsage();
  if (m.heapUsed > mem.peakHeap) mem.peakHeap = m.heapUsed;
  if (m.rss > mem.peakRss) mem.peakRss = m.rss;
}

export function collectGarbage() {
  if (typeof globalThis.gc === 'function') {
    globalThis.gc();
    globalThis.gc();
  }
}

// GC time, from the `gc` performance entries (delivered after a timer tick, hence `flush`)
const gcStats = { ms: 0, count: 0 };
let gcObserver = null;
function watchGc() {
  if (gcObserver !== null) return;
  gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcStats.ms += e.duration;
      gcStats.count++;
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });
}
const flush = () => new Promise((resolve) => setTimeout(resolve, 1));

// ------------------------------------------------------------------ statistics

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return null;
  return n % 2 === 1 ? s[(n - 1) >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

export function summary(xs) {
  return { min: Math.min(...xs), median: median(xs), max: Math.max(...xs) };
}

// ------------------------------------------------------------------ the measure loop

/**
 * Runs `once(false)` `warmup` times unmeasured, then `once(true)` `runs` times measured; each run
 * starts after a full GC. `once()` returns `{ ops, check }` and any extra fields; `ops` counts the
 * operations (wake-ups) so a rate can be computed; `check` (and `traceHash`, if any) must be equal on
 * every measured run. With `serve`, each run waits for the parent's go (see servingHooks).
 */
export async function measure(label, once, { warmup = 1, runs = 5, serve = false } = {}) {
  watchGc();
  const hooks = serve ? servingHooks() : null;
  const results = [];
  const checks = new Set();
  const traceHashes = new Set();
  const total = warmup + runs;
  for (let k = 0; k < total; k++) {
    const measured = k >= warmup;
    if (hooks !== null) await hooks.gate();
    collectGarbage();
    await flush();
    const before = process.memoryUsage();
    mem.peakHeap = before.heapUsed;
    mem.peakRss = before.rss;
    gcStats.ms = 0;
    gcStats.count = 0;
    const t0 = performance.now();
    const r = await once(measured);
    const ms = performance.now() - t0;
    sampleMemory();
    await flush();
    const run = {
      ms,
      ...r,
      opsPerSec: r.ops / (ms / 1000),
      baseHeap: before.heapUsed,
      peakHeap: mem.peakHeap,
      peakRss: mem.peakRss,
      gcMs: gcStats.ms,
      gcCount: gcStats.count,
    };
    progress(`  ${label} ${measured ? `run ${k - warmup + 1}/${runs}` : `warm-up ${k + 1}/${warmup}`}: ${ms.toFixed(0)} ms, ${fmtRate(run.opsPerSec)}/s, gc ${run.gcMs.toFixed(0)} ms`);
    if (hooks !== null) hooks.report(run, measured);
    if (measured) {
      checks.add(String(r.check));
      if (r.traceHash !== undefined) traceHashes.add(r.traceHash);
      results.push(run);
    }
  }
  return {
    runs: results.length,
    ops: results[0]?.ops,
    check: checks.size === 1 ? results[0].check : null,
    checkStable: checks.size === 1,
    ...(traceHashes.size > 0 ? { traceHash: traceHashes.size === 1 ? [...traceHashes][0] : null, traceHashStable: traceHashes.size === 1 } : {}),
    ms: summary(results.map((r) => r.ms)),
    opsPerSec: summary(results.map((r) => r.opsPerSec)),
    peakHeapBytes: median(results.map((r) => r.peakHeap)),
    peakHeapAboveBaseBytes: median(results.map((r) => r.peakHeap - r.baseHeap)),
    peakRssBytes: median(results.map((r) => r.peakRss)),
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    gcMs: median(results.map((r) => r.gcMs)),
    gcCount: median(results.map((r) => r.gcCount)),
    perRun: results.map((r) => ({ ms: round(r.ms, 1), opsPerSec: Math.round(r.opsPerSec), peakHeap: r.peakHeap, gcMs: round(r.gcMs, 1) })),
    last: results[results.length - 1],
  };
}

/**
 * `--serve` (used by run.js): the child runs each iteration only when the parent says so over IPC,
 * and reports it back, so the parent can interleave contenders run by run (paired comparisons that a
 * change of machine load hits equally) while each keeps its own process.
 */
function servingHooks() {
  if (typeof process.send !== 'function') throw new Error('--serve needs an IPC channel (run.js starts children with one)');
  return {
    gate: () =>
      new Promise((resolve) => {
        process.once('message', resolve);
        process.send({ type: 'ready' });
      }),
    report: (run, measured) => {
      const numbers = {};
      for (const [k, v] of Object.entries(run)) if (typeof v === 'number' || typeof v === 'string') numbers[k] = v;
      process.send({ type: 'run', measured, run: numbers });
    },
  };
}

export function round(x, digits = 3) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function fmtRate(x) {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)}k`;
  return x.toFixed(0);
}

export function progress(line) {
  process.stderr.write(line + '\n');
}

/** The child's answer: one JSON line on stdout (then it lets go of the parent's IPC channel). */
export function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
  if (typeof process.disconnect === 'function' && process.connected) process.disconnect();
}
