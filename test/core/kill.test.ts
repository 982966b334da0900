/**
 * Killing greenlets: `Greenlet.kill` and `killall`, ported from gevent's test__greenlet.py (TestKill,
 * TestKillAfterStart, TestKillAfterStartLater, TestKillWhileRunning, TestRef) and test__api.py
 * (test_killing_dormant). Every test states the order of events and the virtual time of each.
 */
import { describe, it, expect } from 'vitest';
import { simHub, logger, ExpectedError, thrown } from '../helpers.js';
import { Greenlet, GreenletExit, spawn, spawnLater, sleep, getcurrent, killall, run } from 'geventjs';

/** The state gevent's TestKill.assertKilled checks. */
function killedState(g: Greenlet<unknown>) {
  return {
    dead: g.dead,
    started: g.started,
    ready: g.ready(),
    successful: g.successful(),
    valueIsGreenletExit: g.value instanceof GreenletExit,
    exception: g.exception,
  };
}
const KILLED = { dead: true, started: false, ready: true, successful: true, valueIsGreenletExit: true, exception: null };

describe('kill()', () => {
  it('raises GreenletExit through the callback queue: after callbacks queued before it, before those queued after', async () => {
    const { out, say } = logger();
    await run(async () => {
      const g = spawn(async () => {
        say('g start');
        try {
          await sleep(0.3);
        } catch (e) {
          say(`g caught ${(e as Error).name}`);
        }
        say('g finished');
      });
      spawn(() => say('queued before the kill'));
      await sleep(0.05);
      spawn(() => say('spawned before the kill'));
      const killing = g.kill(GreenletExit, { block: false });
      spawn(() => say('spawned after the kill'));
      say('kill() called');
      await killing;
      say('kill(block: false) returned');
      await sleep(0);
      say('main after sleep(0)');
    }, { mode: 'sim' });
    expect(out).toEqual([
      '0 g start',
      '0 queued before the kill',
      '0.05 kill() called',
      '0.05 kill(block: false) returned',
      '0.05 spawned before the kill',
      '0.05 g caught GreenletExit',
      '0.05 g finished',
      '0.05 spawned after the kill',
      '0.05 main after sleep(0)',
    ]);
  });

  it('test_killing_dormant: the target runs its except and the rest before kill() returns', async () => {
    const state: string[] = [];
    await run(async () => {
      const g = spawn(async () => {
        try {
          state.push('start');
          await sleep(0.3);
        } catch {
          state.push('except');
        }
        state.push('finished');
      });
      await sleep(0.05);
      expect(state).toEqual(['start']);
      await g.kill();
      expect(state).toEqual(['start', 'except', 'finished']);
      // the greenlet caught GreenletExit and returned normally: its value is its return value
      expect([g.successful(), g.value, g.exception]).toEqual([true, undefined, null]);
    }, { mode: 'sim' });
  });

  it('finally blocks of the target run (even when they block) before kill() returns', async () => {
    const { out, say } = logger();
    await run(async () => {
      const g = spawn(async () => {
        try {
          await sleep(10);
          say('never');
        } finally {
          say('finally begins');
          await sleep(0.5);
          say('finally ends');
        }
      });
      await sleep(1);
      await g.kill();
      say('kill returned');
      expect(killedState(g)).toEqual(KILLED);
    }, { mode: 'sim' });
    expect(out).toEqual(['1 finally begins', '1.5 finally ends', '1.5 kill returned']);
  });

  it('after a kill by GreenletExit: value is the GreenletExit, successful() is true, exception is null; killing again does not hurt', async () => {
    const { hub, reports } = simHub();
    await hub.run(async () => {
      const g = spawn(() => sleep(10));
      await sleep(0);
      const exit = new GreenletExit('custom');
      await g.kill(exit);
      expect(killedState(g)).toEqual(KILLED);
      expect(g.value).toBe(exit);
      await sleep(0.01); // spin the loop: nothing changes
      expect(killedState(g)).toEqual(KILLED);
      await g.kill();
      await g.kill(new ExpectedError());
      expect(g.value).toBe(exit);
      expect(hub.now()).toBe(0.01);
    });
    expect(reports).toEqual([]);
  });

  it('kill(new Error(x)) makes successful() false and the error is reported; an error class is instantiated', async () => {
    const { hub, reports } = simHub();
    await hub.run(async () => {
      const a = spawn(() => sleep(10));
      const b = spawn(() => sleep(10));
      await sleep(0);
      const err = new ExpectedError('x');
      await a.kill(err);
      expect([a.dead, a.successful(), a.exception, a.value]).toEqual([true, false, err, undefined]);
      await b.kill(ExpectedError);
      expect(b.exception).toBeInstanceOf(ExpectedError);
      expect(b.successful()).toBe(false);
    });
    expect(reports.map(([e, g]) => [(e as Error).name, (e as Error).message, g])).toEqual([
      ['ExpectedError', 'x', 'Greenlet-1'],
      ['ExpectedError', 'expected', 'Greenlet-2'],
    ]);
  });

  it('the first kill queued is the first delivered; a second kill reaches a greenlet that survived the first', async () => {
    const { hub, reports } = simHub();
    const { out, say } = logger();
    await hub.run(async () => {
      const g = spawn(async () => {
        for (;;) {
          try {
            await sleep(10);
          } catch (e) {
            say(`caught ${(e as Error).message}`);
            if ((e as Error).message === 'second') return 'survived both';
          }
        }
      });
      await sleep(0);
      await g.kill(new ExpectedError('first'), { block: false });
      await g.kill(new ExpectedError('second'), { block: false });
      await g.join();
      say(`value ${String(g.value)}`);
    });
    expect(out).toEqual(['0 caught first', '0 caught second', '0 value survived both']);
    expect(reports).toEqual([]);
  });

  it('a greenlet that catches GreenletExit and keeps going makes kill({timeout}) return with it still alive', async () => {
    const { out, say } = logger();
    await run(async () => {
      const g = spawn(async () => {
        try {
          await sleep(10);
        } catch (e) {
          say(`caught ${(e as Error).name}, carrying on`);
        }
        await sleep(5);
        say('g done');
        return 'stubborn';
      });
      await sleep(0);
      await g.kill(GreenletExit, { timeout: 1 });
      say(`kill returned, dead=${g.dead}`);
      await g.join();
      say(`joined, value=${String(g.value)} successful=${g.successful()}`);
    }, { mode: 'sim' });
    expect(out).toEqual(['0 caught GreenletExit, carrying on', '1 kill returned, dead=false', '5 g done', '5 joined, value=stubborn successful=true']);
  });

  it('a kill wakes the target out of a timed wait: the abandoned timeout never fires later', async () => {
    const { out, say } = logger();
    await run(async () => {
      const other = spawn(() => sleep(100));
      const g = spawn(async () => {
        try {
          await other.join(3);
        } catch (e) {
          say(`caught ${(e as Error).name}`);
        }
        await sleep(5);
        say('g woke from sleep(5)');
      });
      await sleep(1);
      await g.kill(GreenletExit, { block: false });
      await g.join();
      say('joined');
      await other.kill();
    }, { mode: 'sim' });
    // had the join timer (due at 3) survived, it would have cut the sleep(5) short
    expect(out).toEqual(['1 caught GreenletExit', '6 g woke from sleep(5)', '6 joined']);
  });

  it('a kill that arrives while sleep(0) has its wake queued: the abandoned wake does not end the next sleep', async () => {
    const { out, say } = logger();
    await run(async () => {
      const g = spawn(async () => {
        await sleep(0);
        try {
          await sleep(0); // its wake is queued behind the kill
        } catch (e) {
          say(`caught ${(e as Error).name}`);
        }
        await sleep(5);
        say('woke from sleep(5)');
      });
      await sleep(0);
      await g.kill(GreenletExit, { block: false });
      await g.join();
      say('joined');
    }, { mode: 'sim' });
    expect(out).toEqual(['0 caught GreenletExit', '5 woke from sleep(5)', '5 joined']);
  });

  it('kill of self with block raises GreenletExit in the caller: it dies at once, killed', async () => {
    const { out, say } = logger();
    await run(async () => {
      const g = spawn(async () => {
        await sleep(0.5);
        say('killing myself');
        try {
          await getcurrent().kill();
          say('never');
        } finally {
          say('finally');
        }
      });
      await g.join();
      say('joined');
      expect(killedState(g)).toEqual(KILLED);
    }, { mode: 'sim' });
    expect(out).toEqual(['0.5 killing myself', '0.5 finally', '0.5 joined']);
  });

  it('kill of self without block: GreenletExit arrives at the next blocking call', async () => {
    const { out, say } = logger();
    await run(async () => {
      const g = spawn(async () => {
        await getcurrent().kill(GreenletExit, { block: false });
        say('still running after kill(block: false)');
        try {
          await sleep(1);
          say('never');
        } catch (e) {
          say(`caught ${(e as Error).name} in sleep`);
          throw e;
        }
      });
      await g.join();
      say('joined');
      expect(killedState(g)).toEqual(KILLED);
    }, { mode: 'sim' });
    expect(out).toEqual(['0 still running after kill(block: false)', '0 caught GreenletExit in sleep', '0 joined']);
  });
});

