/**
 * Waiting on many objects: `joinall`, `wait`, `iwait`. Ported from gevent's test__greenlet.py (TestStuff,
 * TestJoinAll), test__joinall.py and test__hub_join_timeout.py. Every test states the order of events
 * and the virtual time at which each happens.
 */
import { describe, it, expect } from 'vitest';
import { simHub, logger, ExpectedError, Flag } from '../helpers.js';
import { Greenlet, Linkable, Event, spawn, spawnLater, sleep, getHub, joinall, wait, iwait, run } from 'geventjs';


/** A greenlet named `name` that sleeps `s` seconds, then returns `name` (or throws, with `fail`). */
function after(s: number, name: string, fail = false): Greenlet<string> {
  const g = spawn(async () => {
    await sleep(s);
    if (fail) throw new ExpectedError(name);
    return name;
  });
  g.name = name;
  return g;
}

const names = (gs: readonly { name?: string; label?: string }[]): string[] => gs.map((g) => g.name ?? g.label ?? '?');

describe('joinall', () => {
  it('returns the finished greenlets in completion order, when the last finishes', async () => {
    const { out, say } = logger();
    await run(async () => {
      const done = await joinall([after(0.3, 'a'), after(0.1, 'b'), after(0.2, 'c')]);
      say(`joinall -> ${names(done).join(' ')}`);
    }, { mode: 'sim' });
    expect(out).toEqual(['0.3 joinall -> b c a']);
  });

  it('timeout returns early, at exactly the timeout, with what finished so far', async () => {
    const { out, say } = logger();
    await run(async () => {
      const gs = [after(0.3, 'a'), after(0.1, 'b'), after(0.2, 'c')];
      say(`timeout 0.15 -> ${names(await joinall(gs, { timeout: 0.15 })).join(' ')}`);
      say(`timeout 0 -> ${names(await joinall(gs, { timeout: 0 })).join(' ')}`);
      say(`then all -> ${names(await joinall(gs)).join(' ')}`);
    }, { mode: 'sim' });
    // a joinall on greenlets already finished sees them in the order given (their links fire in that order)
    expect(out).toEqual(['0.15 timeout 0.15 -> b', '0.15 timeout 0 -> b', '0.3 then all -> b c a']);
  });

  it('count returns once that many have finished', async () => {
    const { out, say } = logger();
    await run(async () => {
      const gs = [after(0.3, 'a'), after(0.1, 'b'), after(0.2, 'c')];
      say(`count 2 -> ${names(await joinall(gs, { count: 2 })).join(' ')}`);
      say(`count 0 -> [${names(await joinall(gs, { count: 0 })).join(' ')}]`);
      say(`count 5 -> ${names(await joinall(gs, { count: 5 })).join(' ')}`);
    }, { mode: 'sim' });
    // main runs inside c's notification pass (c's finishing woke it), so its new link on c joins that
    // pass and comes before b's, whose pass is queued anew: gevent 22.10 gives c b a too
    expect(out).toEqual(['0.2 count 2 -> b c', '0.2 count 0 -> []', '0.3 count 5 -> c b a']);
  });

  it('of nothing returns [] at once', async () => {
    await run(async () => {
      expect(await joinall([])).toEqual([]);
      expect(await joinall([], { raiseError: true })).toEqual([]);
      expect(getHub().now()).toBe(0);
    }, { mode: 'sim' });
  });

  it('the same greenlet twice is waited for twice (test__joinall.py)', async () => {
    await run(async () => {
      const a = spawn(() => 1);
      const b = spawn(() => 2);
      // a finishes first and notifies both of its links in one pass, then b
      const done = await joinall([a, b, a]);
      expect(done).toEqual([a, a, b]);
      expect(a.linkcount() + b.linkcount()).toBe(0);
    }, { mode: 'sim' });
  });

  it('raiseError without failures returns the values in completion order (test_wait_noerrors)', async () => {
    await run(async () => {
      const x = spawn(() => 1);
      const y = spawn(() => 2);
      const z = spawn(() => 3);
      const done = await joinall([x, y, z], { raiseError: true });
      expect(done).toEqual([x, y, z]);
      expect([x.value, y.value, z.value]).toEqual([1, 2, 3]);
    }, { mode: 'sim' });
  });

  it('raiseError raises the error of the first greenlet to *finish* failing; the others keep running (test_joinall_exception_order)', async () => {
    const { hub, reports } = simHub();
    const { out, say } = logger();
    await hub.run(async () => {
      const first = after(0.1, 'first', true); // listed first, fails second
      const second = after(0.05, 'second', true);
      const survivor = after(0.2, 'survivor');
      try {
        await joinall([first, second, survivor], { raiseError: true });
      } catch (e) {
        say(`raised ${(e as Error).message}`);
        expect(e).toBe(second.exception);
      }
      say(`first.dead=${first.dead} survivor.dead=${survivor.dead}`);
      const all = await joinall([first, second, survivor]);
      say(`joinall -> ${names(all).join(' ')}`);
    });
    expect(out).toEqual(['0.05 raised second', '0.05 first.dead=false survivor.dead=false', '0.2 joinall -> second first survivor']);
    // once joinall has raised nobody waits for `first` any more: its failure is reported
    expect(reports.map(([e, g]) => [(e as Error).message, g])).toEqual([['first', 'first']]);
  });

  it('raiseError on a greenlet that already failed raises at once (test_wait_error)', async () => {
    const { hub, reports } = simHub();
    await hub.run(async () => {
      const x = after(0.1, 'x');
      const y = after(0, 'y', true);
      await expect(joinall([x, y], { raiseError: true })).rejects.toThrow('y');
      expect(hub.now()).toBe(0);
      await expect(joinall([y], { raiseError: true })).rejects.toThrow('y');
      expect(hub.now()).toBe(0);
      await x.join();
      expect(hub.now()).toBe(0.1);
    });
    expect(reports).toEqual([]);
  });

  it('raiseError with timeout returns what finished, without raising, when nothing failed in time', async () => {
    const { hub } = simHub();
    await hub.run(async () => {
      const gs = [after(0.1, 'ok'), after(0.5, 'late failure', true)];
      const done = await joinall(gs, { raiseError: true, timeout: 0.2 });
      expect([names(done), hub.now()]).toEqual([['ok'], 0.2]);
      await joinall(gs);
    });
  });

  it('without raiseError, count still works and a failure is only reported (test_joinall_count_raise_error)', async () => {
    const { hub, reports } = simHub();
    await hub.run(async () => {
      const sleeper = spawn(async () => {
        for (;;) await sleep(0.1);
      });
      const raiser = spawn(() => {
        throw new ExpectedError('count');
      });
      const done = await joinall([sleeper, raiser], { count: 1 });
      expect(done).toEqual([raiser]);
      expect([raiser.ready(), sleeper.ready(), hub.now()]).toEqual([true, false, 0]);
      await sleeper.kill();
      expect(sleeper.ready()).toBe(true);
    });
    expect(reports.map(([e, g]) => [(e as Error).message, g])).toEqual([['count', 'Greenlet-2']]);
  });

  it('a greenlet never started: joinall with a timeout returns [] at the timeout (TestJoinAll0)', async () => {
    await run(async () => {
      const g = new Greenlet(() => 1);
      expect(await joinall([g], { timeout: 0.25 })).toEqual([]);
      expect(getHub().now()).toBe(0.25);
    }, { mode: 'sim' });
  });
});

