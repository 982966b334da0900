/**
 * gevent.server.StreamServer in both modes, ported in spirit from gevent's test__server.py; and real
 * mode speaking real TCP with plain node:net peers.
 */
import { describe, it, expect } from 'vitest';
import * as nodeNet from 'node:net';
import {
  run,
  spawn,
  sleep,
  getcurrent,
  getHub,
  joinall,
  socket,
  createConnection,
  StreamServer,
  Pool,
  Socket,
  type Address,
  type Mode,
} from 'geventjs';

const MODES: Mode[] = ['sim', 'real'];
const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const now = (): number => getcurrent().hub.now();

async function echo(conn: Socket): Promise<void> {
  for (;;) {
    const data = await conn.recv(1024);
    if (data.length === 0) return;
    await conn.sendall(data);
  }
}

/** After main returned with the server running: nothing was reported, the server and its socket are closed. */
function expectClosedQuietly(server: StreamServer, errors: unknown[]): void {
  expect(errors).toEqual([]);
  expect(server.closed).toBe(true);
  expect(server.started).toBe(false);
  expect(server.socket!.closed).toBe(true);
}

async function roundTrip(port: number, msg: string): Promise<string> {
  const c = await createConnection(['127.0.0.1', port]);
  try {
    await c.sendall(msg);
    c.shutdown(1);
    let out = '';
    for (;;) {
      const d = await c.recv(1024);
      if (d.length === 0) return out;
      out += text(d);
    }
  } finally {
    c.close();
  }
}

