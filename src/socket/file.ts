/**
 * `socket.makefile()`: a buffered file object over a socket, as Python's `socket.makefile()` returns
 * (a `BufferedReader`, `BufferedWriter` or `BufferedRWPair`; with a text mode, a `TextIOWrapper` on it).
 * gevent's own StreamServer example reads its clients with `makefile(mode='rb')` and `readline()`.
 *
 * Reading fills an 8 KiB buffer (`DEFAULT_BUFFER_SIZE`) with one `recv` at a time; writing keeps the
 * data until `flush()`, `close()` or more than 8 KiB is pending, as Python's buffered writer does. Text
 * mode is UTF-8 with Python's universal newlines: `\r\n` and a lone `\r` are read as `\n`.
 *
 * The file does not keep its socket open (CPython counts a socket's files and closes it for real only
 * when the last one is closed, which its reference counting does as soon as a file goes out of scope;
 * JavaScript cannot, so such a socket would stay open): closing the socket ends the connection, and the
 * file then reads what it had buffered and after that rejects with `EBADF`.
 */
import { cancelWaitError } from '../net/errors.js';
import type { Socket } from './socket.js';

/** Python's `io.DEFAULT_BUFFER_SIZE`: the most one refill reads, and the most a write keeps pending. */
export const DEFAULT_BUFFER_SIZE = 8192;

/** The data a file reads and writes: `Uint8Array` in a binary mode (`'rb'`, `'wb'`, `'rwb'`), `string` in a text mode. */
export type FileData = string | Uint8Array;

/** What a binary file's `write` takes. */
export type BytesLike = Uint8Array | ArrayBufferView;

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();
const NL = 0x0a;

/** `'r'`, `'w'`, `'b'` in any order and number, as Python's makefile accepts; the mode it reports. */
export function parseMode(mode: unknown): { read: boolean; write: boolean; binary: boolean; name: string } {
  if (typeof mode !== 'string') throw new TypeError(`makefile() argument 'mode' must be str, not ${mode === null ? 'null' : typeof mode}`);
  for (const c of mode) {
    if (c !== 'r' && c !== 'w' && c !== 'b') throw new RangeError(`invalid mode '${mode}' (only r, w, b allowed)`);
  }
  const write = mode.includes('w');
  const read = mode.includes('r') || !write;
  const binary = mode.includes('b');
  // Python reports a binary mode normalised (its buffered reader's or writer's) and a text mode as given
  return { read, write, binary, name: binary ? `${read ? 'r' : ''}${write ? 'w' : ''}b` : mode };
}

/**
 * A file over a socket, from {@link Socket.makefile}. `T` is `Uint8Array` for a binary mode, `string`
 * for a text mode. Every call that can wait for the network returns a Promise (and reports its errors
 * through it); `readable()`, `writable()`, `fileno()` and the properties are synchronous.
 * @example
 * const f = conn.makefile('rb');
 * for (;;) {
 *   const line = await f.readline(); // up to and including b'\n'; empty at EOF
 *   if (line.length === 0) break;
 *   await conn.sendall(line);
 * }
 * await f.close();
 */
export class SocketFile<T extends FileData = Uint8Array> {
  /** The socket the file reads from and writes to. */
  readonly socket: Socket;
  /** The mode as Python reports it: a binary one normalised (`'rb'`, `'wb'`, `'rwb'`), a text one as given. */
  readonly mode: string;
  private readonly text: boolean;
  private readonly canRead: boolean;
  private readonly canWrite: boolean;
  private isClosed = false;
  /** A socket timeout expired in a read: what was read may be lost, so the file reads no more (Python's SocketIO). */
  private timedOut = false;
  // binary read buffer: unread bytes are buf[start, end)
  private buf: Uint8Array = EMPTY;
  private start = 0;
  private end = 0;
  /** Bumped whenever unread data is taken, so a reader that waited rescans. */
  private taken = 0;
  // text read buffer: decoded, newlines translated; a trailing '\r' waits for the next chunk
  private readonly decoder: TextDecoder | null;
  private textBuf = '';
  private pendingCR = false;
  private decoderDone = false;
  // write buffer
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;

