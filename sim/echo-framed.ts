/**
 * The tutorial's echo server and clients, correctly framed: every message ends with a newline, and
 * both sides read whole lines with `makefile('rb').readline()`, as gevent's own examples do — so it
 * holds however TCP cuts or joins the bytes.
 * Where sim/echo.ts (one recv taken as one message) fails under stream chaos, this passes every seed.
 *
 *   geventjs run sim/echo-framed.ts --clients 50 --messages 20
 *   geventjs explore sim/echo-framed.ts --seeds 1..1000 --faults chaos --clients 5 --messages 5
 *   geventjs run sim/echo-framed.ts --real --clients 50 --messages 20
 */
import { defineScenario, socket, spawn, joinall, getcurrent, getNet, AsyncResult, GreenletExit, AF_INET, SOCK_STREAM, type Socket, type Address } from 'geventjs';

const NL = 0x0a;
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

async function server(serverIp: string, port: number, backlog: number, bound: AsyncResult<Address>): Promise<void> {
  const s = socket(AF_INET, SOCK_STREAM);
  try {
    await s.bind([serverIp, port]);
    await s.listen(backlog);
  } catch (e) {
    bound.setException(e);
    return;
  }
  bound.set(s.getsockname());
  for (;;) {
    const [conn, addr] = await s.accept();
    spawn(talk, conn, addr);
  }
}

async function talk(conn: Socket, addr: Address): Promise<void> {
  const rfile = conn.makefile('rb');
  try {
    for (;;) {
      const line = await rfile.readline(); // a whole line, newline included, in however many pieces it came
      if (line.length === 0 || line[line.length - 1] !== NL) break; // EOF (a partial last line is dropped)
      if (verbose) console.log(`client ${addr[0]}:${addr[1]} msg: ${decoder.decode(line.subarray(0, -1))}`);
      await conn.sendall(upper(line)); // send may take only part of it: sendall sends it all
    }
  } catch (e) {
    if (e instanceof GreenletExit) throw e;
    console.log(e);
  } finally {
    conn.close();
  }
}

interface Tally {
  roundTrips: number;
  bytes: number;
  failures: string[];
}

async function client(serverIp: string, port: number, messages: number, tally: Tally): Promise<void> {
  const c = socket(AF_INET, SOCK_STREAM);
  const name = getcurrent().name;
  const rfile = c.makefile('rb');
  try {
    await c.connect([serverIp, port]);
    for (let count = 0; count < messages; count++) {
      const msg = `${name} say hello ${count}`;
      await c.sendall(`${msg}\n`);
      const line = decoder.decode(await rfile.readline());
      const reply = line.endsWith('\n') ? line.slice(0, -1) : `${line}(EOF)`;
      if (verbose) console.log(reply);
      if (reply !== msg.toUpperCase()) throw new Error(`sent ${JSON.stringify(msg)}, got ${JSON.stringify(reply)}`);
      tally.roundTrips++;
      tally.bytes += 2 * (msg.length + 1);
    }
  } catch (e) {
    tally.failures.push(`${name}: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    c.close();
  }
}

export default defineScenario({
  name: 'echo-framed',
  description: 'the echo server and clients with newline framing: correct however TCP cuts the stream',
  options: { clients: 500, messages: 100, backlog: 5, latency: 0, verbose: false, port: 8080, host: '127.0.0.1' },
  hubOptions: (o) => ({ loopbackLatency: o.latency }),
  async run(o, hub) {
    verbose = o.verbose;
    const bound = new AsyncResult<Address>();
    const srv = spawn(server, o.host, o.port, o.backlog, bound);
    const [, port] = await bound.get();
    const tally: Tally = { roundTrips: 0, bytes: 0, failures: [] };
    const clients = [];
    for (let i = 1; i <= o.clients; i++) {
      const g = spawn(client, o.host, port, o.messages, tally);
      g.name = `Thread-${i}`;
      clients.push(g);
    }
    await joinall(clients);
    await srv.kill();
    const expected = o.clients * o.messages;
    if (tally.failures.length > 0 || tally.roundTrips !== expected) {
      const first = tally.failures.slice(0, 5).map((f) => `\n  ${f}`).join('');
      throw new Error(`echo-framed: ${tally.roundTrips} of ${expected} round trips; ${tally.failures.length} clients failed${first}`);
    }
    return {
      clients: o.clients,
      roundTrips: tally.roundTrips,
      bytes: tally.bytes,
      connectRetries: getNet(hub).stats.connectRetries,
      virtualSeconds: hub.now(),
      // the run's hash so far: the CLI's last line gives the final one, after shutdown's events
      traceHashBeforeShutdown: hub.traceHash(),
    };
  },
});
