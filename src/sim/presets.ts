/**
 * Fault presets drawn from the seed (swarm testing, as TigerBeetle's simulator does): a preset names a
 * family of faults; the seed picks which faults of it happen, when, where and how hard. Faults strike
 * during a window of virtual time (10 s by default) — the safety phase — and everything is repaired
 * and restarted by its end, so a correct system must then converge (the liveness phase).
 */
import { Timer, PRIORITY_DEFAULT } from '../core/timers.js';
import { toNs } from '../core/hub.js';
import type { Random } from '../core/random.js';
import type { LatencySpec } from '../net/latency.js';
import type { Simulation, SimHost, FaultHandle } from './simulation.js';

/**
 * The fault presets, from none to all.
 * @example
 * for (const faults of FAULT_PRESETS) await runScenario(kv, { seed: 1, faults });
 */
export const FAULT_PRESETS = ['none', 'latency', 'partitions', 'crashes', 'chaos', 'all'] as const;

/**
 * A fault preset: `none`, `latency`, `partitions`, `crashes`, `chaos` or `all`.
 * @example
 * const faults: FaultPreset = 'partitions';
 */
export type FaultPreset = (typeof FAULT_PRESETS)[number];

/**
 * Options of `applyFaults`.
 * @example
 * applyFaults(sim, 'all', { window: 60 }); // faults strike during the first virtual minute
 */
export interface ApplyFaultsOptions {
  /** Seconds of virtual time (from now) during which partitions and crashes strike (default 10). */
  window?: number;
}

/**
 * What a preset drew from the seed: plain JSON, for reports.
 * @example
 * const { faults } = await runScenario(kv, { seed: 3, faults: 'all' });
 * console.log(JSON.stringify(faults)); // {"preset":"all","window":10,"latency":…,"partitions":[…]}
 */
export interface FaultPlan {
  preset: FaultPreset;
  /** The latency of every link between distinct hosts, when drawn. */
  latency?: LatencySpec;
  /** Stream chaos probabilities, when drawn. */
  chaos?: { split: number; coalesce: number };
  /** Partitions: when each starts and how long it lasts (its sides are drawn when it starts). */
  partitions?: { at: number; duration: number }[];
  /** Crashes: when each strikes and when its host restarts (the host is drawn when it strikes). */
  crashes?: { at: number; downFor: number }[];
  /** The window of virtual time the faults strike in, seconds. */
  window: number;
}

/**
 * Whether `x` names a fault preset.
 * @example
 * isFaultPreset('chaos'); // true
 */
export function isFaultPreset(x: unknown): x is FaultPreset {
  return typeof x === 'string' && (FAULT_PRESETS as readonly string[]).includes(x);
}

