/**
 * Queue, JoinableQueue, LifoQueue, PriorityQueue, Channel. Ported from gevent's test__queue.py (and the
 * generic get/put timeout cases); the interleavings marked "gevent 22.10" were run on gevent and print
 * the same order. Every test states the order of events and the virtual time at which each happens.
 */
import { describe, it, expect } from 'vitest';
import {
  Queue,
  JoinableQueue,
  LifoQueue,
  PriorityQueue,
  Channel,
  Empty,
  Full,
  StopIteration,
  pythonCompare,
  AsyncResult,
  Timeout,
  LoopExit,
  spawn,
  spawnLater,
  sleep,
  joinall,
  getHub,
} from 'geventjs';
import { simHub, logger, inHub, thrown, rejected } from '../helpers.js';

const kinds = { Queue, JoinableQueue, LifoQueue, PriorityQueue } as const;

/** What a sync call returns, or the class name of what it throws (gevent's `util.wrap_errors`). */
function wrap(fn: () => unknown): unknown {
  try {
    return fn();
  } catch (e) {
    return (e as Error).name;
  }
}

describe('Queue: put and get', () => {
  it('put never switches; getters are served FIFO as the putter blocks', async () => {
    const { hub } = simHub();
    const { out, say } = logger();
    await hub.run(async () => {
      const q = new Queue<string>();
      const evts = ['1', '2', '3', '4'].map(() => new AsyncResult<string>());
      evts.forEach((evt, i) =>
        spawn(async () => {
          const x = await q.get();
          say(`waiter ${i} got ${x}`);
          evt.set(x);
        }),
      );
      await sleep(0.01);
      await q.put('1');
      say('put 1');
      await q.put('2');
      say('put 2');
      await sleep(0);
      await q.put('3');
      await q.put('4');
      say('put 3, 4');
      const got: string[] = [];
      for (const e of evts) got.push(await e.get());
      expect(got).toEqual(['1', '2', '3', '4']);
    });
    expect(out).toEqual(['0.01 put 1', '0.01 put 2', '0.01 waiter 0 got 1', '0.01 waiter 1 got 2', '0.01 put 3, 4', '0.01 waiter 2 got 3', '0.01 waiter 3 got 4']);
  });

  it('max size: the putter blocks on the third item until a get makes room (test_max_size)', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const q = new Queue<string>(2);
      const results: string[] = [];
      const p = spawn(async () => {
        for (const x of ['a', 'b', 'c']) {
          await q.put(x);
          results.push(x);
        }
        return 'OK';
      });
      await sleep(0);
      expect(results).toEqual(['a', 'b']);
      expect(q.full()).toBe(true);
      expect(await q.get()).toBe('a');
      await sleep(0);
      expect(results).toEqual(['a', 'b', 'c']);
      expect(await q.get()).toBe('b');
      expect(await q.get()).toBe('c');
      expect(await p.get({ timeout: 0 })).toBe('OK');
    });
  });

  it('two producers and two consumers on Queue(1) interleave exactly as gevent 22.10', async () => {
    const { hub } = simHub();
    const { out, say } = logger();
    await hub.run(async () => {
      const q = new Queue<number>(1);
      const producer = async (name: string, items: number[]) => {
        for (const i of items) {
          say(`${name} put ${i}`);
          await q.put(i);
          say(`${name} put ${i} done`);
        }
      };
      const consumer = async (name: string, n: number) => {
        for (let k = 0; k < n; k++) {
          say(`${name} get`);
          say(`${name} got ${await q.get()}`);
        }
      };
      await joinall([spawn(producer, 'P1', [1, 2, 3]), spawn(producer, 'P2', [4, 5]), spawn(consumer, 'C1', 3), spawn(consumer, 'C2', 2)]);
    });
    expect(out.map((l) => l.slice(2))).toEqual([
      'P1 put 1',
      'P1 put 1 done',
      'P1 put 2',
      'P2 put 4',
      'C1 get',
      'C1 got 1',
      'C1 get',
      'C2 get',
      'P1 put 2 done',
      'P1 put 3',
      'C1 got 2',
      'C1 get',
      'P2 put 4 done',
      'P2 put 5',
      'C2 got 4',
      'C2 get',
      'P1 put 3 done',
      'C1 got 3',
      'P2 put 5 done',
      'C2 got 5',
    ]);
    expect(out.every((l) => l.startsWith('0 '))).toBe(true);
  });

  it('blocked putters get in FIFO, one per get, each running before the getter resumes (gevent 22.10)', async () => {
    const { hub } = simHub();
    const { out, say } = logger();
    await hub.run(async () => {
      const q = new Queue<number>(1);
      await q.put(0);
      const gs = [1, 2, 3].map((n) =>
        spawn(async () => {
          say(`P${n} put`);
          await q.put(n);
          say(`P${n} done`);
        }),
      );
      await sleep(0);
      say(`qsize ${q.qsize()} putters ${q.putters.size}`);
      for (let i = 0; i < 4; i++) say(`get ${await q.get()}`);
      await sleep(0);
      say(`qsize ${q.qsize()}`);
      await joinall(gs);
    });
    expect(out).toEqual([
      '0 P1 put',
      '0 P2 put',
      '0 P3 put',
      '0 qsize 1 putters 3',
      '0 get 0',
      '0 P1 done',
      '0 get 1',
      '0 P2 done',
      '0 get 2',
      '0 P3 done',
      '0 get 3',
      '0 qsize 0',
    ]);
  });

  it('a put and a get timeout at the same instant: the put comes first, the getter still times out (gevent 22.10)', async () => {
    const { hub } = simHub();
    const { out, say } = logger();
    await hub.run(async () => {
      const q = new Queue<string>();
      spawn(async () => {
        await sleep(0.1);
        say('put');
        await q.put('x');
        say('after put');
      });
      const getter = async (n: number, t: number) => {
        say(`get${n}`);
        let r: string;
        try {
          r = await q.get({ timeout: t });
        } catch (e) {
          if (!(e instanceof Empty)) throw e;
          r = 'Empty';
        }
        say(`get${n} -> ${r}`);
      };
      await joinall([spawn(getter, 1, 0.1), spawn(getter, 2, 0.2)]);
    });
    expect(out).toEqual(['0 get1', '0 get2', '0.1 put', '0.1 after put', '0.1 get1 -> Empty', '0.1 get2 -> x']);
  });

  it('putNowait from hub callbacks: the second finds the queue full (test_put_nowait_simple)', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const result: unknown[] = [];
      const q = new Queue<number>(1);
      inHub(() => result.push(wrap(() => q.putNowait(2))));
      inHub(() => result.push(wrap(() => q.putNowait(3))));
      await sleep(0);
      expect(result).toEqual([undefined, 'Full']);
    });
  });

  it('putNowait from the hub wakes a waiting getter through the callback queue (test_put_nowait_unlock)', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const result: unknown[] = [];
      const q = new Queue<number>();
      const p = spawn(() => q.get());
      expect([q.empty(), q.full()]).toEqual([true, false]);
      await sleep(0.001);
      expect([q.empty(), q.full()]).toEqual([true, false]);
      inHub(() => result.push(q.putNowait(10)));
      expect(p.ready()).toBe(false);
      await sleep(0.001);
      expect(result).toEqual([undefined]);
      expect([p.ready(), p.value]).toEqual([true, 10]);
      expect([q.empty(), q.full()]).toEqual([true, false]);
    });
  });

  it('getNowait from hub callbacks: the second finds the queue empty (test_get_nowait_simple)', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const result: unknown[] = [];
      const q = new Queue<number>(1);
      await q.put(4);
      inHub(() => result.push(wrap(() => q.getNowait())));
      inHub(() => result.push(wrap(() => q.getNowait())));
      await sleep(0);
      expect(result).toEqual([4, 'Empty']);
    });
  });

  it('getNowait from the hub empties a full queue whose putter finished (test_get_nowait_unlock)', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const result: unknown[] = [];
      const q = new Queue<number>(1);
      const p = spawn(() => q.put(5));
      expect(q.empty()).toBe(true);
      await sleep(0);
      expect(q.full()).toBe(true);
      inHub(() => result.push(q.getNowait()));
      await sleep(0);
      expect(q.empty()).toBe(true);
      expect(result).toEqual([5]);
      expect([p.ready(), p.dead]).toEqual([true, true]);
    });
  });

  it('peek and get an item already there without switching (test_send_first)', async () => {
    const { hub } = simHub();
    const { out, say } = logger();
    await hub.run(async () => {
      const q = new Queue<string>();
      spawn(() => say('other ran'));
      await q.put('hi');
      say(`peek ${await q.peek()} qsize ${q.qsize()}`);
      say(`peekNowait ${q.peekNowait()}`);
      say(`get ${await q.get()} qsize ${q.qsize()}`);
      await sleep(0);
    });
    expect(out).toEqual(['0 peek hi qsize 1', '0 peekNowait hi', '0 get hi qsize 0', '0 other ran']);
  });

  it('a getter waiting with a Timeout receives an item put later (test_send_last)', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const q = new Queue<string>();
      const p = spawn(async () => {
        const t = Timeout.startNew(0.1);
        try {
          expect(await q.get()).toBe('hi2');
        } finally {
          t.cancel();
        }
        return 'OK';
      });
      await sleep(0.01);
      await q.put('hi2');
      await sleep(0.01);
      expect(await p.get({ timeout: 0 })).toBe('OK');
      expect(getHub().now()).toBe(0.02);
    });
  });

  it('peek on an empty queue in main: LoopExit names main and Queue.peek; with a timeout: Empty (test_peek_empty)', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const q = new Queue();
      const err = await thrown(() => q.peek());
      expect(err).toBeInstanceOf(LoopExit);
      expect((err as LoopExit).message).toBe('This operation would block forever\n\tmain waiting on Queue.peek (Queue qsize=0 getters[1]) since 0.000s');
      const g = spawn(async () => {
        const e = await thrown(() => q.peek({ timeout: 0.01 }));
        return [e instanceof Empty, getHub().now()];
      });
      await sleep(0.1);
      expect(await g.get()).toEqual([true, 0.01]);
      expect(q.getters.size).toBe(0);
    });
  });

  it('a peeker wakes when an item is put, and leaves it there (test_peek_multi_greenlet)', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const q = new Queue<number>();
      const g = spawn(() => q.peek());
      await sleep(0);
      await q.put(1);
      await g.join();
      expect([g.exception, g.value]).toEqual([null, 1]);
      expect(await q.peek()).toBe(1);
      expect(q.qsize()).toBe(1);
    });
  });

  it('a getter interrupted by Timeout(0, error) is forgotten: the item goes to the next get (test_waiters_that_cancel)', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const q = new Queue<string>();
      const doReceive = async (evt: AsyncResult<string>) => {
        const t = Timeout.startNew(0, new RangeError('cancel'));
        try {
          evt.set(await q.get());
        } catch (e) {
          if (!(e instanceof RangeError)) throw e;
          evt.set('timed out');
        } finally {
          t.cancel();
        }
      };
      const evt = new AsyncResult<string>();
      spawn(doReceive, evt);
      expect(await evt.get()).toBe('timed out');
      await q.put('hi');
      expect(await q.get()).toBe('hi');
    });
  });

  it('a sender that dies after put still delivers (test_senders_that_die)', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const q = new Queue<string>();
      spawn(() => q.put('sent'));
      expect(await q.get()).toBe('sent');
    });
  });

  it('of two getters, the one that times out does not take the item (test_two_waiters_one_dies)', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const q = new Queue<string>();
      const dying = new AsyncResult<string>();
      const waiting = new AsyncResult<string>();
      spawn(async () => {
        const t = Timeout.startNew(0, new RangeError());
        try {
          dying.set(await q.get());
        } catch {
          dying.set('timed out');
        } finally {
          t.cancel();
        }
      });
      spawn(async () => waiting.set(await q.get()));
      await sleep(0.1);
      await q.put('hi');
      expect(await dying.get()).toBe('timed out');
      expect(await waiting.get()).toBe('hi');
    });
  });

  it('two getters that time out leave the item in the queue (test_two_bogus_waiters)', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const q = new Queue<string>();
      const receive = async (evt: AsyncResult<string>) => {
        const t = Timeout.startNew(0, new RangeError());
        try {
          evt.set(await q.get());
        } catch {
          evt.set('timed out');
        } finally {
          t.cancel();
        }
      };
      const [e1, e2] = [new AsyncResult<string>(), new AsyncResult<string>()];
      spawn(receive, e1);
      spawn(receive, e2);
      await sleep(0.1);
      await q.put('sent');
      expect(await e1.get()).toBe('timed out');
      expect(await e2.get()).toBe('timed out');
      expect(await q.get()).toBe('sent');
    });
  });

  it('a get that can never be satisfied: LoopExit names the greenlet and Queue.get', async () => {
    const { hub } = simHub();
    const err = await thrown(() =>
      hub.run(async () => {
        const q = new Queue<number>(3);
        spawn(async () => {
          await q.get();
        });
        await sleep(2);
        await new Queue().put(1);
        await q.get();
      }),
    );
    expect(err).toBeInstanceOf(LoopExit);
    expect((err as LoopExit).blocked).toEqual([
      { greenlet: 'main', waitingOn: 'Queue.get (Queue maxsize=3 qsize=0 getters[2])', since: 2 },
      { greenlet: 'Greenlet-1', waitingOn: 'Queue.get (Queue maxsize=3 qsize=0 getters[2])', since: 0 },
    ]);
  });

  it('FIFO order and qsize hold over thousands of items, drained and refilled (the storage reuses and compacts its slots)', async () => {
    await simHub().hub.run(async () => {
      const q = new Queue<number>();
      let next = 0;
      let want = 0;
      const take = async (n: number): Promise<void> => {
        for (let i = 0; i < n; i++) expect(await q.get()).toBe(want++);
      };
      const put = (n: number): void => {
        for (let i = 0; i < n; i++) q.putNowait(next++);
      };
      put(3000);
      await take(2500); // past the point where the taken half is moved out
      expect(q.qsize()).toBe(500);
      put(2000);
      expect(q.qsize()).toBe(2500);
      await take(2500); // drained: the indices start over
      expect(q.qsize()).toBe(0);
      for (let round = 0; round < 100; round++) {
        put(1 + (round % 3));
        await take(1 + (round % 3));
      }
      put(5);
      expect(q.qsize()).toBe(5);
      expect(await q.peek()).toBe(want);
      await take(5);
      expect(q.empty()).toBe(true);
    });
  });

  it('the same program gives the same trace hash twice', async () => {
    const program = async () => {
      const q = new Queue<number>(2);
      const producers = [3, 1, 2].map((n) =>
        spawn(async () => {
          for (let i = 0; i < n; i++) {
            await q.put(n * 10 + i);
            await sleep(0.01 * n);
          }
        }),
      );
      let sum = 0;
      for (let i = 0; i < 6; i++) sum += await q.get({ timeout: 1 });
      await joinall(producers);
      return sum;
    };
    const a = simHub();
    const b = simHub();
    const ra = await a.hub.run(program);
    const rb = await b.hub.run(program);
    expect(ra).toBe(30 + 31 + 32 + 10 + 20 + 21);
    expect(rb).toBe(ra);
    expect(a.hub.traceHash()).toBe(b.hub.traceHash());
  });
});

