/**
 * `Timeout` and `withTimeout`, ported from gevent's test__timeout.py, test__api_timeout.py, test__api.py
 * (test_nested_with_timeout) and test__sleep0.py. Every test states the order of events and the virtual
 * time at which each happens; in sim mode times are exact.
 */
import { describe, it, expect } from 'vitest';
import { simHub, logger, ExpectedError } from '../helpers.js';
import { Timeout, GreenletExit, spawn, sleep, getHub, withTimeout, run } from 'geventjs';

/** Runs `body` and returns what it threw (or 'no error'). */
async function thrown(body: () => Promise<unknown>): Promise<unknown> {
  try {
    await body();
  } catch (e) {
    return e;
  }
  return 'no error';
}

describe('Timeout', () => {
  it('fires at exactly its virtual time and throws itself, so e === t tells whose fired', async () => {
    const { out, say } = logger();
    await run(async () => {
      const t = new Timeout(0.25);
      expect(t.pending).toBe(false);
      expect(t.message).toBe('0.25 seconds');
      t.start();
      expect(t.pending).toBe(true);
      const other = new Timeout(0.25);
      const e = await thrown(() => sleep(10));
      say(`caught: e === t ${e === t}, e === other ${e === other}, instanceof ${e instanceof Timeout}, pending ${t.pending}`);
    }, { mode: 'sim' });
    expect(out).toEqual(['0.25 caught: e === t true, e === other false, instanceof true, pending false']);
  });

  it('a Timeout raised directly (never started) is not pending (TestDirectRaise)', () => {
    const t = new Timeout();
    try {
      throw t;
    } catch (e) {
      expect(e).toBe(t);
      expect((e as Timeout).pending).toBe(false);
      expect(t.message).toBe('');
      expect(String(t)).toBe('Timeout');
    }
    expect(String(new Timeout(1))).toBe('Timeout: 1 second');
  });

  it('restarts after it fired: start() again fires again, seconds later (test_expires)', async () => {
    const { out, say } = logger();
    await run(async () => {
      const t = new Timeout(0.01);
      t.start();
      say(`first: ${(await thrown(() => sleep(1))) === t}`);
      t.start();
      say(`second: ${(await thrown(() => sleep(1))) === t}`);
      t.close();
      expect(t.pending).toBe(false);
    }, { mode: 'sim' });
    expect(out).toEqual(['0.01 first: true', '0.02 second: true']);
  });

  it('start() on a pending Timeout throws; cancel() then start() restarts it from now', async () => {
    const { out, say } = logger();
    await run(async () => {
      const t = Timeout.startNew(1);
      expect(() => t.start()).toThrow(/already started/);
      await sleep(0.5);
      t.cancel();
      t.start();
      say(`restarted: ${(await thrown(() => sleep(10))) === t}`);
    }, { mode: 'sim' });
    expect(out).toEqual(['1.5 restarted: true']);
  });

  it('exception variants: an instance is thrown as is, a class is made with no arguments, false throws the Timeout itself', async () => {
    const { out, say } = logger();
    await run(async () => {
      const err = new ExpectedError('Operation takes way too long');
      const a = Timeout.startNew(0.1, err);
      const ea = await thrown(() => sleep(1));
      say(`instance: ${ea === err} pending=${a.pending}`);
      Timeout.startNew(0.1, RangeError);
      const eb = await thrown(() => sleep(1));
      say(`class: ${eb instanceof RangeError} ${(eb as Error).message}`);
      const c = Timeout.startNew(0.1, false);
      const ec = await thrown(() => sleep(1));
      say(`false: ${ec === c}`);
    }, { mode: 'sim' });
    // gevent throws the class, and Python makes it with no arguments: an empty message
    expect(out).toEqual(['0.1 instance: true pending=false', '0.2 class: true ', '0.3 false: true']);
  });

  it('an exception class whose constructor throws: that error is raised in the greenlet, not in the hub', async () => {
    const { out, say } = logger();
    const reported: unknown[] = [];
    class Picky extends Error {
      constructor(code: string) {
        super(code.toUpperCase()); // needs an argument it never gets
      }
    }
    await run(async () => {
      Timeout.startNew(0.1, Picky as unknown as new () => Error);
      const e = await thrown(() => sleep(1));
      say(`${(e as Error).name}`);
      // a Timeout class itself: made with no seconds, so it is not the one started (gevent: `e is t` is False)
      const t = Timeout.startNew(0.1, Timeout as unknown as new () => Error);
      const f = await thrown(() => sleep(1));
      say(`Timeout: ${f instanceof Timeout} ${f === t} '${(f as Error).message}'`);
    }, { mode: 'sim', reporter: (err) => reported.push(err) });
    expect(out).toEqual(['0.1 TypeError', '0.2 Timeout: true false \'\'']);
    expect(reported).toEqual([]);
  });

  it('startNew makes the class it is called on, and starts a Timeout it is given unless pending', async () => {
    class Deadline extends Timeout {}
    await run(async () => {
      const d = Deadline.startNew(0.5);
      expect(d).toBeInstanceOf(Deadline);
      expect(await thrown(() => sleep(1))).toBe(d);
      const t = new Timeout(0.25);
      expect(Timeout.startNew(t)).toBe(t);
      expect(t.pending).toBe(true);
      expect(Timeout.startNew(t)).toBe(t); // pending: left as it is
      expect(await thrown(() => sleep(1))).toBe(t);
      expect(getHub().now()).toBe(0.75);
    }, { mode: 'sim' });
  });

  it('real mode: a sleep and a Timeout of the same length — the sleep wins, as in sim mode and gevent', async () => {
    // their deadlines are microseconds apart in real time, but both are due when the hub looks
    const out: string[] = [];
    for (let i = 0; i < 3; i++) {
      await run(async () => {
        const t = Timeout.startNew(0.01);
        try {
          await sleep(0.01);
          out.push('sleep');
        } catch (e) {
          if (e !== t) throw e;
          out.push('Timeout');
        } finally {
          t.cancel();
        }
        const g = spawn(sleep, 0.01);
        await g.join(0.01); // join's timeout is armed first, the sleep a moment later
        out.push(g.ready() ? 'joined' : 'join timed out');
      }, { mode: 'real' });
    }
    expect(out).toEqual(['sleep', 'joined', 'sleep', 'joined', 'sleep', 'joined']);
  });

  it("its message is gevent's str(): the seconds, then what it raises", () => {
    expect(new Timeout(1).message).toBe('1 second');
    expect(new Timeout(0.5).message).toBe('0.5 seconds');
    expect(new Timeout(0.5, false).message).toBe('0.5 seconds (silent)');
    expect(new Timeout(0.5, RangeError).message).toBe('0.5 seconds: RangeError');
    expect(new Timeout(0.5, new Error('too slow')).message).toBe('0.5 seconds: too slow');
    expect(new Timeout().message).toBe('');
  });

  it('seconds null (or omitted) never fires', async () => {
    const { out, say } = logger();
    await run(async () => {
      const a = Timeout.startNew(null);
      const b = new Timeout().start();
      expect([a.pending, b.pending]).toEqual([false, false]);
      await sleep(100);
      say('slept 100 undisturbed');
      a.cancel();
    }, { mode: 'sim' });
    expect(out).toEqual(['100 slept 100 undisturbed']);
  });

  it('seconds must be a number (TypeError)', () => {
    expect(() => new Timeout(Number.NaN)).toThrow(TypeError);
    expect(() => new Timeout('1' as unknown as number)).toThrow(TypeError);
  });

  it('cancel() before it fires: nothing happens, pending is false (test_cancel)', async () => {
    const { out, say } = logger();
    await run(async () => {
      const t = Timeout.startNew(0.01);
      t.cancel();
      t.cancel(); // harmless twice
      await sleep(0.02);
      say(`pending=${t.pending}`);
      // cancelled inside the block it guards
      const u = Timeout.startNew(0.01);
      await sleep(0.005);
      u.cancel();
      await sleep(0.02);
      say('still fine');
    }, { mode: 'sim' });
    expect(out).toEqual(['0.02 pending=false', '0.045 still fine']);
  });

  it("Timeout(0) fires at the next poll, not on sleep(0): a sleep(0) yields before it, a callback runs first", async () => {
    const { out, say } = logger();
    await run(async () => {
      spawn(() => say('spawned before'));
      const t = Timeout.startNew(0);
      spawn(() => say('spawned after'));
      try {
        await sleep(0);
        say('sleep(0) returned');
        await sleep(0.001);
        say('never');
      } catch (e) {
        say(`caught ${e === t ? 't' : String(e)}`);
      }
    }, { mode: 'sim' });
    expect(out).toEqual(['0 spawned before', '0 spawned after', '0 sleep(0) returned', '0 caught t']);
  });

  it('a sleep and a Timeout expiring at the same instant: the sleep wins', async () => {
    const { out, say } = logger();
    await run(async () => {
      const t = Timeout.startNew(1);
      await sleep(1);
      say(`sleep won, pending=${t.pending}`);
      t.cancel();
      await sleep(1);
      say('nothing fired');
    }, { mode: 'sim' });
    expect(out).toEqual(['1 sleep won, pending=true', '2 nothing fired']);
  });

  it('a greenlet the Timeout guards wakes at the same instant, but a Timeout due then still fires first: notification is a callback, timers run before it', async () => {
    const { out, say } = logger();
    await run(async () => {
      const g = spawn(async () => {
        await sleep(1);
        say('g finishes');
      });
      const t = Timeout.startNew(1);
      const e = await thrown(() => g.join());
      say(`join: ${e === t ? 'timed out' : String(e)}, g.dead=${g.dead}`);
    }, { mode: 'sim' });
    expect(out).toEqual(['1 g finishes', '1 join: timed out, g.dead=true']);
  });

  it('if the guarded greenlet keeps running past the instant, the due Timeout fires at its next block', async () => {
    const { out, say } = logger();
    await run(async () => {
      const t = Timeout.startNew(1);
      await sleep(1);
      say('woke at the same instant');
      const e = await thrown(() => sleep(0));
      say(`sleep(0): ${e === t ? 'timed out' : String(e)}`);
    }, { mode: 'sim' });
    expect(out).toEqual(['1 woke at the same instant', '1 sleep(0): timed out']);
  });

  it('a Timeout raises in the greenlet that started it, not in whoever runs when it fires', async () => {
    const { out, say } = logger();
    await run(async () => {
      const g = spawn(async () => {
        const t = Timeout.startNew(0.5);
        say(`g caught: ${(await thrown(() => sleep(10))) === t}`);
      });
      const busy = spawn(async () => {
        for (let i = 0; i < 3; i++) await sleep(0.25);
        say('busy done');
      });
      await g.join();
      await busy.join();
    }, { mode: 'sim' });
    expect(out).toEqual(['0.5 g caught: true', '0.75 busy done']);
  });

  it('`using` cancels it at the end of the block', async () => {
    const { out, say } = logger();
    await run(async () => {
      let t!: Timeout;
      {
        using u = Timeout.startNew(1);
        t = u;
        await sleep(0.5);
        say(`inside, pending=${u.pending}`);
      }
      say(`after the block, pending=${t.pending}`);
      await sleep(1);
      say('not fired');
      let escaped: unknown;
      try {
        using v = Timeout.startNew(0.1);
        t = v;
        await sleep(1);
      } catch (e) {
        escaped = e;
      }
      say(`fired inside the block: ${escaped === t}, pending=${t.pending}`);
    }, { mode: 'sim' });
    expect(out).toEqual(['0.5 inside, pending=true', '0.5 after the block, pending=false', '1.5 not fired', '1.6 fired inside the block: true, pending=false']);
  });

  it('a Timeout that fires while the greenlet is dead does nothing (it was cancelled by nobody)', async () => {
    const { hub, reports } = simHub();
    await hub.run(async () => {
      const g = spawn(() => {
        Timeout.startNew(0.5);
        return 'returned at once';
      });
      await sleep(1);
      expect(g.value).toBe('returned at once');
    });
    expect(reports).toEqual([]);
  });
});

