/**
 * The fault seams of the network layer: the router's HOLD verdict and in-flight rules, latency
 * samplers, and the fabric keeping a connection in order when a fault loses or holds one of its
 * segments (TCP's reassembly).
 */
import { describe, it, expect } from 'vitest';
import { Hub, run, spawn, sleep, getcurrent, socket, getNet, MemoryNet, Random } from 'geventjs';
import { Router, DROP, PASS, HOLD } from '../../src/net/router.js';
import { latencySampler } from '../../src/net/latency.js';
import { Segment, DATA, SYN } from '../../src/net/segment.js';
import { MemSocket } from '../../src/net/kernel.js';

const now = (): number => getcurrent().hub.now();

describe('router', () => {
  const hub = new Hub({ mode: 'sim' });
  const net = new MemoryNet(hub);
  const a = net.defaultHost;
  const b = net.addHost('b', '10.0.0.2');
  const from = new MemSocket(net, a);
  const seg = new Segment().fill(DATA, a, b, '127.0.0.1', 40000, '10.0.0.2', 80, from, null, new Uint8Array(1), 0);

  it('HOLD and DROP carry the tag of the rule that gave them; the latency leaves no tag', () => {
    const r = new Router(1_000_000, 0);
    const remove = r.addRule(() => HOLD, { tag: 'h' });
    expect(r.route(seg)).toBe(HOLD);
    expect(r.tag).toBe('h');
    remove();
    r.addRule((s) => (s.kind === SYN ? DROP : PASS), { tag: 'syn' });
    expect(r.route(seg)).toBe(1_000_000);
    expect(r.tag).toBe(undefined);
  });

  it('check() asks only in-flight rules, and only for DROP or HOLD', () => {
    const r = new Router(1_000_000, 0);
    r.addRule(() => DROP); // a send-time rule: not asked again on arrival
    expect(r.hasInFlightRules).toBe(false);
    expect(r.check(seg)).toBe(PASS);
    const remove = r.addRule(() => 5, { inFlight: true }); // a delay on arrival counts for nothing
    expect(r.check(seg)).toBe(PASS);
    remove();
    r.addRule(() => HOLD, { inFlight: true, tag: 't' });
    expect(r.hasInFlightRules).toBe(true);
    expect(r.check(seg)).toBe(HOLD);
    expect(r.tag).toBe('t');
  });

  it('latency samplers: fixed is a constant; uniform and exponential draw from the PRNG given, in range', () => {
    const random = new Random(9);
    expect(latencySampler(0.002, random)).toBe(2_000_000);
    expect(latencySampler({ fixed: 0.003 }, random)).toBe(3_000_000);
    const u = latencySampler({ uniform: [0.001, 0.002] }, random) as () => number;
    const e = latencySampler({ exponential: 0.001, min: 0.0005, max: 0.004 }, random) as () => number;
    for (let i = 0; i < 200; i++) {
      const x = u();
      expect(x >= 1_000_000 && x <= 2_000_000 && Number.isInteger(x)).toBe(true);
      const y = e();
      expect(y >= 500_000 && y <= 4_000_000).toBe(true);
    }
    const again = new Random(9);
    latencySampler(0.002, again);
    const u2 = latencySampler({ uniform: [0.001, 0.002] }, again) as () => number;
    const first = new Random(9);
    const u3 = latencySampler({ uniform: [0.001, 0.002] }, first) as () => number;
    expect(u2()).toBe(u3());
  });
});

describe('a connection stays in order whatever a fault does to one of its segments', () => {
  it('a lost segment is retransmitted after 200 ms; the ones behind it wait for it', async () => {
    const got: string[] = [];
    await run(async () => {
      const net = getNet() as MemoryNet;
      const far = net.addHost('far', '10.0.0.9');
      let dropFirst = true;
      net.addRule((s) => {
        if (s.kind === DATA && s.size > 0 && dropFirst && s.dst === far) {
          dropFirst = false;
          return DROP;
        }
        return PASS;
      });
      const server = spawn(async () => {
        const srv = socket();
        await srv.bind(['0.0.0.0', 7]);
        await srv.listen();
        const [c] = await srv.accept();
        for (;;) {
          const d = await c.recv(100);
          if (d.length === 0) break;
          got.push(`${now()} ${new TextDecoder().decode(d)}`);
        }
      });
      net.placeGreenlet(server, far);
      await sleep(0);
      const c = socket();
      await c.connect(['far', 7]); // 0.002
      await c.send('a'); // lost
      await c.send('b'); // arrives at 0.003, waits for a
      await sleep(1);
      await c.send('c');
      c.close();
      await server.join();
      expect(net.stats.retransmits).toBe(1);
    }, { mode: 'sim' });
    expect(got).toEqual(['0.203 ab', '1.003 c']);
  });
});

describe('delivered segments are reused only when nothing outside the fabric saw them', () => {
  // An echo exchange of `n` messages on loopback, seeded; `watch` installs a rule first when given.
  async function exchange(
    n: number,
    watch: ((seen: Segment[]) => (s: Segment) => number) | null,
    seed = 1,
  ): Promise<{ seen: Segment[]; replies: string[]; hash: string }> {
    const seen: Segment[] = [];
    const replies: string[] = [];
    const hub = new Hub({ mode: 'sim', seed });
    await hub.run(async () => {
      const net = getNet() as MemoryNet;
      if (watch !== null) net.addRule(watch(seen));
      const server = spawn(async () => {
        const srv = socket();
        await srv.bind(['127.0.0.1', 7]);
        await srv.listen();
        const [c] = await srv.accept();
        for (;;) {
          const d = await c.recv(100);
          if (d.length === 0) break;
          await c.send(d);
        }
        c.close();
      });
      await sleep(0);
      const c = socket();
      await c.connect(['127.0.0.1', 7]);
      for (let i = 0; i < n; i++) {
        await c.send(`m${i}`);
        replies.push(new TextDecoder().decode(await c.recv(100)));
      }
      c.close();
      await server.join();
    });
    return { seen, replies, hash: hub.traceHash() };
  }

  it('segments a rule has seen keep their contents after delivery (a rule may keep them)', async () => {
    const { seen, replies } = await exchange(5, (seen) => (s) => {
      if (s.kind === DATA) seen.push(s);
      return PASS;
    });
    expect(replies).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    // each message there and back, in send order: ten distinct segments, none rewritten by a later send
    expect(new Set(seen).size).toBe(10);
    expect(seen.map((s) => new TextDecoder().decode(s.data!))).toEqual(['m0', 'm0', 'm1', 'm1', 'm2', 'm2', 'm3', 'm3', 'm4', 'm4']);
    expect(seen.map((s) => s.srcPort === 7)).toEqual([false, true, false, true, false, true, false, true, false, true]);
  });

  it('without rules the exchange is the same (the trace hash too) with reused segments', async () => {
    const expected = Array.from({ length: 20 }, (_, i) => `m${i}`);
    // a rule that never answers anything but PASS changes no event: only whether segments are reused
    const plain = await exchange(20, null, 3);
    const watched = await exchange(20, () => () => PASS, 3);
    expect(plain.replies).toEqual(expected);
    expect(watched.replies).toEqual(expected);
    expect(plain.hash).toBe(watched.hash);
  });
});
