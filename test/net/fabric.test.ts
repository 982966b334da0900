/**
 * The in-memory network (sim mode): the router's verdicts, ephemeral ports, Linux's backlog and SYN
 * retries, latency between hosts, the receive window, and the trace.
 */
import { describe, it, expect } from 'vitest';
import { Hub, run, spawn, sleep, getcurrent, joinall, socket, getNet, MemoryNet, type Socket } from 'geventjs';
import { Router, DROP, PASS } from '../../src/net/router.js';
import { Segment, SYN, DATA } from '../../src/net/segment.js';
import { EPHEMERAL_LOW, EPHEMERAL_HIGH, MemSocket } from '../../src/net/kernel.js';

const now = (): number => getcurrent().hub.now();

async function listener(port = 0, backlog = 5, host = '127.0.0.1'): Promise<[Socket, number]> {
  const s = socket();
  await s.bind([host, port]);
  await s.listen(backlog);
  return [s, s.getsockname()[1]];
}

function codeOf(e: unknown): string | undefined {
  return (e as { code?: string }).code;
}

describe('router: a clock-free function from a segment to a verdict', () => {
  const hub = new Hub({ mode: 'sim' });
  const net = new MemoryNet(hub, { latency: 0.002, loopbackLatency: 0 });
  const a = net.defaultHost;
  const b = net.addHost('b', '10.0.0.2');
  const from = new MemSocket(net, a);
  const seg = (dst: typeof a | null): Segment => new Segment().fill(DATA, a, dst, '127.0.0.1', 40000, '10.0.0.2', 80, from, null, new Uint8Array(1), 0);

  it('delivers on loopback at once, between hosts after the link latency, and drops what has no route', () => {
    expect(net.router.route(seg(a))).toBe(0);
    expect(net.router.route(seg(b))).toBe(2_000_000);
    expect(net.router.route(seg(null))).toBe(DROP);
  });

  it('asks an ordered chain of rules first: the first verdict that is not PASS wins; removers work', () => {
    const r = new Router(1_000_000, 0);
    const s = seg(b);
    const removeDrop = r.addRule((x) => (x.kind === SYN ? DROP : PASS));
    const removeSlow = r.addRule(() => 5_000_000);
    const removeDropAll = r.addRule(() => DROP);
    expect(r.route(s)).toBe(5_000_000); // the SYN rule passes on DATA, the next rule answers
    removeSlow();
    expect(r.route(s)).toBe(DROP);
    removeDropAll();
    removeDrop();
    expect(r.route(s)).toBe(1_000_000);
  });

  it('takes per-link latency overrides, in one direction only', () => {
    net.setLatency(a, b, 0.05);
    expect(net.router.route(seg(b))).toBe(50_000_000);
    const back = new Segment().fill(DATA, b, a, '10.0.0.2', 80, '127.0.0.1', 40000, from, null, null, 0);
    expect(net.router.route(back)).toBe(2_000_000);
    net.setLatency(a, b, null);
    expect(net.router.route(seg(b))).toBe(2_000_000);
  });
});

describe('ephemeral ports', () => {
  async function clientPorts(seed: number, n: number): Promise<number[]> {
    return run(async () => {
      const [srv, port] = await listener(8080, 128);
      const clients: Socket[] = [];
      for (let i = 0; i < n; i++) {
        const c = socket();
        await c.connect(['127.0.0.1', port]);
        clients.push(c);
        await srv.accept();
      }
      return clients.map((c) => c.getsockname()[1]);
    }, { mode: 'sim', seed });
  }

  it('are distinct per connection, in Linux range 32768–60999, and the same for the same seed', async () => {
    const ports = await clientPorts(1, 200);
    expect(new Set(ports).size).toBe(200);
    for (const p of ports) {
      expect(p).toBeGreaterThanOrEqual(EPHEMERAL_LOW);
      expect(p).toBeLessThanOrEqual(EPHEMERAL_HIGH);
    }
    expect(await clientPorts(1, 200)).toEqual(ports);
    expect((await clientPorts(2, 200))[0]).not.toBe(ports[0]);
  });

  it('listen on an unbound socket binds an ephemeral port first, as Linux does', async () => {
    await run(async () => {
      const s = socket();
      await s.listen();
      const [host, port] = s.getsockname();
      expect(host).toBe('0.0.0.0');
      expect(port).toBeGreaterThanOrEqual(EPHEMERAL_LOW);
      const c = socket();
      await c.connect(['127.0.0.1', port]);
      const [conn, addr] = await s.accept();
      expect(addr).toEqual(c.getsockname());
      expect(conn.getsockname()).toEqual(['127.0.0.1', port]);
    }, { mode: 'sim' });
  });
});

