/**
 * Each fault's effect on a small exchange between two hosts, with exact virtual times: latency
 * distributions, partitions (both ways, one way, in flight, repair, connect timeouts, TCP giving up),
 * hold and release, crash and restart, pause and resume, stream chaos — and the trace of it all.
 *
 * Timeline of the usual setup: host `b` echoes on port 80; client `a` connects at 0 (SYN at 0.001,
 * connected at 0.002) and writes; the default one-way latency between hosts is 1 ms.
 */
import { describe, it, expect } from 'vitest';
import {
  Simulation,
  FaultHandle,
  GreenletExit,
  currentHost,
  socket,
  spawn,
  sleep,
  getcurrent,
  createConnection,
  type Socket,
  type Greenlet,
  type TraceEvent,
} from 'geventjs';

const now = (): number => getcurrent().hub.now();
const text = (d: Uint8Array): string => new TextDecoder().decode(d);

function codeOf(e: unknown): string | undefined {
  return (e as { code?: string }).code;
}

/** Echoes every recv on port 80 of the calling host, logging `<time> b got <bytes>`. */
async function echoServer(log: string[], tag = 'b'): Promise<void> {
  const s = socket();
  await s.bind(['0.0.0.0', 80]);
  await s.listen();
  for (;;) {
    const [conn] = await s.accept();
    spawn(async (c: Socket) => {
      try {
        for (;;) {
          const d = await c.recv(1024);
          if (d.length === 0) break;
          log.push(`${now()} ${tag} got ${text(d)}`);
          await c.send(d);
        }
      } catch (e) {
        if (e instanceof GreenletExit) throw e;
        log.push(`${now()} ${tag} ${codeOf(e) ?? String(e)}`);
      } finally {
        c.close();
      }
    }, conn);
  }
}

/** Reads one reply on `c` and logs it (or the error) as `<time> a got …`. */
async function readReply(c: Socket, log: string[]): Promise<void> {
  try {
    const d = await c.recv(1024);
    log.push(`${now()} a got ${d.length === 0 ? 'EOF' : text(d)}`);
  } catch (e) {
    log.push(`${now()} a ${codeOf(e)}`);
  }
}

function events(sim: Simulation, ...kinds: string[]): TraceEvent[] {
  return sim.traceEvents().filter((e) => kinds.includes(e.kind));
}

