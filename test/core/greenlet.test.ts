/**
 * Greenlet behaviour, ported from gevent's test__greenlet.py (TestBasic, TestLink, TestUnlink,
 * TestStuff, TestStr, TestJoin, TestGet) and test__systemerror.py. Every test runs on a fresh sim hub and
 * states the order of events and the virtual time at which each happens.
 */
import { describe, it, expect, vi, afterEach } from 'vitest';
import { simHub, logger } from '../helpers.js';
import { Hub, Greenlet, GreenletExit, Timeout, Event, spawn, spawnLater, sleep, getcurrent, getHub, joinall, run } from 'geventjs';

/** A sim hub whose reporter records `[error, greenlet name or null]`. */
/** Logs `<virtual time> <what>` on the current hub's clock. */
class ExpectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExpectedError';
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('spawning is lazy', () => {
  it('a spawned body runs only once the spawner blocks, before the spawner resumes from sleep(0)', async () => {
    const { out, say } = logger();
    await run(async () => {
      const g = spawn(() => say('body'));
      say('spawned');
      expect(g.started).toBe(true);
      expect(g.dead).toBe(false);
      // a spawner that keeps computing does not give the body a chance
      for (let i = 0; i < 1000; i++) if (out.length > 1) break;
      say('computed');
      await sleep(0);
      say('main resumed');
    }, { mode: 'sim' });
    expect(out).toEqual(['0 spawned', '0 computed', '0 body', '0 main resumed']);
  });

  it('bodies start in spawn order, each running until it blocks', async () => {
    const { out, say } = logger();
    await run(async () => {
      const body = async (name: string) => {
        say(`${name} start`);
        await sleep(0);
        say(`${name} after sleep(0)`);
      };
      const gs = [spawn(body, 'a'), spawn(body, 'b'), spawn(body, 'c')];
      say('main spawned 3');
      await joinall(gs);
      say('main joined');
    }, { mode: 'sim' });
    expect(out).toEqual([
      '0 main spawned 3',
      '0 a start',
      '0 b start',
      '0 c start',
      '0 a after sleep(0)',
      '0 b after sleep(0)',
      '0 c after sleep(0)',
      '0 main joined',
    ]);
  });

  it('a greenlet spawned by a greenlet that then exits still runs (test__api: spawn is not cancelled)', async () => {
    const lst = [1];
    await run(async () => {
      spawn(() => {
        spawn(() => lst.pop());
      });
      await sleep(0.1);
    }, { mode: 'sim' });
    expect(lst).toEqual([]);
  });
});

describe('start, startLater, spawnLater', () => {
  it('new Greenlet does not run until start(); start() twice runs the body once', async () => {
    const { out, say } = logger();
    await run(async () => {
      let runs = 0;
      const g = new Greenlet(() => {
        runs++;
        say('body');
      });
      await sleep(1);
      say(`not started: started=${g.started} runs=${runs}`);
      g.start();
      g.start();
      expect(g.started).toBe(true);
      await g.join();
      g.start(); // a dead greenlet cannot start again
      await sleep(0);
      say(`runs=${runs} dead=${g.dead} started=${g.started}`);
    }, { mode: 'sim' });
    expect(out).toEqual(['1 not started: started=false runs=0', '1 body', '1 runs=1 dead=true started=false']);
  });

  it('startLater(0.5) and spawnLater(1.5, fn, ...args) run at exactly those virtual times', async () => {
    const { out, say } = logger();
    await run(async () => {
      const a = new Greenlet(() => say('a'));
      a.startLater(0.5);
      a.startLater(0.1); // already scheduled: ignored
      a.start(); // ditto
      expect(a.started).toBe(true);
      const b = spawnLater(1.5, (x: number, y: string) => say(`b ${x} ${y}`), 7, 'seven');
      expect(b.started).toBe(true);
      await joinall([a, b]);
      say('joined');
    }, { mode: 'sim' });
    expect(out).toEqual(['0.5 a', '1.5 b 7 seven', '1.5 joined']);
  });

  it('spawnLater and startLater reject seconds that are not numbers (TypeError)', async () => {
    await run(async () => {
      expect(() => spawnLater(Number.NaN, () => 1)).toThrow(TypeError);
      expect(() => new Greenlet(() => 1).startLater('1' as unknown as number)).toThrow(TypeError);
    }, { mode: 'sim' });
  });

  it('spawn of something that is not a function is a TypeError (TestBasic.test_spawn_non_callable)', async () => {
    await run(async () => {
      expect(() => spawn(1 as unknown as () => void)).toThrow(TypeError);
      expect(() => new Greenlet(undefined as unknown as () => void)).toThrow(TypeError);
    }, { mode: 'sim' });
  });
});

