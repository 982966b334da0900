/**
 * The tutorial's echo server and its clients (sim/echo.ts): reproducible in sim mode, the same code on
 * real TCP, and the same per-client conversation in both.
 */
import { readFileSync } from 'node:fs';
import { describe, it, expect, vi, afterEach } from 'vitest';
import { runScenario, Hub, type MemoryNet } from 'geventjs';
import echo from '../../sim/echo.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** Runs the scenario with `verbose` and returns the printed lines. */
async function transcript(mode: 'sim' | 'real', clients: number, messages: number): Promise<string[]> {
  const lines: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')));
  try {
    await runScenario(echo, { mode, options: { clients, messages, verbose: true, port: 0 } });
  } finally {
    vi.restoreAllMocks();
  }
  return lines;
}

/** Lines by client: the client's replies, and the server's lines about that client (ports dropped). */
function byClient(lines: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of lines) {
    const server = /^client [\d.]+:\d+ msg: (Thread-\d+) (.*)$/.exec(line);
    const reply = /^(THREAD-\d+) (.*)$/.exec(line);
    const name = server ? server[1]! : reply ? reply[1]!.replace('THREAD', 'Thread') : null;
    if (name === null) throw new Error(`unexpected output line: ${line}`);
    const list = out.get(name) ?? [];
    list.push(server ? `server got: ${server[1]} ${server[2]}` : `client got: ${line}`);
    out.set(name, list);
  }
  return new Map([...out].sort(([a], [b]) => Number(a.slice(7)) - Number(b.slice(7))));
}

describe('the echo scenario', () => {
  it('500 clients × 100 messages in sim mode: every reply right, virtual time 0 on loopback', async () => {
    const r = await runScenario(echo, { seed: 1 });
    expect(r.summary).toMatchObject({ clients: 500, roundTrips: 50_000, connectRetries: 0, virtualSeconds: 0 });
    // each message is 'Thread-<i> say hello <count>', sent once and received once
    let bytes = 0;
    for (let i = 1; i <= 500; i++) for (let c = 0; c < 100; c++) bytes += 2 * `Thread-${i} say hello ${c}`.length;
    expect(r.summary.bytes).toBe(bytes);
    expect(r.summary.wallMs).toBeGreaterThan(0);
    // `npm start` runs exactly this: the README's quick start shows its trace hash
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(/^virtual 0 s · wall [\d.]+ ms · trace ([0-9a-f]{16})$/m.exec(readme)?.[1]).toBe(r.traceHash);
  });

  it('same seed, same trace hash — run twice in one test', async () => {
    const a = await runScenario(echo, { seed: 7, options: { clients: 50, messages: 20 } });
    const b = await runScenario(echo, { seed: 7, options: { clients: 50, messages: 20 } });
    expect(a.summary.traceHashBeforeShutdown).toMatch(/^[0-9a-f]{16}$/);
    expect(b.summary.traceHashBeforeShutdown).toBe(a.summary.traceHashBeforeShutdown);
    expect(b.traceHash).toBe(a.traceHash);
    const c = await runScenario(echo, { seed: 8, options: { clients: 50, messages: 20 } });
    expect(c.summary.traceHashBeforeShutdown).not.toBe(a.summary.traceHashBeforeShutdown);
  });

  it('the latency option is the loopback latency: a round trip costs two of it', async () => {
    const r = await runScenario(echo, { options: { clients: 3, messages: 2, latency: 0.01 } });
    // connect (SYN, SYN-ACK) then two round trips, 10 ms each way
    expect(r.summary.virtualSeconds).toBe(0.06);
  });

  it('runs unchanged on real TCP', async () => {
    const r = await runScenario(echo, { mode: 'real', options: { port: 0, clients: 50, messages: 20 } });
    expect(r.mode).toBe('real');
    expect(r.summary).toMatchObject({ clients: 50, roundTrips: 1000 });
    expect(r.summary.virtualSeconds).toBeGreaterThan(0);
  });

  it('the size option pads messages; replies larger than one recv(1024) need readOnce false', async () => {
    for (const mode of ['sim', 'real'] as const) {
      const r = await runScenario(echo, { mode, options: { port: 0, clients: 5, messages: 4, size: 3000, readOnce: false } });
      expect(r.summary).toMatchObject({ roundTrips: 20, bytes: 20 * 2 * 3000 });
    }
    const small = await runScenario(echo, { options: { clients: 2, messages: 2, size: 300 } });
    expect(small.summary.bytes).toBe(2 * 2 * 2 * 300);
    await expect(runScenario(echo, { options: { clients: 1, messages: 1, size: 3000 } })).rejects.toThrow(
      /^--size 3000 needs --readOnce false/,
    );
    await expect(runScenario(echo, { options: { clients: 1, messages: 1, size: -1 } })).rejects.toThrow(RangeError);
  });

  it('parity: each client has the same conversation in sim and in real mode', async () => {
    const sim = byClient(await transcript('sim', 5, 3));
    const real = byClient(await transcript('real', 5, 3));
    expect([...sim.keys()]).toEqual(['Thread-1', 'Thread-2', 'Thread-3', 'Thread-4', 'Thread-5']);
    expect(sim.get('Thread-2')).toEqual([
      'server got: Thread-2 say hello 0',
      'client got: THREAD-2 SAY HELLO 0',
      'server got: Thread-2 say hello 1',
      'client got: THREAD-2 SAY HELLO 1',
      'server got: Thread-2 say hello 2',
      'client got: THREAD-2 SAY HELLO 2',
    ]);
    expect(real).toEqual(sim);
  });

  it('throws (so the CLI exits 1) when replies are wrong', async () => {
    const hub = new Hub({ mode: 'sim' });
    // corrupt every segment on the wire through the stream-chaos seam
    (hub.net as MemoryNet).splitter = (data) => [data.map((b) => (b === 0x20 ? 0x5f : b))];
    const o = { ...echo.options, clients: 2, messages: 3 };
    await expect(hub.run(() => echo.run(o, hub))).rejects.toThrow(
      /^echo: 0 of 6 round trips; 2 clients failed\n {2}Thread-1: sent "Thread-1 say hello 0", got "THREAD-1_SAY_HELLO_0"/,
    );
  });
});