describe('latency', () => {
  it('a fixed latency per link, both ways: connect costs two of it, a round trip two more', async () => {
    const sim = new Simulation();
    const log: string[] = [];
    sim.host('b', () => echoServer(log));
    sim.client('a', async () => {
      const c = await createConnection(['b', 80]);
      log.push(`${now()} a connected`);
      await c.send('x');
      await readReply(c, log);
    });
    sim.setLatency('a', 'b', 0.01);
    await sim.run();
    expect(log).toEqual(['0.02 a connected', '0.03 b got x', '0.04 a got x']);
  });

  it('one way only: the other direction keeps the default 1 ms', async () => {
    const sim = new Simulation();
    const log: string[] = [];
    sim.host('b', () => echoServer(log));
    sim.client('a', async () => {
      const c = await createConnection(['b', 80]);
      await c.send('x');
      await readReply(c, log);
    });
    sim.setLatency('a', 'b', 0.05, { oneWay: true });
    await sim.run();
    expect(log).toEqual(['0.101 b got x', '0.102 a got x']); // SYN 50 ms, SYN-ACK 1 ms, data 50 ms, echo 1 ms
  });

  /** Sends 20 one-byte writes at once from a to b; returns when each arrived (from the trace) and what b read. */
  async function jittered(seed: number, spec: Parameters<Simulation['setLatency']>[2]): Promise<{ times: number[]; got: string }> {
    const sim = new Simulation({ seed, trace: true });
    let got = '';
    let serverFd = -1;
    sim.host('b', async () => {
      const s = socket();
      await s.bind(['0.0.0.0', 80]);
      await s.listen();
      const [c] = await s.accept();
      serverFd = c.fileno();
      for (;;) {
        const d = await c.recv(1024);
        if (d.length === 0) break;
        got += text(d);
      }
    });
    sim.client('a', async () => {
      const c = await createConnection(['b', 80]);
      for (const ch of 'abcdefghijklmnopqrst') await c.send(ch);
      c.close();
    });
    sim.setLatency('a', 'b', spec!);
    await sim.run();
    const times = events(sim, 'deliver')
      .filter((e) => e.fd === serverFd)
      .map((e) => e.t);
    return { times, got };
  }

  it('uniform jitter is drawn from the seed: reproducible, within its range, and never reorders a connection', async () => {
    const spec = { uniform: [0.001, 0.009] as [number, number] };
    const r1 = await jittered(1, spec);
    const r1again = await jittered(1, spec);
    const r2 = await jittered(2, spec);
    expect(r1again).toEqual(r1);
    expect(r2.times).not.toEqual(r1.times);
    for (const r of [r1, r2]) {
      expect(r.got).toBe('abcdefghijklmnopqrst');
      expect(r.times).toHaveLength(20);
      expect([...r.times].sort((x, y) => x - y)).toEqual(r.times); // arrival order = send order
      // connected at most 18 ms in; every write sent then arrives 1–9 ms later (or with the one before it)
      expect(r.times[0]! - r.times.at(-1)! + 0.008).toBeGreaterThanOrEqual(0);
    }
  });

  it('exponential latency: min plus an exponential draw, capped at max, reproducible per seed', async () => {
    const spec = { exponential: 0.004, min: 0.001, max: 0.02 };
    const a = await jittered(5, spec);
    expect(await jittered(5, spec)).toEqual(a);
    expect((await jittered(6, spec)).times).not.toEqual(a.times);
    expect(a.got).toBe('abcdefghijklmnopqrst');
    expect([...a.times].sort((x, y) => x - y)).toEqual(a.times);
  });

  it('a distribution for every link at once, and malformed ones rejected', async () => {
    const sim = new Simulation();
    const log: string[] = [];
    sim.host('b', () => echoServer(log));
    sim.client('a', async () => {
      const c = await createConnection(['b', 80]);
      await c.send('x');
      await readReply(c, log);
    });
    sim.setLatency({ fixed: 0.004 });
    expect(() => sim.setLatency({ uniform: [0.005, 0.001] })).toThrow(RangeError);
    expect(() => sim.setLatency(-1)).toThrow(RangeError);
    expect(() => sim.setLatency({ normal: 1 } as never)).toThrow(TypeError);
    await sim.run();
    expect(log).toEqual(['0.012 b got x', '0.016 a got x']);
  });
});

