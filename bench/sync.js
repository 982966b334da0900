// bench/sync: two greenlets handing control to each other N times through one sync primitive, on a
// sim-mode hub: nanoseconds per hand-off (one greenlet parks, the other wakes). The baseline is the
// same ping-pong through sleep(0), the hub's cheapest switch, measured in the same process.
//
//   node --expose-gc bench/sync.js --contender sleep0|queue|channel|event|lock [--count 200000]
//        [--warmup 1] [--runs 5]                            → one JSON line on stdout
//   node bench/sync.js --profile [--contender queue] [--warmup 1] → the top functions by self time
//
// queue:   Queue a / Queue b; the partner gets from a, puts into b; main puts into a, gets from b
// channel: the same through two Channels (a put waits until a getter takes the item, as in gevent)
// event:   two Events, set and cleared in turn
// lock:    two greenlets taking one Lock in turn, with a sleep(0) while holding it
import { importDist, parseArgs, measure, emit, progress } from './lib/common.js';

const args = parseArgs(process.argv.slice(2), { contender: 'queue', count: 200000, warmup: 1, runs: 5 });
const g = await importDist(args.dist);

/** Main puts i into one, a partner gets it and puts i + 1 into the other, main gets that: n times. */
async function pingPong(Kind, n) {
  const a = new Kind();
  const b = new Kind();
  const partner = g.spawn(async () => {
    for (let i = 0; i < n; i++) await b.put((await a.get()) + 1);
  });
  let sum = 0;
  for (let i = 0; i < n; i++) {
    await a.put(i);
    sum += await b.get();
  }
  await partner.join();
  return sum;
}

function contender(name) {
  /** Each workload does `n` round trips between two greenlets: 2n hand-offs; returns a checksum. */
  const workloads = {
    async sleep0(n) {
      let turns = 0;
      const w = async () => {
        for (let i = 0; i < n; i++) {
          turns++;
          await g.sleep(0);
        }
      };
      await g.joinall([g.spawn(w), g.spawn(w)]);
      return turns;
    },
    queue: (n) => pingPong(g.Queue, n),
    channel: (n) => pingPong(g.Channel, n),
    async event(n) {
      const e1 = new g.Event();
      const e2 = new g.Event();
      let turns = 0;
      const partner = g.spawn(async () => {
        for (let i = 0; i < n; i++) {
          await e1.wait();
          e1.clear();
          turns++;
          e2.set();
        }
      });
      for (let i = 0; i < n; i++) {
        e1.set();
        await e2.wait();
        e2.clear();
      }
      await partner.join();
      return turns;
    },
    async lock(n) {
      const lock = new g.Lock();
      let turns = 0;
      const w = async () => {
        for (let i = 0; i < n; i++) {
          await lock.acquire();
          turns++;
          await g.sleep(0);
          lock.release();
        }
      };
      await g.joinall([g.spawn(w), g.spawn(w)]);
      return turns;
    },
  };
  const work = workloads[name];
  if (work === undefined) throw new Error(`unknown contender ${name}: ${Object.keys(workloads).join(', ')}`);
  return async function once(n) {
    const hub = new g.Hub({ mode: 'sim', seed: 1 });
    const check = await hub.run(() => work(n));
    return { ops: 2 * n, check, traceHash: hub.traceHash() };
  };
}

async function main() {
  if (args.profile) {
    const { profile } = await import('./lib/profile.js');
    await profile(new URL(import.meta.url), process.argv.slice(2), args);
    return;
  }
  const n = args.count;
  const once = await contender(args.contender);
  const label = `sync ${args.contender} ${n}`;
  progress(`${label}: ${args.warmup} warm-up + ${args.runs} runs (${(2 * n).toLocaleString('en')} hand-offs each)`);
  const r = await measure(label, () => once(n), { warmup: args.warmup, runs: args.runs, serve: args.serve === true });
  const { last, ...rest } = r;
  emit({
    workload: 'sync',
    contender: args.contender,
    roundTrips: n,
    handOffs: 2 * n,
    nsPerHandOff: Math.round((r.ms.median * 1e6) / (2 * n)),
    ...rest,
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