describe('killing a greenlet that has not run (TestKill, TestKillAfterStart, TestKillAfterStartLater, TestKillWhileRunning)', () => {
  type Start = 'never started' | 'start()' | 'startLater(1)' | 'while running';
  const starts: Start[] = ['never started', 'start()', 'startLater(1)', 'while running'];
  const killers = [
    { how: 'kill', block: true },
    { how: 'kill', block: false },
    { how: 'killall', block: true },
    { how: 'killall', block: false },
  ] as const;
  for (const start of starts) {
    for (const { how, block } of killers) {
      it(`${start}, ${how}({block: ${block}}): the body never completes, links fire once, killed`, async () => {
        const result: number[] = [];
        const links: [number, Greenlet<unknown>][] = [];
        const { hub, reports } = simHub();
        await hub.run(async () => {
          const g = new Greenlet(async () => {
            if (start === 'while running') await sleep(10);
            result.push(1);
          });
          g.link((x) => links.push([hub.now(), x]));
          if (start === 'start()') g.start();
          if (start === 'startLater(1)') g.startLater(1);
          if (start === 'while running') {
            g.start();
            await sleep(0);
          }
          const kill = () => (how === 'kill' ? g.kill(GreenletExit, { block }) : killall([g], { block }));
          await kill();
          if (!block) await sleep(0.001);
          expect(killedState(g)).toEqual(KILLED);
          await sleep(0.01);
          expect(killedState(g)).toEqual(KILLED);
          await kill(); // a second kill must not hurt
          await sleep(2); // past a startLater(1) and a sleep: nothing runs
          expect(killedState(g)).toEqual(KILLED);
          // the link fired in the callback pass right after the kill, at the time of the kill
          expect(links).toEqual([[0, g]]);
        });
        expect(result).toEqual([]);
        expect(reports).toEqual([]);
      });
    }
  }

  it('a killed unstarted greenlet dies at once, without a switch: its links fire on the next callback pass', async () => {
    const { out, say } = logger();
    await run(async () => {
      const g = spawn(() => say('body'));
      g.link(() => say('link'));
      await g.kill();
      say(`kill returned dead=${g.dead}`);
      await sleep(0);
      say('after sleep(0)');
    }, { mode: 'sim' });
    expect(out).toEqual(['0 kill returned dead=true', '0 link', '0 after sleep(0)']);
  });
});