describe('nested timeouts (test_nested_timeout)', () => {
  it('outer fires while the inner is pending: e is the outer; the inner stays pending until cancelled', async () => {
    const { out, say } = logger();
    await run(async () => {
      const t1 = Timeout.startNew(0.1);
      const t2 = Timeout.startNew(2);
      const e = await thrown(() => sleep(3));
      say(`e===t1 ${e === t1}, t1.pending ${t1.pending}, t2.pending ${t2.pending}`);
      t2.cancel();
      t1.cancel();
      say(`t2.pending ${t2.pending}`);
    }, { mode: 'sim' });
    expect(out).toEqual(['0.1 e===t1 true, t1.pending false, t2.pending true', '0.1 t2.pending false']);
  });

  it('inner fires first: e is the inner; the outer stays pending', async () => {
    const { out, say } = logger();
    await run(async () => {
      const t1 = Timeout.startNew(2);
      const t2 = Timeout.startNew(0.1);
      const e = await thrown(() => sleep(3));
      say(`e===t2 ${e === t2}, t1.pending ${t1.pending}, t2.pending ${t2.pending}`);
      t1.cancel();
    }, { mode: 'sim' });
    expect(out).toEqual(['0.1 e===t2 true, t1.pending true, t2.pending false']);
  });

  it('silent blocks: the outer silent timeout ends both blocks (withTimeout with timeoutValue)', async () => {
    const { out, say } = logger();
    await run(async () => {
      const r = await withTimeout(
        0.1,
        async () => {
          await withTimeout(1, () => sleep(6), { timeoutValue: 'inner' });
          say('should not get there');
          return 'body';
        },
        { timeoutValue: 'outer' },
      );
      say(`-> ${r}`);
    }, { mode: 'sim' });
    expect(out).toEqual(['0.1 -> outer']);
  });

  it('test_nested_with_timeout: an inner timeoutValue does not swallow the outer Timeout', async () => {
    const { out, say } = logger();
    await run(async () => {
      const func = () => withTimeout(0.2, () => sleep(2), { timeoutValue: 1 });
      const e = await thrown(() => withTimeout(0.1, func));
      say(`${e instanceof Timeout ? 'Timeout' : String(e)} ${(e as Error).message}`);
    }, { mode: 'sim' });
    expect(out).toEqual(['0.1 Timeout 0.1 seconds']);
  });
});

