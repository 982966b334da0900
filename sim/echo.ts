/**
 * The tutorial's second program: one cooperative socket server (accept loop, one greenlet per
 * connection) and 500 clients, each sending '<name> say hello <count>' and reading the echo in capitals.
 *
 *   geventjs run sim/echo.ts                                  # in-memory network, virtual time
 *   geventjs run sim/echo.ts --clients 50 --messages 20 --real   # the same code on real loopback TCP
 *   geventjs run sim/echo.ts --clients 3 --messages 2 --verbose  # the tutorial's prints
 *   geventjs explore sim/echo.ts --seeds 1..100 --faults chaos --clients 5 --messages 5
 *                                          # stream chaos finds the framing bug (sim/echo-framed.ts has none)
 *
 * Written as close to the tutorial as TypeScript allows; where it differs, a comment says why. The
 * tutorial's clients are threads (`Thread-1`, …); here they are greenlets with those names.
 */
import {
  defineScenario,
  socket,
  spawn,
  joinall,
  getcurrent,
  getNet,
  wallClock,
  AsyncResult,
  GreenletExit,
  AF_INET,
  SOCK_STREAM,
  SOL_SOCKET,
  SO_REUSEADDR,
  type Socket,
  type Address,
} from 'geventjs';

const decoder = new TextDecoder();
let verbose = false;

/** Python's `bytes.upper()`: ASCII letters only, byte by byte. */
function upper(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    out[i] = b >= 0x61 && b <= 0x7a ? b - 0x20 : b;
  }
  return out;
}

// ------------------------------------------------------------------ the server (the tutorial's)

async function server(serverIp: string, port: number, backlog: number, bound: AsyncResult<Address>): Promise<void> {
  const s = socket(AF_INET, SOCK_STREAM);
  s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  try {
    await s.bind([serverIp, port]);
    await s.listen(backlog); // the tutorial's s.listen(5)
  } catch (e) {
    bound.setException(e);
    return;
  }
  bound.set(s.getsockname()); // so clients can find a port-0 server
  for (;;) {
    const [conn, addr] = await s.accept();
    spawn(talk, conn, addr);
  }
}

async function talk(conn: Socket, addr: Address): Promise<void> {
  try {
    for (;;) {
      const res = await conn.recv(1024);
      // The tutorial's loop never ends: at EOF recv returns b'' and it would echo b'' forever.
      // Stop when the client has closed.
      if (res.length === 0) break;
      if (verbose) console.log(`client ${addr[0]}:${addr[1]} msg: ${decoder.decode(res)}`);
      await conn.send(upper(res));
    }
  } catch (e) {
    // Python's `except Exception` does not catch GreenletExit (a BaseException): let a kill through
    if (e instanceof GreenletExit) throw e;
    console.log(e);
  } finally {
    conn.close();
  }
}

// ------------------------------------------------------------------ the clients (the tutorial's threads)

interface Tally {
  roundTrips: number;
  bytes: number;
  failures: string[];
}

async function client(serverIp: string, port: number, messages: number, size: number, readOnce: boolean, tally: Tally): Promise<void> {
  // As the tutorial says: the socket is created inside the function, so every client has its own
  // socket — and its own client port; one socket shared by all would be one connection.
  const c = socket(AF_INET, SOCK_STREAM);
  const name = getcurrent().name;
  try {
    await c.connect([serverIp, port]);
    // The tutorial loops forever (`while True`); here `messages` bounds it.
    for (let count = 0; count < messages; count++) {
      // `size` (not the tutorial's) pads the message with dots, to measure larger payloads
      const msg = size === 0 ? `${name} say hello ${count}` : `${name} say hello ${count}`.padEnd(size, '.');
      const sent = await c.send(msg);
      // The tutorial reads once (`msg=c.recv(1024)`): it takes one recv for one reply, which holds on
      // loopback without faults. TCP is a byte stream, though: a reply may come in pieces, and stream
      // chaos (--faults chaos) shows the bug. With readOnce false, read until the reply is complete.
      const want = msg.toUpperCase();
      let reply = '';
      do {
        const data = await c.recv(1024);
        if (data.length === 0) break;
        reply += decoder.decode(data);
      } while (!readOnce && reply.length < want.length);
      if (verbose) console.log(reply);
      if (sent !== msg.length || reply !== want) {
        throw new Error(`sent ${JSON.stringify(msg)}, got ${JSON.stringify(reply)}`);
      }
      tally.roundTrips++;
      tally.bytes += sent + reply.length;
    }
  } catch (e) {
    tally.failures.push(`${name}: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    c.close();
  }
}

export default defineScenario({
  name: 'echo',
  description: "the gevent tutorial's echo server with N clients (threads in the tutorial, greenlets here)",
  // readOnce: the tutorial's client, one recv taken as one reply (the framing bug stream chaos finds)
  // size: pad each message with dots to this many bytes (0: the tutorial's message as it is)
  options: { clients: 500, messages: 100, backlog: 5, latency: 0, verbose: false, port: 8080, host: '127.0.0.1', readOnce: true, size: 0 },
  // everything runs on one host, so the latency option is the loopback latency (sim mode only)
  hubOptions: (o) => ({ loopbackLatency: o.latency }),
  async run(o, hub) {
    const wall0 = wallClock();
    if (!Number.isInteger(o.size) || o.size < 0) throw new RangeError(`--size must be a whole number of bytes, not ${o.size}`);
    if (o.size > 1024 && o.readOnce) {
      throw new RangeError(`--size ${o.size} needs --readOnce false: the server echoes what one recv(1024) takes, so a reply comes in pieces`);
    }
    verbose = o.verbose;
    const bound = new AsyncResult<Address>();
    const srv = spawn(server, o.host, o.port, o.backlog, bound);
    const [, port] = await bound.get();

    const tally: Tally = { roundTrips: 0, bytes: 0, failures: [] };
    const clients = [];
    for (let i = 1; i <= o.clients; i++) {
      const g = spawn(client, o.host, port, o.messages, o.size, o.readOnce, tally);
      g.name = `Thread-${i}`;
      clients.push(g);
    }
    await joinall(clients);
    await srv.kill();

    const expected = o.clients * o.messages;
    if (tally.failures.length > 0 || tally.roundTrips !== expected) {
      const first = tally.failures.slice(0, 5).map((f) => `\n  ${f}`).join('');
      throw new Error(`echo: ${tally.roundTrips} of ${expected} round trips; ${tally.failures.length} clients failed${first}`);
    }
    return {
      clients: o.clients,
      roundTrips: tally.roundTrips,
      bytes: tally.bytes,
      connectRetries: getNet(hub).stats.connectRetries,
      virtualSeconds: hub.now(),
      wallMs: Math.round((wallClock() - wall0) * 10) / 10,
      // the run's hash so far: the CLI's last line gives the final one, after shutdown's events
      traceHashBeforeShutdown: hub.traceHash(),
    };
  },
});
