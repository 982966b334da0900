/**
 * Semaphore, BoundedSemaphore, Lock, RLock, DummySemaphore. Ported from gevent's test__semaphore.py and
 * test__lock.py (the single-threaded cases; geventjs has no threads). Every test states the order of
 * events and the virtual time at which each happens.
 */
import { describe, it, expect } from 'vitest';
import { Semaphore, BoundedSemaphore, Lock, RLock, DummySemaphore, Timeout, LoopExit, spawn, sleep, joinall, wait, getHub } from 'geventjs';
import { simHub, logger, thrown, rejected, inHub, ExpectedError } from '../helpers.js';

describe('Semaphore', () => {
  it('acquire({ timeout }) resolves false at exactly the timeout (issue 39)', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const s = new Semaphore(0);
      expect(await s.acquire({ timeout: 0.01 })).toBe(false);
      expect(getHub().now()).toBe(0.01);
      expect(await s.acquire({ blocking: false })).toBe(false);
      expect(s.linkcount()).toBe(0);
    });
  });

  it('rawlinks added before two releases both run (test_release_twice)', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const s = new Semaphore();
      const result: string[] = [];
      s.rawlink(() => result.push('a'));
      expect(s.release()).toBe(2);
      s.rawlink(() => result.push('b'));
      expect(s.release()).toBe(3);
      await sleep(0.001);
      expect(result).toEqual(['a', 'b']);
    });
  });

  it('waiting on a free semaphore returns at once (test_rawlink_on_unacquired_runs_notifiers)', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const s = new Semaphore();
      expect(await wait([s])).toEqual([s]);
      expect(getHub().now()).toBe(0);
    });
  });

  it('is fair: a greenlet waiting on it is not starved by two that pass it back and forth (test_fair_or_hangs)', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const sem = new Semaphore();
      const shouldQuit: boolean[] = [];
      const acquireThenExit = async () => {
        await sem.acquire();
        shouldQuit.push(true);
      };
      const acquireThenSpawn = async (): Promise<void> => {
        if (shouldQuit.length > 0) return;
        await sem.acquire();
        await spawn(releaseThenSpawn).join();
      };
      const releaseThenSpawn = async (): Promise<void> => {
        sem.release();
        if (shouldQuit.length > 0) return;
        await spawn(acquireThenSpawn).join();
      };
      const keepGoing1 = spawn(acquireThenSpawn);
      const keepGoing2 = spawn(acquireThenSpawn);
      const exiting = spawn(acquireThenExit);
      expect(await thrown(() => joinall([keepGoing1, keepGoing2, exiting]))).toBeInstanceOf(LoopExit);
      expect([exiting.dead, keepGoing2.dead, keepGoing1.dead]).toEqual([true, true, false]);
    });
  });

  it('release() does not switch, and wakes exactly as many waiters as permits, FIFO', async () => {
    const { hub } = simHub();
    const { out, say } = logger();
    await hub.run(async () => {
      const s = new Semaphore(0);
      const gs = [0, 1, 2, 3, 4].map((i) =>
        spawn(async () => {
          await s.acquire();
          say(`w${i} in, counter ${s.counter}`);
        }),
      );
      await sleep(1);
      s.release();
      s.release();
      say(`released 2, counter ${s.counter}`);
      await sleep(1);
      say(`waiting: ${s.linkcount()}`);
      for (let i = 0; i < 3; i++) s.release();
      say('released 3');
      await joinall(gs);
      say(`counter ${s.counter} locked ${s.locked()}`);
    });
    expect(out).toEqual([
      '1 released 2, counter 2',
      '1 w0 in, counter 1',
      '1 w1 in, counter 0',
      '2 waiting: 3',
      '2 released 3',
      '2 w2 in, counter 2',
      '2 w3 in, counter 1',
      '2 w4 in, counter 0',
      '2 counter 0 locked true',
    ]);
  });

  it('Semaphore(2) with five workers: each enters when a permit comes back, FIFO', async () => {
    const { hub } = simHub();
    const { out, say } = logger();
    await hub.run(async () => {
      const s = new Semaphore(2);
      const worker = async (i: number) => {
        say(`w${i} acquire`);
        await s.acquire();
        say(`w${i} in`);
        await sleep(0.05 * ((i % 2) + 1));
        say(`w${i} release`);
        s.release();
      };
      await joinall([0, 1, 2, 3, 4].map((i) => spawn(worker, i)));
    });
    // w1 (in at 0, 0.1 s) and w2 (in at 0.05, 0.05 s) release at the same instant: both timers fire,
    // then one notification pass lets w3 and w4 in
    expect(out).toEqual([
      '0 w0 acquire',
      '0 w0 in',
      '0 w1 acquire',
      '0 w1 in',
      '0 w2 acquire',
      '0 w3 acquire',
      '0 w4 acquire',
      '0.05 w0 release',
      '0.05 w2 in',
      '0.1 w1 release',
      '0.1 w2 release',
      '0.1 w3 in',
      '0.1 w4 in',
      '0.15 w4 release',
      '0.2 w3 release',
    ]);
  });

  it('an acquire that finds a free permit takes it even while a waiter is being notified (gevent barging)', async () => {
    const { hub } = simHub();
    const { out, say } = logger();
    await hub.run(async () => {
      const s = new Semaphore(1);
      await s.acquire();
      const w = spawn(async () => {
        say(`waiter got ${await s.acquire({ timeout: 5 })}`);
      });
      await sleep(1);
      s.release();
      say(`main tryAcquire ${s.tryAcquire()}`);
      await sleep(1);
      say(`waiter ready ${w.ready()}`);
      s.release();
      await w.join();
    });
    expect(out).toEqual(['1 main tryAcquire true', '2 waiter ready false', '2 waiter got true']);
  });

  it('wait() waits for a permit without taking it and returns the counter', async () => {
    const { hub } = simHub();
    const { out, say } = logger();
    await hub.run(async () => {
      const s = new Semaphore(0);
      say(`wait(0.5) -> ${await s.wait(0.5)}`);
      spawn(async () => {
        await sleep(1);
        s.release();
      });
      say(`wait() -> ${await s.wait()}`);
      say(`wait() -> ${await s.wait()} counter ${s.counter}`);
    });
    expect(out).toEqual(['0.5 wait(0.5) -> 0', '1.5 wait() -> 1', '1.5 wait() -> 1 counter 1']);
  });

  it('hold() releases at the end of a `using` block, whichever way it ends; a timed-out hold throws Timeout', async () => {
    const { hub } = simHub();
    const { out, say } = logger();
    await hub.run(async () => {
      const s = new Semaphore(1);
      const critical = async (n: number, fail: boolean) => {
        using _permit = await s.hold();
        say(`${n} in, counter ${s.counter}`);
        await sleep(1);
        if (fail) throw new ExpectedError(`${n} failed`);
      };
      const g1 = spawn(critical, 1, true);
      g1.linkException(() => say('1 failed'));
      const g2 = spawn(critical, 2, false);
      const g3 = spawn(async () => {
        const err = await thrown(() => s.hold({ timeout: 1.5 }));
        say(`3 ${String(err)}`);
      });
      await joinall([g1, g2, g3]);
      say(`counter ${s.counter}`);
      const held = await s.hold();
      held.release();
      held[Symbol.dispose]();
      say(`counter ${s.counter}`);
    });
    expect(out).toEqual(['0 1 in, counter 0', '1 2 in, counter 0', '1 1 failed', '1.5 3 Timeout: 1.5 seconds', '2 counter 1', '2 counter 1']);
  });

  it('rejects a negative or non-numeric initial value', async () => {
    const { hub } = simHub();
    await hub.run(() => {
      expect(() => new Semaphore(-1)).toThrow(new RangeError('semaphore initial value must be >= 0'));
      expect(() => new Semaphore('1' as unknown as number)).toThrow(TypeError);
      expect(String(new Semaphore(3))).toBe('<Semaphore counter=3 _links[0]>');
    });
  });

  it('a semaphore nobody releases: LoopExit names the greenlet and Semaphore.acquire', async () => {
    const { hub } = simHub();
    const err = await thrown(() =>
      hub.run(async () => {
        const s = new Semaphore(0);
        await sleep(0.5);
        await s.acquire();
      }),
    );
    expect(err).toBeInstanceOf(LoopExit);
    expect((err as LoopExit).blocked).toEqual([{ greenlet: 'main', waitingOn: 'Semaphore.acquire (Semaphore counter=0)', since: 0.5 }]);
  });

  it('the same program gives the same trace hash twice', async () => {
    const program = async () => {
      const s = new BoundedSemaphore(2);
      const gs = [0.3, 0.1, 0.2, 0.1, 0.4].map((t) =>
        spawn(async () => {
          if (await s.acquire({ timeout: 0.35 })) {
            await sleep(t);
            s.release();
          }
        }),
      );
      await joinall(gs);
    };
    const a = simHub();
    const b = simHub();
    await a.hub.run(program);
    await b.hub.run(program);
    expect(a.hub.traceHash()).toBe(b.hub.traceHash());
    expect(a.hub.now()).toBe(0.7); // g0 and g2 release together at 0.3; g3 and g4 both get in; g4 sleeps 0.4
  });
});