  /** Prefer `socket.makefile(mode)`. */
  constructor(socket: Socket, mode: string) {
    const m = parseMode(mode);
    this.socket = socket;
    this.mode = m.name;
    this.text = !m.binary;
    this.canRead = m.read;
    this.canWrite = m.write;
    this.decoder = this.text && m.read ? new TextDecoder('utf-8', { fatal: true }) : null;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Python's `name`: the socket's file descriptor. */
  get name(): number {
    return this.socket.fileno();
  }

  /** The socket's file descriptor. */
  fileno(): number {
    return this.socket.fileno();
  }

  /** Whether the file was opened for reading. */
  readable(): boolean {
    this.checkOpen('readable');
    return this.canRead;
  }

  /** Whether the file was opened for writing. */
  writable(): boolean {
    this.checkOpen('writable');
    return this.canWrite;
  }

  /**
   * Reads one line, up to and including its `\n` (a text file also ends lines at `\r\n` and `\r`, both
   * read as `\n`); at most `limit` bytes (characters in text mode) when `limit` ≥ 0. At EOF it returns
   * what is left, then empty lines (`Uint8Array` of length 0, or `''`).
   * @example
   * const f = conn.makefile('r');
   * const request = await f.readline(); // 'GET / HTTP/1.0\n' (sent as '…\r\n')
   */
  async readline(limit = -1): Promise<T> {
    this.checkRead('readline');
    checkSize(limit, 'readline');
    if (this.text) return (await this.readTextLine(limit)) as T;
    let scanned = 0; // bytes from start known to hold no newline
    let seen = this.taken;
    for (;;) {
      if (seen !== this.taken) {
        scanned = 0; // another greenlet read meanwhile
        seen = this.taken;
      }
      const avail = this.end - this.start;
      const want = limit < 0 ? avail : Math.min(avail, limit);
      const at = this.buf.subarray(this.start + scanned, this.start + want).indexOf(NL);
      if (at >= 0) return this.take(scanned + at + 1) as T;
      if (limit >= 0 && avail >= limit) return this.take(limit) as T;
      scanned = want;
      if (!(await this.fill())) return this.take(this.end - this.start) as T;
    }
  }

  /**
   * Reads `n` bytes (characters in text mode), waiting until that many have arrived or the peer closed;
   * with `n` < 0 (the default), everything until EOF.
   * @example
   * const header = await f.read(4); // exactly 4 bytes, unless the connection ended first
   */
  async read(n = -1): Promise<T> {
    this.checkRead('read');
    checkSize(n, 'read');
    if (this.text) {
      while ((n < 0 || this.textBuf.length < n) && (await this.fillText()));
      return this.takeText(n < 0 ? this.textBuf.length : Math.min(n, this.textBuf.length)) as T;
    }
    while ((n < 0 || this.end - this.start < n) && (await this.fill()));
    const avail = this.end - this.start;
    return this.take(n < 0 ? avail : Math.min(n, avail)) as T;
  }

  /** Reads lines until EOF (Python's `readlines()`; `hint` > 0 stops once that many bytes/characters were read). */
  async readlines(hint = -1): Promise<T[]> {
    this.checkRead('readlines');
    checkSize(hint, 'readlines');
    const lines: T[] = [];
    let total = 0;
    for (;;) {
      const line = await this.readline();
      if (line.length === 0) return lines;
      lines.push(line);
      total += line.length;
      if (hint > 0 && total >= hint) return lines;
    }
  }

  /**
   * Lines until EOF, as Python's `for line in f`.
   * @example
   * for await (const line of conn.makefile('r')) await conn.sendall(line);
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for (;;) {
      const line = await this.readline();
      if (line.length === 0) return;
      yield line;
    }
  }

  /**
   * Buffers `data` (a string in text mode, encoded as UTF-8; bytes in binary mode) and resolves with its
   * length. Nothing is sent until `flush()` or `close()`, or until more than 8 KiB is pending.
   * @example
   * const w = conn.makefile('wb');
   * await w.write(header);
   * await w.write(body);
   * await w.flush(); // both go out now
   */
  async write(data: T extends string ? string : BytesLike): Promise<number> {
    this.checkOpen('write');
    if (!this.canWrite) throw new TypeError('not writable');
    let bytes: Uint8Array;
    if (this.text) {
      if (typeof data !== 'string') throw new TypeError(`write() argument must be str, not ${describe(data)}`);
      bytes = encoder.encode(data);
    } else {
      if (!ArrayBuffer.isView(data)) throw new TypeError(`a bytes-like object is required, not ${describe(data)}`);
      // a copy: the caller may reuse its array once write returns, as with Python's buffered writer
      bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    }
    if (bytes.length > 0) {
      this.pending.push(bytes);
      this.pendingBytes += bytes.length;
      if (this.pendingBytes > DEFAULT_BUFFER_SIZE) await this.flushPending();
    }
    return (this.text ? (data as string).length : bytes.length);
  }

  /** Writes each of `lines` (no separators are added, as in Python). */
  async writelines(lines: Iterable<T extends string ? string : BytesLike>): Promise<void> {
    for (const line of lines) await this.write(line);
  }

  /** Sends whatever `write` buffered (with `sendall`). */
  async flush(): Promise<void> {
    this.checkOpen('flush');
    if (this.canWrite) await this.flushPending();
  }

  /**
   * Flushes (a writable file) and closes the file; the socket stays open (close it too). Later calls
   * reject with a TypeError ('… of closed file'); closing twice is harmless.
   */
  async close(): Promise<void> {
    if (this.isClosed) return;
    try {
      if (this.canWrite) await this.flushPending();
    } finally {
      this.isClosed = true;
      this.buf = EMPTY;
      this.start = this.end = 0;
      this.textBuf = '';
      this.pending = [];
      this.pendingBytes = 0;
    }
  }

  /** `await using f = conn.makefile('rb')` closes the file at the end of the block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  toString(): string {
    return `<SocketFile mode=${JSON.stringify(this.mode)}${this.isClosed ? ' [closed]' : ''} ${String(this.socket)}>`;
  }

  // ---------------------------------------------------------------- internals

  private checkOpen(what: string): void {
    if (this.isClosed) throw new TypeError(this.text ? 'I/O operation on closed file.' : what === 'write' ? 'write to closed file' : `${what} of closed file`);
  }

  private checkRead(what: string): void {
    this.checkOpen(what);
    if (!this.canRead) throw new TypeError('not readable');
    if (this.timedOut) throw new Error('cannot read from timed out object');
  }

  /** Reads once from the socket into the buffer; false at EOF. */
  private async fill(): Promise<boolean> {
    let data: Uint8Array;
    try {
      data = await this.socket.recv(DEFAULT_BUFFER_SIZE);
    } catch (e) {
      if ((e as { code?: unknown }).code === 'ETIMEDOUT') this.timedOut = true;
      throw e;
    }
    if (this.isClosed) throw cancelWaitError(); // the file was closed while this greenlet waited in it
    if (data.length === 0) return false;
    const avail = this.end - this.start;
    if (this.end + data.length > this.buf.length) {
      // (what take() hands out is a copy, so the unread bytes may move)
      if (avail + data.length <= this.buf.length) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        const next = new Uint8Array(Math.max(DEFAULT_BUFFER_SIZE, 2 * (avail + data.length)));
        next.set(this.buf.subarray(this.start, this.end));
        this.buf = next;
      }
      this.start = 0;
      this.end = avail;
    }
    this.buf.set(data, this.end);
    this.end += data.length;
    return true;
  }