describe('withTimeout', () => {
  it('raises, returns timeoutValue, or returns the value of fn (test_with_timeout)', async () => {
    const { out, say } = logger();
    const X = { x: 'marker' };
    await run(async () => {
      const e = await thrown(() => withTimeout(0.01, () => sleep(0.02)));
      say(`raised ${e instanceof Timeout}`);
      const r1 = await withTimeout(0.01, () => sleep(0.02), { timeoutValue: X });
      say(`timeoutValue ${r1 === X}`);
      const r2 = await withTimeout(0.02, () => sleep(0.01), { timeoutValue: X });
      say(`fn value ${String(r2)}`);
      const r3 = await withTimeout(1, () => 'sync value');
      say(`sync ${r3}`);
      const r4 = await withTimeout(0.5, () => sleep(0.3), { timeoutValue: undefined });
      say(`timeoutValue undefined counts: ${String(r4)}`);
      await sleep(1); // no timer left behind
      say('quiet');
    }, { mode: 'sim' });
    expect(out).toEqual([
      '0.01 raised true',
      '0.02 timeoutValue true',
      '0.03 fn value undefined',
      '0.03 sync sync value',
      '0.33 timeoutValue undefined counts: undefined',
      '1.33 quiet',
    ]);
  });

  it("errors of fn propagate and cancel the timer; other Timeouts are not taken for its own", async () => {
    const { out, say } = logger();
    await run(async () => {
      const err = new ExpectedError('inside');
      const e = await thrown(() =>
        withTimeout(1, async () => {
          await sleep(0.1);
          throw err;
        }),
      );
      say(`fn error: ${e === err}`);
      const foreign = new Timeout(5);
      const e2 = await thrown(() =>
        withTimeout(
          1,
          () => {
            throw foreign;
          },
          { timeoutValue: 'mine' },
        ),
      );
      say(`foreign Timeout passes through: ${e2 === foreign}`);
      await sleep(2);
      say('no stray timeout');
    }, { mode: 'sim' });
    expect(out).toEqual(['0.1 fn error: true', '0.1 foreign Timeout passes through: true', '2.1 no stray timeout']);
  });

  it('seconds null never times out', async () => {
    await run(async () => {
      expect(await withTimeout(null, async () => (await sleep(50), 'done'), { timeoutValue: 'timed out' })).toBe('done');
      expect(getHub().now()).toBe(50);
    }, { mode: 'sim' });
  });
});

