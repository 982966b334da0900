/**
 * The hub's only source of chance: a seeded PRNG (sfc32, seeded through splitmix32).
 *
 * Pure 32-bit integer arithmetic, so Node and browsers draw the same numbers from the same seed.
 * @example
 * const r = new Random(42);
 * r.random(); // same float in [0, 1) on every run with seed 42
 */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  readonly seed: number;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new RangeError(`seed must be a non-negative safe integer, got ${String(seed)}`);
    }
    this.seed = seed;
    // splitmix32 over both halves of the seed, so seeds above 2^32 differ too
    let s = (seed >>> 0) ^ Math.imul(Math.floor(seed / 0x100000000) >>> 0, 0x9e3779b9);
    const next = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.uint32();
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  uint32(): number {
    const a = this.a, b = this.b, c = this.c, d = this.d;
    const t = (((a + b) | 0) + d) | 0;
    this.d = (d + 1) | 0;
    this.a = b ^ (b >>> 9);
    this.b = (c + (c << 3)) | 0;
    const r = (c << 21) | (c >>> 11);
    this.c = (r + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1), like `Math.random()`. */
  random(): number {
    return this.uint32() / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    if (!(n > 0) || !Number.isSafeInteger(n)) throw new RangeError(`int(n) needs a positive integer, got ${n}`);
    return Math.floor(this.random() * n);
  }

  /** A float in [min, max). */
  uniform(min: number, max: number): number {
    return min + (max - min) * this.random();
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return p > 0 && this.random() < p;
  }

  /** An exponentially distributed float with the given mean. */
  exponential(mean: number): number {
    return -Math.log(1 - this.random()) * mean;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick() from an empty array');
    return items[this.int(items.length)]!;
  }

  /** A new generator derived from this one: independent streams from one seed. */
  fork(): Random {
    return new Random(this.uint32() * 0x200000 + (this.uint32() >>> 11));
  }
}
