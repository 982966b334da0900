/**
 * The hub: LoopExit, running and ending a program, several hubs at once, adopted and foreign promises,
 * `idle()`, and real mode. Ported in spirit from gevent's test__hub.py, test__hub_join.py and the
 * LoopExit behaviour in notes/gevent.md; the report of blocked greenlets is geventjs's own.
 */
import { describe, it, expect, vi, afterEach } from 'vitest';
import { simHub, logger, ExpectedError, Flag } from '../helpers.js';
import { Hub, Greenlet, GreenletExit, LoopExit, Simulation, Socket, spawn, spawnLater, sleep, getcurrent, getHub, joinall, idle, wait, run } from 'geventjs';
import { keepShapes, keptShapes } from '../../src/core/shapes.js';


afterEach(() => {
  vi.restoreAllMocks();
});

describe('LoopExit', () => {
  it('is raised into main when everything blocks, naming every blocked greenlet, what it waits on and since when', async () => {
    const { out, say } = logger();
    let caught: unknown;
    await run(async () => {
      const a = spawn(async () => {
        await sleep(0.5);
        await sleep(Infinity);
      });
      const b = spawn(async () => {
        await sleep(1);
        await a.join();
      });
      const neverStarted = new Greenlet(() => 1);
      const c = spawn(() => neverStarted.join());
      try {
        await b.join();
      } catch (e) {
        caught = e;
        say('main caught LoopExit');
      }
      await killAll([a, b, c]);
    }, { mode: 'sim' });
    expect(out).toEqual(['1 main caught LoopExit']);
    expect(caught).toBeInstanceOf(LoopExit);
    const err = caught as LoopExit;
    expect(err.name).toBe('LoopExit');
    expect(err.message).toBe(
      [
        'This operation would block forever',
        '\tmain waiting on Greenlet.join (Greenlet-2) since 0.000s',
        '\tGreenlet-1 waiting on sleep since 0.500s',
        '\tGreenlet-2 waiting on Greenlet.join (Greenlet-1) since 1.000s',
        '\tGreenlet-4 waiting on Greenlet.join (Greenlet-3) since 0.000s',
      ].join('\n'),
    );
    // a greenlet that never started is not blocked: it is not listed
    expect(err.blocked).toEqual([
      { greenlet: 'main', waitingOn: 'Greenlet.join (Greenlet-2)', since: 0 },
      { greenlet: 'Greenlet-1', waitingOn: 'sleep', since: 0.5 },
      { greenlet: 'Greenlet-2', waitingOn: 'Greenlet.join (Greenlet-1)', since: 1 },
      { greenlet: 'Greenlet-4', waitingOn: 'Greenlet.join (Greenlet-3)', since: 0 },
    ]);
  });

  it('goes to main even when main is not the one stuck: main sleeps, then finds the others blocked', async () => {
    let caught: unknown;
    const { hub } = simHub();
    await hub.run(async () => {
      const flag = new Flag('never set');
      const g = spawn(() => flag.wait());
      try {
        await sleep(3);
        await sleep(Infinity);
      } catch (e) {
        caught = e;
      }
      expect(hub.now()).toBe(3);
      await g.kill();
    });
    expect((caught as LoopExit).blocked).toEqual([
      { greenlet: 'main', waitingOn: 'sleep', since: 3 },
      { greenlet: 'Greenlet-1', waitingOn: 'Flag.wait (flag never set)', since: 0 },
    ]);
  });

  it('leaves the hub usable: main catches it, the work goes on, and it can come again', async () => {
    const { out, say } = logger();
    await run(async () => {
      const flag = new Flag('f');
      const waiter = spawn(async () => {
        await flag.wait();
        say('waiter released');
      });
      try {
        await waiter.join();
      } catch (e) {
        say(`caught ${(e as Error).name} (${(e as LoopExit).blocked.length} blocked)`);
      }
      spawnLater(2, () => flag.set());
      await waiter.join();
      say('joined waiter');
      try {
        await sleep(Infinity);
      } catch (e) {
        say(`caught ${(e as Error).name} again (${(e as LoopExit).blocked.length} blocked)`);
      }
    }, { mode: 'sim' });
    expect(out).toEqual(['0 caught LoopExit (2 blocked)', '2 waiter released', '2 joined waiter', '2 caught LoopExit again (1 blocked)']);
  });

  it('uncaught, it ends run() with a rejection, and the blocked greenlets are killed (their finally runs)', async () => {
    const { out, say } = logger();
    const { hub } = simHub();
    const p = hub.run(async () => {
      spawn(async () => {
        try {
          await new Flag('x').wait();
        } finally {
          say('blocked greenlet cleaned up');
        }
      });
      await sleep(1);
      await sleep(Infinity);
    });
    await expect(p).rejects.toBeInstanceOf(LoopExit);
    expect(out).toEqual(['1 blocked greenlet cleaned up']);
    expect(hub.closed).toBe(true);
  });
});

