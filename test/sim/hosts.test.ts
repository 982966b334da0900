/**
 * Simulation hosts: each has its own address, ports and greenlets; names resolve; greenlets spawned by
 * a host's greenlets belong to it; mains are factories that run when the simulation runs.
 */
import { describe, it, expect } from 'vitest';
import { Simulation, SimHost, currentHost, socket, spawn, sleep, getcurrent, createConnection, StreamServer, type Socket } from 'geventjs';

const now = (): number => getcurrent().hub.now();

/** An echo server on port 80 of the calling host; resolves once it listens. */
async function echoServer(log?: string[]): Promise<void> {
  const s = socket();
  await s.bind(['0.0.0.0', 80]);
  await s.listen();
  for (;;) {
    const [conn, addr] = await s.accept();
    log?.push(`${now()} ${currentHost()?.name} accepted ${addr.join(':')}`);
    spawn(async (c: Socket) => {
      for (;;) {
        const d = await c.recv(1024);
        if (d.length === 0) break;
        await c.send(d);
      }
      c.close();
    }, conn);
  }
}

describe('hosts', () => {
  it('get 10.0.0.1, .2, … unless given an address; their names resolve to it', async () => {
    const sim = new Simulation();
    const a = sim.host('a', () => {});
    const b = sim.host('b', () => {}, { address: '192.168.0.7' });
    const c = sim.client('c', () => {});
    expect([a.address, b.address, c.address]).toEqual(['10.0.0.1', '192.168.0.7', '10.0.0.2']);
    expect([a.client, c.client]).toEqual([false, true]);
    expect(sim.hosts.map((h) => h.name)).toEqual(['a', 'b', 'c']);
    expect(sim.getHost('B')).toBe(b);
    expect(a).toBeInstanceOf(SimHost);
    expect(() => sim.host('a', () => {})).toThrow('a host named a exists already');
    expect(() => sim.host('localhost', () => {})).toThrow('a host named localhost exists already');
    expect(() => sim.host('d', () => {}, { address: '192.168.0.7' })).toThrow('address 192.168.0.7 is taken');
    expect(() => sim.host('d', () => {}, { address: 'nope' })).toThrow(TypeError);
    expect(() => sim.host('d', 'main' as never)).toThrow(/main must be a function/);
    expect(() => sim.getHost('zz')).toThrow('no host named zz');
    await sim.run();
  });

  it('run their mains when the simulation runs, before main; currentHost() follows spawn', async () => {
    const sim = new Simulation();
    const log: string[] = [];
    sim.host('a', async () => {
      log.push(`a main on ${currentHost()?.name}`);
      const child = spawn(() => {
        log.push(`a's child on ${currentHost()?.name}`);
        spawn(() => log.push(`a's grandchild on ${currentHost()?.name}`));
      });
      await child.join();
    });
    sim.host('b', () => void log.push(`b main on ${currentHost()?.name}`));
    expect(log).toEqual([]); // nothing runs before the simulation does
    await sim.run(async () => {
      log.push(`main on ${String(currentHost())}`);
      await sleep(1);
      sim.host('late', () => void log.push(`late main on ${currentHost()?.name} at ${now()}`));
      await sleep(0);
    });
    expect(log).toEqual(['a main on a', 'b main on b', 'main on null', "a's child on a", "a's grandchild on a", 'late main on late at 1']);
  });

  it('have their own ports: two hosts listen on port 80; connections carry their addresses', async () => {
    const sim = new Simulation();
    const log: string[] = [];
    sim.host('web', () => echoServer(log));
    sim.host('db', () => echoServer(log));
    sim.client('alice', async () => {
      for (const name of ['web', 'db', '10.0.0.2']) {
        const c = await createConnection([name, 80]);
        log.push(`${now()} alice ${c.getsockname()[0]} -> ${c.getpeername().join(':')}`);
        await c.send('hi');
        expect(new TextDecoder().decode(await c.recv(10))).toBe('hi');
        c.close();
      }
    });
    await sim.run();
    expect(log.map((l) => l.replace(/:\d{5}$/, ':*'))).toEqual([
      '0.001 web accepted 10.0.0.3:*',
      '0.002 alice 10.0.0.3 -> 10.0.0.1:80',
      '0.005 db accepted 10.0.0.3:*',
      '0.006 alice 10.0.0.3 -> 10.0.0.2:80',
      '0.009 db accepted 10.0.0.3:*',
      '0.01 alice 10.0.0.3 -> 10.0.0.2:80',
    ]);
  });

  it('a StreamServer on a host serves from that host; its handler greenlets belong to it', async () => {
    const sim = new Simulation();
    const where: (string | undefined)[] = [];
    sim.host('srv', async () => {
      const server = new StreamServer(['0.0.0.0', 7], async (conn: Socket) => {
        where.push(currentHost()?.name);
        await conn.sendall(await conn.recv(10));
      });
      await server.serveForever();
    });
    sim.client('cli', async () => {
      const c = await createConnection(['srv', 7]);
      await c.sendall('ping');
      where.push(`${new TextDecoder().decode(await c.recv(10))} at ${now()}`);
    });
    await sim.run(async () => {
      await sim.getHost('cli').greenlet!.join();
    });
    expect(where).toEqual(['srv', 'ping at 0.004']);
  });

  it('run() without main runs the hosts until nothing is left to do, or until `until`', async () => {
    const ticks: number[] = [];
    const sim = new Simulation();
    sim.host('clock', async () => {
      for (;;) {
        await sleep(1);
        ticks.push(now());
      }
    });
    await sim.run(undefined, { until: 3.5 });
    expect(ticks).toEqual([1, 2, 3]);
    const done = new Simulation();
    done.host('once', () => sleep(2));
    await done.run();
    expect(done.now()).toBe(2);
  });

  it('a host main that fails fails the run, at once', async () => {
    const sim = new Simulation();
    sim.host('bad', async () => {
      await sleep(2);
      throw new Error('invariant broken on bad');
    });
    let reached = 0;
    await expect(
      sim.run(async () => {
        await sleep(10);
        reached = now();
      }),
    ).rejects.toThrow('invariant broken on bad');
    expect(reached).toBe(0);
    expect(sim.now()).toBe(2);
  });
});