describe('Semaphore: errors come back through the promise', () => {
  it('a bad timeout or blocking in a hub callback rejects acquire and wait; nothing throws at the call', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const sem = new Semaphore(0);
      const lock = new Lock();
      const bad = '1' as unknown as number;
      const calls: [string, () => Promise<unknown>][] = [
        ['Semaphore.acquire', () => sem.acquire({ timeout: bad })],
        ['Semaphore.wait', () => sem.wait(bad)],
      ];
      for (const [what, call] of calls) expect(await rejected(call), what).toBeInstanceOf(TypeError);
      expect(await sem.acquire({ blocking: false })).toBe(false);
      expect(await lock.acquire()).toBe(true); // a free permit: no switch, true
      const inCallback: unknown[] = [];
      inHub(() => {
        for (const call of [() => sem.acquire(), () => sem.wait(), () => lock.acquire()]) {
          call().catch((e: unknown) => inCallback.push(e));
        }
      });
      await sleep(0);
      expect(inCallback.map(String)).toEqual([
        'Error: Semaphore.acquire(): cannot block inside a hub callback (a rawlink or a timer callback)',
        'Error: Semaphore.wait(): cannot block inside a hub callback (a rawlink or a timer callback)',
        expect.stringMatching(/^Error: \w+\.acquire\(\): cannot block inside a hub callback/),
      ]);
    });
  });
});

