/**
 * Group and Pool. Ported from gevent's test__pool.py and test__greenletset.py; the spawn interleaving
 * was checked against gevent 22.10. Every test states the order of events and the virtual time at which
 * each happens.
 */
import { describe, it, expect } from 'vitest';
import {
  Pool,
  Group,
  GroupBase,
  PoolFull,
  Full,
  Event,
  Queue,
  StopIteration,
  Greenlet,
  GreenletExit,
  Timeout,
  LoopExit,
  spawn,
  sleep,
  joinall,
  withTimeout,
  getHub,
} from 'geventjs';
import { simHub, logger, thrown, ExpectedError } from '../helpers.js';

const sqr = async (x: number, wait = 0): Promise<number> => {
  await sleep(wait);
  return x * x;
};
const squared = (x: number): number => x * x;
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('Pool basics (TestCoroutinePool, PoolBasicTests)', () => {
  it('applyAsync runs the function in the pool', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const done = new Event();
      const pool = new Pool(2);
      pool.applyAsync((_x: string) => done.set(), ['x']);
      expect(await done.wait()).toBe(true);
    });
  });

  it('apply returns the value, or throws the error, of the function', async () => {
    const { hub, reports } = simHub();
    await hub.run(async () => {
      expect(await new Pool(2).apply(() => 'return value')).toBe('return value');
      const err = await thrown(() =>
        new Pool(1).apply(() => {
          throw new ExpectedError();
        }),
      );
      expect(err).toBeInstanceOf(ExpectedError);
      expect(await new Pool().apply((a: number) => ['foo', a], [1])).toEqual(['foo', 1]);
    });
    expect(reports).toEqual([]); // apply was waiting for it: the hub does not report it
  });

  it('a consumer and a producer in the pool interleave on an event (test_multiple_coros)', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const evt = new Event();
      const results: string[] = [];
      const pool = new Pool(2);
      const done = await pool.spawn(async () => {
        results.push('cons1');
        await evt.wait();
        results.push('cons2');
      });
      pool.applyAsync(async () => {
        await sleep(0.001);
        results.push('prod');
        evt.set();
      });
      await done.get();
      expect(results).toEqual(['cons1', 'prod', 'cons2']);
      expect(getHub().now()).toBe(0.001);
    });
  });

  it('apply from inside the pool runs at once, so a full pool does not deadlock (test_reentrant)', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const pool = new Pool(1);
      const result = await pool.apply(() => pool.apply((a: number) => a + 1, [5]));
      expect(result).toBe(6);
      const evt = new Event();
      pool.applyAsync(() => evt.set());
      expect(await evt.wait()).toBe(true);
    });
  });

  it('free places go down as greenlets are added, up as they die; applyAsync on a full pool does not block (test_execute_async)', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const p = new Pool(2);
      expect(p.freeCount()).toBe(2);
      const r: number[] = [];
      const first = await p.spawn((x: number) => r.push(x), 1);
      expect(p.freeCount()).toBe(1);
      await first.get();
      expect(r).toEqual([1]);
      await sleep(0);
      expect(p.freeCount()).toBe(2);

      p.applyAsync((x: number) => r.push(x), [2]);
      expect([p.freeCount(), r]).toEqual([1, [1]]);
      p.applyAsync((x: number) => r.push(x), [3]);
      expect([p.freeCount(), r]).toEqual([0, [1]]);
      const fourth = p.applyAsync((x: number) => r.push(x), [4]);
      expect(p.has(fourth)).toBe(false); // full: a plain greenlet that waits for room
      expect(r).toEqual([1]);
      await sleep(0.01);
      expect(r).toEqual([1, 2, 3, 4]);
    });
  });

  it('discard stops tracking a greenlet and frees its place (test_discard)', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const p = new Pool(1);
      const first = await p.spawn(sleep, 1000);
      p.discard(first);
      await first.kill();
      expect([p.length, p.freeCount(), first.dead]).toEqual([0, 1, true]);
      await p.spawn(sleep, 0);
      expect(getHub().now()).toBe(0);
    });
  });

  it('a greenlet added twice holds two places and gives both back when it dies (one link per add, as gevent)', async () => {
    const { hub } = simHub();
    const { out, say } = logger();
    await hub.run(async () => {
      const pool = new Pool(2);
      const g = new Greenlet(sleep, 0.1);
      await pool.add(g);
      await pool.add(g); // gevent takes a second permit and links a second release
      // gevent's free_count says 1 here (size - len) while add would block; freeCount() follows the permits
      say(`added twice: length ${pool.length} free ${pool.freeCount()} full ${pool.full()}`);
      say(`add(other, { blocking: false }): ${String(await thrown(() => pool.add(new Greenlet(sleep, 1), { blocking: false })))}`);
      g.start();
      await pool.join();
      say(`joined: free ${pool.freeCount()} full ${pool.full()}`);
      await pool.spawn(sleep, 1);
      say('spawned 1');
      await pool.spawn(sleep, 1); // gevent: does not block, both permits came back at 0.1
      say(`spawned 2: free ${pool.freeCount()} full ${pool.full()}`);
      await pool.join();
      say('joined');
    });
    expect(out).toEqual([
      '0 added twice: length 1 free 0 full true',
      '0 add(other, { blocking: false }): PoolFull',
      '0.1 joined: free 2 full false',
      '0.1 spawned 1',
      '0.1 spawned 2: free 0 full true',
      '1.1 joined',
    ]);
  });

  it('discard of a greenlet added twice gives one place back; its death gives the other', async () => {
    const { hub } = simHub();
    const { out, say } = logger();
    await hub.run(async () => {
      const pool = new Pool(2);
      const g = new Greenlet(sleep, 0.5);
      await pool.add(g);
      await pool.add(g);
      pool.discard(g); // gevent: one release, one link removed; the other link stays on g
      say(`discarded: length ${pool.length} free ${pool.freeCount()}`);
      g.start();
      await pool.spawn(sleep, 1);
      say('spawned 1');
      await pool.spawn(sleep, 1); // waits for g's remaining link: g dies at 0.5
      say('spawned 2');
      await pool.join();
      say(`joined: free ${pool.freeCount()}`);
    });
    expect(out).toEqual(['0 discarded: length 0 free 1', '0 spawned 1', '0.5 spawned 2', '1.5 joined: free 2']);
  });

  it('add on a full pool blocks; an outer Timeout interrupts it (test_add_method)', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const p = new Pool(1);
      const first = spawn(sleep, 1000);
      const second = spawn(sleep, 1000);
      try {
        expect([p.freeCount(), p.length]).toEqual([1, 0]);
        await p.add(first);
        expect([p.freeCount(), p.length]).toEqual([0, 1]);
        const t = Timeout.startNew(0.1);
        try {
          expect(await thrown(() => p.add(second))).toBe(t);
        } finally {
          t.cancel();
        }
        expect([p.freeCount(), p.length, getHub().now()]).toEqual([0, 1, 0.1]);
      } finally {
        await second.kill();
        await first.kill();
      }
    });
  });

  it('add({ blocking: false }) on a full pool raises PoolFull; add/start({ timeout }) at the exact time', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const p = new Pool(1);
      const first = spawn(sleep, 1000);
      const second = spawn(sleep, 1000);
      await p.add(first);
      const e1 = await thrown(() => p.add(second, { blocking: false }));
      expect(e1).toBeInstanceOf(PoolFull);
      expect(e1).toBeInstanceOf(Full);
      expect(getHub().now()).toBe(0);
      expect(await thrown(() => p.add(second, { timeout: 0.1 }))).toBeInstanceOf(PoolFull);
      expect(getHub().now()).toBe(0.1);
      const third = new Greenlet(sleep, 1000);
      expect(await thrown(() => p.start(third, { timeout: 0.1 }))).toBeInstanceOf(PoolFull);
      expect([getHub().now(), third.started, p.length]).toEqual([0.2, false, 1]);
      await second.kill();
      await first.kill();
    });
  });

  it('rejects a negative or non-numeric size (test_init_error)', async () => {
    const { hub } = simHub();
    await hub.run(() => {
      expect(() => new Pool(-1)).toThrow(new RangeError('size must not be negative: -1'));
      expect(() => new Pool(Number.NaN)).toThrow(TypeError);
      expect(new Pool().size).toBe(null);
      expect(new Pool(0).size).toBe(0);
    });
  });

  it('Pool(0) is always full; waitAvailable(timeout) gives up at the exact time with 0 (TestPool0)', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const p = new Pool(0);
      expect([p.freeCount(), p.full()]).toEqual([0, true]);
      expect(await p.waitAvailable(0.01)).toBe(0);
      expect(getHub().now()).toBe(0.01);
    });
  });

  it('spawn on a full pool: LoopExit names main and Pool.add', async () => {
    const { hub } = simHub();
    const err = await thrown(() => hub.run(() => new Pool(0).spawn(sleep, 1)));
    expect(err).toBeInstanceOf(LoopExit);
    expect((err as LoopExit).blocked).toEqual([{ greenlet: 'main', waitingOn: 'Pool.add (Semaphore counter=0)', since: 0 }]);
  });

  it('a spawn whose wait for room is interrupted kills its greenlet unstarted', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const p = new Pool(1);
      await p.spawn(sleep, 10);
      let ran = false;
      const t = Timeout.startNew(1);
      try {
        await p.spawn(() => {
          ran = true;
        });
      } catch (e) {
        expect(e).toBe(t);
      } finally {
        t.cancel();
      }
      await sleep(20);
      expect([ran, p.length]).toEqual([false, 0]);
    });
  });
});