for (const mode of MODES) {
  const runIn = <T>(fn: () => Promise<T>, reporter?: (e: unknown) => void): Promise<T> =>
    run(fn, { mode, shutdownTimeout: 0.5, ...(reporter ? { reporter } : {}) });

  describe(`StreamServer in ${mode} mode`, () => {
    it('serves each connection in its own greenlet; port 0 becomes the assigned port', async () => {
      await runIn(async () => {
        const server = new StreamServer(['127.0.0.1', 0], echo);
        expect(server.started).toBe(false);
        expect(server.address).toEqual(['127.0.0.1', 0]);
        await server.start();
        expect(server.started).toBe(true);
        expect(server.closed).toBe(false);
        const [host, port] = server.address;
        expect(host).toBe('127.0.0.1');
        expect(port).toBeGreaterThan(0);
        expect(server.serverPort).toBe(port);
        const replies = await joinall(
          ['one', 'two', 'three'].map((m) => spawn(roundTrip, port, m)),
          { raiseError: true },
        );
        expect(replies.map((g) => g.value).sort()).toEqual(['one', 'three', 'two']);
        await server.stop();
        expect(server.started).toBe(false);
        expect(server.closed).toBe(true);
        await expect(createConnection(['127.0.0.1', port])).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      });
    });

    it('closes the connection when the handler returns, and when it throws', async () => {
      const errors: unknown[] = [];
      await runIn(
        async () => {
          const server = new StreamServer(['127.0.0.1', 0], async (conn, addr) => {
            const first = text(await conn.recv(10));
            if (first === 'boom') throw new Error(`handler failed for ${addr[0]}`);
          });
          await server.start();
          for (const msg of ['hi', 'boom']) {
            const c = await createConnection(server.address);
            await c.sendall(msg);
            expect((await c.recv(10)).length).toBe(0); // EOF: the server closed its side
            c.close();
          }
          await server.stop();
        },
        (e: unknown) => void errors.push(e),
      );
      expect(errors).toHaveLength(1);
      expect((errors[0] as Error).message).toBe('handler failed for 127.0.0.1');
    });

    it('spawn: n runs at most n handlers; a full pool pauses accepting', async () => {
      await runIn(async () => {
        const started: string[] = [];
        const release: (() => void)[] = [];
        const server = new StreamServer(['127.0.0.1', 0], async (conn) => {
          started.push(text(await conn.recv(10)));
          await conn.recv(10); // until the client closes
        }, { spawn: 2 });
        await server.start();
        const clients: Socket[] = [];
        for (const name of ['a', 'b', 'c']) {
          const c = await createConnection(server.address);
          await c.sendall(name);
          clients.push(c);
          release.push(() => c.close());
        }
        await sleep(0.05);
        expect(started).toEqual(['a', 'b']); // 'c' waits in the backlog, unaccepted
        expect(server.pool!.freeCount()).toBe(0);
        release[0]!();
        for (let i = 0; i < 100 && started.length < 3; i++) await sleep(0.01);
        expect(started).toEqual(['a', 'b', 'c']);
        await server.stop(0.1);
      });
    });

    it('spawn: a Pool instance; stop(timeout) waits for the handlers, then kills them', async () => {
      await runIn(async () => {
        const pool = new Pool(10);
        const finished: string[] = [];
        const server = new StreamServer(['127.0.0.1', 0], async (conn) => {
          const what = text(await conn.recv(10));
          try {
            await sleep(what === 'quick' ? 0.01 : 10);
            finished.push(what);
          } finally {
            finished.push(`${what} done`);
          }
        }, { spawn: pool });
        expect(server.pool).toBe(pool);
        await server.start();
        const quick = await createConnection(server.address);
        await quick.sendall('quick');
        const slow = await createConnection(server.address);
        await slow.sendall('slow');
        await sleep(0.005);
        const t0 = now();
        await server.stop(0.1);
        expect(finished).toEqual(['quick', 'quick done', 'slow done']); // slow was killed
        if (mode === 'sim') expect([t0, now()]).toEqual([0.005, 0.105]);
        else expect(now() - t0).toBeGreaterThanOrEqual(0.09);
        expect(pool.length).toBe(0);
      });
    });

    it('serveForever runs until stop(); killing it stops the server', async () => {
      await runIn(async () => {
        const server = new StreamServer(['127.0.0.1', 0], echo);
        const g = spawn(() => server.serveForever());
        for (let i = 0; i < 100 && !server.started; i++) await sleep(0.001);
        expect(server.started).toBe(true);
        expect(await roundTrip(server.serverPort, 'ping')).toBe('ping');
        await server.stop();
        await g.join();
        expect(g.successful()).toBe(true);

        const server2 = new StreamServer(['127.0.0.1', 0], echo);
        const g2 = spawn(() => server2.serveForever());
        for (let i = 0; i < 100 && !server2.started; i++) await sleep(0.001);
        await g2.kill();
        expect(server2.started).toBe(false);
        expect(server2.closed).toBe(true);
      });
    });

    it('main returns while the server accepts: GreenletExit ends the accept loop, the server closes, nothing is reported', async () => {
      // gevent exits cleanly here; the accept loop used to swallow the hub's GreenletExit, report it,
      // and keep accepting until the hub gave up on it 1 s later
      const errors: unknown[] = [];
      const log: string[] = [];
      let server!: StreamServer;
      const wall = performance.now();
      const hub = await run(async () => {
        server = new StreamServer(['127.0.0.1', 0], echo);
        await server.start();
        log.push(`started at ${now()}`);
        expect(await roundTrip(server.serverPort, 'ping')).toBe('ping');
        await sleep(0.01);
        log.push(`main returns at ${now()}`);
        return getHub();
      }, { mode, reporter: (e: unknown) => void errors.push(e) });
      expectClosedQuietly(server, errors);
      if (mode === 'sim') {
        expect(log).toEqual(['started at 0', 'main returns at 0.01']);
        expect(hub.now()).toBe(0.01); // not 1.01: no greenlet left to abandon
      } else {
        expect(performance.now() - wall).toBeLessThan(500);
      }
    });

    it('main returns while a full pool pauses accepting: the server closes too', async () => {
      const errors: unknown[] = [];
      const log: string[] = [];
      let server!: StreamServer;
      const wall = performance.now();
      const hub = await run(async () => {
        server = new StreamServer(['127.0.0.1', 0], async (conn) => {
          log.push(`handler got ${text(await conn.recv(10))} at ${now()}`);
          try {
            await conn.recv(10); // until killed
          } finally {
            log.push(`handler killed at ${now()}`);
          }
        }, { spawn: 1 });
        await server.start();
        const c = await createConnection(server.address);
        await c.sendall('busy');
        await sleep(0.01); // the acceptor now waits for the pool
        expect(server.pool!.freeCount()).toBe(0);
        log.push(`main returns at ${now()}`);
        return getHub();
      }, { mode, reporter: (e: unknown) => void errors.push(e) });
      expectClosedQuietly(server, errors);
      if (mode === 'sim') {
        expect(log).toEqual(['handler got busy at 0', 'main returns at 0.01', 'handler killed at 0.01']);
        expect(hub.now()).toBe(0.01);
      } else {
        expect(log.map((l) => l.split(' at ')[0])).toEqual(['handler got busy', 'main returns', 'handler killed']);
        expect(performance.now() - wall).toBeLessThan(500);
      }
    });

    it('the listening socket closed under a running server: the accept loop ends, the server stops, serveForever returns', async () => {
      const log: string[] = [];
      await runIn(async () => {
        const s = socket();
        await s.bind(['127.0.0.1', 0]);
        await s.listen(5);
        const server = new StreamServer(s, echo);
        const g = spawn(async () => {
          await server.serveForever();
          log.push(`serveForever returned at ${now()}`);
        });
        await sleep(0.01);
        expect(server.started).toBe(true);
        s.close();
        log.push(`closed at ${now()}`);
        await g.join();
        expect(g.successful()).toBe(true);
        expect(server.started).toBe(false);
        expect(server.closed).toBe(true);
      });
      if (mode === 'sim') expect(log).toEqual(['closed at 0.01', 'serveForever returned at 0.01']);
      else expect(log.map((l) => l.split(' at ')[0])).toEqual(['closed', 'serveForever returned']);
    });

    it("gevent's address shorthands: ':port', '*:port', 'host:port' and a port alone listen where [host, port] would", async () => {
      await runIn(async () => {
        for (const [listener, bound] of [
          [':0', ''],
          ['*:0', ''],
          ['127.0.0.1:0', '127.0.0.1'],
          ['localhost:0', 'localhost'],
          [0, ''],
          ['0', ''],
        ] as const) {
          const server = new StreamServer(listener, echo);
          expect(server.address).toEqual([bound, 0]);
          await server.start();
          const port = server.address[1];
          expect(port).toBeGreaterThan(0);
          expect(await roundTrip(port, `via ${String(listener)}`)).toBe(`via ${String(listener)}`);
          await server.stop();
        }
        expect(() => new StreamServer('127.0.0.1:http', echo)).toThrow(new RangeError("StreamServer(): invalid port in '127.0.0.1:http' (expected 'host:port', ':port' or a port)"));
        expect(() => new StreamServer('[::1]:8080', echo)).toThrow(/IPv6 addresses are not supported/);
        expect(() => new StreamServer(':70000', echo)).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_BAD_PORT' }));
      });
    });

    it('closed is true until start (unless given a socket), and after a failed start, as gevent', async () => {
      await runIn(async () => {
        const server = new StreamServer(['127.0.0.1', 0], echo);
        expect([server.closed, server.started]).toEqual([true, false]);
        await server.start();
        expect([server.closed, server.started]).toEqual([false, true]);
        const taken = new StreamServer(server.address, echo);
        expect(taken.closed).toBe(true);
        await expect(taken.start()).rejects.toMatchObject({ code: 'EADDRINUSE' });
        expect([taken.closed, taken.started]).toEqual([true, false]);
        await server.stop();
        expect([server.closed, server.started]).toEqual([true, false]);

        const s = socket();
        await s.bind(['127.0.0.1', 0]);
        await s.listen(5);
        const given = new StreamServer(s, echo);
        expect([given.closed, given.started]).toEqual([false, false]); // it has its socket
        s.close();
        await expect(given.start()).rejects.toThrow(/closed/);
        expect([given.closed, given.started]).toEqual([true, false]);
      });
    });

    it('takes a listening socket; a subclass may override handle; a stopped server restarts', async () => {
      await runIn(async () => {
        const s = socket();
        await s.bind(['127.0.0.1', 0]);
        await s.listen(5);
        expect(() => new StreamServer(s, echo, { backlog: 5 })).toThrow(TypeError);
        class Upper extends StreamServer {
          override async handle(conn: Socket, _addr: Address): Promise<void> {
            await conn.sendall(text(await conn.recv(100)).toUpperCase());
          }
        }
        const server = new Upper(s);
        expect(server.address).toEqual(s.getsockname());
        await server.start();
        expect(await roundTrip(server.serverPort, 'shout')).toBe('SHOUT');
        await server.stop();
        expect(s.closed).toBe(true);
        await expect(server.start()).rejects.toThrow(/closed/);

        const byAddress = new StreamServer(['127.0.0.1', 0], echo);
        await byAddress.start();
        await byAddress.stop();
        await byAddress.start();
        expect(await roundTrip(byAddress.serverPort, 'again')).toBe('again');
        await byAddress.stop();
        expect(() => new StreamServer(['127.0.0.1', 0])).toThrow("'handle' must be provided");
      });
    });
  });
}