/** Milliseconds-rounded seconds, so plans print short and stay exact in the trace. */
function ms(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function drawLatency(r: Random): LatencySpec {
  const base = ms(0.0005 + r.random() * 0.01);
  switch (r.int(3)) {
    case 0:
      return base;
    case 1:
      return { uniform: [base, ms(base * (2 + r.random() * 3))] };
    default:
      return { exponential: base, min: ms(base / 4), max: ms(base * 10) };
  }
}

function drawChaos(r: Random): { split: number; coalesce: number } {
  return { split: ms(0.05 + r.random() * 0.45), coalesce: ms(0.05 + r.random() * 0.45) };
}

function drawTimes(r: Random, n: number, window: number, minLen: number, maxLen: number): { at: number; len: number }[] {
  const out: { at: number; len: number }[] = [];
  for (let i = 0; i < n; i++) {
    const at = ms(r.random() * window * 0.9);
    const len = ms(Math.min(window - at, minLen + r.random() * (maxLen - minLen)));
    out.push({ at, len });
  }
  return out.sort((a, b) => a.at - b.at);
}

/**
 * Applies a fault preset to a simulation, every choice drawn from its seed (through one fork of
 * `sim.random`; `none` draws nothing):
 * - `latency`: one distribution for every link between hosts — fixed, uniform or exponential, 0.5–10 ms.
 * - `partitions`: 1–4 partitions at random times, each between random halves of the hosts, one host
 *   and the rest, or one way between two hosts, lasting 0.05–2.5 s.
 * - `crashes`: 1–3 crashes of random running non-client hosts, each restarted 0.05–3 s later.
 * - `chaos`: stream chaos, split and coalesce probabilities each 0.05–0.5.
 * - `all`: swarm testing — each of the four above on with probability 3/4 (at least one).
 * Partitions and crashes strike within `window` seconds from now and are all repaired and restarted
 * by its end; the hosts they strike are drawn when they strike. Returns the plan, as plain JSON.
 * @example
 * const sim = new Simulation({ seed: 42 });
 * const plan = applyFaults(sim, 'partitions');
 * // scenario code adds hosts, then: await sim.run(main)
 */
export function applyFaults(sim: Simulation, preset: FaultPreset, options: ApplyFaultsOptions = {}): FaultPlan {
  if (!isFaultPreset(preset)) throw new RangeError(`unknown fault preset ${JSON.stringify(preset)} (presets: ${FAULT_PRESETS.join(', ')})`);
  const window = options.window ?? 10;
  if (typeof window !== 'number' || !(window > 0) || window === Infinity) throw new RangeError(`window must be a positive number of seconds, got ${String(window)}`);
  const plan: FaultPlan = { preset, window };
  if (preset === 'none') return plan;
  if (sim.mode !== 'sim') throw new Error('faults need sim mode');
  const r = sim.random.fork();
  let latency = preset === 'latency';
  let partitions = preset === 'partitions';
  let crashes = preset === 'crashes';
  let chaos = preset === 'chaos';
  if (preset === 'all') {
    const on = [r.chance(0.75), r.chance(0.75), r.chance(0.75), r.chance(0.75)];
    if (!on.includes(true)) on[r.int(4)] = true;
    [latency, partitions, crashes, chaos] = on as [boolean, boolean, boolean, boolean];
  }
  if (latency) {
    plan.latency = drawLatency(r);
    sim.setLatency(plan.latency);
  }
  if (chaos) {
    plan.chaos = drawChaos(r);
    sim.setChaos(plan.chaos);
  }
  if (partitions) {
    const times = drawTimes(r, 1 + r.int(4), window, 0.05, 2.5);
    plan.partitions = times.map((t) => ({ at: t.at, duration: t.len }));
    for (const t of times) after(sim, t.at, () => startPartition(sim, r, t.len));
  }
  if (crashes) {
    const times = drawTimes(r, 1 + r.int(3), window, 0.05, 3);
    plan.crashes = times.map((t) => ({ at: t.at, downFor: t.len }));
    for (const t of times) after(sim, t.at, () => startCrash(sim, r, t.len));
  }
  return plan;
}

/** Runs `fn` in a hub callback `seconds` from now, unless the run is over by then. */
function after(sim: Simulation, seconds: number, fn: () => void): void {
  sim.addTimer(new Timer(runAction, { sim, fn }), toNs(seconds), PRIORITY_DEFAULT);
}

function runAction(a: { sim: Simulation; fn: () => void }): void {
  if (!a.sim.isFinished) a.fn();
}

/** Draws the sides of a partition among the hosts there are now, and schedules its repair. */
function startPartition(sim: Simulation, r: Random, duration: number): void {
  const hosts = sim.hosts;
  if (hosts.length < 2) return;
  let handle: FaultHandle;
  const shape = r.random();
  if (shape < 0.6) {
    // random halves: each host on a random side, neither side empty
    const a: SimHost[] = [];
    const b: SimHost[] = [];
    for (const h of hosts) (r.chance(0.5) ? a : b).push(h);
    if (a.length === 0) a.push(b.splice(r.int(b.length), 1)[0]!);
    if (b.length === 0) b.push(a.splice(r.int(a.length), 1)[0]!);
    handle = sim.partition(a, b);
  } else if (shape < 0.9) {
    const i = r.int(hosts.length);
    handle = sim.partition(hosts[i]!, hosts.filter((_, j) => j !== i));
  } else {
    const i = r.int(hosts.length);
    let j = r.int(hosts.length - 1);
    if (j >= i) j++;
    handle = sim.partition(hosts[i]!, hosts[j]!, { oneWay: true });
  }
  after(sim, duration, () => handle.remove());
}

/** Crashes a random running non-client host, and schedules its restart. */
function startCrash(sim: Simulation, r: Random, downFor: number): void {
  const up = sim.hosts.filter((h) => !h.client && h.state !== 'crashed');
  if (up.length === 0) return;
  const host = up[r.int(up.length)]!;
  sim.crash(host);
  after(sim, downFor, () => {
    if (host.state === 'crashed') sim.restart(host);
  });
}