describe('partitions', () => {
  it('both ways; a segment already in flight is lost too; TCP retransmits (0.2, 0.4, 0.8 s…) and the connection resumes after the repair', async () => {
    const sim = new Simulation({ trace: true });
    const log: string[] = [];
    sim.host('b', () => echoServer(log));
    sim.client('a', async () => {
      const c = await createConnection(['b', 80]); // 0.002
      await c.send('x'); // on its way until 0.003
      await readReply(c, log);
    });
    await sim.run(async () => {
      await sleep(0.0025);
      const cut = sim.partition('a', 'b'); // x is in flight
      expect(cut).toBeInstanceOf(FaultHandle);
      expect(String(cut)).toBe('<partition #1 a | b>');
      await sleep(1 - 0.0025);
      expect(sim.repair('a', 'b')).toBe(1);
      expect(cut.active).toBe(false);
      await sleep(1);
    });
    // lost at 0.003 (in flight), resent at 0.203 and 0.603 (lost), at 1.403 it gets through
    expect(log).toEqual(['1.404 b got x', '1.405 a got x']);
    const faults = events(sim, 'fault', 'lost', 'retransmit').map((e) => `${e.t} ${e.kind} ${e.fault ?? e.reason ?? e.retries}`);
    expect(faults).toEqual([
      '0.0025 fault partition',
      '0.003 lost in flight: <partition #1 a | b>',
      '0.203 retransmit 1',
      '0.203 lost <partition #1 a | b>',
      '0.603 retransmit 2',
      '0.603 lost <partition #1 a | b>',
      '1 fault repair',
      '1.403 retransmit 3',
    ]);
  });

  it('both ways means the reply too: an echo sent into the partition waits for the repair', async () => {
    const sim = new Simulation();
    const log: string[] = [];
    sim.host('b', () => echoServer(log));
    sim.client('a', async () => {
      const c = await createConnection(['b', 80]);
      await c.send('x'); // reaches b at 0.003, which answers at once
      await readReply(c, log);
    });
    await sim.run(async () => {
      await sleep(0.0035); // the echo is in flight
      sim.partition('b', 'a');
      await sleep(2 - 0.0035);
      sim.repair();
      await sleep(2);
    });
    // lost at 0.004; resent at 0.204, 0.604, 1.404 (lost), 3.004 (through)
    expect(log).toEqual(['0.003 b got x', '3.005 a got x']);
  });

  it('one way: what a sends b is lost, what b sends a arrives', async () => {
    const sim = new Simulation();
    const log: string[] = [];
    sim.host('b', async () => {
      const s = socket();
      await s.bind(['0.0.0.0', 80]);
      await s.listen();
      const [c] = await s.accept();
      spawn(async () => {
        const d = await c.recv(10);
        log.push(`${now()} b got ${text(d)}`);
      });
      await sleep(0.5);
      await c.send('ping');
    });
    sim.client('a', async () => {
      const c = await createConnection(['b', 80]);
      await c.send('x');
      await readReply(c, log);
    });
    await sim.run(async () => {
      await sleep(0.0025);
      sim.partition('a', 'b', { oneWay: true });
      await sleep(1);
      sim.repair();
      await sleep(1);
    });
    expect(log).toEqual(['0.502 a got ping', '1.404 b got x']);
  });

  it('a connect across a partition fails with ETIMEDOUT after Linux SYN retries (127 s); its SYNs are lost, not retransmitted by the network', async () => {
    const sim = new Simulation({ trace: true });
    const log: string[] = [];
    sim.host('b', () => echoServer(log));
    sim.client('a', async () => {
      try {
        await createConnection(['b', 80]);
      } catch (e) {
        log.push(`${now()} ${codeOf(e)} ${(e as Error).message}`);
      }
    });
    sim.partition('a', 'b');
    await sim.run();
    expect(log).toEqual(['127 ETIMEDOUT connect ETIMEDOUT 10.0.0.1:80']);
    expect(events(sim, 'drop').map((e) => e.t)).toEqual([0, 1, 3, 7, 15, 31, 63]);
  });

  it('a connect gets through at the first SYN retry after the repair', async () => {
    const sim = new Simulation();
    const log: string[] = [];
    sim.host('b', () => echoServer(log));
    sim.client('a', async () => {
      await createConnection(['b', 80]);
      log.push(`${now()} connected`);
    });
    const cut = sim.partition(['a'], ['b']);
    await sim.run(async () => {
      await sleep(2.5);
      cut.remove();
      await sleep(5);
    });
    expect(log).toEqual(['3.002 connected']); // SYNs at 0 and 1 lost, the one at 3 arrives
  });

  it('a partition that lasts: TCP gives up after 15 retransmissions (924.6 s) and the sender sees ETIMEDOUT', async () => {
    const sim = new Simulation();
    const log: string[] = [];
    sim.host('b', () => echoServer(log));
    sim.client('a', async () => {
      const c = await createConnection(['b', 80]);
      await c.send('x');
      await readReply(c, log);
    });
    await sim.run(async () => {
      await sleep(0.0025);
      sim.partition('a', 'b');
      await sleep(2000);
    });
    expect(log).toEqual(['924.603 a ETIMEDOUT']); // lost at 0.003; 0.2 + 0.4 + … + 102.4 + 6 × 120 s later
  });

  it('groups: one side against the other; a host on both sides is an error; faults from inside the simulation', async () => {
    const sim = new Simulation();
    const log: string[] = [];
    sim.host('b', () => echoServer(log));
    sim.host('c', () => echoServer(log, 'c'));
    sim.client('a', async () => {
      const cut = sim.partition(['a'], ['b', 'c']); // a greenlet cuts itself off
      expect(cut.description).toBe('a | b,c');
      expect(() => sim.partition(['a', 'b'], 'b')).toThrow('host b is on both sides');
      spawn(async () => {
        await sleep(1.5);
        sim.repair(cut);
      });
      for (const h of ['b', 'c']) {
        const c = await createConnection([h, 80]);
        log.push(`${now()} a connected to ${h}`);
        c.close();
      }
    });
    await sim.run();
    expect(log).toEqual(['3.002 a connected to b', '3.004 a connected to c']);
  });
});

