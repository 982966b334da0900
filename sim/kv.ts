/**
 * A small replicated key-value store on several hosts, and the bug a partition finds in it.
 *
 * Three replicas (kv1, kv2, kv3) serve a line protocol on port 7000 — `PUT key seq`, `GET key`, and
 * `REPL key seq` between replicas — and keep their data on a "disk" that survives a crash. Clients
 * (c1, c2, …) each write their own key with increasing sequence numbers and read random keys; they
 * talk to kv1 and fail over to the next replica when a request fails or times out.
 *
 * The invariant (no acknowledged write lost): a read that starts after a write was acknowledged
 * returns that write or a later one. The scenario throws when a read breaks it.
 *
 * The planted bug (the default): a replica acknowledges a PUT at once and replicates it in the
 * background, every 100 ms. Without faults every client talks to kv1 and all is well; under a
 * partition (or a crash), a client fails over to a replica that has not yet received writes kv1
 * acknowledged — and reads stale data. The fix (`--fixed`, or sim/kv-fixed.ts): replicate to every
 * replica before acknowledging (replicas keep the highest sequence number they saw, so late or
 * repeated replication is harmless).
 *
 *   geventjs explore sim/kv.ts --seeds 1..200 --faults partitions    # finds the stale read
 *   geventjs explore sim/kv.ts --seeds 1..200 --faults all --fixed   # passes
 *   geventjs run sim/kv.ts --real                                    # the same hosts on 127.0.0.2, .3, …
 */
import {
  defineScenario,
  createConnection,
  socket,
  spawn,
  sleep,
  joinall,
  GreenletExit,
  type Socket,
  type Random,
} from 'geventjs';

const NL = 0x0a;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Reads newline-terminated lines from a socket, whatever pieces TCP delivers them in. */
class LineReader {
  private buf: Uint8Array = new Uint8Array(0);
  constructor(private readonly sock: Socket) {}

  /** The next line without its newline, or null at EOF. */
  async next(): Promise<string | null> {
    for (;;) {
      const i = this.buf.indexOf(NL);
      if (i >= 0) {
        const line = decoder.decode(this.buf.subarray(0, i));
        this.buf = this.buf.subarray(i + 1);
        return line;
      }
      const data = await this.sock.recv(4096);
      if (data.length === 0) return null;
      const joined = new Uint8Array(this.buf.length + data.length);
      joined.set(this.buf);
      joined.set(data, this.buf.length);
      this.buf = joined;
    }
  }
}

interface Config {
  replicas: string[];
  port: number;
  timeout: number;
  fixed: boolean;
  verbose: boolean;
  random: Random;
  now: () => number;
}

/** One request on a fresh connection: send a line, read the answer. Throws on timeout, reset, EOF. */
async function rpc(cfg: Config, host: string, line: string): Promise<string> {
  const c = await createConnection([host, cfg.port], { timeout: cfg.timeout });
  try {
    await c.sendall(encoder.encode(`${line}\n`));
    const answer = await new LineReader(c).next();
    if (answer === null) throw new Error(`${host} closed the connection`);
    return answer;
  } finally {
    c.close();
  }
}

// ------------------------------------------------------------------ replicas

/** A replica's disk: key → highest sequence number written. It survives crashes (it lives outside the host's main). */
type Disk = Map<string, number>;

function apply(disk: Disk, key: string, seq: number): void {
  if (seq > (disk.get(key) ?? 0)) disk.set(key, seq);
}

async function replica(cfg: Config, me: string, disk: Disk): Promise<void> {
  const peers = cfg.replicas.filter((r) => r !== me);
  // the bug's background replication: what was acknowledged but not yet sent to the peers
  const pending: [string, number][] = [];
  if (!cfg.fixed) spawn(replicateLater, cfg, peers, pending);
  const server = socket();
  await server.bind(['0.0.0.0', cfg.port]);
  await server.listen(128);
  for (;;) {
    const [conn] = await server.accept();
    spawn(serve, cfg, conn, disk, peers, pending);
  }
}

async function serve(cfg: Config, conn: Socket, disk: Disk, peers: string[], pending: [string, number][]): Promise<void> {
  conn.settimeout(30);
  try {
    const line = await new LineReader(conn).next();
    if (line === null) return;
    const [op, key = '', n = '0'] = line.split(' ');
    const seq = Number(n);
    let answer: string;
    switch (op) {
      case 'PUT':
        apply(disk, key, seq);
        if (cfg.fixed) await replicateNow(cfg, peers, key, seq); // every replica has it before the ack
        else pending.push([key, seq]); // the bug: acknowledged now, replicated within 100 ms
        answer = 'OK';
        break;
      case 'REPL':
        apply(disk, key, seq);
        answer = 'OK';
        break;
      case 'GET':
        answer = `VAL ${disk.get(key) ?? 0}`;
        break;
      default:
        answer = `ERR unknown request ${JSON.stringify(line)}`;
    }
    await conn.sendall(encoder.encode(`${answer}\n`));
  } catch (e) {
    if (e instanceof GreenletExit) throw e; // a crash: die
    // the client gave up or the connection broke: nothing to answer
  } finally {
    conn.close();
  }
}