describe('BoundedSemaphore and Lock', () => {
  it('BoundedSemaphore: one release too many raises RangeError', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const s = new BoundedSemaphore(2);
      await s.acquire();
      expect(s.release()).toBe(2);
      expect(() => s.release()).toThrow(new RangeError('Semaphore released too many times'));
      expect([s.counter, s.initialValue]).toEqual([2, 2]);
    });
  });

  it('Semaphore: over-release is allowed', async () => {
    const { hub } = simHub();
    await hub.run(() => {
      const s = new Semaphore(1);
      s.release();
      expect(s.release()).toBe(3);
    });
  });

  it('Lock: a mutex; releasing it unlocked raises Error (a RuntimeError in gevent)', async () => {
    const { hub } = simHub();
    const { out, say } = logger();
    await hub.run(async () => {
      const lock = new Lock();
      const worker = async (n: number) => {
        using _ = await lock.hold();
        say(`${n} locked=${lock.locked()}`);
        await sleep(1);
      };
      await joinall([1, 2, 3].map((n) => spawn(worker, n)));
      say(`locked=${lock.locked()}`);
      const err = await thrown(() => lock.release());
      expect(err).toEqual(new Error('Semaphore released too many times'));
      expect(err).not.toBeInstanceOf(RangeError);
    });
    expect(out).toEqual(['0 1 locked=true', '1 2 locked=true', '2 3 locked=true', '3 locked=false']);
  });
});

