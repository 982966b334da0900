// bench/explore: how fast `geventjs explore` sweeps seeds, and how fast the simulation runs.
//
// 1. Seeds per second for the echo scenario (sim/echo.ts --clients 50 --messages 20 --readOnce false, the chaos fault
//    preset when the build has it, else none) with 1 and with 2 worker threads: each measurement is
//    one `node bin/geventjs.js explore sim/echo.ts --seeds 1..N --all --json --workers W` process —
//    what a user runs, worker start-up and scenario loading included — and the two worker counts
//    alternate round by round (order rotated), so a change of machine load hits both alike. The
//    speedup is the median of the per-round ratios. Both must find the same failing seeds.
// 2. The machine's own ceiling for the same speedup: 1 and 2 worker threads running a pure integer
//    loop (alu) and a loop that allocates short-lived objects, like a simulation does (alloc), the
//    same total work split between the threads, interleaved round by round. A sweep cannot scale
//    better than JavaScript that allocates as much does on the same cores.
// 3. Simulated seconds per wall second for the echo scenario with 500 clients (100 messages each) and
//    1 ms of loopback latency (--latency 0.001): runScenario in this process on the built package,
//    1 warm-up run, then `runs` measured runs (median).
//
//   node --expose-gc bench/explore.js [--quick] [--seeds N] [--rounds R] [--runs K] [--faults preset]
//   → one JSON line on stdout (progress on stderr); bench/run.js runs it as the `explore` workload.
import { execFile } from 'node:child_process';
import { Worker, isMainThread, workerData, parentPort } from 'node:worker_threads';
import path from 'node:path';
import { ROOT, parseArgs, measure, emit, progress, median, round, summary } from './lib/common.js';
import { loadScenario } from './lib/scenario.js';

const args = parseArgs(process.argv.slice(2), { quick: false });
const SEEDS = args.seeds ?? (args.quick ? 600 : 2000);
const ROUNDS = args.rounds ?? (args.quick ? 2 : 3);
const RUNS = args.runs ?? (args.quick ? 3 : 5);
const TARGET_SPEEDUP = 1.8;
// readOnce false: the clients read whole replies, so every seed runs the full exchange under chaos
// (with the tutorial's single read, chaos fails each seed at its first split reply: a sweep of failures)
const SWEEP_OPTIONS = { clients: 50, messages: 20, readOnce: false };
const SIM_OPTIONS = { clients: 500, latency: 0.001 };

/** One `geventjs explore` process; resolves with its JSON report and the process's wall time. */
function explore(workers, faults) {
  const argv = [path.join(ROOT, 'bin/geventjs.js'), 'explore', 'sim/echo.ts', '--seeds', `1..${SEEDS}`, '--workers', String(workers), '--all', '--json', '--faults', faults];
  for (const [k, v] of Object.entries(SWEEP_OPTIONS)) argv.push(`--${k}`, String(v));
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    execFile(process.execPath, argv, { cwd: ROOT, maxBuffer: 64 * 2 ** 20 }, (err, stdout, stderr) => {
      const processMs = performance.now() - t0;
      // exit 1 = failing seeds found (chaos finds the framing bug): still a measurement
      if (err && err.code !== 1) return reject(new Error(`explore --workers ${workers} failed (${err.code}): ${stderr}`));
      try {
        resolve({ ...JSON.parse(stdout), processMs });
      } catch (e) {
        reject(new Error(`explore --workers ${workers}: no JSON on stdout (${e.message}): ${stderr}`));
      }
    });
  });
}

async function sweepThroughput(faults) {
  progress(`explore: sim/echo.ts ${Object.entries(SWEEP_OPTIONS).map(([k, v]) => `--${k} ${v}`).join(' ')}, faults ${faults}, seeds 1..${SEEDS}, workers 1 and 2 — ${ROUNDS} rounds, interleaved`);
  const runs = { 1: [], 2: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const w of r % 2 === 0 ? [1, 2] : [2, 1]) {
      const res = await explore(w, faults);
      if (res.ran !== SEEDS || res.workers !== w) throw new Error(`explore --workers ${w}: ran ${res.ran} of ${SEEDS} seeds on ${res.workers} workers`);
      runs[w].push({ round: r, ...res });
      progress(`  round ${r + 1}/${ROUNDS} workers ${w}: ${res.seedsPerSecond} seeds/s (${res.wallMs} ms sweep, ${Math.round(res.processMs)} ms process), ${res.failures.length} failing seeds`);
    }
  }
  const perRound = runs[2].map((b) => b.seedsPerSecond / runs[1].find((a) => a.round === b.round).seedsPerSecond);
  const failing = (x) => JSON.stringify(x.failures.map((f) => f.seed));
  const all = [...runs[1], ...runs[2]];
  const sameFailures = new Set(all.map(failing)).size === 1;
  const figures = (xs) => ({
    seedsPerSecond: summary(xs.map((x) => x.seedsPerSecond)),
    sweepMs: summary(xs.map((x) => x.wallMs)),
    processMs: summary(xs.map((x) => Math.round(x.processMs))),
    perRound: xs.map((x) => x.seedsPerSecond),
  });
  const speedup = round(median(perRound));
  return {
    scenario: 'sim/echo.ts',
    options: SWEEP_OPTIONS,
    faults,
    seeds: [1, SEEDS],
    rounds: ROUNDS,
    workers1: figures(runs[1]),
    workers2: figures(runs[2]),
    speedup: {
      value: speedup,
      ofMedians: round(median(runs[2].map((x) => x.seedsPerSecond)) / median(runs[1].map((x) => x.seedsPerSecond))),
      perRound: perRound.map((x) => round(x)),
      target: TARGET_SPEEDUP,
      met: speedup >= TARGET_SPEEDUP,
    },
    failingSeeds: runs[1][0].failures.length,
    sameFailures,
  };
}