describe('Pool: spawn blocks while full', () => {
  it('spawn blocks until a place frees up (TestSpawn)', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const p = new Pool(1);
      expect(p.length).toBe(0);
      await p.spawn(sleep, 0.1);
      expect(p.length).toBe(1);
      await p.spawn(sleep, 0.1); // blocks until the first finishes
      expect([p.length, getHub().now()]).toEqual([1, 0.1]);
      await sleep(0.19);
      expect(p.length).toBe(0);
    });
  });

  it('join(timeout) on a busy pool returns false at the exact time; join() true once empty (testSpawnAndWait)', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const p = new Pool(1);
      await p.spawn(sleep, 0.1);
      expect(await p.join(0.01)).toBe(false);
      expect(getHub().now()).toBe(0.01);
      expect(await p.join()).toBe(true);
      expect([p.length, getHub().now()]).toEqual([0, 0.1]);
      expect(await new Pool().join()).toBe(true); // TestJoinEmpty
    });
  });

  for (const raiseError of [false, true]) {
    it(`join(0.2${raiseError ? ', raiseError' : ''}) with a greenlet sleeping 10 s returns false at 0.2 (TestJoinSleep)`, async () => {
      const { hub } = simHub();
      await hub.run(async () => {
        const p = new Pool();
        const g = await p.spawn(sleep, 10);
        try {
          expect(await p.join(0.2, raiseError)).toBe(false);
          expect(getHub().now()).toBe(0.2);
        } finally {
          await g.kill();
        }
      });
    });
  }

  it('spawns of Pool(2) wait for places in the order gevent 22.10 gives; map and imap reuse them', async () => {
    const { hub } = simHub();
    const { out, say } = logger();
    await hub.run(async () => {
      const p = new Pool(2);
      const job = async (n: number) => {
        say(`job${n} start`);
        await sleep(0.1 * n);
        say(`job${n} end`);
        return n;
      };
      for (const n of [3, 1, 2, 1]) {
        say(`spawn ${n}`);
        await p.spawn(job, n);
        say(`spawned ${n} len=${p.length}`);
      }
      say(`join ${await p.join()}`);
      say(`map ${(await p.map(job, [2, 1, 1])).join(',')}`);
      for await (const x of p.imap(job, [2, 1, 1, 1], { maxsize: 1 })) say(`imap got ${x}`);
    });
    // gevent prints "spawned 1 len=2" at 0.3: there job2's timer (started at 0.1 + ε) fires after main
    // has taken job3's place; here job3 and job2 end at exactly 0.3, both places free before main runs
    expect(out).toEqual([
      '0 spawn 3',
      '0 spawned 3 len=1',
      '0 spawn 1',
      '0 spawned 1 len=2',
      '0 spawn 2',
      '0 job3 start',
      '0 job1 start',
      '0.1 job1 end',
      '0.1 spawned 2 len=2',
      '0.1 spawn 1',
      '0.1 job2 start',
      '0.3 job3 end',
      '0.3 job2 end',
      '0.3 spawned 1 len=1',
      '0.3 job1 start',
      '0.4 job1 end',
      '0.4 join true',
      '0.4 job2 start',
      '0.4 job1 start',
      '0.5 job1 end',
      '0.5 job1 start',
      '0.6 job2 end',
      '0.6 job1 end',
      '0.6 map 2,1,1',
      '0.6 job2 start',
      '0.6 job1 start',
      '0.7 job1 end',
      '0.8 job2 end',
      '0.8 imap got 2',
      '0.8 imap got 1',
      '0.8 job1 start',
      '0.8 job1 start',
      '0.9 job1 end',
      '0.9 job1 end',
      '0.9 imap got 1',
      '0.9 imap got 1',
    ]);
  });

  it('the same program gives the same trace hash twice', async () => {
    const program = async () => {
      const p = new Pool(3);
      const rnd = getHub().random;
      const total = { n: 0 };
      for await (const x of p.imapUnordered(async (i: number) => {
        await sleep(rnd.uniform(0, 1));
        return i;
      }, range(20))) {
        total.n += x;
      }
      await p.map((s: number) => sleep(s), [0.3, 0.1, 0.2]);
      return total.n;
    };
    const a = simHub({ seed: 7 });
    const b = simHub({ seed: 7 });
    expect(await a.hub.run(program)).toBe(190);
    expect(await b.hub.run(program)).toBe(190);
    expect(a.hub.traceHash()).toBe(b.hub.traceHash());
    expect(a.hub.now()).toBe(b.hub.now());
  });
});