/** A body that sleeps 10 s and says `<name> dies` when killed. */
const dying = (say: (line: string) => void, name: string) => async () => {
  try {
    await sleep(10);
  } finally {
    say(`${name} dies`);
  }
};

/** A body that says `other 0..2`, yielding (sleep(0)) after each. */
const other = (say: (line: string) => void) => async () => {
  for (let i = 0; i < 3; i++) {
    say(`other ${i}`);
    await sleep(0);
  }
};

describe('the killer resumes as in gevent: right after the throw has run its course', () => {
  // gevent's kill and killall wait inside the kill callback (_kill, _killall3): the killer is switched
  // back as soon as the victim died or blocked, before callbacks queued meanwhile (here: other's sleep(0))
  it('kill()', async () => {
    const { out, say } = logger();
    await run(async () => {
      const v = spawn(dying(say, 'victim'));
      const o = spawn(other(say));
      await sleep(0);
      say('main kills');
      await v.kill();
      say('main: kill returned');
      await o.join();
    }, { mode: 'sim' });
    expect(out).toEqual(['0 other 0', '0 main kills', '0 other 1', '0 victim dies', '0 main: kill returned', '0 other 2']);
  });

  it('killall(): each victim in turn, then the killer', async () => {
    const { out, say } = logger();
    await run(async () => {
      const victim = (name: string) => async () => {
        try {
          await sleep(10);
        } finally {
          say(`${name} dies`);
          await sleep(0); // blocks while dying: the next victim is thrown into meanwhile
          say(`${name} dead`);
        }
      };
      const vs = [spawn(victim('v1')), spawn(victim('v2'))];
      const o = spawn(other(say));
      await sleep(0);
      await killall(vs);
      say('main: killall returned');
      await o.join();
    }, { mode: 'sim' });
    expect(out).toEqual([
      '0 other 0',
      '0 other 1',
      '0 v1 dies',
      '0 v2 dies',
      '0 other 2', // queued before the kill callback's sleep(0) wakes
      '0 v1 dead',
      '0 v2 dead',
      '0 main: killall returned',
    ]);
  });

  it('from a hub callback (a rawlink) nobody can wait, but the kills still go out; the call rejects', async () => {
    const { out, say } = logger();
    await run(async () => {
      const a = spawn(dying(say, 'a'));
      const b = spawn(dying(say, 'b'));
      const c = spawnLater(1, dying(say, 'c'));
      const trigger = spawn(sleep, 0.5);
      trigger.rawlink(() => {
        a.kill().catch((e: unknown) => say(`kill: ${(e as Error).message}`));
        killall([b, c]).catch((e: unknown) => say(`killall: ${(e as Error).message}`));
      });
      await sleep(2);
      say(`dead: ${[a, b, c].map((g) => g.dead).join(',')}`);
    }, { mode: 'sim' });
    expect(out).toEqual([
      '0.5 kill: Greenlet.kill(): cannot block inside a hub callback (a rawlink or a timer callback)',
      '0.5 killall: killall(): cannot block inside a hub callback (a rawlink or a timer callback)',
      '0.5 a dies',
      '0.5 b dies',
      '2 dead: true,true,true',
    ]);
  });

  it('killall() of a list holding the killer: it dies in its turn, and the victims after it die too', async () => {
    const { out, say } = logger();
    await run(async () => {
      const v1 = spawn(dying(say, 'v1'));
      const v2 = spawn(dying(say, 'v2'));
      const leader = spawn(async () => {
        try {
          await killall([v1, getcurrent(), v2]);
          say('leader: killall returned'); // never: GreenletExit reached it in its turn
        } finally {
          say('leader finally');
        }
      });
      await sleep(0);
      await leader.join();
      await sleep(1); // (the kill's last step must not wake a greenlet that is dead)
      say(`dead: ${[v1, leader, v2].map((g) => g.dead).join(',')} leader got ${String(leader.value)}`);
    }, { mode: 'sim' });
    expect(out).toEqual(['0 v1 dies', '0 leader finally', '0 v2 dies', '1 dead: true,true,true leader got GreenletExit']);
  });
});

