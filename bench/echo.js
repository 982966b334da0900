// bench/echo: the tutorial's echo server and N clients — sim/echo.ts itself, run with runScenario from
// the built package — in sim mode (in-memory network, virtual time) or real mode (loopback TCP,
// port 0), several times in one process: round trips per second, wall time, CPU per round trip,
// memory. The scenario throws when any reply is wrong or missing, so a run that completes is correct.
//
//   node --expose-gc bench/echo.js --contender sim|real [--clients 500] [--messages 100] [--size B] [--reps R]
//        [--seed 1] [--warmup 1] [--runs 5] [--warmup-reps R] [--serve] [--dist path]  → one JSON line
//   node bench/echo.js --profile [--contender sim] [--clients 500] [--messages 100] [--reps 20]
//        [--warmup-reps 5] [--top 15] [--no-inline]
//        → the process under --cpu-prof (warm-up, then one run of `reps` scenarios): the top functions
//          by self time, then self time per layer (hub, net, socket, scenario, GC, V8, loading).
//          --no-inline profiles with --no-turbo-inlining, so callee time is not folded into callers
//          (slower overall, but the split between layers is truer)
//
// `--size B` pads every message to B bytes (the scenario's size option; 0, the default, is the tutorial's
// ~20-byte message) and reads each reply until it is complete (readOnce false), as the gevent peer does.
// `--reps R` runs the scenario R times per measured run (fresh hub each time), so a small shape still
// does enough round trips to be timed (the scaling workload). Default: 5 in sim mode, 1 in real mode —
// a real run (~0.6–0.9 s) is ~10× longer than a sim one, and a run starts after a forced full GC and an
// idle wait for the other contenders, whose after-effects (a cold cache, re-optimised code, a shrunken
// young generation) a 0.08 s run pays in full and a 0.8 s run amortises; five sim scenarios back to
// back make the runs of both contenders about as long (see bench/README.md). The first scenario of each
// measured run is also timed alone (`firstScenario`), so the one-shot figure stays in the report.
// A warm-up run does `--warmup-reps` scenarios (default: 5 × reps in sim mode when --reps is given,
// else 5, where one run is ~0.1 s and the JIT needs several; 1 × reps in real mode) — a cold run
// measures the JIT, not the library.
import { performance } from 'node:perf_hooks';
import { parseArgs, measure, emit, progress, sampleMemory, median, summary, fmtRate } from './lib/common.js';
import { loadScenario } from './lib/scenario.js';

/** Scenario runs per measured sim run (unless --reps): about as long as one real-mode run. */
const SIM_REPS = 5;

const args = parseArgs(process.argv.slice(2), {
  contender: 'sim',
  clients: 500,
  messages: 100,
  size: 0,
  seed: 1,
  warmup: 1,
  runs: 5,
});