describe('state: value, exception, ready(), successful(), dead, started', () => {
  it('a greenlet that returns 5 after sleep(0.01) (TestBasic.test_simple_exit)', async () => {
    const snap = (g: Greenlet<unknown>) => ({
      started: g.started,
      dead: g.dead,
      ready: g.ready(),
      successful: g.successful(),
      value: g.value,
      exception: g.exception,
    });
    const snaps: [number, ReturnType<typeof snap>][] = [];
    const links: unknown[] = [];
    await run(async () => {
      const hub = getHub();
      const g = new Greenlet(async (delay: number, ret: number) => {
        await sleep(delay);
        return ret;
      }, 0.01, 5);
      g.link((x) => links.push([hub.now(), x]));
      snaps.push([hub.now(), snap(g)]);
      g.start();
      snaps.push([hub.now(), snap(g)]);
      await sleep(0.001);
      snaps.push([hub.now(), snap(g)]);
      expect(links).toEqual([]);
      await sleep(0.02);
      snaps.push([hub.now(), snap(g)]);
      expect(links).toEqual([[0.01, g]]);
    }, { mode: 'sim' });
    const base = { started: false, dead: false, ready: false, successful: false, value: undefined, exception: null };
    expect(snaps).toEqual([
      [0, base],
      [0, { ...base, started: true }],
      [0.001, { ...base, started: true }],
      [0.021, { started: false, dead: true, ready: true, successful: true, value: 5, exception: null }],
    ]);
  });

  it('a greenlet that throws after sleep (TestBasic.test_error_exit): value stays undefined, exception is the error', async () => {
    const { hub, reports } = simHub();
    const err = new ExpectedError('test_error_exit');
    let g!: Greenlet<never>;
    await hub.run(async () => {
      g = spawn(async () => {
        await sleep(0.25);
        throw err;
      });
      await sleep(0.5);
      expect(g.dead).toBe(true);
      expect(g.started).toBe(false);
      expect(g.ready()).toBe(true);
      expect(g.successful()).toBe(false);
      expect(g.value).toBeUndefined();
      expect(g.exception).toBe(err);
    });
    expect(reports).toEqual([[err, 'Greenlet-1']]);
  });

  it('ordinary (sync) bodies: a value, a throw; arguments are passed through', async () => {
    const { hub, reports } = simHub();
    const err = new RangeError('bad');
    await hub.run(async () => {
      const ok = spawn((a: number, b: number) => a + b, 2, 3);
      const bad = spawn(() => {
        throw err;
      });
      expect(ok.ready()).toBe(false);
      await sleep(0);
      expect([ok.value, ok.successful(), bad.exception, bad.successful(), hub.now()]).toEqual([5, true, err, false, 0]);
    });
    expect(reports).toEqual([[err, 'Greenlet-2']]);
  });

  it('Greenlet.spawn(fn, ...args) is spawn(fn, ...args)', async () => {
    await run(async () => {
      const g = Greenlet.spawn((a: number, b: number) => a * b, 6, 7);
      expect(g.started).toBe(true);
      expect(await g.get()).toBe(42);
    }, { mode: 'sim' });
  });

  it('async bodies: the value of the returned promise, or its rejection', async () => {
    await run(async () => {
      const g = spawn(async (x: string) => {
        await sleep(1);
        return `hi ${x}`;
      }, 'egon');
      const v: string = await g.get();
      expect([v, getHub().now()]).toEqual(['hi egon', 1]);
    }, { mode: 'sim' });
  });

  it('getcurrent() is the greenlet itself; parent is the spawner; main is named main', async () => {
    await run(async () => {
      const main = getcurrent();
      expect(main.name).toBe('main');
      const g = spawn(() => {
        const me = getcurrent();
        return [me.name, me.parent === main];
      });
      await g.join();
      expect(g.value).toEqual(['Greenlet-1', true]);
      expect(g.parent).toBe(main);
    }, { mode: 'sim' });
  });
});