describe('Queue: timeouts on every kind (TestGetInterrupt, TestPutInterrupt)', () => {
  for (const [name, Kind] of Object.entries(kinds)) {
    it(`${name}: get({ timeout }) raises Empty at exactly the timeout; get({ block: false }) at once`, async () => {
      const { hub } = simHub();
      await hub.run(async () => {
        const q = new Kind<number>();
        expect(await thrown(() => q.get({ block: false }))).toBeInstanceOf(Empty);
        expect(() => q.getNowait()).toThrow(Empty);
        expect(await thrown(() => q.get({ timeout: 0.01 }))).toBeInstanceOf(Empty);
        expect(getHub().now()).toBe(0.01);
        expect(q.getters.size).toBe(0);
      });
    });

    it(`${name}: an outer Timeout that fires first is not lost`, async () => {
      const { hub } = simHub();
      await hub.run(async () => {
        const t = Timeout.startNew(0.001);
        try {
          expect(await thrown(() => new Kind().get({ timeout: 1 }))).toBe(t);
          expect(getHub().now()).toBe(0.001);
        } finally {
          t.cancel();
        }
      });
    });

    it(`${name}: put({ timeout }) on a full queue raises Full at exactly the timeout`, async () => {
      const { hub } = simHub();
      await hub.run(async () => {
        const q = new Kind<number>(1);
        while (!q.full()) await q.put(1);
        expect(() => q.putNowait(2)).toThrow(Full);
        expect(await thrown(() => q.put(2, { block: false }))).toBeInstanceOf(Full);
        expect(await thrown(() => q.put(2, { timeout: 0.01 }))).toBeInstanceOf(Full);
        expect(getHub().now()).toBe(0.01);
        expect([q.qsize(), q.putters.size]).toEqual([1, 0]);
      });
    });
  }

  it('Channel: get({ timeout }) raises Empty and put({ timeout }) raises Full at exactly the timeout', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const ch = new Channel<number>();
      expect(await thrown(() => ch.get({ timeout: 0.01 }))).toBeInstanceOf(Empty);
      expect(getHub().now()).toBe(0.01);
      expect(await thrown(() => ch.put(1, { timeout: 0.02 }))).toBeInstanceOf(Full);
      expect(getHub().now()).toBe(0.03);
      expect(ch.balance).toBe(0);
    });
  });
});