async function killAll(gs: Greenlet<unknown>[]): Promise<void> {
  for (const g of gs) await g.kill();
}

describe('running a program', () => {
  it('run() resolves with the value of main', async () => {
    expect(await run(() => 42, { mode: 'sim' })).toBe(42);
    expect(
      await run(async () => {
        await sleep(2.5);
        return getHub().now();
      }, { mode: 'sim' }),
    ).toBe(2.5);
  });

  it('run() rejects with the error of main (sync or async)', async () => {
    const err = new ExpectedError('main');
    await expect(
      run(() => {
        throw err;
      }, { mode: 'sim' }),
    ).rejects.toBe(err);
    await expect(
      run(async () => {
        await sleep(1);
        throw err;
      }, { mode: 'sim' }),
    ).rejects.toBe(err);
  });

  it('greenlets alive when main returns get GreenletExit (their finally runs, even blocking) and the hub closes', async () => {
    const { out, say } = logger();
    const { hub, reports } = simHub();
    const closed: number[] = [];
    hub.onClose(() => closed.push(hub.now()));
    const gs: Greenlet<unknown>[] = [];
    const v = await hub.run(async () => {
      gs.push(
        spawn(async () => {
          try {
            await sleep(100);
          } finally {
            say('sleeper finally');
            await sleep(0.25);
            say('sleeper finally done');
          }
        }),
      );
      gs.push(spawnLater(10, () => say('never runs')));
      await sleep(1);
      gs.push(spawn(() => say('spawned just before main returns: never runs')));
      say('main returns');
      return 'main value';
    });
    expect(v).toBe('main value');
    expect(out).toEqual(['1 main returns', '1 sleeper finally', '1.25 sleeper finally done']);
    expect(gs.map((g) => g.value instanceof GreenletExit)).toEqual([true, true, true]);
    expect(hub.neverRan).toEqual(['Greenlet-2', 'Greenlet-3']);
    expect(hub.closed).toBe(true);
    expect(closed).toEqual([1.25]);
    expect(reports).toEqual([]);
  });

  it('a greenlet that ignores GreenletExit at the end is abandoned after shutdownTimeout, and reported', async () => {
    const { out, say } = logger();
    const { hub, reports } = simHub({ shutdownTimeout: 0.5 });
    await hub.run(async () => {
      spawn(async () => {
        for (;;) {
          try {
            await sleep(100);
          } catch {
            say('stubborn ignores GreenletExit');
          }
        }
      });
      await sleep(0);
    });
    expect(out).toEqual(['0 stubborn ignores GreenletExit']);
    expect(hub.closed).toBe(true);
    expect(reports.map(([e, g]) => [(e as Error).message, g])).toEqual([
      ['greenlets still alive 0.5s after GreenletExit, abandoned: Greenlet-1', null],
    ]);
  });

  it('hubs are numbered one after another, even when a run closes in between', async () => {
    const a = new Hub({ mode: 'sim' });
    await a.run(() => sleep(1));
    const b = new Hub({ mode: 'sim' });
    expect(b.id).toBe(a.id + 1);
  });

  it("a subclass of Hub is constructed only by its user (the library builds no hidden instance of it)", async () => {
    let built = 0;
    class CountingHub extends Hub {
      constructor() {
        super({ mode: 'sim' });
        built++;
      }
    }
    await new CountingHub().run(() => sleep(1));
    await new CountingHub().run(() => sleep(1));
    expect(built).toBe(2);
  });

  it("a closing hub renews the objects that keep the library's hidden classes alive; a maker that throws costs nothing else", async () => {
    keepShapes(() => {
      throw new Error('this maker cannot build');
    });
    const hubsKept = () => keptShapes().filter((k): k is Hub => k instanceof Hub);
    await new Hub({ mode: 'sim' }).run(() => sleep(1));
    await new Simulation({ seed: 1 }).run(() => sleep(1));
    const kept = keptShapes();
    // a keeper hub of each library hub class, with a main greenlet; no id taken, never run
    const [hub, sim] = hubsKept();
    expect([hub!.constructor, sim!.constructor]).toEqual([Hub, Simulation]);
    expect([hub!.id, sim!.id, hub!.closed, sim!.closed]).toEqual([0, 0, false, false]);
    expect(kept.some((k) => k instanceof Socket)).toBe(true);
    expect(kept.at(-1)).toBeNull(); // the maker that threw

    // a user's subclass closing: the layers' keepers are built anew, the hub keepers stay, and the
    // subclass itself is never built by the library
    class UserHub extends Hub {}
    await new UserHub({ mode: 'sim' }).run(() => sleep(1));
    const after = keptShapes();
    expect(after.find((k) => k instanceof Socket)).not.toBe(kept.find((k) => k instanceof Socket));
    expect(hubsKept()).toEqual([hub, sim]);
    expect(hubsKept().every((h) => h.constructor !== UserHub)).toBe(true);

    // a Simulation closing renews the Simulation keeper only; the next hub still gets the next id
    const s = new Simulation({ seed: 2 });
    await s.run(() => sleep(1));
    expect(hubsKept()[0]).toBe(hub);
    expect(hubsKept()[1]).not.toBe(sim);
    expect(new Hub({ mode: 'sim' }).id).toBe(s.id + 1);
  });

  it('a hub runs once: run() again rejects', async () => {
    const { hub } = simHub();
    await hub.run(() => 1);
    await expect(hub.run(() => 2)).rejects.toThrow(/finished/);
  });

  it('run(main, {until}) stops main at that virtual time with GreenletExit', async () => {
    const { out, say } = logger();
    const v = await run(async () => {
      try {
        for (;;) await sleep(1);
      } finally {
        say('main stopped');
      }
    }, { mode: 'sim', until: 3.5 });
    expect(v).toBeInstanceOf(GreenletExit);
    expect(out).toEqual(['3.5 main stopped']);
  });

  it('a blocking call outside any greenlet of a hub is an error that says so', async () => {
    const { hub } = simHub();
    await hub.run(() => 1);
    expect(() => hub.sleep(1)).toThrow(/the hub has finished/);
  });

  it('blocking inside a hub callback (a rawlink) is an error that says so, and is reported', async () => {
    const { hub, reports } = simHub();
    await hub.run(async () => {
      const g = spawn(() => 1);
      g.rawlink(() => {
        void sleep(1);
      });
      await sleep(0.5);
    });
    expect(reports.map(([e, g]) => [(e as Error).message, g])).toEqual([
      ['sleep(): cannot block inside a hub callback (a rawlink or a timer callback)', null],
    ]);
  });
});