describe('hold and release', () => {
  /** a opens two connections to b and writes 'one' on the first, 'two' on the second. */
  function setup(log: string[]): Simulation {
    const sim = new Simulation();
    sim.host('b', () => echoServer(log));
    sim.client('a', async () => {
      const c1 = await createConnection(['b', 80]);
      const c2 = await createConnection(['b', 80]);
      await sleep(0.5);
      await c1.send('one');
      await c2.send('two');
      await sleep(10);
    });
    return sim;
  }

  it('holds messages a sends b (also those on their way); released one by one, in the order chosen', async () => {
    const log: string[] = [];
    const sim = setup(log);
    await sim.run(async () => {
      await sleep(0.1); // connected
      const h = sim.hold('a', 'b', { oneWay: true });
      await sleep(0.9);
      const held = sim.held(h);
      expect(held.map((m) => `${m.kind} ${m.from}>${m.to} ${m.text}`)).toEqual(['DATA a>b one', 'DATA a>b two']);
      expect(String(held[0])).toMatch(/^DATA a 10\.0\.0\.2:\d+ -> b 10\.0\.0\.1:80 \(3 bytes\)$/);
      held[1]!.release();
      await sleep(1);
      held[0]!.release();
      await sleep(1);
      expect(sim.held()).toEqual([]);
      h.remove();
    });
    // released messages arrive at once; b's echoes are not held (one way)
    expect(log).toEqual(['1 b got two', '2 b got one']);
  });

  it('within one connection TCP order holds: a later message released first waits for the earlier one', async () => {
    const sim = new Simulation();
    const log: string[] = [];
    sim.host('b', () => echoServer(log));
    sim.client('a', async () => {
      const c = await createConnection(['b', 80]);
      await c.send('p');
      await sleep(0.1);
      await c.send('q');
      await sleep(10);
    });
    await sim.run(async () => {
      await sleep(0.0025); // p is in flight: held when it arrives
      const h = sim.hold('a', 'b');
      await sleep(1);
      const [p, q] = sim.held(h);
      expect([p!.text, q!.text]).toEqual(['p', 'q']);
      q!.release();
      await sleep(1);
      expect(log).toEqual([]);
      p!.release();
      await sleep(1);
    });
    expect(log).toEqual(['2.0025 b got pq']); // reassembled: one recv takes both
  });

  it('release(handle) delivers everything it held, in order, and lets later messages through', async () => {
    const log: string[] = [];
    const sim = setup(log);
    await sim.run(async () => {
      await sleep(0.1);
      const h = sim.hold('a', 'b');
      await sleep(0.9);
      expect(sim.release(h)).toBe(1);
      expect(h.active).toBe(false);
      await sleep(0.5);
      expect(sim.release()).toBe(0);
    });
    expect(log).toEqual(['1 b got one', '1 b got two']);
  });

  it('release(a, b) releases the holds between two hosts; hold() names hosts that exist', async () => {
    const log: string[] = [];
    const sim = setup(log);
    expect(() => sim.hold('a', 'nowhere')).toThrow('no host named nowhere');
    await sim.run(async () => {
      await sleep(0.1);
      sim.hold('a', 'b');
      await sleep(0.9);
      expect(sim.release('b', 'a')).toBe(1);
      await sleep(0.5);
    });
    expect(log).toEqual(['1 b got one', '1 b got two']);
  });

  it('a rule of your own: hold what matches, drop, or delay — first answer wins', async () => {
    const sim = new Simulation({ trace: true });
    const log: string[] = [];
    sim.host('b', () => echoServer(log));
    sim.client('a', async () => {
      const c = await createConnection(['b', 80]);
      await c.send('slow');
      await readReply(c, log);
      await c.send('held');
      await readReply(c, log);
    });
    await sim.run(async () => {
      sim.addRule((m) => (m.text === 'slow' ? { after: 0.25 } : 'pass'), { name: 'slow' });
      const hold = sim.addRule((m) => (m.text === 'held' ? 'hold' : undefined));
      await sleep(1);
      expect(sim.held().map((m) => m.text)).toEqual(['held']);
      hold.remove(); // releases what it held
      await sleep(1);
    });
    // the rule sees the echo too: 'slow' is delayed both ways
    expect(log).toEqual(['0.252 b got slow', '0.502 a got slow', '1 b got held', '1.001 a got held']);
    expect(events(sim, 'fault').map((e) => `${e.t} ${e.fault} ${e.detail}`)).toEqual(['0 rule slow', '0 rule rule', '1 unrule rule']);
  });
});

