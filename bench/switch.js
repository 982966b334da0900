// bench/switch: N greenlets × K sleeps with seeded random delays (whole ms in [1, 1000]); every
// contender performs the identical sequence of wake-ups and proves it with a checksum of
// (greenlet, wake time in ms) in wake order. The references keep time as the hub does — integer
// nanoseconds in doubles — so they differ from the hub only in what they leave out.
//
//   node --expose-gc bench/switch.js --contender hub|ceiling|floor|fake-timers [--greenlets 10000]
//        [--sleeps 100] [--seed 1] [--warmup 1] [--warmup-sleeps K] [--runs 5]  → one JSON line on stdout
//   node bench/switch.js --profile [--contender hub] [--greenlets 10000] [--sleeps 100] [--top 15]
//        → runs the workload once under --cpu-prof and prints the top functions by self time
import {
  importDist,
  parseArgs,
  delayMs,
  mix,
  hex32,
  CHECKSUM_SEED,
  Heap,
  SAMPLE_MASK,
  sampleMemory,
  measure,
  emit,
  progress,
} from './lib/common.js';

const NS_PER_MS = 1e6;

const args = parseArgs(process.argv.slice(2), {
  contender: 'hub',
  greenlets: 10000,
  sleeps: 100,
  seed: 1,
  warmup: 1,
  runs: 5,
});

// ------------------------------------------------------------------ the floor: a bare timer heap

/** The same wake-ups with no coroutines: pop the earliest, "wake" it, push its next deadline. */
function floorOnce(N, K, seed) {
  const heap = new Heap();
  let seq = 0;
  for (let i = 0; i < N; i++) {
    const g = { i, j: 0, deadline: 0.5, seq: ++seq }; // time fields start as doubles, as in the hub
    g.deadline = delayMs(seed, i, 0) * NS_PER_MS;
    heap.push(g);
  }
  let sum = CHECKSUM_SEED;
  let count = 0;
  let g;
  while ((g = heap.pop()) !== undefined) {
    const now = g.deadline;
    sum = mix(sum, g.i, Math.round(now / NS_PER_MS));
    if ((++count & SAMPLE_MASK) === 0) sampleMemory();
    if (++g.j < K) {
      g.deadline = now + delayMs(seed, g.i, g.j) * NS_PER_MS;
      g.seq = ++seq;
      heap.push(g);
    }
  }
  return { ops: count, check: hex32(sum) };
}

// ------------------------------------------------------------------ the ceiling: counted parking, nothing else

let slot = null;
function capture(res) {
  slot = res;
}

/**
 * The design's ceiling: greenlets are async functions parked on promises; the loop wakes exactly one
 * greenlet per event and runs again only when that greenlet has parked again (or finished).
 */
function ceilingOnce(N, K, seed) {
  const heap = new Heap();
  let now = 0.5, seq = 0, live = N, starting = true, finish = null; // time: ns in a double, as in the hub
  now = 0;
  let sum = CHECKSUM_SEED, count = 0;
  const done = new Promise((r) => (finish = r));
  function next() { // the loop: resolve the next greenlet, then return — it calls us when it parks
    const g = heap.pop();
    if (g === undefined) return void (live === 0 && finish());
    now = g.deadline;
    const res = g.res;
    g.res = null;
    res();
  }
  function park(g, ms) {
    g.deadline = now + ms * NS_PER_MS;
    g.seq = ++seq;
    heap.push(g);
    const p = new Promise(capture);
    g.res = slot;
    if (!starting) next();
    return p;
  }
  async function greenlet(g) {
    for (let j = 0; j < K; j++) {
      await park(g, delayMs(seed, g.i, j));
      sum = mix(sum, g.i, Math.round(now / NS_PER_MS));
      if ((++count & SAMPLE_MASK) === 0) sampleMemory();
    }
    live--;
    next();
  }
  for (let i = 0; i < N; i++) void greenlet({ i, deadline: 0.5, seq: 0, res: null });
  starting = false;
  next();
  return done.then(() => ({ ops: count, check: hex32(sum) }));
}

// ------------------------------------------------------------------ the hub

async function hubContender() {
  const { Hub, spawn, sleep, joinall } = await importDist(args.dist);
  return async function hubOnce(N, K, seed) {
    const hub = new Hub({ mode: 'sim', seed });
    let sum = CHECKSUM_SEED;
    let count = 0;
    async function worker(i) {
      for (let j = 0; j < K; j++) {
        await sleep(delayMs(seed, i, j) / 1000);
        sum = mix(sum, i, Math.round(hub.now() * 1000));
        if ((++count & SAMPLE_MASK) === 0) sampleMemory();
      }
    }
    await hub.run(async () => {
      const gs = new Array(N);
      for (let i = 0; i < N; i++) gs[i] = spawn(worker, i);
      await joinall(gs);
    });
    return { ops: count, check: hex32(sum), traceHash: hub.traceHash(), virtualSeconds: hub.now() };
  };
}

// ------------------------------------------------------------------ the peer: @sinonjs/fake-timers

async function fakeTimersContender() {
  const FakeTimers = (await import('@sinonjs/fake-timers')).default;
  return async function fakeOnce(N, K, seed) {
    const clock = FakeTimers.createClock(0, N * K + N + 1000);
    let sum = CHECKSUM_SEED;
    let count = 0;
    const sleepMs = (ms) => new Promise((resolve) => clock.setTimeout(resolve, ms));
    async function worker(i) {
      for (let j = 0; j < K; j++) {
        await sleepMs(delayMs(seed, i, j));
        sum = mix(sum, i, clock.now);
        if ((++count & SAMPLE_MASK) === 0) sampleMemory();
      }
    }
    const all = new Array(N);
    for (let i = 0; i < N; i++) all[i] = worker(i);
    await clock.runAllAsync();
    await Promise.all(all);
    return { ops: count, check: hex32(sum) };
  };
}

// ------------------------------------------------------------------ main

async function contender(name) {
  switch (name) {
    case 'floor':
      return floorOnce;
    case 'ceiling':
      return ceilingOnce;
    case 'hub':
      return hubContender();
    case 'fake-timers':
      return fakeTimersContender();
    default:
      throw new Error(`unknown contender ${name}: floor, ceiling, hub or fake-timers`);
  }
}

async function main() {
  if (args.profile) {
    const { profile } = await import('./lib/profile.js');
    await profile(new URL(import.meta.url), process.argv.slice(2), args);
    return;
  }
  const N = args.greenlets;
  const K = args.sleeps;
  const once = await contender(args.contender);
  const label = `switch ${N}x${K} ${args.contender}`;
  progress(`${label}: ${args.warmup} warm-up + ${args.runs} runs (${(N * K).toLocaleString('en')} wake-ups each)`);
  // a smaller warm-up (`--warmup-sleeps`) keeps slow peers affordable; the JIT is warm either way
  const KW = args['warmup-sleeps'] ?? K;
  const r = await measure(label, (measured) => once(N, measured ? K : KW, args.seed), { warmup: args.warmup, runs: args.runs, serve: args.serve === true });
  const { last, ...rest } = r;
  emit({
    workload: 'switch',
    contender: args.contender,
    greenlets: N,
    sleeps: K,
    seed: args.seed,
    warmup: args.warmup,
    warmupSleeps: KW,
    ...rest,
    ...(last.virtualSeconds !== undefined ? { virtualSeconds: last.virtualSeconds } : {}),
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
