/**
 * Event and AsyncResult. Ported from gevent's test__event.py (and the generic wait/get timing cases of
 * gevent.testing.timing); orders checked against gevent 22.10. Every test states the order of events
 * and the virtual time at which each happens.
 */
import { describe, it, expect } from 'vitest';
import {
  Event,
  AsyncResult,
  Greenlet,
  Timeout,
  LoopExit,
  spawn,
  spawnLater,
  sleep,
  idle,
  wait,
  withTimeout,
  getHub,
} from 'geventjs';
import { simHub, logger, inHub, ExpectedError, thrown, rejected } from '../helpers.js';

describe('Event', () => {
  it('set() does not switch; waiters wake FIFO in one pass, each running until it blocks', async () => {
    const { hub } = simHub();
    const { out, say } = logger();
    await hub.run(async () => {
      const e = new Event();
      const waiter = async (n: number) => {
        say(`w${n} wait`);
        const r = await e.wait();
        say(`w${n} woke ${r} isSet=${e.isSet()}`);
        if (n === 1) {
          e.clear();
          say('w1 cleared');
        }
      };
      const gs = [0, 1, 2].map((n) => spawn(waiter, n));
      await sleep(0.05);
      say('set');
      e.set();
      say('after set');
      expect(e.linkcount()).toBe(3);
      await sleep(0);
      say('main after sleep(0)');
      await wait(gs);
    });
    // gevent 22.10 prints the same sequence; w2 still returns true: the flag was set while it waited
    expect(out).toEqual([
      '0 w0 wait',
      '0 w1 wait',
      '0 w2 wait',
      '0.05 set',
      '0.05 after set',
      '0.05 w0 woke true isSet=true',
      '0.05 w1 woke true isSet=true',
      '0.05 w1 cleared',
      '0.05 w2 woke true isSet=false',
      '0.05 main after sleep(0)',
    ]);
  });

  it('wait() on a set event returns true at once, without switching', async () => {
    const { hub } = simHub();
    const { out, say } = logger();
    await hub.run(async () => {
      const e = new Event();
      e.set();
      spawn(() => say('other ran'));
      say(`wait -> ${await e.wait()}`);
      say(`wait(0) -> ${await e.wait(0)}`);
      await sleep(0);
    });
    expect(out).toEqual(['0 wait -> true', '0 wait(0) -> true', '0 other ran']);
  });

  it('wait(timeout) resolves false at exactly the timeout, and is not an error', async () => {
    const { hub } = simHub();
    const { out, say } = logger();
    await hub.run(async () => {
      const e = new Event();
      say(`wait(0.2) -> ${await e.wait(0.2)}`);
      say(`wait(0) -> ${await e.wait(0)}`);
      spawnLater(0.5, () => e.set());
      say(`wait(1) -> ${await e.wait(1)}`);
      e.clear();
      say(`wait(0.25) -> ${await e.wait(0.25)}`);
    });
    expect(out).toEqual(['0.2 wait(0.2) -> false', '0.2 wait(0) -> false', '0.7 wait(1) -> true', '0.95 wait(0.25) -> false']);
  });

  it('a set and a timeout at the same instant: the timer that set it runs first, the timeout still fires', async () => {
    // gevent 22.10: wait(0.1) returns False even though set() happened at 0.1 — the Timeout timer is due
    // in the same loop iteration, before the notification callback runs
    const { hub } = simHub();
    const { out, say } = logger();
    await hub.run(async () => {
      const e = new Event();
      spawn(async () => {
        await sleep(0.1);
        say('set');
        e.set();
        say('after set');
      });
      const waiter = async (n: number, t: number | null) => {
        say(`wait${n}`);
        say(`wait${n} -> ${await e.wait(t)}`);
      };
      await wait([spawn(waiter, 1, 0.1), spawn(waiter, 2, null), spawn(waiter, 3, 0.2)]);
    });
    expect(out).toEqual(['0 wait1', '0 wait2', '0 wait3', '0.1 set', '0.1 after set', '0.1 wait1 -> false', '0.1 wait2 -> true', '0.1 wait3 -> true']);
  });

  it('a greenlet calling wait() while a pass is pending runs after the earlier waiters (gevent #1520)', async () => {
    const { hub } = simHub();
    const results: number[] = [];
    await hub.run(async () => {
      const e = new Event();
      const waitThenAppend = async (n: number) => {
        await e.wait();
        results.push(n);
      };
      spawn(waitThenAppend, 1);
      spawn(waitThenAppend, 2);
      await idle();
      expect(e.linkcount()).toBe(2);
      e.set();
      await waitThenAppend(3);
      expect(results).toEqual([1, 2, 3]);
    });
    expect(results).toEqual([1, 2, 3]);
  });

  it('a woken waiter that waits again on the still-set event is woken by the same pass, before queued callbacks (gevent 22.10)', async () => {
    const { hub } = simHub();
    const log: string[] = [];
    await hub.run(async () => {
      const e = new Event();
      const waiter = async (n: number) => {
        await e.wait();
        log.push(`w${n} woke`);
        if (n === 0) {
          spawn(() => log.push('spawned ran'));
          await e.wait();
          log.push('w0 again');
        }
      };
      const gs = [0, 1, 2].map((n) => spawn(waiter, n));
      await sleep(0.01);
      e.set();
      await wait(gs);
      await sleep(0);
    });
    expect(log).toEqual(['w0 woke', 'w1 woke', 'w2 woke', 'w0 again', 'spawned ran']);
  });

  it('a waiter that clears the event and waits again is not woken by the same pass (gevent #771)', async () => {
    const { hub } = simHub();
    const { out, say } = logger();
    await hub.run(async () => {
      const e = new Event();
      const waiter = async () => {
        const s = spawn(() => e.set());
        say(`wait -> ${await e.wait()} ready=${e.ready()}`);
        await s.join();
        e.clear();
        const o = await wait([e], { timeout: 0.01 });
        say(`wait([e], 0.01) -> ${o.length} ready=${e.ready()}`);
      };
      await spawn(waiter).join();
    });
    expect(out).toEqual(['0 wait -> true ready=true', '0.01 wait([e], 0.01) -> 0 ready=false']);
  });

  for (const n of [1, 100, 1000]) {
    it(`set() then clear() at once still wakes all ${n} waiters`, async () => {
      const { hub } = simHub();
      const end = await hub.run(async () => {
        const e = new Event();
        const waiters = Array.from({ length: n }, () => spawn(() => e.wait()));
        await sleep(0.001);
        e.set();
        e.clear();
        for (const g of waiters) await g.join();
        expect(waiters.every((g) => g.value === true)).toBe(true);
        return getHub().now();
      });
      expect(end).toBe(0.001);
    });
  }

  it('gevent.wait over events and async results returns as they are set (count, timeout)', async () => {
    // test__event.py TestWait: a sender sets one object every 0.01 s, events first
    for (const [count, timeout, expected, at] of [
      [null, 1, 10, 0.1],
      [null, null, 10, 0.1],
      [1, 1, 1, 0.01],
      [2, 1, 2, 0.02],
      [null, 0.035, 3, 0.035],
    ] as const) {
      const { hub } = simHub();
      await hub.run(async () => {
        const events = Array.from({ length: 5 }, () => new Event());
        const asyncs = Array.from({ length: 5 }, () => new AsyncResult());
        const toSet = [...events];
        const toSetAsync = [...asyncs];
        const sender = spawn(async () => {
          while (toSet.length > 0 || toSetAsync.length > 0) {
            await sleep(0.01);
            toSet.pop()?.set();
            await sleep(0.01);
            toSetAsync.pop()?.set();
          }
        });
        const results = await wait([...events, ...asyncs], { count, timeout });
        expect([results.length, getHub().now()]).toEqual([expected, at]);
        expect(sender.ready()).toBe(count === null && timeout !== 0.035);
        await sender.kill();
      });
    }
  });

  it('an event nobody sets: LoopExit names the greenlet and Event.wait', async () => {
    const { hub } = simHub();
    const err = await thrown(() =>
      hub.run(async () => {
        spawn(async () => {
          await new Event().wait();
        });
        await sleep(1);
        await new Event().wait();
      }),
    );
    expect(err).toBeInstanceOf(LoopExit);
    const le = err as LoopExit;
    expect(le.blocked).toEqual([
      { greenlet: 'main', waitingOn: 'Event.wait (Event clear)', since: 1 },
      { greenlet: 'Greenlet-1', waitingOn: 'Event.wait (Event clear)', since: 0 },
    ]);
    expect(le.message).toContain('main waiting on Event.wait');
  });

  it('an outer Timeout interrupts wait() with itself and leaves no waiter behind', async () => {
    const { hub } = simHub();
    const { out, say } = logger();
    await hub.run(async () => {
      const e = new Event();
      const t = Timeout.startNew(0.001);
      try {
        await e.wait(1);
      } catch (err) {
        say(`caught own timeout: ${err === t}`);
      } finally {
        t.cancel();
      }
      say(`links left: ${e.linkcount()}`);
    });
    expect(out).toEqual(['0.001 caught own timeout: true', '0.001 links left: 0']);
  });

  it('rejects a timeout that is not a number, and blocking inside a hub callback', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const e = new Event();
      expect(await thrown(() => e.wait('1' as unknown as number))).toBeInstanceOf(TypeError);
      let inCallback: unknown = null;
      inHub(() => {
        e.wait().catch((err: unknown) => (inCallback = err));
      });
      await sleep(0);
      expect(String(inCallback)).toMatch(/cannot block inside a hub callback/);
    });
  });

  it('the same program gives the same trace hash twice', async () => {
    const program = async () => {
      const e = new Event();
      const gs = [0.3, 0.1, 0.2].map((s) =>
        spawn(async () => {
          await sleep(s);
          await e.wait(0.25);
        }),
      );
      await sleep(0.2);
      e.set();
      await wait(gs);
    };
    const a = simHub();
    const b = simHub();
    await a.hub.run(program);
    await b.hub.run(program);
    expect(a.hub.traceHash()).toBe(b.hub.traceHash());
    expect(a.hub.now()).toBe(0.3);
  });
});