describe('the host loop', () => {
  it('a long simulation lets the host loop in while it runs (a page stays responsive, host timers fire), with the same trace', async () => {
    // 100 greenlets × 5,000 sleeps: half a million wake-ups, far longer than one slice on any machine
    const program = async () => {
      const gs = Array.from({ length: 100 }, (_, i) =>
        spawn(async () => {
          for (let k = 0; k < 5000; k++) await sleep(0.001 * (1 + ((i * 7 + k) % 13)));
        }),
      );
      await joinall(gs);
      return getHub().now();
    };
    const quiet = new Hub({ mode: 'sim', seed: 3 });
    const end = await quiet.run(program);

    const hub = new Hub({ mode: 'sim', seed: 3 });
    const seenAt: number[] = [];
    let done = false;
    const tick = (): void => {
      seenAt.push(hub.now());
      if (!done) setTimeout(tick, 0);
    };
    setTimeout(tick, 0);
    expect(await hub.run(program)).toBe(end);
    done = true;
    // host timers ran between the start and the end of the simulation, not only after it
    expect(seenAt.some((t) => t > 0 && t < end)).toBe(true);
    expect(hub.traceHash()).toBe(quiet.traceHash());
  });
});

describe('a blocking call that is not awaited', () => {
  it('sleep(1); sleep(1) without await in main: the second call says a blocking call was not awaited', async () => {
    const { hub, reports } = simHub();
    let caught: unknown;
    try {
      await hub.run(() => {
        /* eslint-disable @typescript-eslint/no-floating-promises -- the mistake under test */
        sleep(1);
        sleep(1);
        /* eslint-enable @typescript-eslint/no-floating-promises */
      });
    } catch (e) {
      caught = e;
    }
    expect((caught as Error).message).toBe(
      'sleep(): main is already blocked in sleep: a blocking call was not awaited (every blocking geventjs call returns a Promise)',
    );
    // main also returned with its first sleep pending: that is reported once
    expect(reports.map(([e, g]) => [(e as Error).message, g])).toEqual([
      ['main returned while blocked in sleep: a blocking call was not awaited', 'main'],
    ]);
  });

  it('in a greenlet: it fails with that error, reported with the greenlet; the others go on', async () => {
    const { hub, reports } = simHub();
    const { out, say } = logger();
    await hub.run(async () => {
      const g = spawn(async (s: number) => {
        void sleep(s);
        await sleep(s);
      }, 1);
      const other = spawn(async () => {
        await sleep(2);
        say('other done');
      });
      await joinall([g, other]);
      expect(g.successful()).toBe(false);
    });
    expect(out).toEqual(['2 other done']);
    expect(reports[0]).toEqual([
      new Error('sleep(): Greenlet-1 is already blocked in sleep: a blocking call was not awaited (every blocking geventjs call returns a Promise)'),
      'Greenlet-1',
    ]);
  });

  it('an ordinary function that blocks without await returns while blocked: reported', async () => {
    const { hub, reports } = simHub();
    await hub.run(async () => {
      const g = spawn(() => {
        void sleep(1);
        return 'returned';
      });
      await g.join();
      expect(g.value).toBe('returned');
    });
    expect(reports.map(([e, g]) => [(e as Error).message, g])).toEqual([
      ['Greenlet-1 returned while blocked in sleep: a blocking call was not awaited', 'Greenlet-1'],
    ]);
  });
});