describe('Pool: map, imap, imapUnordered, apply (TestPool, sizes 1, 2, 3, 10, unlimited)', () => {
  for (const size of [1, 2, 3, 10, null]) {
    describe(`Pool(${size})`, () => {
      const withPool = (fn: (pool: Pool) => Promise<void>) => async () => {
        const { hub } = simHub();
        await hub.run(async () => {
          const pool = new Pool(size);
          await fn(pool);
          await pool.join();
        });
      };

      it(
        'apply and map',
        withPool(async (pool) => {
          expect(await pool.apply(sqr, [5])).toBe(25);
          expect(await pool.map(sqr, range(10))).toEqual(range(10).map(squared));
          expect(await pool.map(sqr, range(100))).toEqual(range(100).map(squared));
          expect(await pool.map(sqr, [])).toEqual([]);
        }),
      );

      it(
        'applyAsync: get() waits the function out; the callback gets the value',
        withPool(async (pool) => {
          const result: number[] = [];
          const res = pool.applyAsync(sqr, [7, 0.082], (v) => result.push(v));
          expect(await res.get()).toBe(49);
          expect(getHub().now()).toBe(0.082);
          await sleep(0);
          expect(result).toEqual([49]);
          const slow = pool.applyAsync(sqr, [6, 0.235]);
          expect(await thrown(() => slow.get({ timeout: 0.035 }))).toBeInstanceOf(Timeout);
          expect(getHub().now()).toBe(0.117);
        }),
      );

      it(
        'imap yields in order; next() after the end is done',
        withPool(async (pool) => {
          expect(await collect(pool.imap(sqr, range(10)))).toEqual(range(10).map(squared));
          const it = pool.imap(sqr, range(1000));
          for (let i = 0; i < 1000; i++) expect(await it.next()).toEqual({ done: false, value: i * i });
          expect(await it.next()).toEqual({ done: true, value: undefined });
          expect(await it.next()).toEqual({ done: true, value: undefined });
          const rnd = getHub().random;
          const randomSleep = async (x: number) => {
            await sleep(rnd.random() * 0.1);
            return x * x;
          };
          expect(await collect(pool.imap(randomSleep, range(10)))).toEqual(range(10).map(squared));
          expect(await collect(pool.imap(sqr, []))).toEqual([]);
        }),
      );

      it(
        'imapUnordered yields every result',
        withPool(async (pool) => {
          expect((await collect(pool.imapUnordered(sqr, range(1000)))).sort((a, b) => a - b)).toEqual(range(1000).map(squared));
          expect(await collect(pool.imapUnordered(sqr, []))).toEqual([]);
        }),
      );

      it(
        'imapUnordered yields in completion order (test_imap_unordered_sleep)',
        withPool(async (pool) => {
          const { out, say } = logger();
          const nap = async (x: number) => {
            await sleep(x / 10);
            return String(x);
          };
          for await (const r of pool.imapUnordered(nap, [10, 1, 2])) say(r);
          // size 1: one at a time; size 2: '2' starts when '1' frees a place at 0.1; larger: all at once
          const expected: Record<string, string[]> = { '1': ['1 10', '1.1 1', '1.3 2'], '2': ['0.1 1', '0.3 2', '1 10'] };
          expect(out).toEqual(expected[String(size)] ?? ['0.1 1', '0.2 2', '1 10']);
        }),
      );

      it(
        'imap over a Queue ends when the queue yields StopIteration (issue 423)',
        withPool(async (pool) => {
          for (const method of ['imap', 'imapUnordered'] as const) {
            const q = new Queue<number | StopIteration>();
            await q.put(123);
            spawn(async () => {
              await sleep(0.1);
              await q.put(StopIteration);
            });
            expect(await collect(pool[method]((x: number) => x, q))).toEqual([123]);
          }
          expect(getHub().now()).toBe(0.2);
        }),
      );

      it(
        'imap over an async generator that sleeps after its last item (issue 311)',
        withPool(async (pool) => {
          const finalSleep = async function* () {
            for (let i = 0; i < 3; i++) yield i;
            await sleep(0.2);
          };
          expect(await collect(pool.imap(sqr, finalSleep()))).toEqual([0, 1, 4]);
          expect(await collect(pool.imapUnordered(sqr, finalSleep()))).toEqual([0, 1, 4]);
          expect(getHub().now()).toBe(0.4);
        }),
      );

      it(
        'maxsize keeps at most one finished result waiting for a slow reader (issue 638)',
        withPool(async (pool) => {
          const iterable = range(100);
          for (const method of ['imapUnordered', 'imap'] as const) {
            let running = 0;
            const mapping = pool[method](
              (i: number) => {
                running += 1;
                return i;
              },
              iterable,
              { maxsize: 1 },
            );
            const result: number[] = [];
            let i = 0;
            for await (const x of mapping) {
              expect(running).toBeLessThanOrEqual(i + 2);
              result.push(x);
              await sleep(0.01);
              expect(mapping.queue.qsize()).toBeLessThanOrEqual(2);
              i++;
            }
            expect(result.sort((a, b) => a - b)).toEqual(iterable);
          }
        }),
      );

      it(
        'kill returns at once while a map is feeding the pool (test_terminate)',
        withPool(async (pool) => {
          const result = pool.mapAsync(sleep, Array.from({ length: (size ?? 10) * 2 }, () => 0.1));
          await sleep(0.1);
          await pool.kill();
          expect(getHub().now()).toBe(0.1);
          await result.join();
          expect([result.ready(), pool.length]).toEqual([true, 0]);
        }),
      );
    });
  }
});