describe('wait', () => {
  it('over greenlets and other linkables, in the order they became ready', async () => {
    const { out, say } = logger();
    await run(async () => {
      const f1 = new Flag('f1');
      const f2 = new Flag('f2');
      const g = after(0.2, 'g');
      spawnLater(0.1, () => f2.set());
      spawnLater(0.3, () => f1.set());
      const done = await wait([f1, g, f2]);
      say(`wait -> ${names(done).join(' ')}`);
    }, { mode: 'sim' });
    expect(out).toEqual(['0.3 wait -> f2 g f1']);
  });

  it("objects already ready come in link order, except one whose notification pass woke the caller: its next pass comes after the others (gevent's)", async () => {
    const { out, say } = logger();
    await run(async () => {
      const ev = new Event();
      const g = spawn(() => 'g');
      g.name = 'g';
      spawnLater(0.05, () => ev.set());
      await g.join();
      const n = (xs: unknown[]) => xs.map((x) => (x === ev ? 'ev' : 'g')).join(' ');
      say(`woken by ev: ${n(await wait([ev]))}`);
      // running inside ev's pass: a link added to ev now waits for the pass to end
      say(`inside ev's pass: ${n(await wait([ev, g]))}`);
      await sleep(0.01);
      say(`after a sleep: ${n(await wait([ev, g]))}`);
    }, { mode: 'sim' });
    // gevent 22.10: [ev], [g, ev], then [ev, g]
    expect(out).toEqual(['0.05 woken by ev: ev', "0.05 inside ev's pass: g ev", '0.06 after a sleep: ev g']);
  });

  it('with count and timeout', async () => {
    const { out, say } = logger();
    await run(async () => {
      const f = new Flag('f');
      const g = after(0.2, 'g');
      const h = after(0.5, 'h');
      spawnLater(0.1, () => f.set());
      say(`count 1 -> ${names(await wait([g, h, f], { count: 1 })).join(' ')}`);
      say(`timeout 0.15 -> ${names(await wait([g, h], { timeout: 0.15 })).join(' ')}`);
      say(`timeout 0.1 -> [${names(await wait([h], { timeout: 0.1 })).join(' ')}]`);
      say(`count 2 timeout 1 -> ${names(await wait([h, f, g], { count: 2, timeout: 1 })).join(' ')}`);
    }, { mode: 'sim' });
    // objects already ready are seen in the order given
    expect(out).toEqual(['0.1 count 1 -> f', '0.25 timeout 0.15 -> g', '0.35 timeout 0.1 -> []', '0.35 count 2 timeout 1 -> f g']);
  });

  it('leaves no links behind on the objects it waited on', async () => {
    await run(async () => {
      const f = new Flag('f');
      const g = after(1, 'g');
      await wait([f, g], { timeout: 0.5 });
      expect([f.linkcount(), g.linkcount()]).toEqual([0, 0]);
      await wait([f, g], { count: 1 });
      expect([f.linkcount(), g.linkcount()]).toEqual([0, 0]);
    }, { mode: 'sim' });
  });

  it('bad count or timeout is a TypeError', async () => {
    await run(async () => {
      const g = after(0, 'g');
      await expect(wait([g], { count: Number.NaN })).rejects.toThrow(TypeError);
      await expect(wait([g], { timeout: 'soon' as unknown as number })).rejects.toThrow(TypeError);
      await g.join();
    }, { mode: 'sim' });
  });

  it('wait() with no objects returns [] when the hub has nothing left to do (test__hub_join_timeout)', async () => {
    const { out, say } = logger();
    await run(async () => {
      const x = spawn(() => 5);
      say(`callback variant -> ${JSON.stringify(await wait(null, { timeout: 10 }))} x.value=${String(x.value)}`);
      const later = spawnLater(0.05, () => 5);
      say(`timer variant -> ${JSON.stringify(await wait(undefined, { timeout: 10 }))} dead=${later.dead}`);
      const far = spawnLater(10, () => 5);
      say(`timeout -> ${JSON.stringify(await wait(null, { timeout: 0.05 }))} far.dead=${far.dead}`);
      await far.kill();
      say(`after kill -> ${JSON.stringify(await wait())}`);
    }, { mode: 'sim' });
    expect(out).toEqual([
      '0 callback variant -> [] x.value=5',
      '0.05 timer variant -> [] dead=true',
      '0.1 timeout -> null far.dead=false',
      '0.1 after kill -> []',
    ]);
  });

  it('wait() with no objects does not wait for greenlets blocked forever', async () => {
    const { out, say } = logger();
    await run(async () => {
      const f = new Flag('never set');
      const stuck = spawn(() => wait([f]));
      const ticker = spawn(async () => {
        for (let i = 0; i < 3; i++) await sleep(1);
      });
      await wait();
      say(`wait() returned: ticker.dead=${ticker.dead} stuck.dead=${stuck.dead}`);
      await stuck.kill();
    }, { mode: 'sim' });
    expect(out).toEqual(['3 wait() returned: ticker.dead=true stuck.dead=false']);
  });
});