describe('crash and restart', () => {
  it("crash: the host's greenlets die with GreenletExit, a peer blocked in recv gets ECONNRESET, the port is free after restart", async () => {
    const sim = new Simulation();
    const log: string[] = [];
    let starts = 0;
    const greenlets: Greenlet<unknown>[] = [];
    const b = sim.host('b', async () => {
      starts++;
      greenlets.push(getcurrent());
      try {
        await echoServer(log);
      } finally {
        log.push(`${now()} b main finally`);
      }
    });
    sim.client('a', async () => {
      const c = await createConnection(['b', 80]);
      await readReply(c, log); // blocked when b crashes
      await sleep(2);
      const c2 = await createConnection(['b', 80]); // the restarted b listens on 80 again
      await c2.send('again');
      await readReply(c2, log);
    });
    await sim.run(async () => {
      await sleep(1);
      sim.crash('b');
      expect(b.state).toBe('crashed');
      expect(b.greenlet).toBe(null);
      await sleep(1);
      sim.restart(b);
      expect([b.state, b.incarnation]).toEqual(['up', 2]);
      await sleep(2);
    });
    expect(starts).toBe(2);
    expect(greenlets[0]!.value).toBeInstanceOf(GreenletExit);
    // a reconnects at 3.001 (connected 3.003); the restarted b's main is killed when the run ends at 4
    expect(log).toEqual(['1 b main finally', '1.001 a ECONNRESET', '3.004 b got again', '3.005 a got again', '4 b main finally']);
  });

  it("a peer's next send after the crash fails with ECONNRESET (then EPIPE, as Linux)", async () => {
    const sim = new Simulation();
    const log: string[] = [];
    sim.host('b', () => echoServer(log));
    sim.client('a', async () => {
      const c = await createConnection(['b', 80]);
      await sleep(2);
      for (let i = 0; i < 2; i++) {
        try {
          await c.send('x');
        } catch (e) {
          log.push(`${now()} ${codeOf(e)}`);
        }
      }
    });
    await sim.run(async () => {
      await sleep(1);
      sim.crash('b');
      await sleep(2);
    });
    expect(log).toEqual(['2.002 ECONNRESET', '2.002 EPIPE']);
  });

  it('a connect to a crashed host times out its SYNs until the host is back', async () => {
    const sim = new Simulation();
    const log: string[] = [];
    sim.host('b', () => echoServer(log));
    sim.client('a', async () => {
      await sleep(1.5);
      await createConnection(['b', 80]);
      log.push(`${now()} connected`);
    });
    await sim.run(async () => {
      await sleep(1);
      sim.crash('b');
      await sleep(1);
      sim.restart('b');
      await sleep(5);
    });
    expect(log).toEqual(['2.502 connected']); // SYN at 1.5 lost; the retry at 2.5 finds b back
  });

  it("state in the main's closure is gone after a crash; state kept outside the factory survives", async () => {
    const sim = new Simulation();
    const disk = new Map<string, number>();
    const seen: string[] = [];
    sim.host('db', async () => {
      let memory = 0; // lost with the host
      for (;;) {
        memory++;
        disk.set('count', (disk.get('count') ?? 0) + 1);
        seen.push(`${now()} memory ${memory} disk ${disk.get('count')}`);
        await sleep(1);
      }
    });
    await sim.run(async () => {
      await sleep(1.5);
      sim.crash('db');
      sim.restart('db');
      await sleep(1);
    });
    // restarted at 1.5: memory starts over, the disk goes on
    expect(seen).toEqual(['0 memory 1 disk 1', '1 memory 2 disk 2', '1.5 memory 1 disk 3', '2.5 memory 2 disk 4']);
  });

  it('a host that crashes itself stops at once; restart of a running host is crash then start', async () => {
    const sim = new Simulation();
    const log: string[] = [];
    sim.host('kamikaze', async () => {
      log.push(`${now()} start ${currentHost()!.incarnation}`);
      await sleep(1);
      if (currentHost()!.incarnation === 1) {
        sim.crash(currentHost()!);
        log.push('not reached');
      }
    });
    await sim.run(async () => {
      await sleep(2);
      sim.restart('kamikaze');
      await sleep(2);
      sim.restart('kamikaze'); // it is up: crash, then start
      await sleep(0);
    });
    expect(log).toEqual(['0 start 1', '2 start 2', '4 start 3']);
  });
});