/** The kernels of the ceiling, run in a worker thread. */
function kernel({ kind, n }) {
  if (kind === 'alu') {
    let x = 0;
    for (let i = 0; i < n; i++) x = (x * 31 + i) | 0;
    return x;
  }
  // alloc: small objects, most dying young, a few surviving a while (a simulation's messages and greenlets)
  let keep = [];
  let s = 0;
  for (let i = 0; i < n; i++) {
    const o = { a: i, b: [i] };
    if ((i & 1023) === 0) keep.push(o);
    if (keep.length > 1000) keep = [];
    s += o.b.length;
  }
  return s;
}

/** Total iterations of each kernel (about 2 s on one thread here; a third with --quick). */
const KERNEL_WORK = { alu: 4e8, alloc: 3e8 };

/** Runs `kind` with its total work split over `threads` worker threads; resolves with the wall ms. */
async function kernelRun(kind, threads) {
  const t0 = performance.now();
  const ws = Array.from({ length: threads }, () => new Worker(new URL(import.meta.url), { workerData: { kind, n: Math.round(KERNEL_WORK[kind] / (args.quick ? 3 : 1) / threads) } }));
  await Promise.all(ws.map((w) => new Promise((resolve, reject) => (w.once('message', resolve), w.once('error', reject)))));
  return performance.now() - t0;
}

async function ceiling() {
  progress(`ceiling: alu and alloc kernels on 1 and 2 worker threads — ${ROUNDS} rounds, interleaved`);
  const out = {};
  for (const kind of ['alu', 'alloc']) {
    const perRound = [];
    const ms = { 1: [], 2: [] };
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? [1, 2] : [2, 1];
      const t = {};
      for (const w of order) t[w] = await kernelRun(kind, w);
      ms[1].push(t[1]);
      ms[2].push(t[2]);
      perRound.push(t[1] / t[2]);
    }
    out[kind] = { ms1: round(median(ms[1]), 1), ms2: round(median(ms[2]), 1), speedup: round(median(perRound)), perRound: perRound.map((x) => round(x)) };
    progress(`  ${kind}: 1 thread ${out[kind].ms1} ms, 2 threads ${out[kind].ms2} ms, speedup ${out[kind].speedup}`);
  }
  return out;
}

async function simSpeed({ scenario, gevent }) {
  progress(`sim speed: sim/echo.ts --clients ${SIM_OPTIONS.clients} --latency ${SIM_OPTIONS.latency} (messages ${scenario.options.messages}): 1 warm-up + ${RUNS} runs`);
  const r = await measure(
    'sim speed',
    async () => {
      const res = await gevent.runScenario(scenario, { seed: 1, mode: 'sim', options: SIM_OPTIONS });
      // ops = simulated seconds, so the rate is simulated seconds per wall second
      return { ops: res.virtualSeconds, check: `${res.summary.roundTrips}rt`, traceHash: res.traceHash, virtualSeconds: res.virtualSeconds, roundTrips: res.summary.roundTrips };
    },
    { warmup: 1, runs: RUNS },
  );
  return {
    scenario: 'sim/echo.ts',
    options: { ...SIM_OPTIONS, messages: scenario.options.messages },
    seed: 1,
    virtualSeconds: r.last.virtualSeconds,
    roundTrips: r.last.roundTrips,
    wallMs: { min: round(r.ms.min, 1), median: round(r.ms.median, 1), max: round(r.ms.max, 1) },
    simSecondsPerWallSecond: { median: round(r.opsPerSec.median), min: round(r.opsPerSec.min), max: round(r.opsPerSec.max) },
    traceHash: r.traceHash,
    traceHashStableAcrossRuns: r.traceHashStable,
    runs: r.runs,
  };
}

async function main() {
  const loaded = await loadScenario('sim/echo.ts');
  const { gevent } = loaded;
  const presets = Array.isArray(gevent.FAULT_PRESETS) ? gevent.FAULT_PRESETS : [];
  const faults = args.faults ?? (presets.includes('chaos') ? 'chaos' : 'none');
  const sweep = await sweepThroughput(faults);
  progress(`explore: 1 worker ${sweep.workers1.seedsPerSecond.median} seeds/s, 2 workers ${sweep.workers2.seedsPerSecond.median} seeds/s, speedup ${sweep.speedup.value} (per round ${sweep.speedup.perRound.join(', ')}; target ≥ ${TARGET_SPEEDUP}: ${sweep.speedup.met ? 'met' : 'missed'})`);
  const machine = await ceiling();
  const sim = await simSpeed(loaded);
  progress(`sim speed: ${sim.simSecondsPerWallSecond.median} simulated s per wall s (${sim.virtualSeconds} s simulated in ${sim.wallMs.median} ms)`);
  emit({
    workload: 'explore',
    ...(presets.includes('chaos') ? {} : { note: 'this build has no chaos fault preset (FAULT_PRESETS): the sweep ran with faults none' }),
    sweep,
    ceiling: machine,
    simSpeed: sim,
  });
}

if (isMainThread) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  parentPort.postMessage(kernel(workerData));
}
