/**
 * socket.makefile(): buffered file objects over a socket, in sim and in real mode. Every expectation
 * about lines, EOF, buffering and errors is what Python 3's socket.makefile() under gevent 22.10
 * does with the same bytes (its messages too), but for the documented difference: the file does not
 * keep its socket open.
 */
import { describe, it, expect } from 'vitest';
import {
  run,
  spawn,
  sleep,
  socket,
  createConnection,
  withTimeout,
  Timeout,
  ConcurrentObjectUseError,
  SocketFile,
  DEFAULT_BUFFER_SIZE,
  SHUT_WR,
  type Socket,
  type Mode,
} from 'geventjs';
import { rejected } from '../helpers.js';

const MODES: Mode[] = ['sim', 'real'];
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const str = (x: string | Uint8Array): string => (typeof x === 'string' ? x : text(x));

/** A connected pair: [client, the server's side]. */
async function pair(): Promise<[Socket, Socket]> {
  const lst = socket();
  await lst.bind(['127.0.0.1', 0]);
  await lst.listen(5);
  const c = await createConnection(lst.getsockname());
  const [s] = await lst.accept();
  lst.close();
  return [c, s];
}

/** Sends `parts` one at a time, 10 ms apart, then shuts down writing (EOF for the reader). */
async function dribble(sock: Socket, parts: (string | Uint8Array)[]): Promise<void> {
  for (const p of parts) {
    await sock.sendall(p);
    await sleep(0.01);
  }
  sock.shutdown(SHUT_WR);
}