  /** The next `n` unread bytes, as an array of their own. */
  private take(n: number): Uint8Array {
    if (n === 0) return new Uint8Array(0);
    const out = this.buf.slice(this.start, this.start + n);
    this.start += n;
    if (this.start === this.end) this.start = this.end = 0;
    this.taken++;
    return out;
  }

  /** Reads once and decodes into the text buffer (newlines translated); false at EOF. */
  private async fillText(): Promise<boolean> {
    if (!(await this.fill())) {
      if (this.decoderDone) return false;
      this.decoderDone = true;
      let tail = this.decoder!.decode(); // a TypeError if the stream ended inside a character
      if (this.pendingCR) {
        this.pendingCR = false;
        tail = '\r' + tail;
      }
      this.textBuf += translate(tail);
      return tail.length > 0;
    }
    const chunk = this.buf.subarray(this.start, this.end);
    this.start = this.end = 0; // (decode copies out of the buffer before the next fill writes into it)
    let s = this.decoder!.decode(chunk, { stream: true });
    if (this.pendingCR) {
      this.pendingCR = false;
      s = '\r' + s; // with a '\n' after it, one newline
    }
    if (s.endsWith('\r')) {
      // a '\n' may follow in the next chunk
      this.pendingCR = true;
      s = s.slice(0, -1);
    }
    this.textBuf += translate(s);
    return true;
  }

  private async readTextLine(limit: number): Promise<string> {
    let scanned = 0; // characters known to hold no newline
    let seen = this.taken;
    for (;;) {
      if (seen !== this.taken) {
        scanned = 0; // another greenlet read meanwhile
        seen = this.taken;
      }
      const buf = this.textBuf;
      const want = limit < 0 ? buf.length : Math.min(buf.length, limit);
      const at = buf.indexOf('\n', scanned);
      if (at >= 0 && at < want) return this.takeText(at + 1);
      if (limit >= 0 && buf.length >= limit) return this.takeText(limit);
      scanned = buf.length;
      if (!(await this.fillText())) return this.takeText(this.textBuf.length);
    }
  }

  private takeText(n: number): string {
    const out = this.textBuf.slice(0, n);
    this.textBuf = this.textBuf.slice(n);
    this.taken++;
    return out;
  }

  private async flushPending(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const parts = this.pending;
    const total = this.pendingBytes;
    // taken out first: a failed send does not send them twice on the next flush
    this.pending = [];
    this.pendingBytes = 0;
    let data: Uint8Array;
    if (parts.length === 1) {
      data = parts[0]!;
    } else {
      data = new Uint8Array(total);
      let at = 0;
      for (const p of parts) {
        data.set(p, at);
        at += p.length;
      }
    }
    await this.socket.sendall(data);
  }
}

/** Python's sizes: an integer; negative means "no limit". */
function checkSize(n: unknown, what: string): void {
  if (typeof n !== 'number' || !Number.isInteger(n)) {
    throw new TypeError(`${what}(): argument should be integer, not ${typeof n === 'number' ? String(n) : typeof n}`);
  }
}

/** Universal newlines: `\r\n` and a lone `\r` become `\n`. */
function translate(s: string): string {
  return s.includes('\r') ? s.replace(/\r\n?/g, '\n') : s;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return 'str';
  if (v instanceof Uint8Array) return 'bytes';
  return typeof v;
}