async function main() {
  if (args.profile) {
    const { profile, summarizeProfile } = await import('./lib/profile.js');
    const argv = process.argv.slice(2);
    if (!argv.includes('--warmup')) argv.push('--warmup', '1'); // profile the library, not the JIT
    if (!argv.includes('--reps')) argv.push('--reps', '20');
    if (!argv.includes('--warmup-reps')) argv.push('--warmup-reps', '5');
    const { prof } = await profile(new URL(import.meta.url), argv, args, args['no-inline'] ? ['--no-turbo-inlining'] : []);
    printLayers(summarizeProfile(prof, Infinity));
    return;
  }
  const mode = args.contender;
  if (mode !== 'sim' && mode !== 'real') throw new Error(`unknown contender ${mode}: sim or real`);
  const { scenario, gevent, dist } = await loadScenario('sim/echo.ts', args.dist);
  const N = args.clients;
  const K = args.messages;
  const reps = args.reps ?? (mode === 'sim' ? SIM_REPS : 1);
  const warmupReps = args['warmup-reps'] ?? (mode === 'sim' ? (args.reps === undefined ? 5 : 5 * reps) : reps);
  // the tutorial's port (8080) in sim mode, so the trace hash is `npm start`'s; port 0 on real TCP
  const size = args.size;
  const options = { clients: N, messages: K, ...(size > 0 ? { size, readOnce: false } : {}), ...(mode === 'real' ? { port: 0 } : {}) };
  const rssAfterLoad = process.memoryUsage().rss;

  // real mode yields to the event loop, so RSS can be sampled while it runs (every 50 ms: ~0.2% of a
  // real run); a sim run never does (it is all microtasks), and its peak is the process's maxRSS
  const sampler = setInterval(sampleMemory, 50);
  sampler.unref();

  const cpuPerRt = [];
  const firstMs = [];
  async function once(measured) {
    const n = measured ? reps : warmupReps;
    let roundTrips = 0;
    let bytes = 0;
    let connectRetries = 0;
    let virtualSeconds = 0;
    const hashes = new Set();
    const cpu0 = process.cpuUsage();
    for (let r = 0; r < n; r++) {
      const t0 = r === 0 ? performance.now() : 0;
      const res = await gevent.runScenario(scenario, { seed: args.seed, mode, options });
      if (r === 0 && measured) firstMs.push(performance.now() - t0);
      const s = res.summary;
      roundTrips += s.roundTrips;
      bytes += s.bytes;
      connectRetries += s.connectRetries;
      virtualSeconds = res.virtualSeconds;
      hashes.add(res.traceHash);
    }
    const cpu = process.cpuUsage(cpu0);
    if (measured) cpuPerRt.push((cpu.user + cpu.system) / roundTrips);
    if (mode === 'sim' && hashes.size !== 1) throw new Error(`echo sim: ${hashes.size} different trace hashes from one seed in one run`);
    return {
      ops: roundTrips,
      // identical in both modes (every reply is checked by the scenario): the parity check across contenders
      check: `${roundTrips / n}rt/${bytes / n}B`,
      ...(mode === 'sim' ? { traceHash: [...hashes][0] } : {}),
      bytes,
      connectRetries,
      virtualSeconds,
      cpuUsPerRoundTrip: (cpu.user + cpu.system) / roundTrips,
      cpuUserUsPerRoundTrip: cpu.user / roundTrips,
    };
  }

  const label = `echo ${mode} ${N}x${K}${size > 0 ? ` ${size} B` : ''}${reps > 1 ? ` x${reps}` : ''}`;
  progress(`${label}: ${args.warmup} warm-up (${warmupReps} scenario run${warmupReps === 1 ? '' : 's'} each) + ${args.runs} runs (${(N * K * reps).toLocaleString('en')} round trips each)`);
  const r = await measure(label, once, { warmup: args.warmup, runs: args.runs, serve: args.serve === true });
  clearInterval(sampler);
  if (reps > 1) progress(`${label}: first scenario of each run alone: ${fmtRate((N * K) / (median(firstMs) / 1000))}/s (median)`);
  const { last, ...rest } = r;
  emit({
    workload: 'echo',
    contender: mode,
    scenario: 'sim/echo.ts',
    dist,
    clients: N,
    messages: K,
    size,
    reps,
    seed: args.seed,
    warmup: args.warmup,
    warmupReps,
    ...rest,
    rssAfterLoadBytes: rssAfterLoad,
    cpuUsPerRoundTrip: median(cpuPerRt),
    // the first scenario of each measured run alone: the rate of a one-shot run after the forced GC
    firstScenario: { ms: summary(firstMs), roundTripsPerSec: summary(firstMs.map((ms) => (N * K) / (ms / 1000))) },
    connectRetries: last.connectRetries,
    virtualSeconds: last.virtualSeconds,
  });
}

/** Which layer a profile row belongs to, from its (source-mapped) location. */
function layerOf(row) {
  const w = row.where;
  // paths are relative to the repo (or ../other/build/src/… for GEVENTJS_DIST builds)
  const under = (dir) => w.startsWith(dir) || w.includes(`/${dir}`);
  if (row.fn === '(garbage collector)') return 'GC';
  if (w.startsWith('node:') || w.includes('node_modules')) return 'node + tsx (loading, IPC)';
  if (under('src/core/')) return 'hub (src/core)';
  if (under('src/net/')) return 'net (src/net)';
  if (under('src/socket/') || under('src/server/')) return 'socket (src/socket, src/server)';
  if (under('src/sync/')) return 'sync (src/sync)';
  if (under('src/')) return 'other src/';
  if (under('sim/')) return 'scenario (sim/echo.ts)';
  if (under('bench/')) return 'bench harness';
  if (row.fn === '(idle)') return 'idle';
  // no script location: V8 builtins and microtasks (promise reactions), (program), native bindings
  // (writeBuffer is the write syscall in real mode)
  return 'V8 builtins, microtasks, native bindings';
}

function printLayers(all) {
  const by = new Map();
  for (const r of all.rows) {
    const l = layerOf(r);
    by.set(l, (by.get(l) ?? 0) + r.ms);
  }
  console.log('  self ms     %   layer');
  for (const [l, ms] of [...by].sort((a, b) => b[1] - a[1])) {
    console.log(`${ms.toFixed(1).padStart(8)} ${((100 * ms) / all.totalMs).toFixed(1).padStart(5)}   ${l}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