describe('Lock: threading.Lock.acquire (gevent.thread.LockType)', () => {
  it("checks its arguments: no timeout with blocking false, -1 means none, other negatives and huge ones raise", async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const lock = new Lock();
      expect(await rejected(() => lock.acquire({ blocking: false, timeout: 1 }))).toEqual(new RangeError("can't specify a timeout for a non-blocking call"));
      expect(await rejected(() => lock.acquire({ blocking: false, timeout: 0 }))).toEqual(new RangeError("can't specify a timeout for a non-blocking call"));
      expect(await rejected(() => lock.acquire({ timeout: -2 }))).toEqual(new RangeError('timeout value must be strictly positive'));
      expect(await rejected(() => lock.acquire({ timeout: 1e10 }))).toEqual(new RangeError('timeout value is too large'));
      expect(await rejected(() => lock.acquire({ timeout: Number.NaN }))).toBeInstanceOf(TypeError);
      expect(await rejected(() => lock.hold({ blocking: false, timeout: 1 }))).toBeInstanceOf(RangeError);
      expect([lock.locked(), getHub().now()]).toEqual([false, 0]); // none of them took it
      expect(await lock.acquire({ blocking: false, timeout: -1 })).toBe(true); // -1 is "no timeout"
      lock.release();
      // Semaphore and BoundedSemaphore are gevent.lock's: they ignore the timeout of a non-blocking call
      expect([await new Semaphore(0).acquire({ blocking: false, timeout: 1 }), await new BoundedSemaphore(0).acquire({ blocking: false, timeout: 1 })]).toEqual([false, false]);
    });
  });

  it('timeout -1 waits forever; a failed non-blocking acquire yields once (so spin locks let others run)', async () => {
    const { hub } = simHub();
    const { out, say } = logger();
    await hub.run(async () => {
      const lock = new Lock();
      await lock.acquire();
      spawn(() => say('other runs'));
      say(`acquire({ blocking: false }) on a held lock: ${await lock.acquire({ blocking: false })}`);
      spawn(async () => {
        await sleep(0.2);
        say('holder releases');
        lock.release();
      });
      say(`acquire({ timeout: -1 }): ${await lock.acquire({ timeout: -1 })}`);
      say(`hold({ blocking: false }): ${String(await thrown(() => lock.hold({ blocking: false })))}`);
      const inCallback: unknown[] = [];
      inHub(() => {
        lock.acquire({ blocking: false }).then(
          (v) => inCallback.push(v),
          (e: unknown) => inCallback.push(e),
        );
      });
      await sleep(0);
      say(`in a hub callback: ${String(inCallback)}`);
    });
    expect(out).toEqual([
      '0 other runs',
      '0 acquire({ blocking: false }) on a held lock: false',
      '0.2 holder releases',
      '0.2 acquire({ timeout: -1 }): true',
      '0.2 hold({ blocking: false }): Timeout',
      '0.2 in a hub callback: false',
    ]);
  });
});

describe('RLock', () => {
  it('the owner acquires again without blocking; others wait FIFO until the last release', async () => {
    const { hub } = simHub();
    const { out, say } = logger();
    await hub.run(async () => {
      const lock = new RLock();
      const outer = async (name: string) => {
        using _ = await lock.hold();
        say(`${name} outer, count ${lock.count}`);
        await sleep(1);
        {
          using _inner = await lock.hold();
          say(`${name} inner, count ${lock.count}, owned ${lock.isOwned()}`);
          await sleep(1);
        }
        say(`${name} leaves inner, count ${lock.count}`);
      };
      await joinall(['a', 'b'].map((n) => spawn(outer, n)));
      say(`locked ${lock.locked()} owner ${String(lock.owner)}`);
    });
    expect(out).toEqual([
      '0 a outer, count 1',
      '1 a inner, count 2, owned true',
      '2 a leaves inner, count 1',
      '2 b outer, count 1',
      '3 b inner, count 2, owned true',
      '4 b leaves inner, count 1',
      '4 locked false owner null',
    ]);
  });

  it('release by a greenlet that does not own it raises Error with gevent message', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const lock = new RLock();
      expect(() => lock.release()).toThrow(/^cannot release un-acquired lock\. Owner: none Current: <Greenlet "main"/);
      const owner = spawn(async () => {
        await lock.acquire();
        await sleep(10);
      });
      owner.name = 'owner';
      await sleep(1);
      expect(() => lock.release()).toThrow(/^cannot release un-acquired lock\. Owner: <Greenlet "owner".*Current: <Greenlet "main"/);
      expect(await lock.acquire({ timeout: 0.5 })).toBe(false);
      expect(getHub().now()).toBe(1.5);
      await owner.kill();
    });
  });

  it('a lock held forever: LoopExit names RLock.acquire', async () => {
    const { hub } = simHub();
    const err = await thrown(() =>
      hub.run(async () => {
        const lock = new RLock();
        spawn(() => lock.acquire());
        await sleep(0);
        await lock.acquire();
      }),
    );
    expect((err as LoopExit).blocked).toEqual([{ greenlet: 'main', waitingOn: 'RLock.acquire (Semaphore counter=0)', since: 0 }]);
  });
});

describe('DummySemaphore', () => {
  it('never blocks', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const s = new DummySemaphore(0);
      expect([await s.acquire(), await s.acquire(), s.tryAcquire(), await s.wait(), s.locked(), s.ready()]).toEqual([true, true, true, 1, false, true]);
      s.release();
      {
        using _ = await s.hold();
      }
      expect(getHub().now()).toBe(0);
      expect(Timeout).toBeDefined();
    });
  });
});