describe('StreamServer and the hub', () => {
  it("a full pool resumes accepting at the hub's next poll, after the reply the freed handler sent is read (gevent's order)", async () => {
    const log: string[] = [];
    await run(async () => {
      const srv = new StreamServer(
        ['127.0.0.1', 0],
        async (conn: Socket) => {
          const d = text(await conn.recv(100));
          log.push(`${now()} handler ${d} starts`);
          await sleep(0.5);
          await conn.sendall(d);
        },
        { spawn: 2 },
      );
      await srv.start();
      const clients = [];
      for (let i = 0; i < 3; i++) {
        clients.push(
          spawn(async () => {
            const c = await createConnection(srv.address);
            await c.sendall(`c${i}`);
            const reply = text(await c.recv(100));
            log.push(`${now()} client ${i} got ${reply}`);
            c.close();
          }),
        );
        await sleep(0.01);
      }
      await joinall(clients);
      await srv.stop();
    }, { mode: 'sim' });
    // gevent 22.10 gives this order: c0's reply is read before the server, its pool freed, accepts c2
    expect(log).toEqual(['0 handler c0 starts', '0.01 handler c1 starts', '0.5 client 0 got c0', '0.5 handler c2 starts', '0.51 client 1 got c1', '1 client 2 got c2']);
  });
});