describe('name: Greenlet-N, counted per hub', () => {
  it('counts from 1 in every hub; main is `main`; name can be set; toString shows name and function', async () => {
    const names = async () =>
      run(async () => {
        function worker(): void {}
        const a = spawn(worker);
        const b = new Greenlet(() => 1);
        const c = spawnLater(1, () => 2);
        b.name = 'Foo';
        const shown = [a.toString(), b.toString()];
        await c.kill();
        return [getcurrent().name, a.name, b.name, c.name, ...shown];
      }, { mode: 'sim' });
    const first = await names();
    const second = await names();
    expect(first).toEqual(['main', 'Greenlet-1', 'Foo', 'Greenlet-3', '<Greenlet "Greenlet-1": worker>', '<Greenlet "Foo">']);
    expect(second).toEqual(first);
  });
});

describe('get()', () => {
  it('returns the value; on a finished greenlet it returns without switching', async () => {
    const { out, say } = logger();
    await run(async () => {
      const g = spawn(async () => {
        await sleep(1);
        return 42;
      });
      say(`get ${await g.get()}`);
      spawn(() => say('spawned after'));
      say(`get again ${await g.get()}`); // dead: no switch, so the new greenlet has not run
      await sleep(0);
    }, { mode: 'sim' });
    expect(out).toEqual(['1 get 42', '1 get again 42', '1 spawned after']);
  });

  it('rethrows the very error object, and the error is not reported', async () => {
    const { hub, reports } = simHub();
    const err = new ExpectedError('boom');
    await hub.run(async () => {
      const g = spawn(async () => {
        await sleep(0.5);
        throw err;
      });
      await expect(g.get()).rejects.toBe(err);
      expect(hub.now()).toBe(0.5);
      // asking again rethrows again
      await expect(g.get()).rejects.toBe(err);
    });
    expect(reports).toEqual([]);
  });

  it("get({block: false}) on a running greenlet throws Timeout with message '' at once", async () => {
    const { out, say } = logger();
    await run(async () => {
      const g = spawn(async () => {
        say('g runs');
        await sleep(10);
      });
      let caught: unknown;
      try {
        await g.get({ block: false });
      } catch (e) {
        caught = e;
      }
      say('caught');
      expect(caught).toBeInstanceOf(Timeout);
      expect((caught as Timeout).message).toBe('');
      expect((caught as Timeout).pending).toBe(false);
      await sleep(0);
      await g.kill();
    }, { mode: 'sim' });
    // no switch happened in get(): the greenlet ran only once main blocked in sleep(0)
    expect(out).toEqual(['0 caught', '0 g runs']);
  });

  it("get({timeout: 0.1}) throws Timeout '0.1 seconds' at exactly t=0.1 and leaves the greenlet running", async () => {
    const { out, say } = logger();
    await run(async () => {
      const g = spawn(async () => {
        await sleep(10);
        say('g done');
        return 'late';
      });
      try {
        await g.get({ timeout: 0.1 });
      } catch (e) {
        expect(e).toBeInstanceOf(Timeout);
        say(`caught ${(e as Error).message}`);
      }
      expect(g.dead).toBe(false);
      say(`get ${await g.get()}`);
    }, { mode: 'sim' });
    expect(out).toEqual(['0.1 caught 0.1 seconds', '10 g done', '10 get late']);
  });

  it('get() of a greenlet killed with GreenletExit returns the GreenletExit', async () => {
    await run(async () => {
      const g = spawn(() => sleep(10));
      await sleep(0);
      await g.kill();
      const v = await g.get();
      expect(v).toBeInstanceOf(GreenletExit);
      expect(v).toBe(g.value);
    }, { mode: 'sim' });
  });
});

describe('join(timeout)', () => {
  it('never throws: not on a failed greenlet, not on timeout', async () => {
    const { hub, reports } = simHub();
    const { out, say } = logger();
    const err = new ExpectedError('x');
    await hub.run(async () => {
      const failing = spawn(async () => {
        await sleep(0.2);
        throw err;
      });
      const sleeper = spawn(() => sleep(10));
      const joined = await failing.join();
      say(`joined failing: ready=${failing.ready()} returned ${String(joined)}`);
      const timedOut = await sleeper.join(0.5);
      say(`join(0.5) sleeper returned ${String(timedOut)}: ready=${sleeper.ready()}`);
      await sleeper.join(0);
      say(`join(0) sleeper returned: ready=${sleeper.ready()}`);
      await failing.join();
      say('joined dead failing');
      await sleeper.kill();
    });
    expect(out).toEqual([
      // join returns nothing (gevent's None), whether the greenlet finished or the timeout passed
      '0.2 joined failing: ready=true returned undefined',
      '0.7 join(0.5) sleeper returned undefined: ready=false',
      '0.7 join(0) sleeper returned: ready=false',
      '0.7 joined dead failing',
    ]);
    // join does not count as waiting for the error: it is reported
    expect(reports).toEqual([[err, 'Greenlet-1']]);
  });

  it('join() on a greenlet that never started waits for it to be started and finish', async () => {
    const { out, say } = logger();
    await run(async () => {
      const g = new Greenlet(() => say('g'));
      spawnLater(2, () => g.start());
      await g.join();
      say('joined');
    }, { mode: 'sim' });
    expect(out).toEqual(['2 g', '2 joined']);
  });
});