describe('iwait', () => {
  it('yields objects as they become ready, each at its own virtual time', async () => {
    const { out, say } = logger();
    await run(async () => {
      const f = new Flag('f');
      spawnLater(0.15, () => f.set());
      for await (const x of iwait<Linkable>([after(0.3, 'a'), f, after(0.1, 'b')])) {
        say(`got ${names([x as Flag])[0]}`);
      }
      say('done');
    }, { mode: 'sim' });
    expect(out).toEqual(['0.1 got b', '0.15 got f', '0.3 got a', '0.3 done']);
  });

  it('count stops after that many; timeout stops at exactly the deadline for the whole iteration', async () => {
    const { out, say } = logger();
    await run(async () => {
      const gs = [after(0.3, 'a'), after(0.1, 'b'), after(0.2, 'c'), after(0.5, 'd')];
      for await (const g of iwait(gs, { count: 2 })) say(`count: ${g.name}`);
      for await (const g of iwait(gs, { timeout: 0.2 })) say(`timeout: ${g.name}`);
      say('timed out');
    }, { mode: 'sim' });
    // the second iwait starts at 0.2, inside c's notification pass: c (whose pass takes the new link)
    // and b are ready at once, a at 0.3; its deadline is 0.4 (gevent 22.10 gives the same)
    expect(out).toEqual(['0.1 count: b', '0.2 count: c', '0.2 timeout: c', '0.2 timeout: b', '0.3 timeout: a', '0.4 timed out']);
  });

  it('breaking out of the loop removes its links', async () => {
    await run(async () => {
      const gs = [after(0.1, 'a'), after(0.2, 'b')];
      for await (const g of iwait(gs)) {
        expect(g.name).toBe('a');
        break;
      }
      expect(gs.map((g) => g.linkcount())).toEqual([0, 0]);
      await joinall(gs);
    }, { mode: 'sim' });
  });

  it('the loop body may block: objects that became ready meanwhile are yielded next, in order', async () => {
    const { out, say } = logger();
    await run(async () => {
      const gs = [after(0.1, 'a'), after(0.2, 'b'), after(0.3, 'c')];
      for await (const g of iwait(gs)) {
        say(`got ${g.name}`);
        if (g.name === 'a') await sleep(0.5);
      }
    }, { mode: 'sim' });
    expect(out).toEqual(['0.1 got a', '0.6 got b', '0.6 got c']);
  });

  it("the deadline takes its place among the ready objects: a slow body still gets those ready before it, then the loop ends (gevent's iwait)", async () => {
    const { out, say } = logger();
    await run(async () => {
      const gs = [after(0.15, 'a'), after(0.05, 'b'), after(0.1, 'c'), after(0.2, 'd')];
      // deadline 0.12: b (0.05) and c (0.1) were ready before it, a (0.15) and d (0.2) only after
      for await (const g of iwait(gs, { timeout: 0.12 })) {
        say(`got ${g.name}`);
        await sleep(0.1);
      }
      say('done');
    }, { mode: 'sim' });
    expect(out).toEqual(['0.05 got b', '0.15 got c', '0.25 done']);
  });

  it('timeout 0 still yields the objects that are ready, then ends; one that finishes at the deadline comes too late, as in gevent', async () => {
    const { out, say } = logger();
    await run(async () => {
      const gs = [after(0, 'a'), after(0.3, 'b'), after(0, 'c')];
      await sleep(0);
      for await (const g of iwait(gs, { timeout: 0 })) say(`zero: ${g.name}`);
      // b's sleep ends at the deadline and runs first, but its link is a callback, after the deadline
      for await (const g of iwait(gs, { timeout: 0.3 })) say(`tie: ${g.name}`);
      say('done');
    }, { mode: 'sim' });
    expect(out).toEqual(['0 zero: a', '0 zero: c', '0 tie: a', '0 tie: c', '0.3 done']);
  });
});