describe('Pool: errors', () => {
  function* errorIter(): Generator<number> {
    yield 1;
    yield 2;
    throw new ExpectedError('iterator');
  }
  const divideBy = (x: number): number => {
    if (x === 0) throw new RangeError('division by zero');
    return 1 / x;
  };

  it('an error of the iterable ends map and imapUnordered with it (TestErrorInIterator)', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const p = new Pool(3);
      expect(await thrown(() => p.map(() => null, errorIter()))).toBeInstanceOf(ExpectedError);
      expect(await thrown(() => collect(p.imapUnordered(() => null, errorIter())))).toBeInstanceOf(ExpectedError);
      await sleep(0.001);
    });
  });

  it('map throws the first error in item order (TestErrorInHandler.test_map)', async () => {
    const { hub, reports } = simHub();
    await hub.run(async () => {
      expect(await thrown(() => new Pool(3).map(divideBy, [1, 0, 2]))).toEqual(new RangeError('division by zero'));
    });
    // as in gevent the failed task is reported: map was waiting for the first task when it failed
    expect(reports.map(([e]) => String(e))).toEqual(['RangeError: division by zero']);
  });

  for (const method of ['imap', 'imapUnordered'] as const) {
    it(`${method}: a task's error is thrown at its place, and the iteration goes on (TestErrorInHandler)`, async () => {
      const { hub, reports } = simHub();
      await hub.run(async () => {
        const it = new Pool(1)[method](divideBy, [1, 0, 2]);
        expect(await it.next()).toEqual({ done: false, value: 1 });
        expect(await thrown(() => it.next())).toEqual(new RangeError('division by zero'));
        expect(await it.next()).toEqual({ done: false, value: 0.5 });
        expect(await it.next()).toEqual({ done: true, value: undefined });
      });
      expect(reports).toEqual([]); // the reader got it: not reported again
    });
  }
});