describe('busy loops and virtual time (test__sleep0)', () => {
  it('rule: a greenlet switched into 10,000 times at one virtual instant is charged 1 ms, so a sleep(0) loop under Timeout(0.01) ends at exactly 0.01', async () => {
    const result = await run(async () => {
      let n = 0;
      const r = await withTimeout(
        0.01,
        async () => {
          for (;;) {
            await sleep(0);
            n++;
          }
        },
        { timeoutValue: 'ended' },
      );
      return { r, now: getHub().now(), n };
    }, { mode: 'sim' });
    expect(result.r).toBe('ended');
    expect(result.now).toBe(0.01);
    // ten charges of 1 ms, about 10,000 switches each
    expect(result.n).toBeGreaterThan(99_000);
    expect(result.n).toBeLessThan(101_000);
  });

  it('rule: greenlets that take turns with sleep(0) below the limit are charged nothing (1,000 rounds of 5 greenlets at t=0)', async () => {
    const end = await run(async () => {
      const gs = [0, 1, 2, 3, 4].map(() =>
        spawn(async () => {
          for (let i = 0; i < 1000; i++) await sleep(0);
          return getHub().now();
        }),
      );
      for (const g of gs) await g.join();
      return [getHub().now(), ...gs.map((g) => g.value)];
    }, { mode: 'sim' });
    expect(end).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('rule: a program that sleeps is never charged: 1,000 sleeps of 0.001 end at exactly 1', async () => {
    const end = await run(async () => {
      for (let i = 0; i < 1000; i++) await sleep(0.001);
      return getHub().now();
    }, { mode: 'sim' });
    expect(end).toBe(1);
  });

  it('after the busy loop is cut short, the greenlet blocks normally again (its queued wake is dropped)', async () => {
    const { out, say } = logger();
    await run(async () => {
      await withTimeout(
        0.01,
        async () => {
          for (;;) await sleep(0);
        },
        { timeoutValue: null },
      );
      say('loop ended');
      await sleep(1);
      say('slept 1');
    }, { mode: 'sim' });
    expect(out).toEqual(['0.01 loop ended', '1.01 slept 1']);
  });

  it('a Timeout of a killed greenlet does not fire into it later', async () => {
    const { hub, reports } = simHub();
    const { out, say } = logger();
    await hub.run(async () => {
      const g = spawn(async () => {
        Timeout.startNew(1);
        try {
          await sleep(10);
        } catch (e) {
          say(`g caught ${(e as Error).name}`);
          throw e;
        }
      });
      await sleep(0.5);
      await g.kill();
      say(`killed, value is GreenletExit: ${g.value instanceof GreenletExit}`);
      await sleep(1);
      say('quiet');
    });
    expect(out).toEqual(['0.5 g caught GreenletExit', '0.5 killed, value is GreenletExit: true', '1.5 quiet']);
    expect(reports).toEqual([]);
  });
});