for (const mode of MODES) {
  const runIn = <T>(fn: () => Promise<T>): Promise<T> => run(fn, { mode, shutdownTimeout: 0.5 });

  describe(`socket.makefile() in ${mode} mode`, () => {
    it('binary readline: lines across sends, a limit, the last line without newline, then empty', async () => {
      await runIn(async () => {
        const [c, s] = await pair();
        const f = s.makefile('rb');
        expect(f).toBeInstanceOf(SocketFile);
        spawn(dribble, c, ['hel', 'lo\nwor', 'ld\n', 'abcdefgh\n', 'tail']);
        const lines: string[] = [];
        lines.push(text(await f.readline()), text(await f.readline()), text(await f.readline(4)), text(await f.readline(100)));
        lines.push(text(await f.readline()), text(await f.readline()), text(await f.readline()));
        expect(lines).toEqual(['hello\n', 'world\n', 'abcd', 'efgh\n', 'tail', '', '']);
        const line = await f.readline();
        expect(line).toBeInstanceOf(Uint8Array);
        expect(line.length).toBe(0);
        s.close();
        c.close();
      });
    });

    it('text mode: \\r\\n and a lone \\r read as \\n (also split across sends), UTF-8 split across sends', async () => {
      await runIn(async () => {
        const [c, s] = await pair();
        const f = s.makefile('r');
        const e = bytes('é');
        spawn(dribble, c, [bytes('a\r\nb\r'), bytes('\nc\rd\n'), e.subarray(0, 1), Uint8Array.of(e[1]!, ...bytes('x\n')), 'last']);
        const lines: string[] = [];
        for (let i = 0; i < 7; i++) lines.push(await f.readline());
        expect(lines).toEqual(['a\n', 'b\n', 'c\n', 'd\n', 'éx\n', 'last', '']);
        s.close();
        c.close();
      });
    });

    it('read(n) waits for n bytes or EOF; read() reads to EOF', async () => {
      await runIn(async () => {
        const [c, s] = await pair();
        const f = s.makefile('rb');
        spawn(dribble, c, ['12', '345', '6789', 'abc']);
        const got = [await f.read(4), await f.read(3), await f.read(), await f.read(), await f.read(5)].map(text);
        expect(got).toEqual(['1234', '567', '89abc', '', '']);
        s.close();
        c.close();
      });
    });

    it('a line longer than the 8 KiB buffer, and many lines in one send', async () => {
      await runIn(async () => {
        const [c, s] = await pair();
        const f = s.makefile('rb');
        const long = 'x'.repeat(3 * DEFAULT_BUFFER_SIZE + 5) + '\n';
        spawn(dribble, c, [long + 'a\nb\nc\n' + 'y'.repeat(100)]);
        expect(text(await f.readline())).toBe(long);
        expect(await f.readlines()).toEqual(['a\n', 'b\n', 'c\n', 'y'.repeat(100)].map(bytes));
        s.close();
        c.close();
      });
    });

    it('writes wait in the buffer until flush, close, or more than 8 KiB', async () => {
      await runIn(async () => {
        const [c, s] = await pair();
        const w = s.makefile('wb');
        const mine = bytes('de');
        expect(await w.write(bytes('abc'))).toBe(3);
        expect(await w.write(mine)).toBe(2);
        mine[0] = 0x21; // the file copied it
        c.settimeout(0.05);
        expect(await rejected(() => c.recv(100))).toMatchObject({ code: 'ETIMEDOUT', message: 'timed out' });
        await w.flush();
        expect(text(await c.recv(100))).toBe('abcde');
        await w.write(new Uint8Array(DEFAULT_BUFFER_SIZE)); // exactly a buffer: kept
        await w.write(bytes('!')); // one more byte: all of it goes
        let n = 0;
        while (n < DEFAULT_BUFFER_SIZE + 1) n += (await c.recv(100_000)).length;
        expect(n).toBe(DEFAULT_BUFFER_SIZE + 1);
        await w.write(bytes('zz'));
        await w.close();
        expect(w.closed).toBe(true);
        expect(text(await c.recv(100))).toBe('zz');
        expect(await rejected(() => w.write(bytes('q')))).toMatchObject({ name: 'TypeError', message: 'write to closed file' });
        await w.close(); // twice: harmless
        s.close();
        c.close();
      });
    });

    it('text writes are UTF-8 and count characters; for await reads lines', async () => {
      await runIn(async () => {
        const [c, s] = await pair();
        const w = s.makefile('w');
        expect(await w.write('héllo\n')).toBe(6);
        await w.writelines(['a', 'b\n']);
        await w.flush();
        expect(text(await c.recv(100))).toBe('héllo\nab\n');
        const r = c.makefile('r');
        spawn(dribble, s, ['one\ntwo\n', 'three']);
        const lines: string[] = [];
        for await (const line of r) lines.push(line);
        expect(lines).toEqual(['one\n', 'two\n', 'three']);
        s.close();
        c.close();
      });
    });

    it('a socket timeout rejects the read, and the file reads no more (its buffer may have lost data)', async () => {
      await runIn(async () => {
        const [c, s] = await pair();
        s.settimeout(0.05);
        const f = s.makefile('rb');
        await c.sendall('par');
        expect(await rejected(() => f.readline())).toMatchObject({ code: 'ETIMEDOUT', message: 'timed out' });
        await c.sendall('tial\n');
        expect(await rejected(() => f.readline())).toMatchObject({ message: 'cannot read from timed out object' });
        expect(text(await s.recv(100))).toBe('tial\n'); // the socket itself goes on
        s.close();
        c.close();
      });
    });

    it('a gevent Timeout interrupting readline keeps what was read: the line comes whole later', async () => {
      await runIn(async () => {
        const [c, s] = await pair();
        const f = s.makefile('rb');
        await c.sendall('par');
        const e = await rejected(() => withTimeout(0.05, () => f.readline()));
        expect(e).toBeInstanceOf(Timeout);
        await c.sendall('tial\n');
        expect(text(await f.readline())).toBe('partial\n');
        s.close();
        c.close();
      });
    });

    it('two greenlets reading one file: the second gets ConcurrentObjectUseError', async () => {
      await runIn(async () => {
        const [c, s] = await pair();
        const f = s.makefile('rb');
        const first = spawn(() => f.readline());
        await sleep(0); // it runs, and waits in recv
        expect(await rejected(() => f.readline())).toBeInstanceOf(ConcurrentObjectUseError);
        await c.sendall('for the first\n');
        expect(text(await first.get())).toBe('for the first\n');
        s.close();
        c.close();
      });
    });

    it.each([['rb'], ['r']])('a line a greenlet waits for is whole even when another took from the buffer meanwhile (%s)', async (m) => {
      await runIn(async () => {
        const [c, s] = await pair();
        const f = s.makefile(m);
        await c.sendall('abcx');
        expect(str(await f.read(1))).toBe('a'); // 'bcx' stays buffered
        const waiter = spawn(() => f.readline());
        await sleep(0); // it scans 'bcx' and waits for more
        expect(str(await f.read(2))).toBe('bc');
        await c.sendall('d\nrest');
        const line = await waiter.get();
        expect(str(line)).toBe('xd\n');
        s.close();
        c.close();
      });
    });

    it('a file closed while a greenlet reads it: the read rejects with EBADF when data comes', async () => {
      await runIn(async () => {
        const [c, s] = await pair();
        const f = s.makefile('rb');
        const reader = spawn(() => rejected(() => f.readline()));
        await sleep(0); // it runs, and waits in recv
        await f.close();
        await c.sendall('late\n');
        expect(await reader.get()).toMatchObject({ code: 'EBADF', message: 'File descriptor was closed in another greenlet' });
        s.close();
        c.close();
      });
    });

    it('closing the socket ends the connection: the file reads what it buffered, then EBADF', async () => {
      await runIn(async () => {
        const [c, s] = await pair();
        const f = s.makefile('rb');
        await c.sendall('line1\nline2\n');
        expect(text(await f.readline())).toBe('line1\n');
        s.close(); // CPython would keep the connection open until f is closed too
        expect(text(await f.readline())).toBe('line2\n');
        expect(await rejected(() => f.readline())).toMatchObject({ code: 'EBADF' });
        expect((await c.recv(10)).length).toBe(0); // the peer sees EOF at once
        await f.close();
        c.close();
      });
    });
  });
}