describe('Group (test__greenletset.py)', () => {
  class SpecialError extends Error {}

  it('tracks greenlets until they die (test_basic)', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const s = new Group();
      s.spawn(sleep, 0.2);
      expect(s.length).toBe(1);
      s.spawn(sleep, 1.0);
      expect(s.length).toBe(2);
      await sleep();
      await sleep(0.5);
      expect(s.length).toBe(1);
      await sleep(1.1);
      expect([s.length, getHub().now()]).toEqual([0, 1.6]);
    });
  });

  it('join(undefined, raiseError) waits for all (test_waitall)', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const s = new Group();
      s.spawn(sleep, 0.2);
      s.spawn(sleep, 0.4);
      expect(await s.join(undefined, true)).toBe(true);
      expect([s.length, getHub().now()]).toEqual([0, 0.4]);
    });
  });

  it('join(undefined, raiseError) throws the error of a member that failed', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const s = new Group();
      s.spawn(sleep, 0.2);
      s.spawn(async () => {
        await sleep(0.1);
        throw new ExpectedError('member');
      });
      expect(await thrown(() => s.join(undefined, true))).toEqual(new ExpectedError('member'));
      expect(getHub().now()).toBe(0.2);
    });
  });

  it('kill() kills every member and waits (test_kill_block)', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const s = new Group();
      const gs = [s.spawn(sleep, 0.2), s.spawn(sleep, 0.4)];
      await s.kill();
      expect([s.length, getHub().now()]).toEqual([0, 0]);
      expect(gs.every((g) => g.value instanceof GreenletExit)).toBe(true);
    });
  });

  it('kill({ block: false }) returns at once; the members die when the kill is delivered (test_kill_noblock)', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const s = new Group();
      s.spawn(sleep, 0.2);
      s.spawn(sleep, 0.4);
      await s.kill(GreenletExit, { block: false });
      expect(s.length).toBe(2);
      await sleep(0.0001);
      expect(s.length).toBe(0);
    });
  });

  it('a member is sent one kill only, however many times kill/killone are called (test_kill_fires_once)', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const shots = [0, 0];
      const undead = async (n: number) => {
        for (;;) {
          try {
            await sleep(1);
          } catch (e) {
            if (e instanceof SpecialError) break;
            shots[n]!++;
          }
        }
      };
      const p1 = spawn(undead, 0);
      const p2 = spawn(undead, 1);
      const check = (c1: number, c2: number) => {
        expect([p1.dead, p2.dead, shots[0], shots[1]]).toEqual([false, false, c1, c2]);
      };
      await sleep(0.01);
      const s = new Group([p1, p2]);
      expect(s.length).toBe(2);
      check(0, 0);
      await s.killone(p1, GreenletExit, { block: false });
      check(0, 0);
      await sleep(0);
      check(1, 0);
      await s.killone(p1);
      check(1, 0);
      await s.killone(p1);
      check(1, 0);
      for (let i = 0; i < 3; i++) await s.kill(GreenletExit, { block: false });
      check(1, 0);
      await sleep(0.2);
      check(1, 1);
      const X = {};
      expect(await withTimeout(0.2, () => s.kill(), { timeoutValue: X })).toBe(X);
      expect(s.length).toBe(2);
      check(1, 1);
      await p1.kill(SpecialError);
      await p2.kill(SpecialError);
      // the killer resumes right after p2 died, as gevent's does: p2's links (the group's discard) run next
      expect([p1.dead, p2.dead, s.length, getHub().now()]).toEqual([true, true, 1, 0.41]);
      await sleep(0);
      expect(s.length).toBe(0);
    });
  });

  it('kill() of members that never ran: their bodies never run (test_killall_subclass)', async () => {
    const { hub, reports } = simHub();
    await hub.run(async () => {
      const p1 = spawn(() => {
        throw new ExpectedError();
      });
      const p2 = spawn(sleep, 10);
      const s = new Group([p1, p2]);
      await s.kill();
      expect([p1.dead, p2.dead, p1.value instanceof GreenletExit, s.length]).toEqual([true, true, true, 0]);
    });
    expect(reports).toEqual([]);
  });

  it('kill(timeout) gives up silently at the exact time', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const s = new Group();
      s.spawn(async () => {
        try {
          await sleep(10);
        } finally {
          await sleep(1);
        }
      });
      await sleep(0);
      await s.kill(GreenletExit, { timeout: 0.5 });
      expect([s.length, getHub().now()]).toEqual([1, 0.5]);
      await s.join();
      expect([s.length, getHub().now()]).toEqual([0, 1]);
    });
  });

  it('has, iteration in insertion order, discard, add, full, freeCount; Group and Pool share GroupBase', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const s = new Group();
      const a = s.spawn(sleep, 1);
      const b = new Greenlet(sleep, 1);
      s.add(b);
      expect([...s]).toEqual([a, b]);
      expect([s.has(a), s.has(b), s.full(), s.freeCount()]).toEqual([true, true, false, Infinity]);
      s.discard(a);
      expect([...s]).toEqual([b]);
      await b.kill();
      await sleep(0);
      expect(s.length).toBe(0);
      expect([s instanceof GroupBase, new Pool(1) instanceof GroupBase, new Pool(1) instanceof Group]).toEqual([true, true, false]);
      expect(await s.waitAvailable()).toBe(Infinity);
    });
  });

  it('the same program gives the same trace hash twice', async () => {
    const program = async () => {
      const s = new Group();
      for (const t of [0.3, 0.1, 0.2]) s.spawn(sleep, t);
      const squares = await s.map(sqr, [1, 2, 3]);
      await s.kill(GreenletExit, { timeout: 0.05 });
      await s.join();
      return squares;
    };
    const a = simHub();
    const b = simHub();
    expect(await a.hub.run(program)).toEqual([1, 4, 9]);
    expect(await b.hub.run(program)).toEqual([1, 4, 9]);
    expect(a.hub.traceHash()).toBe(b.hub.traceHash());
  });

  it('map on a Group spawns everything at once (no limit)', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const g = new Group();
      const results = await g.map(async (t: number) => {
        await sleep(t);
        return getHub().now();
      }, [0.3, 0.1, 0.2]);
      expect(results).toEqual([0.3, 0.1, 0.2]);
      expect(getHub().now()).toBe(0.3);
      await joinall([]);
    });
  });
});