describe('several hubs at once', () => {
  it('never see each other: names, clocks, getHub() and getcurrent() are per hub, and each is deterministic', async () => {
    const program = (label: string, step: number) => async () => {
      const hub = getHub();
      const out: string[] = [];
      const worker = async (i: number) => {
        for (let k = 0; k < 3; k++) {
          await sleep(step * (i + 1));
          expect(getHub()).toBe(hub);
          out.push(`${hub.now()} ${label} ${getcurrent().name} ${k}`);
        }
      };
      const gs = [spawn(worker, 0), spawn(worker, 1)];
      expect(gs.map((g) => g.hub)).toEqual([hub, hub]);
      await joinall(gs);
      return out;
    };
    const alone = [await run(program('A', 1), { mode: 'sim' }), await run(program('B', 0.7), { mode: 'sim' })];
    const a = new Hub({ mode: 'sim', seed: 5 });
    const b = new Hub({ mode: 'sim', seed: 5 });
    const together = await Promise.all([a.run(program('A', 1)), b.run(program('B', 0.7))]);
    expect(together).toEqual(alone);
    // at t=2 Greenlet-2's first timer (armed at 0) fires before Greenlet-1's second (armed at 1)
    expect(together[0]).toEqual(['1 A Greenlet-1 0', '2 A Greenlet-2 0', '2 A Greenlet-1 1', '3 A Greenlet-1 2', '4 A Greenlet-2 1', '6 A Greenlet-2 2']);
    expect(together[1]![0]).toBe('0.7 B Greenlet-1 0');
    expect([a.now(), b.now()]).toEqual([6, 4.2]);
  });

  it('a LoopExit in one hub does not disturb another running at the same time', async () => {
    const stuck = run(() => new Flag('nobody sets me').wait(), { mode: 'sim' });
    const fine = run(async () => {
      for (let i = 0; i < 100; i++) await sleep(0.01);
      return getHub().now();
    }, { mode: 'sim' });
    const [s, f] = await Promise.allSettled([stuck, fine]);
    expect(s.status).toBe('rejected');
    expect((s as PromiseRejectedResult).reason).toBeInstanceOf(LoopExit);
    expect(f).toEqual({ status: 'fulfilled', value: 1 });
  });
});