describe('listen backlog: a full queue drops the SYN and the client retries as Linux does', () => {
  it('retries after 1, 2, 4, 8, 16, 32 s and gives up with ETIMEDOUT at 127 s', async () => {
    const hub = new Hub({ mode: 'sim', trace: true });
    const result = await hub.run(async () => {
      const [, port] = await listener(0, 0); // backlog 0: Linux still queues one connection
      const first = socket();
      await first.connect(['127.0.0.1', port]); // queued, never accepted
      const second = socket();
      const err = await second.connect(['127.0.0.1', port]).catch((e: unknown) => e);
      return { err, at: now() };
    });
    expect(codeOf(result.err)).toBe('ETIMEDOUT');
    expect((result.err as Error).message).toMatch(/^connect ETIMEDOUT 127\.0\.0\.1:\d+$/);
    expect(result.at).toBe(127);
    const drops = hub.traceEvents().filter((e) => e.kind === 'drop').map((e) => e.t);
    expect(drops).toEqual([0, 1, 3, 7, 15, 31, 63]);
    expect(getNet(hub).stats.connectRetries).toBe(6);
  });

  it('a retry gets in once the server accepts: connected at exactly 3 s', async () => {
    await run(async () => {
      const [srv, port] = await listener(0, 0);
      const first = socket();
      await first.connect(['127.0.0.1', port]);
      spawnLaterAccept(srv, 2.5);
      const second = socket();
      await second.connect(['127.0.0.1', port]); // dropped at 0 and 1; the retry at 3 finds room
      expect(now()).toBe(3);
      expect(getNet().stats.connectRetries).toBe(2);
    }, { mode: 'sim' });
  });

  function spawnLaterAccept(srv: Socket, at: number): void {
    spawn(async () => {
      await sleep(at);
      await srv.accept();
    });
  }

  it('a listen(5) queue holds six connections, as Linux (the queue is full above backlog)', async () => {
    await run(async () => {
      const [, port] = await listener(0, 5);
      const times: number[] = [];
      const clients = Array.from({ length: 8 }, () =>
        spawn(async () => {
          const c = socket();
          c.settimeout(2);
          try {
            await c.connect(['127.0.0.1', port]);
            times.push(now());
          } catch (e) {
            times.push(-now());
            expect((e as Error).message).toBe('timed out');
          }
        }),
      );
      await joinall(clients);
      expect(times).toEqual([0, 0, 0, 0, 0, 0, -2, -2]);
    }, { mode: 'sim' });
  });
});

describe('latency and hosts', () => {
  it('between hosts: 1 ms each way by default; names resolve to host addresses', async () => {
    const log: string[] = [];
    await run(async () => {
      const net = getNet() as MemoryNet;
      const db = net.addHost('db', '10.0.0.2');
      const server = spawn(async () => {
        const [srv] = await listener(5432, 5, '');
        const [conn, addr] = await srv.accept();
        log.push(`${now()} accepted from ${addr[0]}`);
        const data = await conn.recv(100);
        log.push(`${now()} server got ${data.length} bytes`);
        await conn.send(data);
      });
      net.placeGreenlet(server, db);
      await sleep(0);
      const c = socket();
      await c.connect(['db', 5432]);
      log.push(`${now()} connected to ${c.getpeername().join(':')} from ${c.getsockname()[0]}`);
      await c.send('ping');
      await c.recv(100);
      log.push(`${now()} reply`);
    }, { mode: 'sim' });
    expect(log).toEqual([
      '0.001 accepted from 127.0.0.1',
      '0.002 connected to 10.0.0.2:5432 from 127.0.0.1',
      '0.003 server got 4 bytes',
      '0.004 reply',
    ]);
  });

  it('hub options set the latency between hosts and on loopback', async () => {
    await run(async () => {
      const [srv, port] = await listener();
      const c = socket();
      await c.connect(['127.0.0.1', port]);
      expect(now()).toBe(0.02); // SYN and SYN-ACK, 10 ms each
      const [conn] = await srv.accept();
      await c.send('x');
      await conn.recv(1);
      expect(now()).toBe(0.03);
    }, { mode: 'sim', loopbackLatency: 0.01, latency: 0.5 });
  });

  it('an address no host answers to: every SYN is lost, ETIMEDOUT after 127 s', async () => {
    await run(async () => {
      const c = socket();
      await expect(c.connect(['10.9.9.9', 80])).rejects.toMatchObject({ code: 'ETIMEDOUT' });
      expect(now()).toBe(127);
    }, { mode: 'sim' });
  });

  it('segments of one connection never overtake each other, even when the latency drops', async () => {
    await run(async () => {
      const net = getNet() as MemoryNet;
      const far = net.addHost('far', '10.0.0.3');
      const got: string[] = [];
      const server = spawn(async () => {
        const [srv] = await listener(7, 5, '');
        const [conn] = await srv.accept();
        for (;;) {
          const d = await conn.recv(100);
          if (d.length === 0) break;
          got.push(`${now()} ${new TextDecoder().decode(d)}`);
        }
      });
      net.placeGreenlet(server, far);
      await sleep(0);
      net.setLatency(net.defaultHost, far, 0.1);
      const c = socket();
      await c.connect(['far', 7]);
      await c.send('slow');
      net.setLatency(net.defaultHost, far, 0.001);
      await c.send('fast');
      c.close();
      await server.join();
      expect(got).toEqual(['0.201 slow', '0.201 fast']); // connected at 0.101 (SYN 100 ms, SYN-ACK 1 ms)
    }, { mode: 'sim' });
  });
});