describe('real mode speaks real TCP', () => {
  it('a StreamServer and clients written with plain node:net talk to each other', async () => {
    const replies = await run(async () => {
      const server = new StreamServer(['127.0.0.1', 0], async (conn) => {
        for (;;) {
          const data = await conn.recv(1024);
          if (data.length === 0) return;
          await conn.sendall(text(data).toUpperCase());
        }
      });
      await server.start();
      const port = server.serverPort;
      const oneClient = (msg: string): Promise<string> =>
        new Promise((resolve, reject) => {
          const c = nodeNet.connect({ host: '127.0.0.1', port }, () => c.end(msg));
          let out = '';
          c.on('data', (d) => (out += d.toString()));
          c.on('end', () => resolve(out));
          c.on('error', reject);
        });
      const all = await getHub().external(Promise.all(['hello', 'from', 'node'].map(oneClient)));
      await server.stop();
      return all;
    }, { mode: 'real' });
    expect(replies).toEqual(['HELLO', 'FROM', 'NODE']);
  });

  it('a greenlet waiting in accept is not LoopExit in real mode: a real client may still come', async () => {
    const peer = await run(async () => {
      const s = socket();
      await s.bind(['127.0.0.1', 0]);
      await s.listen(5);
      const port = s.getsockname()[1];
      // nothing in the hub will ever connect; a plain node:net client does, 20 ms later
      const timer = setTimeout(() => nodeNet.connect({ host: '127.0.0.1', port }).on('connect', function (this: nodeNet.Socket) {
        this.end();
      }), 20);
      try {
        const [conn, addr] = await s.accept();
        conn.close();
        return addr;
      } finally {
        clearTimeout(timer);
      }
    }, { mode: 'real' });
    expect(peer[0]).toBe('127.0.0.1');
  });

  it('a geventjs client talks to a plain node:net server', async () => {
    const server = nodeNet.createServer((s) => s.on('data', (d) => s.end(`got ${d.toString()}`)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as nodeNet.AddressInfo).port;
    try {
      const reply = await run(async () => {
        const c = await createConnection(['127.0.0.1', port], { timeout: 5 });
        await c.sendall('hi');
        let out = '';
        for (;;) {
          const d = await c.recv(100);
          if (d.length === 0) break;
          out += text(d);
        }
        c.close();
        return out;
      }, { mode: 'real' });
      expect(reply).toBe('got hi');
    } finally {
      server.close();
    }
  });
});