describe('Queue and Channel: errors come back through the promise', () => {
  it('a bad timeout, a full or empty non-blocking call, or blocking in a hub callback reject; nothing throws at the call', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const q = new Queue<number>(1);
      const ch = new Channel<number>();
      const bad = '1' as unknown as number;
      const calls: [string, () => Promise<unknown>][] = [
        ['Queue.get', () => q.get({ timeout: bad })],
        ['Queue.peek', () => q.peek({ timeout: bad })],
        ['Channel.get', () => ch.get({ timeout: bad })],
        ['Channel.put', () => ch.put(1, { timeout: bad })],
      ];
      for (const [what, call] of calls) expect(await rejected(call), what).toBeInstanceOf(TypeError);
      expect(await thrown(() => q.get({ block: false }))).toBeInstanceOf(Empty);
      await q.put(1);
      expect(await thrown(() => q.put(2, { block: false }))).toBeInstanceOf(Full);
      expect(await thrown(() => q.put(2, { timeout: bad }))).toBeInstanceOf(TypeError);
      expect(await q.get()).toBe(1);
      const inCallback: unknown[] = [];
      inHub(() => {
        for (const call of [() => q.get(), () => q.peek(), () => ch.get(), () => ch.put(1)]) {
          call().catch((e: unknown) => inCallback.push(e));
        }
      });
      await sleep(0);
      expect(inCallback.map(String)).toEqual([
        'Error: Queue.get(): cannot block inside a hub callback (a rawlink or a timer callback)',
        'Error: Queue.peek(): cannot block inside a hub callback (a rawlink or a timer callback)',
        'Error: Channel.get(): cannot block inside a hub callback (a rawlink or a timer callback)',
        'Error: Channel.put(): cannot block inside a hub callback (a rawlink or a timer callback)',
      ]);
    });
  });

  it('a put that does not block resolves at once, without a switch', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const q = new Queue<number>();
      const order: string[] = [];
      spawn(() => order.push('other greenlet'));
      await q.put(1);
      await q.put(2);
      order.push('after two puts');
      await sleep(0);
      expect(order).toEqual(['after two puts', 'other greenlet']);
      expect(q.qsize()).toBe(2);
    });
  });
});