/** The fix: sends a write to every peer, retrying each until it answers. */
async function replicateNow(cfg: Config, peers: string[], key: string, seq: number): Promise<void> {
  await joinall(
    peers.map((peer) =>
      spawn(async () => {
        for (let backoff = 0.05; ; backoff = Math.min(backoff * 2, 0.5)) {
          try {
            if ((await rpc(cfg, peer, `REPL ${key} ${seq}`)) === 'OK') return;
          } catch (e) {
            if (e instanceof GreenletExit) throw e;
          }
          await sleep(backoff);
        }
      }),
    ),
    { raiseError: true },
  );
}

/** The bug: every 100 ms, sends what was acknowledged meanwhile to the peers (kept for the next round on failure). */
async function replicateLater(cfg: Config, peers: string[], pending: [string, number][]): Promise<void> {
  const unsent = new Map(peers.map((p) => [p, [] as [string, number][]]));
  for (;;) {
    await sleep(0.1);
    const batch = pending.splice(0);
    await joinall(
      peers.map((peer) =>
        spawn(async () => {
          const queue = unsent.get(peer)!;
          queue.push(...batch);
          while (queue.length > 0) {
            const [key, seq] = queue[0]!;
            try {
              if ((await rpc(cfg, peer, `REPL ${key} ${seq}`)) !== 'OK') return;
            } catch (e) {
              if (e instanceof GreenletExit) throw e;
              return; // try again next round
            }
            queue.shift();
          }
        }),
      ),
    );
  }
}

// ------------------------------------------------------------------ clients

interface Tally {
  writes: number;
  reads: number;
  failovers: number;
  /** Per key: the highest sequence number acknowledged, and when. */
  acked: Map<string, { seq: number; at: number }>;
}

async function client(cfg: Config, me: string, keys: string[], ops: number, think: number, tally: Tally): Promise<void> {
  let target = 0; // everyone starts with kv1
  let seq = 0;
  const log = (s: string): void => {
    if (cfg.verbose) console.log(`${cfg.now().toFixed(3)} ${me}: ${s}`);
  };
  /** Sends a request to the current replica, failing over to the next one until one answers. */
  const request = async (line: string): Promise<[string, string]> => {
    for (;;) {
      const replica = cfg.replicas[target]!;
      try {
        return [await rpc(cfg, replica, line), replica];
      } catch (e) {
        if (e instanceof GreenletExit) throw e;
        target = (target + 1) % cfg.replicas.length;
        tally.failovers++;
        log(`${line} failed at ${replica} (${(e as Error).message}); trying ${cfg.replicas[target]}`);
      }
    }
  };
  for (let op = 0; op < ops; op++) {
    await sleep(cfg.random.uniform(0, 2 * think));
    if (op % 2 === 0) {
      seq++;
      const [answer, at] = await request(`PUT ${me} ${seq}`);
      if (answer !== 'OK') throw new Error(`kv: PUT ${me} ${seq} at ${at} answered ${JSON.stringify(answer)}`);
      const prev = tally.acked.get(me);
      if (prev === undefined || seq > prev.seq) tally.acked.set(me, { seq, at: cfg.now() });
      tally.writes++;
      log(`PUT ${me} ${seq} acknowledged by ${at}`);
    } else {
      const key = keys[cfg.random.int(keys.length)]!;
      const before = tally.acked.get(key); // acknowledged before this read started
      const [answer, at] = await request(`GET ${key}`);
      const got = Number(answer.split(' ')[1]);
      tally.reads++;
      log(`GET ${key} = ${got} from ${at}`);
      if (before !== undefined && !(got >= before.seq)) {
        throw new Error(
          `kv: stale read: ${me} read ${key} = ${got} from ${at} at ${cfg.now().toFixed(3)} s, ` +
            `but write ${before.seq} was acknowledged at ${before.at.toFixed(3)} s (an acknowledged write is lost)`,
        );
      }
    }
  }
}

// ------------------------------------------------------------------ the scenario

/**
 * The kv scenario, with the bug (`fixed: false`) or without it.
 * @example
 * export default kvScenario(true); // sim/kv-fixed.ts
 */
export function kvScenario(fixed: boolean) {
  return defineScenario({
    name: fixed ? 'kv-fixed' : 'kv',
    description: fixed
      ? 'a replicated key-value store that replicates to every replica before acknowledging'
      : 'a replicated key-value store that acknowledges before replicating (a partition loses acknowledged writes)',
    options: { replicas: 3, clients: 3, ops: 50, think: 0.2, timeout: 1, port: 7000, fixed, verbose: false },
    async run(o, sim) {
      const names = Array.from({ length: o.replicas }, (_, i) => `kv${i + 1}`);
      const clients = Array.from({ length: o.clients }, (_, i) => `c${i + 1}`);
      const cfg: Config = { replicas: names, port: o.port, timeout: o.timeout, fixed: o.fixed, verbose: o.verbose, random: sim.random, now: () => sim.now() };
      const tally: Tally = { writes: 0, reads: 0, failovers: 0, acked: new Map() };
      for (const name of names) {
        const disk: Disk = new Map(); // outside the factory: it survives crashes
        sim.host(name, () => replica(cfg, name, disk));
      }
      const hosts = clients.map((name) => sim.client(name, () => client(cfg, name, clients, o.ops, o.think, tally)));
      await joinall(hosts.map((h) => h.greenlet!), { raiseError: true });
      return {
        fixed: o.fixed,
        replicas: o.replicas,
        clients: o.clients,
        writes: tally.writes,
        reads: tally.reads,
        failovers: tally.failovers,
        virtualSeconds: sim.now(),
      };
    },
  });
}

export default kvScenario(false);
