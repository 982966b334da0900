// bench/spawn: spawn + join N greenlets (time), and N greenlets parked on one Event (bytes per parked
// greenlet, from the heapUsed delta after a full GC), each against plain Node async functions.
//
//   node --expose-gc bench/spawn.js --contender hub-spawn|node-spawn|hub-parked|node-parked
//        [--count 100000] [--warmup 1] [--runs 5]     → one JSON line on stdout
//   node bench/spawn.js --profile [--contender hub-spawn] [--warmup 1] → the top functions by self time
import { importDist, parseArgs, measure, emit, progress, collectGarbage, median, summary } from './lib/common.js';
import { performance } from 'node:perf_hooks';

const args = parseArgs(process.argv.slice(2), { contender: 'hub-spawn', count: 100000, warmup: 1, runs: 5 });

async function task(i) {
  return i;
}

// ------------------------------------------------------------------ spawn + join

async function hubSpawn() {
  const { Hub, spawn, joinall } = await importDist(args.dist);
  return async function once(N) {
    const hub = new Hub({ mode: 'sim', seed: 1 });
    let sum = 0;
    await hub.run(async () => {
      const gs = new Array(N);
      for (let i = 0; i < N; i++) gs[i] = spawn(task, i);
      await joinall(gs);
      for (let i = 0; i < N; i++) sum += gs[i].value;
    });
    return { ops: N, check: sum };
  };
}

/** Node's nearest equivalent: N async calls, then await them all. */
function nodeSpawn() {
  return async function once(N) {
    const ps = new Array(N);
    for (let i = 0; i < N; i++) ps[i] = task(i);
    const values = await Promise.all(ps);
    let sum = 0;
    for (let i = 0; i < N; i++) sum += values[i];
    return { ops: N, check: sum };
  };
}

// ------------------------------------------------------------------ parked memory

/**
 * N greenlets parked on one Event (or, before the sync layer has Event, on one never-finishing
 * greenlet's join(): the same Linkable machinery). Heap delta after GC with all of them parked, then
 * the time to wake and join them all.
 */
async function hubParked() {
  const gevent = await importDist(args.dist);
  const { Hub, spawn, sleep, joinall } = gevent;
  const hasEvent = typeof gevent.Event === 'function';
  const parkedOn = hasEvent ? 'Event.wait()' : 'Greenlet.join() of a greenlet that never finishes';
  return async function once(N) {
    let bytes = 0;
    let wakeMs = 0;
    let woken = 0;
    collectGarbage();
    const h0 = process.memoryUsage().heapUsed;
    const hub = new Hub({ mode: 'sim', seed: 1 });
    await hub.run(async () => {
      let release;
      let wait;
      if (hasEvent) {
        const ev = new gevent.Event();
        wait = () => ev.wait();
        release = async () => ev.set();
      } else {
        const blocker = spawn(() => sleep(Infinity));
        wait = () => blocker.join();
        release = () => blocker.kill();
      }
      const body = async () => {
        await wait();
        woken++;
      };
      const gs = new Array(N);
      for (let i = 0; i < N; i++) gs[i] = spawn(body);
      await sleep(0); // every greenlet has started and parked
      collectGarbage();
      bytes = process.memoryUsage().heapUsed - h0;
      const t0 = performance.now();
      await release();
      await joinall(gs);
      wakeMs = performance.now() - t0;
    });
    if (woken !== N) throw new Error(`woke ${woken} of ${N}`);
    return { ops: N, check: woken, bytesPerParked: bytes / N, wakeJoinMs: wakeMs, parkedOn };
  };
}

/** Plain Node: N async functions awaiting one pending promise. */
function nodeParked() {
  return async function once(N) {
    let woken = 0;
    collectGarbage();
    const h0 = process.memoryUsage().heapUsed;
    let release;
    const gate = new Promise((r) => (release = r));
    const body = async () => {
      await gate;
      woken++;
    };
    const ps = new Array(N);
    for (let i = 0; i < N; i++) ps[i] = body();
    collectGarbage();
    const bytes = process.memoryUsage().heapUsed - h0;
    const t0 = performance.now();
    release();
    await Promise.all(ps);
    const wakeMs = performance.now() - t0;
    if (woken !== N) throw new Error(`woke ${woken} of ${N}`);
    return { ops: N, check: woken, bytesPerParked: bytes / N, wakeJoinMs: wakeMs, parkedOn: 'await of one pending promise' };
  };
}

async function main() {
  if (args.profile) {
    const { profile } = await import('./lib/profile.js');
    await profile(new URL(import.meta.url), process.argv.slice(2), args);
    return;
  }
  if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc');
  const N = args.count;
  const c = args.contender;
  const make = { 'hub-spawn': hubSpawn, 'node-spawn': nodeSpawn, 'hub-parked': hubParked, 'node-parked': nodeParked }[c];
  if (make === undefined) throw new Error(`unknown contender ${c}: hub-spawn, node-spawn, hub-parked or node-parked`);
  const once = await make();
  const label = `spawn ${c} ${N}`;
  progress(`${label}: ${args.warmup} warm-up + ${args.runs} runs`);
  const runs = [];
  const r = await measure(label, async () => {
    const x = await once(N);
    runs.push(x);
    return x;
  }, { warmup: args.warmup, runs: args.runs, serve: args.serve === true });
  const { last, ...rest } = r;
  const measured = runs.slice(args.warmup);
  const extra = {};
  if (last.bytesPerParked !== undefined) {
    extra.parkedOn = last.parkedOn;
    extra.bytesPerParked = summary(measured.map((x) => x.bytesPerParked));
    extra.wakeJoinMs = summary(measured.map((x) => x.wakeJoinMs));
    progress(`  ${label}: ${median(measured.map((x) => x.bytesPerParked)).toFixed(0)} B per parked greenlet (${last.parkedOn})`);
  }
  emit({ workload: 'spawn', contender: c, count: N, warmup: args.warmup, ...rest, ...extra });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