describe('JoinableQueue', () => {
  it('taskDone counts down unfinished tasks; one too many raises RangeError (test_task_done)', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const q = new JoinableQueue<object>();
      const X = {};
      spawn(() => q.put(X));
      expect(await q.get()).toBe(X);
      expect(q.unfinishedTasks).toBe(1);
      q.taskDone();
      expect(q.unfinishedTasks).toBe(0);
      expect(() => q.taskDone()).toThrow(new RangeError('task_done() called too many times'));
    });
  });

  it('join() with nothing put returns at once without switching (test_issue_45)', async () => {
    const { hub } = simHub();
    const { out, say } = logger();
    await hub.run(async () => {
      spawn(() => say('other ran'));
      say(`join -> ${await new JoinableQueue().join()}`);
      await sleep(0);
    });
    expect(out).toEqual(['0 join -> true', '0 other ran']);
  });

  it('join() waits until every task is done; join(timeout) gives up at the exact time (gevent 22.10)', async () => {
    const { hub } = simHub();
    const { out, say } = logger();
    await hub.run(async () => {
      const q = new JoinableQueue<number>();
      const worker = async () => {
        for (;;) {
          const item = await q.get();
          say(`work ${item}`);
          await sleep(item);
          q.taskDone();
          say(`done ${item}`);
        }
      };
      spawn(worker);
      spawn(worker);
      for (const i of [0.1, 0.2, 0.3]) await q.put(i);
      say('join');
      say(`joined ${await q.join()}`);
      await q.put(0.5);
      say(`join(0.1) -> ${await q.join(0.1)}`);
      expect(String(q)).toBe('<JoinableQueue qsize=0 getters[1] tasks=1>');
    });
    expect(out).toEqual([
      '0 join',
      '0 work 0.1',
      '0 work 0.2',
      '0.1 done 0.1',
      '0.1 work 0.3',
      '0.2 done 0.2',
      '0.4 done 0.3',
      '0.4 joined true',
      '0.4 work 0.5',
      '0.5 join(0.1) -> false',
    ]);
  });

  it('initial items count as unfinished tasks unless told otherwise', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      expect(new JoinableQueue(null, [1, 2]).unfinishedTasks).toBe(2);
      expect(new JoinableQueue(null, [1, 2], 5).unfinishedTasks).toBe(5);
      expect(await new JoinableQueue(null, [1]).join(0.5)).toBe(false);
      expect(getHub().now()).toBe(0.5);
    });
  });
});