describe('pause and resume', () => {
  it("a paused host's greenlets do not run and its deliveries wait; on resume both go on, in order", async () => {
    const sim = new Simulation();
    const log: string[] = [];
    sim.host('b', async () => {
      spawn(async () => {
        for (;;) {
          await sleep(0.5);
          log.push(`${now()} tick`);
        }
      });
      await echoServer(log);
    });
    sim.client('a', async () => {
      const c = await createConnection(['b', 80]);
      await sleep(1.5);
      await c.send('x'); // reaches the paused b at 1.501
      await readReply(c, log);
    });
    await sim.run(async () => {
      await sleep(1.2);
      sim.pause('b');
      expect(sim.getHost('b').state).toBe('paused');
      await sleep(1.8);
      sim.resume('b');
      await sleep(0.7);
    });
    expect(log).toEqual(['0.5 tick', '1 tick', '3 tick', '3 b got x', '3.001 a got x', '3.5 tick']);
  });

  it('a host crashed while paused: its held greenlets never run again', async () => {
    const sim = new Simulation();
    const log: string[] = [];
    sim.host('b', async () => {
      try {
        await sleep(1);
        log.push('woke');
      } finally {
        log.push(`${now()} finally`);
      }
    });
    await sim.run(async () => {
      await sleep(0.5);
      sim.pause('b');
      await sleep(1);
      sim.crash('b');
      await sleep(1);
    });
    expect(log).toEqual(['1.5 finally']);
  });
});

