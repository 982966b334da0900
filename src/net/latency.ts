/**
 * Latency distributions for the in-memory network: a fixed delay, a uniform range, or an exponential
 * curve above a minimum (turmoil's shape), drawn from the hub's seeded PRNG at send time.
 * @internal
 */
import type { Random } from '../core/random.js';
import type { LatencyNs } from './router.js';

/**
 * A one-way latency, seconds: a number (fixed), `{ fixed: s }`, `{ uniform: [min, max] }`, or
 * `{ exponential: mean, min?, max? }` (min + an exponential draw of that mean, capped at max).
 * @example
 * sim.setLatency({ exponential: 0.002, min: 0.0005, max: 0.05 });
 */
export type LatencySpec =
  | number
  | { fixed: number }
  | { uniform: readonly [min: number, max: number] }
  | { exponential: number; min?: number; max?: number };

const NS = 1e9;

function seconds(v: unknown, what: string): number {
  if (typeof v !== 'number' || Number.isNaN(v)) throw new TypeError(`${what} must be a number of seconds, got ${typeof v === 'number' ? 'NaN' : typeof v}`);
  if (v < 0 || v === Infinity) throw new RangeError(`${what} must be finite and >= 0, got ${v}`);
  return v;
}

/** Integer ns of a non-negative number of seconds. */
function ns(s: number): number {
  return Math.round(s * NS);
}

/**
 * Turns a latency spec into what the router takes: a constant in ns, or a sampler drawing from
 * `random`. Throws TypeError/RangeError for a malformed spec.
 */
export function latencySampler(spec: LatencySpec, random: Random, what = 'latency'): LatencyNs {
  if (typeof spec === 'number') return ns(seconds(spec, what));
  if (typeof spec !== 'object' || spec === null) throw new TypeError(`${what} must be a number of seconds or a distribution ({ fixed }, { uniform: [min, max] }, { exponential })`);
  if ('fixed' in spec) return ns(seconds(spec.fixed, `${what}.fixed`));
  if ('uniform' in spec) {
    const u = spec.uniform;
    if (!Array.isArray(u) || u.length !== 2) throw new TypeError(`${what}.uniform must be [min, max]`);
    const min = seconds(u[0], `${what}.uniform min`);
    const max = seconds(u[1], `${what}.uniform max`);
    if (max < min) throw new RangeError(`${what}.uniform: max ${max} is below min ${min}`);
    if (max === min) return ns(min);
    return () => ns(random.uniform(min, max));
  }
  if ('exponential' in spec) {
    const mean = seconds(spec.exponential, `${what}.exponential`);
    const min = spec.min === undefined ? 0 : seconds(spec.min, `${what}.min`);
    const max = spec.max === undefined ? Infinity : spec.max;
    if (typeof max !== 'number' || Number.isNaN(max) || max < min) throw new RangeError(`${what}.max must be a number >= min`);
    if (mean === 0) return ns(min);
    return () => ns(Math.min(max, min + random.exponential(mean)));
  }
  throw new TypeError(`${what}: unknown distribution ${JSON.stringify(spec)} (use { fixed }, { uniform: [min, max] } or { exponential })`);
}

/** A short description of a spec for traces and reports: `fixed 0.001`, `uniform 0.001..0.005`, `exponential 0.002+0.001`. */
export function describeLatency(spec: LatencySpec): string {
  if (typeof spec === 'number') return `fixed ${spec}`;
  if ('fixed' in spec) return `fixed ${spec.fixed}`;
  if ('uniform' in spec) return `uniform ${spec.uniform[0]}..${spec.uniform[1]}`;
  return `exponential ${spec.exponential}` + (spec.min ? `+${spec.min}` : '') + (spec.max !== undefined ? ` max ${spec.max}` : '');
}