describe('LifoQueue and PriorityQueue', () => {
  it('LifoQueue returns the newest item first and is joinable', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const q = new LifoQueue<number>(null, [1]);
      q.putNowait(2);
      await q.put(3);
      expect([await q.peek(), q.getNowait(), await q.get(), q.getNowait()]).toEqual([3, 3, 2, 1]);
      expect(q.unfinishedTasks).toBe(3);
    });
  });

  it('PriorityQueue orders numbers, strings and [priority, data] tuples as Python does', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const q = new PriorityQueue<[number, string]>();
      for (const item of [[3, 'c'], [1, 'z'], [2, 'b'], [1, 'a']] as [number, string][]) await q.put(item);
      const out: [number, string][] = [];
      while (!q.empty()) out.push(await q.get());
      expect(out).toEqual([[1, 'a'], [1, 'z'], [2, 'b'], [3, 'c']]);
      const words = new PriorityQueue<string>(null, ['pear', 'apple', 'fig']);
      expect([words.getNowait(), words.getNowait(), words.getNowait()]).toEqual(['apple', 'fig', 'pear']);
    });
  });

  it('equal priorities come out in the order Python heapq gives them (gevent 22.10, same items)', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      type It = { p: number; n: string };
      const byP = (a: It, b: It) => a.p - b.p;
      const seq = [3, 1, 2, 1, 3, 2, 1, 2, 3, 1, 1, 2];
      const q = new PriorityQueue<It>(null, [], byP);
      seq.forEach((p, i) => q.putNowait({ p, n: 'abcdefghijkl'[i]! }));
      const out: string[] = [];
      const extra: It[] = [
        { p: 2, n: 'X' },
        { p: 1, n: 'Y' },
        { p: 2, n: 'Z' },
      ];
      while (q.qsize() > 0) {
        const it = q.getNowait();
        out.push(`${it.p}${it.n}`);
        if (out.length === 4) for (const e of extra) q.putNowait(e);
      }
      expect(out).toEqual(['1b', '1g', '1d', '1j', '1k', '1Y', '2c', '2l', '2f', '2h', '2Z', '2X', '3e', '3a', '3i']);
      const heapified = new PriorityQueue<It>(
        null,
        seq.map((p, i) => ({ p, n: 'abcdefghijkl'[i]! })),
        byP,
      );
      const out2 = seq.map(() => heapified.getNowait()).map((it) => `${it.p}${it.n}`);
      expect(out2).toEqual(['1g', '1k', '1j', '1b', '1d', '2c', '2l', '2f', '2h', '3e', '3a', '3i']);
    });
  });

  it("items Python cannot compare raise TypeError, as heapq's '<' does", async () => {
    const { hub } = simHub();
    await hub.run(() => {
      const q = new PriorityQueue<unknown>();
      q.putNowait([1, {}]);
      expect(() => q.putNowait([1, {}])).toThrow(new TypeError("'<' not supported between instances of 'Object' and 'Object'"));
      // Python's type names, as gevent's message has them
      expect(() => pythonCompare(1, 'a')).toThrow(new TypeError("'<' not supported between instances of 'int' and 'str'"));
      expect(() => pythonCompare('a', 0.5)).toThrow(new TypeError("'<' not supported between instances of 'str' and 'float'"));
      expect(() => pythonCompare(null, 'a')).toThrow(new TypeError("'<' not supported between instances of 'NoneType' and 'str'"));
      expect([pythonCompare([1, 2], [1, 2, 0]), pythonCompare(true, 0), pythonCompare(2n, 1)]).toEqual([-1, 1, 1]);
    });
  });
});