describe('stream chaos (on every connection, loopback included)', () => {
  /** On one host: a client writes `writes` back to back; returns the sizes the server's recvs returned. */
  async function reads(seed: number, chaos: { split?: number; coalesce?: number }, writes: string[]): Promise<{ sizes: number[]; text: string; events: string[] }> {
    const sim = new Simulation({ seed, chaos, trace: true });
    const sizes: number[] = [];
    let all = '';
    await sim.run(async () => {
      const s = socket();
      await s.bind(['127.0.0.1', 0]);
      await s.listen();
      const c = socket();
      await c.connect(s.getsockname());
      const [conn] = await s.accept();
      for (const w of writes) await c.send(w);
      c.close();
      for (;;) {
        const d = await conn.recv(4096);
        if (d.length === 0) break;
        sizes.push(d.length);
        all += text(d);
      }
    });
    return { sizes, text: all, events: events(sim, 'chaos').map((e) => `${e.what} ${e.pieces}`) };
  }

  const big = 'x'.repeat(100);

  it('split: a write arrives in 2–4 pieces cut where the seed says, the bytes intact', async () => {
    const r = await reads(1, { split: 1 }, [big]);
    expect(r.text).toBe(big);
    expect(r.sizes.length).toBeGreaterThanOrEqual(2);
    expect(r.sizes.length).toBeLessThanOrEqual(4);
    expect(r.events).toEqual([`split ${r.sizes.length}`]);
    expect(await reads(1, { split: 1 }, [big])).toEqual(r);
    const others = await Promise.all([2, 3, 4, 5].map((seed) => reads(seed, { split: 1 }, [big])));
    expect(others.some((o) => o.sizes.join() !== r.sizes.join())).toBe(true);
  });

  it('coalesce: writes of one instant arrive as one segment; without chaos each write is one recv', async () => {
    expect((await reads(1, {}, ['a', 'b', 'c'])).sizes).toEqual([1, 1, 1]);
    const r = await reads(1, { coalesce: 1 }, ['a', 'b', 'c']);
    expect(r).toEqual({ sizes: [3], text: 'abc', events: ['coalesce 3'] });
  });

  it('setChaos turns it on and off during the run', async () => {
    const sim = new Simulation({ seed: 3 });
    const recvs: number[] = [];
    await sim.run(async () => {
      const s = socket();
      await s.listen();
      const c = socket();
      await c.connect(['127.0.0.1', s.getsockname()[1]]);
      const [conn] = await s.accept();
      for (const chaos of [{ split: 1 }, null]) {
        sim.setChaos(chaos);
        await c.send(big);
        let n = 0;
        for (let got = 0; got < big.length; n++) got += (await conn.recv(4096)).length;
        recvs.push(n);
      }
    });
    expect(recvs[0]).toBeGreaterThan(1);
    expect(recvs[1]).toBe(1);
  });
});

describe('the trace', () => {
  it('records every fault with the greenlet that made it; the hash covers them', async () => {
    const run = async (cut: boolean): Promise<Simulation> => {
      const sim = new Simulation({ trace: true });
      sim.host('b', () => echoServer([]));
      sim.client('a', async () => {
        const c = await createConnection(['b', 80]);
        await c.send('x');
        await c.recv(10);
      });
      await sim.run(async () => {
        if (cut) {
          const h = sim.hold('a', 'b');
          sim.pause('b');
          sim.resume('b');
          sim.crash('b');
          sim.restart('b');
          sim.release(h);
          sim.setLatency('a', 'b', { uniform: [0.001, 0.002] });
          sim.setChaos(0);
        }
        await sleep(1);
      });
      return sim;
    };
    const sim = await run(true);
    expect(events(sim, 'fault').map((e) => `${e.g} ${e.fault} ${e.detail}`)).toEqual([
      '0 hold a <> b',
      '0 pause b',
      '0 resume b',
      '0 crash b',
      '0 restart b',
      '0 release a <> b',
      '0 latency a <> b uniform 0.001..0.002',
      '0 chaos split 0 coalesce 0',
    ]);
    expect((await run(false)).traceHash()).not.toBe(sim.traceHash());
    expect((await run(true)).traceHash()).toBe(sim.traceHash());
  });
});