describe('the receive window (64 KiB) and backpressure', () => {
  it('send takes what fits in the window; sendall of 200 KiB completes only as the peer reads', async () => {
    await run(async () => {
      const [srv, port] = await listener();
      const c = socket();
      await c.connect(['127.0.0.1', port]);
      const [conn] = await srv.accept();
      const big = new Uint8Array(100 * 1024).map((_, i) => i % 251);
      expect(await c.send(big)).toBe(65536);
      c.close();
      conn.close();

      const c2 = socket();
      await c2.connect(['127.0.0.1', port]);
      const [conn2] = await srv.accept();
      const data = new Uint8Array(200 * 1024).map((_, i) => (i * 7) % 256);
      let sentAt = -1;
      const sender = spawn(async () => {
        await c2.sendall(data);
        sentAt = now();
      });
      // the reader takes 16 KiB a second: the sender may run 64 KiB ahead
      const received: Uint8Array[] = [];
      let total = 0;
      while (total < data.length) {
        await sleep(1);
        let want = 16 * 1024;
        while (want > 0) {
          const chunk = await conn2.recv(want);
          received.push(chunk);
          total += chunk.length;
          want -= chunk.length;
          if (total === data.length) break;
        }
      }
      await sender.join();
      expect(sentAt).toBe(9); // 64 KiB + 9 × 16 KiB ≥ 200 KiB
      expect(Buffer.concat(received).equals(data)).toBe(true);
    }, { mode: 'sim' });
  });

  it('the window is a hub option', async () => {
    await run(async () => {
      const [srv, port] = await listener();
      const c = socket();
      await c.connect(['127.0.0.1', port]);
      await srv.accept();
      expect(await c.send(new Uint8Array(5000))).toBe(1000);
      c.settimeout(0.5);
      await expect(c.send(new Uint8Array(10))).rejects.toMatchObject({ code: 'ETIMEDOUT', message: 'timed out' });
    }, { mode: 'sim', window: 1000 });
  });
});

describe('network events in the trace', () => {
  async function exchange(seed: number): Promise<Hub> {
    const hub = new Hub({ mode: 'sim', seed, trace: true });
    await hub.run(async () => {
      const [srv, port] = await listener();
      const server = spawn(async () => {
        const [conn] = await srv.accept();
        const d = await conn.recv(1024);
        await conn.send(d);
        conn.close();
      });
      const c = socket();
      await c.connect(['127.0.0.1', port]);
      await c.send('hello');
      await c.recv(1024);
      c.close();
      await server.join();
    });
    return hub;
  }

  it('records listen, connect, accept, send, deliver, recv and close with sizes; bytes in the full list', async () => {
    const hub = await exchange(1);
    const net = hub.traceEvents().filter((e) => ['listen', 'connect', 'accept', 'send', 'deliver', 'recv', 'close'].includes(e.kind));
    expect(net.map((e) => `${e.kind}${e.size !== undefined ? ` ${e.size}` : ''}`)).toEqual([
      'listen',
      'accept', // the SYN's delivery wakes the server first…
      'connect', // …then the SYN-ACK's the client
      'send 5',
      'deliver 5',
      'recv 5',
      'send 5',
      'close', // the server closes before its reply is delivered (after it parks)
      'deliver 5',
      'recv 5',
      'close',
    ]);
    const send = net.find((e) => e.kind === 'send')!;
    expect(send.bytes).toBe('68656c6c6f'); // 'hello'
  });

  it('same program and seed, same hash; another seed (other ports), another hash', async () => {
    const h1 = (await exchange(1)).traceHash();
    const h2 = (await exchange(1)).traceHash();
    const h3 = (await exchange(2)).traceHash();
    expect(h1).toBe(h2);
    expect(h3).not.toBe(h1);
  });
});