describe('outside promises', () => {
  it('hub.external(promise) in sim mode: virtual time stands still and nothing else runs until it settles', async () => {
    const { out, say } = logger();
    await run(async () => {
      const hub = getHub();
      spawn(() => say('spawned before external: runs after it'));
      spawnLater(0.001, () => say('timer at 0.001'));
      const v = await hub.external(new Promise<number>((resolve) => setImmediate(() => resolve(42))));
      say(`external -> ${v}`);
      const e = await hub.external(Promise.reject(new ExpectedError('io failed'))).catch((err: unknown) => err);
      say(`external rejected -> ${(e as Error).message}`);
      await sleep(0.01);
    }, { mode: 'sim' });
    expect(out).toEqual(['0 external -> 42', '0 external rejected -> io failed', '0 spawned before external: runs after it', '0.001 timer at 0.001']);
  });

  it('hub.external(promise) in real mode: other greenlets run meanwhile', async () => {
    const out: string[] = [];
    await run(async () => {
      const hub = getHub();
      const ticker = spawn(async () => {
        for (let i = 0; i < 3; i++) {
          await sleep(0.005);
          out.push(`tick ${i}`);
        }
      });
      const v = await hub.external(new Promise<string>((resolve) => setTimeout(() => resolve('slow io'), 60)));
      out.push(`external -> ${v}`);
      await ticker.join();
    }, { mode: 'real' });
    expect(out).toEqual(['tick 0', 'tick 1', 'tick 2', 'external -> slow io']);
  });

  it('a plain await of a real timer inside a greenlet (sim mode) fails the program with ERR_GEVENTJS_FOREIGN_AWAIT naming the greenlet', async () => {
    const { hub } = simHub();
    let resumed = false;
    const p = hub.run(async () => {
      const g = spawn(async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        resumed = true;
      });
      g.name = 'fetcher';
      await g.join();
      return 'main finished';
    });
    const err = (await p.catch((e: unknown) => e)) as Error & { code?: string };
    expect(err.code).toBe('ERR_GEVENTJS_FOREIGN_AWAIT');
    expect(err.message).toMatch(/^fetcher awaited a promise the hub does not own/);
    expect(err.message).toMatch(/getHub\(\)\.external\(promise\)/);
    expect(hub.closed).toBe(true);
    // the detached greenlet's code still resumes when its real timer fires, but on no hub
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(resumed).toBe(true);
  });

  it('main itself awaiting a foreign promise fails run() the same way', async () => {
    const err = (await run(async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }, { mode: 'sim' }).catch((e: unknown) => e)) as Error & { code?: string };
    expect(err.code).toBe('ERR_GEVENTJS_FOREIGN_AWAIT');
    expect(err.message).toMatch(/^main awaited a promise the hub does not own/);
  });

  it('awaiting an already-resolved promise is not foreign: it never leaves the microtask queue', async () => {
    const v = await run(async () => {
      await Promise.resolve();
      await sleep(1);
      await new Promise<void>((resolve) => queueMicrotask(resolve));
      return getHub().now();
    }, { mode: 'sim' });
    expect(v).toBe(1);
  });
});