describe('AsyncResult', () => {
  it('get() returns the value set later; waiters wake FIFO after the setter blocks', async () => {
    const { hub } = simHub();
    const { out, say } = logger();
    await hub.run(async () => {
      const r = new AsyncResult<string>();
      for (const n of [1, 2]) spawn(async () => say(`g${n} got ${await r.get()}`));
      await sleep(1);
      r.set('hello');
      say(`set; ready=${r.ready()} successful=${r.successful()} value=${r.value}`);
      await sleep(0);
      say(`get again -> ${await r.get()}`);
    });
    expect(out).toEqual(['1 set; ready=true successful=true value=hello', '1 g1 got hello', '1 g2 got hello', '1 get again -> hello']);
  });

  it('setException: get() throws it in every waiter, wait() returns undefined', async () => {
    const { hub } = simHub();
    const log: unknown[] = [];
    await hub.run(async () => {
      const e = new AsyncResult();
      expect(e.exception).toBe(null);
      spawn(async () => {
        try {
          await e.get();
        } catch (err) {
          log.push(['caught', err]);
        }
      });
      const obj = new ExpectedError();
      e.setException(obj);
      await sleep(0);
      expect(log).toEqual([['caught', obj]]);
      expect([e.ready(), e.successful(), e.exception, e.value]).toEqual([true, false, obj, undefined]);
      expect(await e.wait()).toBe(undefined);
    });
  });

  it('a Timeout(0, error) fires before a value set later arrives', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const event1 = new AsyncResult<string>();
      const timerExc = new ExpectedError('interrupted');
      const g = spawnLater(0.12, () => event1.set('hello event1'));
      const t = Timeout.startNew(0, timerExc);
      try {
        expect(await thrown(() => event1.get())).toBe(timerExc);
        expect(getHub().now()).toBe(0);
      } finally {
        t.cancel();
        await g.kill();
      }
    });
  });

  it('withTimeout around get() returns the timeout value when nothing is sent', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const event2 = new AsyncResult();
      const X = {};
      expect(await withTimeout(0.12, () => event2.get(), { timeoutValue: X })).toBe(X);
      expect(getHub().now()).toBe(0.12);
    });
  });

  it('get({ block: false }) and getNowait() on an unset result throw Timeout; get({ timeout }) at the exact time', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const ar = new AsyncResult();
      expect(await thrown(() => ar.get({ block: false }))).toBeInstanceOf(Timeout);
      expect(() => ar.getNowait()).toThrow(Timeout);
      const err = await thrown(() => ar.get({ timeout: 0.1 }));
      expect(err).toBeInstanceOf(Timeout);
      expect((err as Timeout).message).toBe('0.1 seconds');
      expect(getHub().now()).toBe(0.1);
      expect(await ar.wait(0.2)).toBe(undefined);
      expect(getHub().now()).toBe(0.3); // integer nanoseconds: 0.1 + 0.2 is exactly 0.3
    });
  });

  it('get: a stored error, a bad timeout or blocking in a hub callback reject; nothing throws at the call', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const ar = new AsyncResult<number>();
      expect(await rejected(() => ar.get({ timeout: '1' as unknown as number }))).toBeInstanceOf(TypeError);
      let inCallback: unknown = null;
      inHub(() => {
        ar.get().catch((err: unknown) => (inCallback = err));
      });
      await sleep(0);
      expect(String(inCallback)).toMatch(/^Error: AsyncResult.get\(\): cannot block inside a hub callback/);
      const waiter = spawn(() => ar.get());
      await sleep(0);
      ar.setException(new ExpectedError('stored'));
      expect(await thrown(() => waiter.get())).toEqual(new ExpectedError('stored')); // woken with the error
      expect(await thrown(() => ar.get())).toEqual(new ExpectedError('stored')); // ready: at once
    });
  });

  it('wait() returns the value, at once when set, or when it is set', async () => {
    const { hub } = simHub();
    const { out, say } = logger();
    await hub.run(async () => {
      const r = new AsyncResult<number>();
      spawnLater(2, () => r.set(7));
      say(`wait(1) -> ${await r.wait(1)}`);
      say(`wait() -> ${await r.wait()}`);
      say(`wait() -> ${await r.wait()}`);
    });
    expect(out).toEqual(['1 wait(1) -> undefined', '2 wait() -> 7', '2 wait() -> 7']);
  });

  it('is a link target through setFrom: link, linkValue, linkException (success)', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const g = spawn(() => 1);
      const [s1, s2, s3] = [new AsyncResult<number>(), new AsyncResult<number>(), new AsyncResult<number>()];
      g.link(s1.setFrom);
      g.linkValue(s2.setFrom);
      g.linkException(s3.setFrom);
      expect(await s1.get()).toBe(1);
      expect(await s2.get()).toBe(1);
      const X = {};
      expect(await withTimeout(0.12, () => s3.get(), { timeoutValue: X })).toBe(X);
    });
  });

  it('is a link target through setFrom: link, linkValue, linkException (failure)', async () => {
    const { hub, reports } = simHub();
    await hub.run(async () => {
      const g = spawn(() => {
        throw new ExpectedError('TestAsyncResultAsLinkTarget.test_set_exception');
      });
      const [s1, s2, s3] = [new AsyncResult(), new AsyncResult(), new AsyncResult()];
      g.link(s1.setFrom);
      g.linkValue(s2.setFrom);
      g.linkException(s3.setFrom);
      expect(await thrown(() => s1.get())).toBeInstanceOf(ExpectedError);
      const X = {};
      expect(await withTimeout(0.12, () => s2.get(), { timeoutValue: X })).toBe(X);
      expect(await thrown(() => s3.get())).toBeInstanceOf(ExpectedError);
    });
    // linkException counts as handling the error: the hub does not report it
    expect(reports).toEqual([]);
  });

  it('rawlink refuses a non-function; unlink of an unknown callback does nothing', async () => {
    const { hub } = simHub();
    await hub.run(() => {
      const ar = new AsyncResult();
      expect(() => ar.rawlink(null as unknown as () => void)).toThrow(TypeError);
      ar.unlink(() => {});
      expect(String(ar)).toBe('<AsyncResult unset _links[0]>');
      expect(ar instanceof Greenlet).toBe(false);
    });
  });

  it('the same program gives the same trace hash twice', async () => {
    const program = async () => {
      const results = [new AsyncResult<number>(), new AsyncResult<number>()];
      spawn(async () => {
        await sleep(0.5);
        results[1]!.set(2);
        await sleep(0.5);
        results[0]!.setException(new ExpectedError());
      });
      await results[1]!.get();
      await results[0]!.wait(2);
    };
    const a = simHub();
    const b = simHub();
    await a.hub.run(program);
    await b.hub.run(program);
    expect(a.hub.traceHash()).toBe(b.hub.traceHash());
    expect(a.hub.now()).toBe(1);
  });
});