describe('links', () => {
  it('fire in the order added, after the greenlet finishes, before join returns', async () => {
    const { out, say } = logger();
    await run(async () => {
      const g = spawn(async () => {
        await sleep(1);
        say('g returns');
        return 'v';
      });
      g.link((x) => say(`link a ${String(x.value)}`));
      g.linkValue(() => say('linkValue b'));
      g.linkException(() => say('linkException c'));
      g.rawlink(() => say('rawlink d'));
      g.link(() => say('link e'));
      await g.join();
      say('joined');
    }, { mode: 'sim' });
    expect(out).toEqual(['1 g returns', '1 link a v', '1 linkValue b', '1 rawlink d', '1 link e', '1 joined']);
  });

  it('on failure: link and linkException fire, linkValue does not', async () => {
    const { hub, reports } = simHub();
    const { out, say } = logger();
    await hub.run(async () => {
      const g = spawn(async () => {
        await sleep(1);
        throw new ExpectedError('bad');
      });
      g.linkValue(() => say('linkValue'));
      g.link((x) => say(`link ${String((x.exception as Error).message)}`));
      g.linkException((x) => say(`linkException ${x.name}`));
      await g.join();
      say('joined');
    });
    expect(out).toEqual(['1 link bad', '1 linkException Greenlet-1', '1 joined']);
    expect(reports).toEqual([]); // a linkException handles the error
  });

  it('a greenlet waiting in join is one of the links: callbacks added after it fire after it resumes', async () => {
    const { out, say } = logger();
    await run(async () => {
      const g = spawn(() => sleep(1));
      const joiner = spawn(async () => {
        await g.join();
        say('joiner resumed');
        await sleep(0);
        say('joiner after sleep(0)');
      });
      await sleep(0); // joiner is now waiting on g
      g.link(() => say('link added after joiner'));
      await joiner.join();
    }, { mode: 'sim' });
    // the woken joiner runs until it blocks before the next link of the pass is called
    expect(out).toEqual(['1 joiner resumed', '1 link added after joiner', '1 joiner after sleep(0)']);
  });

  it('a link added to a dead greenlet fires on the next callback pass', async () => {
    const { out, say } = logger();
    await run(async () => {
      const g = spawn(() => 'done');
      await g.join();
      g.link((x) => say(`late link ${String(x.value)}`));
      say('linked');
      await sleep(0);
      say('after sleep(0)');
      // and again: every link fires exactly once
      g.link(() => say('second late link'));
      await sleep(0.5);
      say('after sleep(0.5)');
    }, { mode: 'sim' });
    expect(out).toEqual(['0 linked', '0 late link done', '0 after sleep(0)', '0 second late link', '0.5 after sleep(0.5)']);
  });

  it("a link added while the greenlet's own notification pass runs joins that pass, ahead of callbacks queued meanwhile (gevent's Greenlet)", async () => {
    const { out, say } = logger();
    await run(async () => {
      const ev = new Event();
      spawn(async () => {
        await ev.wait();
        say('ev waiter woke');
      });
      const g = spawn(() => 'done');
      await g.join(); // main now runs inside g's pass
      ev.set(); // queues ev's pass
      g.rawlink((x) => say(`late link ${String(x.value)}`));
      say('linked');
      await sleep(0);
      say('after sleep(0)');
    }, { mode: 'sim' });
    // gevent 22.10 prints the same: Greenlet._notify_links loops until no link is left
    expect(out).toEqual(['0 linked', '0 late link done', '0 ev waiter woke', '0 after sleep(0)']);
  });

  it('unlink removes link, linkValue and linkException by the callback passed in', async () => {
    const { hub, reports } = simHub();
    const { out, say } = logger();
    const err = new ExpectedError('unlinked');
    await hub.run(async () => {
      const cb = () => say('cb');
      const g = spawn(async () => {
        await sleep(1);
        throw err;
      });
      for (const add of [g.link, g.linkValue, g.linkException, g.rawlink] as const) {
        add.call(g, cb);
        expect(g.linkcount()).toBe(1);
        g.unlink(cb);
        expect(g.linkcount()).toBe(0);
      }
      g.unlink(cb); // unlinking what is not linked is harmless
      await g.join();
      await sleep(0);
      say('end');
    });
    expect(out).toEqual(['1 end']);
    // the unlinked linkException no longer counts as handling the error
    expect(reports).toEqual([[err, 'Greenlet-1']]);
  });

  it('a link runs in a greenlet of its own, started at once: getcurrent() is it, and it may block (SpawnedLink)', async () => {
    const { hub, reports } = simHub();
    const { out, say } = logger();
    await hub.run(async () => {
      const main = getcurrent();
      const worker = spawn(async () => {
        try {
          await sleep(10);
        } finally {
          say('worker dies');
        }
      });
      const sup = spawn(sleep, 0.1);
      sup.link(async (g) => {
        const me = getcurrent();
        say(`link of ${g.name} in ${me.name}: main? ${me === main} source? ${me === g}`);
        await worker.kill(); // blocks: gevent runs links in a greenlet, so this is allowed
        say(`link: worker dead=${worker.dead}`);
      });
      sup.link(() => say('second link, after the first blocked'));
      await worker.join();
      say('main: worker joined');
    });
    expect(out).toEqual([
      '0.1 link of Greenlet-2 in link of Greenlet-2: main? false source? false',
      '0.1 second link, after the first blocked', // the notification pass goes on while the first waits
      '0.1 worker dies',
      '0.1 link: worker dead=true',
      '0.1 main: worker joined',
    ]);
    expect(reports).toEqual([]);
  });

  it('link, linkValue and linkException take only functions (TypeError at the call, as gevent)', () => {
    const hub = new Hub({ mode: 'sim' });
    const g = Greenlet.create(() => 1, [], hub, 1, 'g', null);
    for (const fn of ['link', 'linkValue', 'linkException'] as const) {
      expect(() => g[fn](42 as unknown as () => void)).toThrow(new TypeError('Expected callable: 42'));
    }
    expect(g.linkcount()).toBe(0);
  });

  it('an error in one link is reported and the later links still run (test_multiple_listeners_error)', async () => {
    const { hub, reports } = simHub();
    const { out, say } = logger();
    const e1 = new ExpectedError('listener1');
    const e3 = new ExpectedError('listener3');
    await hub.run(async () => {
      const g = spawn(() => 5);
      g.link(() => {
        say('listener1');
        throw e1;
      });
      g.link(() => say('listener2'));
      g.link(() => {
        say('listener3');
        throw e3;
      });
      g.link(() => say('listener4'));
      await sleep(0.01);
      say('main');
    });
    expect(out).toEqual(['0 listener1', '0 listener2', '0 listener3', '0 listener4', '0.01 main']);
    // each link runs in a greenlet of its own (gevent's SpawnedLink): its error is that greenlet's
    expect(reports).toEqual([
      [e1, 'link of Greenlet-1'],
      [e3, 'link of Greenlet-1'],
    ]);
  });

  it('a link unlinked by an earlier link of the same pass does not run (test_multiple_listeners_error_unlink)', async () => {
    const { hub, reports } = simHub();
    const results: number[] = [];
    await hub.run(async () => {
      const g = spawn(() => 5);
      const listener1 = (p: Greenlet<number>) => {
        p.unlink(listener2);
        results.push(5);
        throw new ExpectedError('listener1');
      };
      const listener2 = (p: Greenlet<number>) => {
        p.unlink(listener1);
        results.push(5);
        throw new ExpectedError('listener2');
      };
      g.link(listener1);
      g.link(listener2);
      g.link(() => {
        throw new ExpectedError('listener3');
      });
      await sleep(0.01);
    });
    expect(results).toEqual([5]);
    expect(reports.map(([e]) => (e as Error).message)).toEqual(['listener1', 'listener3']);
  });

  it('rawlink of something that is not a function is a TypeError', async () => {
    await run(async () => {
      const g = spawn(() => 1);
      expect(() => g.link(42 as unknown as () => void)).toThrow(TypeError);
      await g.join();
    }, { mode: 'sim' });
  });
});