describe('Queue: construction, iteration', () => {
  it('maxsize null, 0 or negative means unbounded (gevent ≥ 1.0); bad values are rejected', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      for (const m of [undefined, null, 0, -1]) {
        const q = new Queue<number>(m);
        for (let i = 0; i < 100; i++) q.putNowait(i);
        expect([q.maxsize, q.full(), q.length]).toEqual([null, false, 100]);
      }
      expect(() => new Queue(Number.NaN)).toThrow(TypeError);
      expect(() => new Queue('2' as unknown as number)).toThrow(TypeError);
      expect(() => new Channel(0)).toThrow(new RangeError('Channels have a maxsize of 1'));
    });
  });

  it('a negative timeout is a zero-second wait, as in gevent (not CPython queue\'s ValueError)', async () => {
    const { hub } = simHub();
    const { out, say } = logger();
    await hub.run(async () => {
      const q = new Queue<number>(2);
      await q.put(1, { timeout: -1 }); // room: in at once, the timeout is not looked at
      await q.put(2, { timeout: -1 });
      say(`put twice: qsize ${q.qsize()}`);
      say(`put into a full queue: ${String(await thrown(() => q.put(3, { timeout: -1 })))}`);
      say(`get: ${await q.get({ timeout: -1 })}, peek: ${await q.peek({ timeout: -5 })}`);
      q.getNowait();
      say(`get from an empty queue: ${String(await thrown(() => q.get({ timeout: -1 })))}`);
      say(`peek at an empty queue: ${String(await thrown(() => q.peek({ timeout: -1 })))}`);
      // zero seconds, not "give up at the call": a putter that runs first at the same instant still serves it
      spawn(() => q.putNowait(4));
      say(`get with a putter ready to run: ${await q.get({ timeout: -1 })}`);
      const jq = new JoinableQueue<number>();
      jq.putNowait(1);
      say(`JoinableQueue.join(-1): ${await jq.join(-1)}`);
      const ch = new Channel<number>();
      say(`Channel: ${String(await thrown(() => ch.get({ timeout: -1 })))} ${String(await thrown(() => ch.put(1, { timeout: -1 })))}`);
      // NaN and non-numbers stay TypeErrors, through the promise, once the call has to wait
      const full = new Queue<number>(1, [0]);
      for (const bad of [Number.NaN, '1' as unknown as number]) {
        expect(await rejected(() => full.put(1, { timeout: bad }))).toBeInstanceOf(TypeError);
        expect(await rejected(() => new Queue().get({ timeout: bad }))).toBeInstanceOf(TypeError);
      }
    });
    expect(out).toEqual([
      '0 put twice: qsize 2',
      '0 put into a full queue: Full',
      '0 get: 1, peek: 2',
      '0 get from an empty queue: Empty',
      '0 peek at an empty queue: Empty',
      '0 get with a putter ready to run: 4',
      '0 JoinableQueue.join(-1): false',
      '0 Channel: Empty Full',
    ]);
  });

  it('raising maxsize lets a blocked putter in', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const q = new Queue<number>(1);
      q.putNowait(1);
      const p = spawn(() => q.put(2));
      await sleep(0);
      expect(p.ready()).toBe(false);
      q.maxsize = 5;
      await sleep(0);
      expect([p.ready(), q.qsize(), q.maxsize]).toEqual([true, 2, 5]);
    });
  });

  it('for await over a queue ends at the StopIteration sentinel', async () => {
    const { hub } = simHub();
    const { out, say } = logger();
    await hub.run(async () => {
      const q = new Queue<number | StopIteration>();
      spawn(async () => {
        for (const x of [1, 2, 3]) {
          await sleep(1);
          await q.put(x);
        }
        await q.put(StopIteration);
      });
      for await (const x of q) say(`got ${x}`);
      say('end');
    });
    expect(out).toEqual(['1 got 1', '2 got 2', '3 got 3', '3 end']);
  });
});