describe('socket.makefile(): modes and bad calls', () => {
  const runIn = <T>(fn: () => Promise<T>): Promise<T> => run(fn, { mode: 'sim' });

  it("modes are 'r', 'w', 'b' in any order: binary ones normalised, text ones as given (Python's mode)", async () => {
    await runIn(async () => {
      const [c, s] = await pair();
      const modes = ['rb', 'br', 'b', 'rbb', 'wb', 'rwb', 'r', 'w', 'rw', 'wr', ''].map((m) => s.makefile(m).mode);
      expect(modes).toEqual(['rb', 'rb', 'rb', 'rb', 'wb', 'rwb', 'r', 'w', 'rw', 'wr', '']);
      expect(s.makefile().mode).toBe('r');
      for (const bad of ['x', 'rt', 'r+']) {
        expect(() => s.makefile(bad)).toThrow(new RangeError(`invalid mode '${bad}' (only r, w, b allowed)`));
      }
      expect(() => s.makefile(1 as unknown as string)).toThrow(TypeError);
      s.close();
      c.close();
    });
  });

  it('reading a write-only file, writing a read-only one, wrong data, a closed file: TypeErrors through the promise', async () => {
    await runIn(async () => {
      const [c, s] = await pair();
      const wb = s.makefile('wb');
      const rb = s.makefile('rb');
      const w = s.makefile('w');
      expect(wb.readable()).toBe(false);
      expect(wb.writable()).toBe(true);
      expect(await rejected(() => (wb as unknown as SocketFile<Uint8Array>).readline())).toMatchObject({ name: 'TypeError', message: 'not readable' });
      expect(await rejected(() => rb.write(bytes('x')))).toMatchObject({ name: 'TypeError', message: 'not writable' });
      expect(await rejected(() => wb.write('str' as unknown as Uint8Array))).toMatchObject({ name: 'TypeError', message: "a bytes-like object is required, not str" });
      expect(await rejected(() => w.write(bytes('b') as unknown as string))).toMatchObject({ name: 'TypeError', message: 'write() argument must be str, not bytes' });
      expect(await rejected(() => rb.readline(1.5))).toMatchObject({ name: 'TypeError' });
      await rb.close();
      expect(await rejected(() => rb.readline())).toMatchObject({ name: 'TypeError', message: 'readline of closed file' });
      expect(await rejected(() => rb.read())).toMatchObject({ name: 'TypeError', message: 'read of closed file' });
      await w.close();
      expect(await rejected(() => w.write('x'))).toMatchObject({ name: 'TypeError', message: 'I/O operation on closed file.' });
      expect(() => rb.readable()).toThrow(TypeError);
      expect(rb.fileno()).toBe(s.fileno());
      s.close();
      c.close();
    });
  });

  it('await using closes (and flushes) the file', async () => {
    await runIn(async () => {
      const [c, s] = await pair();
      let file: SocketFile<Uint8Array> | undefined;
      {
        await using w = s.makefile('wb');
        file = w;
        await w.write(bytes('bye'));
      }
      expect(file.closed).toBe(true);
      expect(text(await c.recv(10))).toBe('bye');
      s.close();
      c.close();
    });
  });
});