describe('error reporting', () => {
  it('a failing greenlet is reported exactly once, with the greenlet and the hub', async () => {
    const seen: [unknown, Greenlet<unknown> | null, Hub, number][] = [];
    const hub = new Hub({ mode: 'sim', reporter: (e, g, h) => seen.push([e, g, h, h.now()]) });
    const err = new ExpectedError('once');
    let g!: Greenlet<never>;
    await hub.run(async () => {
      g = spawn(async () => {
        await sleep(0.3);
        throw err;
      });
      await g.join();
      await g.join();
      await sleep(1);
    });
    expect(seen).toEqual([[err, g, hub, 0.3]]);
  });

  it('is not reported while someone waits in get()', async () => {
    const { hub, reports } = simHub();
    await hub.run(async () => {
      const g = spawn(async () => {
        await sleep(0.3);
        throw new ExpectedError('handled by get');
      });
      const waiter = spawn(async () => {
        try {
          await g.get();
        } catch {
          /* handled */
        }
      });
      await joinall([g, waiter]);
    });
    expect(reports).toEqual([]);
  });

  it('is reported when the get() that waited for it timed out before it failed', async () => {
    const { hub, reports } = simHub();
    const err = new ExpectedError('nobody waits any more');
    await hub.run(async () => {
      const g = spawn(async () => {
        await sleep(0.3);
        throw err;
      });
      await expect(g.get({ timeout: 0.1 })).rejects.toBeInstanceOf(Timeout);
      await g.join();
    });
    expect(reports).toEqual([[err, 'Greenlet-1']]);
  });

  it('is not reported when joinall({raiseError: true}) waits for it, nor with a linkException', async () => {
    const { hub, reports } = simHub();
    await hub.run(async () => {
      const a = spawn(async () => {
        await sleep(0.1);
        throw new ExpectedError('a');
      });
      await expect(joinall([a], { raiseError: true })).rejects.toThrow('a');
      const b = spawn(async () => {
        await sleep(0.1);
        throw new ExpectedError('b');
      });
      b.linkException(() => {});
      await b.join();
    });
    expect(reports).toEqual([]);
  });

  it("the default reporter prints the stack, then '<virtual time> <greenlet> failed with <ErrorName>' on stderr", async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(' '));
    });
    const err = new TypeError('not a function');
    await run(async () => {
      const g = spawn(async () => {
        await sleep(1.5);
        throw err;
      });
      await g.join();
    }, { mode: 'sim' });
    const text = lines.join('\n');
    expect(text.startsWith(err.stack!)).toBe(true);
    expect(text.split('\n').at(-1)).toMatch(/^1\.5(0*)? Greenlet-1 failed with TypeError$/);
  });

  it('an error in one greenlet never stops the others (test__systemerror: a regular exception must not kill the program)', async () => {
    const { hub, reports } = simHub();
    const { out, say } = logger();
    await hub.run(async () => {
      const ticker = async (name: string) => {
        for (let i = 1; i <= 3; i++) {
          await sleep(0.5);
          say(`${name} ${i}`);
        }
      };
      const gs = [
        spawn(ticker, 'a'),
        spawn(async () => {
          await sleep(0.7);
          say('bad throws');
          throw new ExpectedError('bad');
        }),
        spawn(ticker, 'b'),
      ];
      await joinall(gs);
      say('main done');
    });
    expect(out).toEqual(['0.5 a 1', '0.5 b 1', '0.7 bad throws', '1 a 2', '1 b 2', '1.5 a 3', '1.5 b 3', '1.5 main done']);
    expect(reports.map(([e, g]) => [(e as Error).message, g])).toEqual([['bad', 'Greenlet-2']]);
  });

  it('a reporter that throws does not break the hub', async () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    const hub = new Hub({
      mode: 'sim',
      reporter: () => {
        throw new Error('reporter is broken');
      },
    });
    const v = await hub.run(async () => {
      spawn(() => {
        throw new ExpectedError('x');
      });
      await sleep(1);
      return hub.now();
    });
    expect(v).toBe(1);
    expect(spy).toHaveBeenCalled();
  });

  it('the error of main goes to run(), not to the reporter', async () => {
    const { hub, reports } = simHub();
    const err = new ExpectedError('main fails');
    await expect(
      hub.run(async () => {
        await sleep(1);
        throw err;
      }),
    ).rejects.toBe(err);
    expect(reports).toEqual([]);
  });
});