describe('killall', () => {
  it('with block: every greenlet gets GreenletExit and killall returns when the last has died', async () => {
    const { out, say } = logger();
    await run(async () => {
      const worker = async (name: string, cleanup: number) => {
        try {
          await sleep(100);
        } finally {
          await sleep(cleanup);
          say(`${name} cleaned up`);
        }
      };
      const gs = [spawn(worker, 'a', 0.3), spawn(worker, 'b', 0.1), spawn(worker, 'c', 0.2)];
      await sleep(1);
      await killall(gs);
      say('killall returned');
      for (const g of gs) expect(killedState(g)).toEqual(KILLED);
    }, { mode: 'sim' });
    expect(out).toEqual(['1.1 b cleaned up', '1.2 c cleaned up', '1.3 a cleaned up', '1.3 killall returned']);
  });

  it('without block: returns at once; the greenlets die once the caller blocks', async () => {
    const { out, say } = logger();
    await run(async () => {
      const gs = [0, 1, 2].map((i) =>
        spawn(async () => {
          try {
            await sleep(100);
          } finally {
            say(`${i} exits`);
          }
        }),
      );
      await sleep(1);
      await killall(gs, { block: false });
      say(`killall returned, dead=${gs.map((g) => g.dead).join(',')}`);
      await sleep(0);
      say(`after sleep(0), dead=${gs.map((g) => g.dead).join(',')}`);
    }, { mode: 'sim' });
    expect(out).toEqual([
      '1 killall returned, dead=false,false,false',
      '1 0 exits',
      '1 1 exits',
      '1 2 exits',
      '1 after sleep(0), dead=true,true,true',
    ]);
  });

  it('with timeout: raises Timeout after timeout seconds if one greenlet refuses to die (gevent: ":raise Timeout")', async () => {
    const { out, say } = logger();
    await run(async () => {
      const polite = spawn(() => sleep(100));
      const stubborn = spawn(async () => {
        try {
          await sleep(100);
        } catch {
          say('stubborn ignores GreenletExit');
        }
        await sleep(5);
      });
      await sleep(0);
      const e = await thrown(() => killall([polite, stubborn], { timeout: 0.25 }));
      say(`killall raised ${String(e)} polite.dead=${polite.dead} stubborn.dead=${stubborn.dead}`);
      await stubborn.join();
      say('stubborn done');
    }, { mode: 'sim' });
    expect(out).toEqual(['0 stubborn ignores GreenletExit', '0.25 killall raised Timeout: 0.25 seconds polite.dead=true stubborn.dead=false', '5 stubborn done']);
  });

  it('with exception: raises that error in each; the errors are reported', async () => {
    const { hub, reports } = simHub();
    await hub.run(async () => {
      const gs = [spawn(() => sleep(10)), spawn(() => sleep(10)), spawnLater(5, () => 1)];
      await sleep(0);
      await killall(gs, { exception: ExpectedError });
      expect(gs.map((g) => [g.successful(), (g.exception as Error).name])).toEqual([
        [false, 'ExpectedError'],
        [false, 'ExpectedError'],
        [false, 'ExpectedError'],
      ]);
      expect(hub.now()).toBe(0);
    });
    // in list order, as gevent's _killall3 throws into each in turn (the unstarted one dies in its turn)
    expect(reports.map(([, g]) => g)).toEqual(['Greenlet-1', 'Greenlet-2', 'Greenlet-3']);
  });

  it('of nothing, or of greenlets already dead, returns without blocking', async () => {
    const { out, say } = logger();
    await run(async () => {
      const g = spawn(() => 1);
      await g.join();
      spawn(() => say('spawned'));
      await killall([]);
      await killall([g]);
      say('killall returned');
      expect(g.value).toBe(1);
      await sleep(0);
    }, { mode: 'sim' });
    expect(out).toEqual(['0 killall returned', '0 spawned']);
  });
});