describe('idle()', () => {
  it('returns once no callback is queued, before time moves on (and after a timer due now)', async () => {
    const { out, say } = logger();
    await run(async () => {
      spawnLater(0.5, () => say('timer at 0.5'));
      spawnLater(0, () => say('timer at 0'));
      spawn(async () => {
        for (let i = 0; i < 3; i++) {
          say(`busy ${i}`);
          await sleep(0);
        }
      });
      await idle();
      say('idle returned');
      await sleep(1);
    }, { mode: 'sim' });
    expect(out).toEqual(['0 busy 0', '0 busy 1', '0 busy 2', '0 timer at 0', '0 idle returned', '0.5 timer at 0.5']);
  });
});

describe('real mode', () => {
  it('sleep(0.02) takes about 20 ms of wall time, and hub.now() follows the real clock', async () => {
    const started = performance.now();
    const now = await run(async () => {
      await sleep(0.02);
      return getHub().now();
    }, { mode: 'real' });
    const wall = performance.now() - started;
    expect(wall).toBeGreaterThanOrEqual(19);
    expect(wall).toBeLessThan(500);
    expect(now).toBeGreaterThanOrEqual(0.019);
    expect(now).toBeLessThan(0.5);
  });

  it('orders events exactly as sim mode does', async () => {
    const program = async () => {
      const out: string[] = [];
      spawnLater(0, () => out.push('spawnLater(0)'));
      const gs = ['a', 'b'].map((name) =>
        spawn(async () => {
          out.push(`${name} start`);
          await sleep(0);
          out.push(`${name} after sleep(0)`);
          await sleep(name === 'a' ? 0.02 : 0.01);
          out.push(`${name} after sleep`);
        }),
      );
      await sleep(0);
      out.push('main after sleep(0)');
      await joinall(gs);
      out.push('main joined');
      return out;
    };
    const sim = await run(program, { mode: 'sim' });
    const real = await run(program, { mode: 'real' });
    expect(real).toEqual(sim);
    expect(sim).toEqual([
      'a start',
      'b start',
      'main after sleep(0)',
      'a after sleep(0)',
      'b after sleep(0)',
      'spawnLater(0)',
      'b after sleep',
      'a after sleep',
      'main joined',
    ]);
  });

  it('an adopted promise keeps wait() waiting (and LoopExit away) until it settles; a wait() timeout still fires', async () => {
    const out: string[] = [];
    await run(async () => {
      const hub = getHub();
      const g = spawn(async () => {
        out.push(`io -> ${await hub.external(new Promise<string>((resolve) => setTimeout(() => resolve('data'), 60)))}`);
      });
      await sleep(0);
      const early = await wait(null, { timeout: 0.01 });
      out.push(`wait(timeout 0.01) -> ${JSON.stringify(early)} g.dead=${g.dead}`);
      const t = hub.now();
      const drained = await wait();
      out.push(`wait() -> ${JSON.stringify(drained)} g.dead=${g.dead} waited at least 40 ms: ${hub.now() - t >= 0.04}`);
    }, { mode: 'real' });
    expect(out).toEqual(['wait(timeout 0.01) -> null g.dead=false', 'io -> data', 'wait() -> [] g.dead=true waited at least 40 ms: true']);
  });

  it('LoopExit is raised when nothing can happen, as in sim mode', async () => {
    const err = await run(() => new Flag('r').wait(), { mode: 'real' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LoopExit);
    expect((err as LoopExit).blocked).toEqual([{ greenlet: 'main', waitingOn: 'Flag.wait (flag r)', since: expect.any(Number) }]);
  });
});