describe('Channel', () => {
  it('put blocks until a get takes the item (test_send)', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const channel = new Channel<string>();
      const events: string[] = [];
      const g = spawn(async () => {
        events.push(await channel.get());
        events.push(await channel.get());
      });
      events.push('sending');
      await channel.put('hello');
      events.push('sent hello');
      await channel.put('world');
      events.push('sent world');
      expect(events).toEqual(['sending', 'hello', 'sent hello', 'world', 'sent world']);
      await g.get();
    });
  });

  it('get blocks until a put brings an item; the putter resumes after the getter blocks (test_wait)', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const channel = new Channel<string>();
      const events: string[] = [];
      const g = spawn(async () => {
        events.push('sending hello');
        await channel.put('hello');
        events.push('sending world');
        await channel.put('world');
        events.push('sent world');
      });
      events.push('waiting');
      events.push(await channel.get());
      events.push(await channel.get());
      expect(events).toEqual(['waiting', 'sending hello', 'hello', 'sending world', 'world']);
      await sleep(0);
      expect(events).toEqual(['waiting', 'sending hello', 'hello', 'sending world', 'world', 'sent world']);
      await g.get();
    });
  });

  it('the sender waits for a receiver that comes later (test_zero_max_size)', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const q = new Channel<string>();
      const [e1, e2] = [new AsyncResult<string>(), new AsyncResult<string>()];
      const p1 = spawn(async () => {
        await q.put('hi');
        e1.set('done');
      });
      await sleep(0.001);
      expect(e1.ready()).toBe(false);
      const p2 = spawn(async () => e2.set(await q.get()));
      expect(await e2.get()).toBe('hi');
      expect(await e1.get()).toBe('done');
      const t = Timeout.startNew(0);
      try {
        await joinall([p1, p2]);
      } finally {
        t.cancel();
      }
      expect(getHub().now()).toBe(0.001);
    });
  });

  it('hand-offs pair putters and getters FIFO, each getter running before its putter (gevent 22.10)', async () => {
    const { hub } = simHub();
    const { out, say } = logger();
    await hub.run(async () => {
      const ch = new Channel<number>();
      const putter = async (n: number) => {
        say(`P${n} put`);
        await ch.put(n);
        say(`P${n} done`);
      };
      const getter = async (n: number) => {
        say(`G${n} get`);
        say(`G${n} got ${await ch.get()}`);
      };
      await joinall([spawn(putter, 1), spawn(putter, 2), spawn(getter, 1), spawn(getter, 2), spawn(putter, 3), spawn(getter, 3)]);
    });
    expect(out.map((l) => l.slice(2))).toEqual([
      'P1 put',
      'P2 put',
      'G1 get',
      'G2 get',
      'P3 put',
      'G3 get',
      'G1 got 1',
      'P1 done',
      'G2 got 2',
      'P2 done',
      'G3 got 3',
      'P3 done',
    ]);
  });

  it('putNowait / getNowait in the hub: hand off to a waiting partner, else Full / Empty (test_get_nowait_unlock_channel)', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const result: unknown[] = [];
      const q = new Channel<number>();
      inHub(() => result.push(wrap(() => q.putNowait(2))));
      inHub(() => result.push(wrap(() => q.putNowait(3))));
      inHub(() => result.push(wrap(() => q.getNowait())));
      await sleep(0);
      expect(result).toEqual(['Full', 'Full', 'Empty']);
      result.length = 0;
      const p = spawn(() => q.put(5));
      expect([q.empty(), q.full()]).toEqual([true, true]);
      await sleep(0.001);
      expect(q.balance).toBe(1);
      inHub(() => result.push(q.getNowait()));
      await sleep(0.001);
      expect(result).toEqual([5]);
      expect([p.ready(), p.dead, q.balance]).toEqual([true, true, 0]);
      const g = spawn(() => q.get());
      await sleep(0);
      expect(q.balance).toBe(-1);
      q.putNowait(6);
      await sleep(0);
      expect([g.value, q.balance]).toEqual([6, 0]);
    });
  });

  it('for await ends at StopIteration (test_iterable)', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const channel = new Channel<number | StopIteration>();
      spawn(() => channel.put(StopIteration));
      const r: number[] = [];
      for await (const x of channel) r.push(x);
      expect(r).toEqual([]);
    });
  });

  it('a getter that times out is not paired; the putter waits for the next one', async () => {
    const { hub } = simHub();
    const { out, say } = logger();
    await hub.run(async () => {
      const ch = new Channel<string>();
      spawn(async () => {
        say(`g1 ${String(await thrown(() => ch.get({ timeout: 1 })))}`);
      });
      spawnLater(2, async () => say(`g2 got ${await ch.get()}`));
      await sleep(1.5);
      say('put');
      await ch.put('late');
      say('put done');
    });
    expect(out).toEqual(['1 g1 Empty', '1.5 put', '2 g2 got late', '2 put done']);
  });

  it('the same program gives the same trace hash twice', async () => {
    const program = async () => {
      const ch = new Channel<number>();
      const gs = [1, 2, 3].map((n) => spawn(async () => ch.put(n, { timeout: n })));
      let got = 0;
      await sleep(1.5);
      got += await ch.get();
      await joinall(gs);
      return got;
    };
    const a = simHub();
    const b = simHub();
    expect(await a.hub.run(program)).toBe(2);
    expect(await b.hub.run(program)).toBe(2);
    expect(a.hub.traceHash()).toBe(b.hub.traceHash());
  });
});

describe('real mode', () => {
  it('a get timeout runs on the real clock, and a put from another greenlet wakes a getter', async () => {
    const { hub } = simHub({ mode: 'real' });
    const [timedOut, elapsed, got] = await hub.run(async () => {
      const q = new Queue<string>();
      const start = getHub().now();
      const err = await thrown(() => q.get({ timeout: 0.02 }));
      const waited = getHub().now() - start;
      spawnLater(0.01, () => q.put('late'));
      return [err instanceof Empty, waited, await q.get({ timeout: 1 })];
    });
    expect(timedOut).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(0.02);
    expect(elapsed).toBeLessThan(1);
    expect(got).toBe('late');
  });
});
