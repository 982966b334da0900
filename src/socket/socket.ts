/**
 * gevent.socket: cooperative TCP sockets over the hub's Net — the in-memory network in sim mode, real
 * TCP in real mode; the code is the same.
 *
 * Every call that can block returns a Promise (`bind`, `listen`, `accept`, `connect`, `recv`, `send`,
 * `sendall`, `createConnection`); the rest is synchronous (`close`, `shutdown`, `settimeout`,
 * `getsockname`, …). A blocking call parks the calling greenlet as the socket's reader or writer —
 * like gevent's read and write watchers — and retries when the network wakes it.
 */
import { getHub, toNs, type Hub } from '../core/hub.js';
import { STAY_PARKED, rejection } from '../core/hub.js';
import type { Greenlet } from '../core/greenlet.js';
import { ConcurrentObjectUseError, brand } from '../core/errors.js';
import { internName } from '../core/trace.js';
import { keepShapes } from '../core/shapes.js';
import { checkAddress, formatAddress } from '../net/address.js';
import { sysError, timeoutError, cancelWaitError, errorCode } from '../net/errors.js';
import { READ, WRITE, type Address, type Direction, type Net, type NetSocket } from '../net/net.js';
import { K_ACCEPT, K_CLOSE, K_CONNECT, K_LISTEN, K_RECV, K_SEND } from '../net/trace.js';
import { encodeUtf8 } from '../net/bytes.js';
import { SocketFile, type FileData } from './file.js';

/** The text modes of {@link Socket.makefile} (`'r'`, `'w'`, both); a mode with `'b'` is binary. */
export type TextMode = 'r' | 'w' | 'rw' | 'wr';

/** Address family IPv4, the only one supported. */
export const AF_INET = 2;
/** Stream (TCP) sockets, the only type supported. */
export const SOCK_STREAM = 1;
/** Level of socket-wide options for `setsockopt`. */
export const SOL_SOCKET = 1;
/** Accepted and ignored (the in-memory network has no TIME_WAIT; real mode binds exclusively). */
export const SO_REUSEADDR = 2;
/** Level of TCP options for `setsockopt`. */
export const IPPROTO_TCP = 6;
/** Accepted; real-mode sockets have Nagle's algorithm off anyway. */
export const TCP_NODELAY = 1;
/** `shutdown(SHUT_RD)`: no more receiving (recv returns EOF). */
export const SHUT_RD = 0;
/** `shutdown(SHUT_WR)`: no more sending; the peer reads EOF (half-close). */
export const SHUT_WR = 1;
/** `shutdown(SHUT_RDWR)`: both. */
export const SHUT_RDWR = 2;

/** What `send` and `sendall` take: bytes, or a string sent as UTF-8. */
export type Data = Uint8Array | ArrayBufferView | string;

const R_ACCEPT = internName('socket.accept');
const R_CONNECT = internName('socket.connect');
const R_LISTEN = internName('socket.listen');
const R_RECV = internName('socket.recv');
const R_SEND = internName('socket.send');
const R_SENDALL = internName('socket.sendall');

const EMPTY = new Uint8Array(0);

/**
 * Linux's boolean socket options (`level:option`): it stores them as 0 or 1 whatever value is set —
 * SOL_SOCKET's SO_DEBUG, SO_REUSEADDR, SO_DONTROUTE, SO_BROADCAST, SO_KEEPALIVE, SO_OOBINLINE,
 * SO_REUSEPORT; IPPROTO_TCP's TCP_NODELAY, TCP_CORK.
 */
const BOOLEAN_OPTIONS: ReadonlySet<string> = new Set(['1:1', '1:2', '1:5', '1:6', '1:9', '1:10', '1:15', '6:1', '6:3']);

let defaultTimeout: number | null = null;
let adopting: NetSocket | null = null;

/**
 * The timeout new sockets start with (`null`: blocking), as Python's `socket.setdefaulttimeout`.
 * @example
 * setdefaulttimeout(5); // every new socket: recv/connect/... raise ETIMEDOUT ('timed out') after 5 s
 */
export function setdefaulttimeout(seconds: number | null): void {
  defaultTimeout = checkTimeout(seconds);
}

/**
 * The timeout new sockets start with (`null`: blocking).
 * @example
 * getdefaulttimeout(); // null unless setdefaulttimeout was called
 */
export function getdefaulttimeout(): number | null {
  return defaultTimeout;
}

function checkTimeout(seconds: unknown): number | null {
  if (seconds === null || seconds === undefined) return null;
  if (typeof seconds !== 'number' || Number.isNaN(seconds)) {
    throw new TypeError(`Timeout value must be a number or null, not ${Number.isNaN(seconds) ? 'NaN' : typeof seconds}`);
  }
  if (seconds < 0) throw new RangeError('Timeout value out of range');
  return seconds;
}

function toBytes(data: unknown): Uint8Array {
  if (typeof data === 'string') return encodeUtf8(data);
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError(`a bytes-like object or a string is required, not ${data === null ? 'null' : typeof data}`);
}

/**
 * A TCP socket, gevent's `gevent.socket.socket`. Create one with `socket()` (or `new Socket()`); it
 * belongs to the current hub and lives on its network.
 *
 * Differences from gevent: blocking calls return Promises (await them); data is `Uint8Array` (strings
 * are sent as UTF-8); errors are Node-style `Error`s with `code` (`ECONNREFUSED`, `ECONNRESET`,
 * `EPIPE`, `EADDRINUSE`, `EBADF`, and `ETIMEDOUT` with message `timed out` where gevent raises
 * `socket.timeout`); only `AF_INET` / `SOCK_STREAM`; `fileno()` is a number within the network, not
 * an OS descriptor.
 *
 * Sim mode and real mode differ where Node does: in real mode `bind` only records the address (Node
 * binds when listening or connecting, so `EADDRINUSE` comes from `listen`, and `getsockname` after
 * `bind` with port 0 says 0 until then), `''` binds 127.0.0.1 rather than every interface, the listen
 * backlog does not limit anything (Node accepts as fast as its loop polls), the kernel's buffers
 * add to the 64 KiB window before a sender waits, a listener `shutdown` closes Node's server (so a
 * port `bind` named is free for others until `listen` runs again, where Linux keeps it), and
 * `getpeername` says `ENOTCONN` once Node has seen the reset or the close (Linux: as soon as it
 * arrives).
 * @example
 * const s = socket(AF_INET, SOCK_STREAM);
 * await s.connect(['127.0.0.1', 8080]);
 * await s.sendall('hello');
 * const reply = await s.recv(1024); // Uint8Array, empty at EOF
 * s.close();
 */
export class Socket {
  /** Always `AF_INET`. */
  readonly family = AF_INET;
  /** Always `SOCK_STREAM`. */
  readonly type = SOCK_STREAM;
  /** The hub the socket belongs to. */
  readonly hub: Hub;
  /** @internal */ readonly k: NetSocket;
  private isClosed = false;
  /** A parked recv's buffer size. */
  private recvSize = 0;
  private timeoutSeconds: number | null;
  private timeoutNs: number;
  private options: Map<string, number> | null = null;

  constructor(family: number = AF_INET, type: number = SOCK_STREAM) {
    if (family !== AF_INET) throw new RangeError(`socket(): address family ${String(family)} is not supported (only AF_INET)`);
    if (type !== SOCK_STREAM) throw new RangeError(`socket(): socket type ${String(type)} is not supported (only SOCK_STREAM)`);
    const adopted = adopting;
    adopting = null;
    if (adopted !== null) {
      this.hub = adopted.net.hub;
      this.k = adopted;
    } else {
      this.hub = getHub();
      this.k = (this.hub.net as Net).socket();
    }
    this.timeoutSeconds = defaultTimeout;
    this.timeoutNs = defaultTimeout === null ? Infinity : toNs(defaultTimeout);
  }

  /** Wraps a kernel socket returned by accept. @internal */
  static adopt(k: NetSocket): Socket {
    adopting = k;
    return new Socket();
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** The kernel socket, or EBADF when closed. */
  private live(syscall: string): NetSocket {
    if (this.isClosed) throw sysError('EBADF', syscall);
    return this.k;
  }

  /**
   * Parks the current greenlet as the socket's reader or writer until the network wakes it (true) or
   * `ns` pass (false). A second greenlet waiting the same way is gevent's ConcurrentObjectUseError.
   */
  private wait(k: NetSocket, dir: Direction, reason: number, what: string, ns: number, wakeMap: Greenlet<unknown>['wakeMap'] = null): Promise<unknown> {
    const hub = this.hub;
    const g = hub.currentForPark(what);
    const other = k.waiter(dir);
    if (other !== null) throw new ConcurrentObjectUseError(`This socket is already used by another greenlet: ${String(other)}`);
    k.setWaiter(dir, g);
    g.wakeMap = wakeMap;
    g.parkCleanup = dir === READ ? clearReader : clearWriter;
    if (ns !== Infinity) hub.armWaitTimer(g, ns);
    return hub.park(g, reason, this);
  }

  private traceId(): number {
    const g = this.hub.running;
    return g === null ? -1 : g.id;
  }

  /**
   * Binds the socket to a local `[host, port]`; port 0 picks a free ephemeral port. `''` or
   * `'0.0.0.0'` means every address of the host (in real mode `''` means 127.0.0.1).
   * @example
   * await s.bind(['127.0.0.1', 0]);
   * s.getsockname(); // ['127.0.0.1', 32768…60999]
   */
  async bind(address: Address): Promise<void> {
    const k = this.live('bind');
    const [host, port] = checkAddress(address, 'bind');
    k.bind(host, port);
  }

  /**
   * Listens for connections, with at most `backlog` (default 128) waiting to be accepted; an unbound
   * socket gets an ephemeral port first, as on Linux.
   * @example
   * await s.listen(5);
   */
  async listen(backlog = 128): Promise<void> {
    const k = this.live('listen');
    if (typeof backlog !== 'number' || Number.isNaN(backlog)) throw new TypeError(`listen(): backlog must be a number, not ${typeof backlog}`);
    while (!k.listen(backlog)) {
      await this.wait(k, WRITE, R_LISTEN, 'socket.listen()', Infinity);
      if (this.isClosed) throw sysError('EBADF', 'listen');
    }
    const [, port] = k.localAddress();
    this.hub.trace.record(K_LISTEN, this.hub.clock, this.traceId(), k.fd, port);
  }

  /**
   * Waits for a connection and returns `[conn, [host, port]]`: a new socket and the peer's address.
   * @example
   * const [conn, addr] = await s.accept();
   * spawn(talk, conn, addr);
   */
  async accept(): Promise<[Socket, Address]> {
    const k = this.live('accept');
    for (;;) {
      const c = k.accept();
      if (c !== null) {
        const conn = Socket.adopt(c);
        const peer = c.remoteAddress() ?? ['0.0.0.0', 0];
        const hub = this.hub;
        hub.trace.record(K_ACCEPT, hub.clock, this.traceId(), k.fd, c.fd, formatAddress(peer[0], peer[1]));
        return [conn, [peer[0], peer[1]]];
      }
      if (this.timeoutNs === 0) throw sysError('EAGAIN', 'accept');
      if (!(await this.wait(k, READ, R_ACCEPT, 'socket.accept()', this.timeoutNs))) throw timeoutError('accept');
      if (this.isClosed) throw sysError('EBADF', 'accept');
    }
  }

  /**
   * Connects to `[host, port]`. Rejects with `ECONNREFUSED` when nothing listens there, `ENOTFOUND` for
   * an unknown name, `ETIMEDOUT` when a full backlog dropped every SYN (Linux retries for 127 s), or
   * `ETIMEDOUT` with message `timed out` after the socket's timeout (which covers the whole connect).
   * On a socket that is already connected it does nothing, as gevent's does: its connect loop takes
   * the kernel's `EISCONN` for success (Python's own `socket.connect` raises it).
   * @example
   * await s.connect(['localhost', 8080]);
   */
  async connect(address: Address): Promise<void> {
    const k = this.live('connect');
    const [host, port] = checkAddress(address, 'connect');
    const hub = this.hub;
    const end = this.timeoutSeconds === null ? Infinity : hub.now() + this.timeoutSeconds;
    for (;;) {
      let connected: boolean;
      try {
        connected = k.connect(host, port);
      } catch (e) {
        if (errorCode(e) === 'EISCONN') return;
        throw e;
      }
      if (connected) {
        const peer = k.remoteAddress();
        hub.trace.record(K_CONNECT, hub.clock, this.traceId(), k.fd, k.localAddress()[1], peer === null ? '' : formatAddress(peer[0], peer[1]));
        return;
      }
      if (this.timeoutNs === 0) throw sysError('EINPROGRESS', 'connect');
      const ns = end === Infinity ? Infinity : toNs(end - hub.now());
      if (ns === 0 || !(await this.wait(k, WRITE, R_CONNECT, 'socket.connect()', ns))) throw timeoutError('connect');
      if (this.isClosed) throw sysError('EBADF', 'connect');
    }
  }

  /**
   * Receives up to `n` bytes (at least 1, whatever has arrived); an empty array means the peer closed
   * its side (EOF). Rejects with `ECONNRESET` when the peer reset the connection.
   *
   * The array is the caller's own, but, like a Node `Buffer`, a small one may be a view into a larger
   * shared `ArrayBuffer`: use `data.buffer` together with `data.byteOffset` and `data.byteLength`, or
   * `data.slice()` for a compact copy to keep for long or to transfer to a worker.
   * @example
   * const data = await conn.recv(1024);
   * if (data.length === 0) return; // EOF
   */
  recv(n: number): Promise<Uint8Array> {
    // Not an async function: data already there costs no frame, and a parked recv waits on the hub's
    // own promise (retried by a shared handler) instead of an async frame per waiting greenlet.
    let data: Uint8Array | null;
    try {
      const k = this.live('recv');
      if (typeof n !== 'number' || !Number.isInteger(n)) throw new TypeError(`recv(): buffer size must be an integer, not ${typeof n === 'number' ? String(n) : typeof n}`);
      if (n < 0) throw new RangeError('negative buffersize in recv');
      if (n === 0) return Promise.resolve(EMPTY);
      data = k.recv(n);
      if (data === null) {
        if (this.timeoutNs === 0) throw sysError('EAGAIN', 'recv');
        this.recvSize = n;
        // the data is read in the hub when the network wakes the reader, which resumes with it
        return this.wait(k, READ, R_RECV, 'socket.recv()', this.timeoutNs, recvOnWake) as Promise<Uint8Array>;
      }
    } catch (e) {
      return Promise.reject(e);
    }
    this.traceRecv(data);
    return Promise.resolve(data);
  }

  /**
   * The parked reader was woken (true) or timed out (false), in the hub: the recv's result, a
   * rejecting thenable, or STAY_PARKED when there is nothing to read after all (its timeout runs on).
   * @internal
   */
  readForWaiter(g: Greenlet<unknown>, woken: unknown): unknown {
    if (woken === false) return rejection(timeoutError('recv'));
    if (this.isClosed) return rejection(sysError('EBADF', 'recv'));
    let data: Uint8Array | null;
    try {
      data = this.k.recv(this.recvSize);
    } catch (e) {
      return rejection(e);
    }
    if (data === null) return STAY_PARKED;
    const hub = this.hub;
    hub.trace.record(K_RECV, hub.clock, g.id, this.k.fd, data.length, hub.trace.keepsAll ? data : undefined);
    return data;
  }

  private traceRecv(data: Uint8Array): void {
    const hub = this.hub;
    hub.trace.record(K_RECV, hub.clock, this.traceId(), this.k.fd, data.length, hub.trace.keepsAll ? data : undefined);
  }

  /**
   * Sends what the connection takes now of `data` (a string is sent as UTF-8) and returns the number
   * of bytes sent — possibly fewer than given when the peer's receive window is nearly full; waits
   * while it is full. Rejects with `EPIPE` once the peer has closed and reset the connection.
   * @example
   * const n = await conn.send(reply); // n <= reply.length
   */
  send(data: Data): Promise<number> {
    let bytes: Uint8Array;
    try {
      const k = this.live('send');
      bytes = toBytes(data);
      const n = k.send(bytes, typeof data === 'string'); // an encoded string is ours to give away
      if (n >= 0) {
        const hub = this.hub;
        if (n > 0) hub.trace.record(K_SEND, hub.clock, this.traceId(), k.fd, n, hub.trace.keepsAll ? bytes.subarray(0, n) : undefined);
        return resolvedCount(n);
      }
      if (this.timeoutNs === 0) throw sysError('EAGAIN', 'send');
    } catch (e) {
      return Promise.reject(e);
    }
    return this.sendSlow(bytes);
  }

  private async sendSlow(bytes: Uint8Array): Promise<number> {
    for (;;) {
      const k = this.live('send');
      if (!(await this.wait(k, WRITE, R_SEND, 'socket.send()', this.timeoutNs))) throw timeoutError('send');
      if (this.isClosed) throw sysError('EBADF', 'send');
      const n = k.send(bytes);
      if (n >= 0) {
        const hub = this.hub;
        if (n > 0) hub.trace.record(K_SEND, hub.clock, this.traceId(), k.fd, n, hub.trace.keepsAll ? bytes.subarray(0, n) : undefined);
        return n;
      }
      if (this.timeoutNs === 0) throw sysError('EAGAIN', 'send');
    }
  }

  /**
   * Sends all of `data`, waiting as long as the peer does not read (its receive window is full). The
   * socket's timeout bounds the whole call, as in gevent.
   * @example
   * await conn.sendall(new Uint8Array(200 * 1024)); // returns once the peer has read enough of it
   */
  async sendall(data: Data): Promise<void> {
    const k = this.live('sendall');
    const bytes = toBytes(data);
    const owned = typeof data === 'string'; // its encoding is ours to give away, as in send()
    const hub = this.hub;
    const end = this.timeoutSeconds === null ? Infinity : hub.now() + this.timeoutSeconds;
    let off = 0;
    while (off < bytes.length) {
      const rest = off === 0 ? bytes : bytes.subarray(off);
      const n = k.send(rest, owned);
      if (n > 0) {
        hub.trace.record(K_SEND, hub.clock, this.traceId(), k.fd, n, hub.trace.keepsAll ? rest.subarray(0, n) : undefined);
        off += n;
        continue;
      }
      // non-blocking: gevent's sendall says 'timed out' once it sent part, EAGAIN if it sent nothing
      if (this.timeoutNs === 0) throw off > 0 ? timeoutError('send') : sysError('EAGAIN', 'send');
      const ns = end === Infinity ? Infinity : toNs(end - hub.now());
      if (ns === 0 || !(await this.wait(k, WRITE, R_SENDALL, 'socket.sendall()', ns))) throw timeoutError('send');
      if (this.isClosed) throw sysError('EBADF', 'send');
    }
  }

  /**
   * Shuts down one or both directions: after `SHUT_WR` the peer reads EOF while this side can still
   * receive (half-close). Like gevent, a greenlet waiting on the shut direction gets `EBADF`. On a
   * listening socket, `SHUT_RD` or `SHUT_RDWR` stops listening as on Linux: a greenlet in `accept`
   * gets `EBADF`, connections not yet accepted are reset, later connects are refused and `accept`
   * raises `EINVAL` (`listen` may start again); `SHUT_WR` changes nothing there. `ENOTCONN` on a socket
   * neither connected nor listening, or whose connection is over (reset, or closed by both sides).
   * @example
   * conn.shutdown(SHUT_WR);
   * const rest = await conn.recv(1024); // the peer may still answer
   */
  shutdown(how: number): void {
    const k = this.live('shutdown');
    if (how !== SHUT_RD && how !== SHUT_WR && how !== SHUT_RDWR) throw sysError('EINVAL', 'shutdown');
    // checked before anything happens: a call that throws changes nothing
    if (!k.listening && !k.connected) throw sysError('ENOTCONN', 'shutdown');
    if (how !== SHUT_WR) this.cancelWait(READ);
    if (how !== SHUT_RD) this.cancelWait(WRITE);
    k.shutdown(how);
  }

  /**
   * Closes the socket: the peer reads EOF — or gets `ECONNRESET` if data sent to this socket was never
   * read (Linux resets such a connection). Greenlets waiting on the socket get `EBADF` ('File
   * descriptor was closed in another greenlet'); later calls reject with `EBADF`. Closing twice is
   * harmless.
   * @example
   * try { await talk(conn) } finally { conn.close() }
   */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.cancelWait(READ);
    this.cancelWait(WRITE);
    const reset = this.k.close();
    const hub = this.hub;
    if (!hub.closed) hub.trace.record(K_CLOSE, hub.clock, this.traceId(), this.k.fd, reset ? 1 : 0);
  }

  /**
   * A buffered file object over the socket, as Python's `makefile(mode)`: a binary mode (`'rb'`, `'wb'`,
   * `'rwb'`) reads and writes `Uint8Array`s, a text mode (`'r'`, the default, `'w'`, `'rw'`) UTF-8
   * strings with universal newlines. Reads fill an 8 KiB buffer; writes wait in one until `flush()`.
   * Unlike CPython's, the file does not keep the socket open: `close()` on the socket ends the
   * connection whatever files it has (see {@link SocketFile}).
   * @example
   * // gevent's examples/echoserver.py
   * const rfile = conn.makefile('rb');
   * for (;;) {
   *   const line = await rfile.readline();
   *   if (line.length === 0 || decoder.decode(line).trim().toLowerCase() === 'quit') break;
   *   await conn.sendall(line);
   * }
   * await rfile.close();
   */
  makefile(mode: `${string}b${string}`): SocketFile<Uint8Array>;
  makefile(mode?: TextMode): SocketFile<string>;
  makefile(mode: string): SocketFile<FileData>;
  makefile(mode: string = 'r'): SocketFile<FileData> {
    return new SocketFile<FileData>(this, mode);
  }

  /** `using s = socket()` closes it at the end of the block. */
  [Symbol.dispose](): void {
    this.close();
  }

  private cancelWait(dir: Direction): void {
    const g = this.k.waiter(dir);
    if (g === null) return;
    this.k.clearWaiter(dir);
    this.hub.schedule(throwCancelWait, [g, this]);
  }

  /**
   * Sets the timeout of blocking calls in seconds: `null` blocks forever, `0` never blocks (a call
   * that would block rejects with `EAGAIN`), otherwise a call rejects with `ETIMEDOUT` ('timed out').
   * @example
   * s.settimeout(0.5);
   * await s.recv(1024); // ETIMEDOUT 'timed out' after 0.5 s without data
   */
  settimeout(seconds: number | null): void {
    const t = checkTimeout(seconds);
    this.timeoutSeconds = t;
    this.timeoutNs = t === null ? Infinity : toNs(t);
  }

  /** The timeout in seconds, or null when blocking. */
  gettimeout(): number | null {
    return this.timeoutSeconds;
  }

  /** `setblocking(false)` is `settimeout(0)`; `setblocking(true)` is `settimeout(null)`. */
  setblocking(flag: boolean): void {
    this.settimeout(flag ? null : 0);
  }

  /** Whether blocking calls may wait (the timeout is not 0). */
  getblocking(): boolean {
    return this.timeoutSeconds !== 0;
  }

  /** The local `[host, port]`. */
  getsockname(): Address {
    const [host, port] = this.live('getsockname').localAddress();
    return [host, port];
  }

  /**
   * The peer's `[host, port]`; `ENOTCONN` when not connected — also, as on Linux, once the connection
   * is over: reset (by the peer, or given up on), or closed by both sides.
   * @example
   * c.getpeername(); // ['127.0.0.1', 8080]
   */
  getpeername(): Address {
    const k = this.live('getpeername');
    const peer = k.remoteAddress();
    if (peer === null || !k.connected) throw sysError('ENOTCONN', 'getpeername');
    return [peer[0], peer[1]];
  }

  /**
   * Accepted for compatibility (`SO_REUSEADDR`, `TCP_NODELAY`, …); the value is kept for `getsockopt`.
   * A boolean option (`SO_REUSEADDR`, `SO_KEEPALIVE`, `SO_BROADCAST`, `TCP_NODELAY`, …) is stored as
   * 0 or 1, as Linux does.
   * @example
   * s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 5);
   * s.getsockopt(SOL_SOCKET, SO_REUSEADDR); // 1
   */
  setsockopt(level: number, option: number, value: number | boolean): void {
    this.live('setsockopt');
    if (typeof level !== 'number' || typeof option !== 'number') throw new TypeError('setsockopt(): level and option must be numbers');
    const key = `${level}:${option}`;
    const n = Number(value);
    (this.options ??= new Map()).set(key, BOOLEAN_OPTIONS.has(key) ? (n !== 0 && !Number.isNaN(n) ? 1 : 0) : n);
  }

  /** The value set with `setsockopt`, else 0. */
  getsockopt(level: number, option: number): number {
    this.live('getsockopt');
    return this.options?.get(`${level}:${option}`) ?? 0;
  }

  /** A small number identifying the socket in its network (not an OS descriptor); -1 once closed. */
  fileno(): number {
    return this.isClosed ? -1 : this.k.fd;
  }

  /** How the socket shows in LoopExit reports. */
  describe(): string {
    return this.k.describe();
  }

  toString(): string {
    if (this.isClosed) return '<socket [closed] family=AF_INET, type=SOCK_STREAM>';
    const [h, p] = this.k.localAddress();
    const peer = this.k.connected ? this.k.remoteAddress() : null; // (it may still name a peer that is gone)
    return `<socket fd=${this.k.fd}, family=AF_INET, type=SOCK_STREAM, laddr=('${h}', ${p})` + (peer ? `, raddr=('${peer[0]}', ${peer[1]})>` : '>');
  }
}
brand(Socket, 'Socket');
// keeps the map of sockets alive between runs (see core/shapes.ts): a stand-in kernel socket, no hub
keepShapes(() => Socket.adopt({ net: { hub: null } } as unknown as NetSocket));

// Settled promises are immutable, so the answers of sends can share them: a send that completes at once
// allocates no promise for the common sizes.
const RESOLVED_COUNTS: (Promise<number> | undefined)[] = [];
function resolvedCount(n: number): Promise<number> {
  if (n >= 4096) return Promise.resolve(n);
  return (RESOLVED_COUNTS[n] ??= Promise.resolve(n));
}

/** A parked recv's wake: the socket it parked on reads for it. */
function recvOnWake(g: Greenlet<unknown>, woken: unknown): unknown {
  return (g.parkTarget as Socket).readForWaiter(g, woken);
}

function clearReader(g: Greenlet<unknown>): void {
  const s = g.parkTarget as Socket;
  if (s.k.waiter(READ) === g) s.k.clearWaiter(READ);
}
function clearWriter(g: Greenlet<unknown>): void {
  const s = g.parkTarget as Socket;
  if (s.k.waiter(WRITE) === g) s.k.clearWaiter(WRITE);
}
function throwCancelWait([g, s]: [Greenlet<unknown>, Socket]): void {
  // only if it still waits on that socket (it may have timed out meanwhile)
  if (g.res !== null && g.parkTarget === s) g.hub.throwInto(g, cancelWaitError());
}

/**
 * Creates a socket, gevent's `socket.socket(family=AF_INET, type=SOCK_STREAM)`.
 * @example
 * const s = socket(AF_INET, SOCK_STREAM);
 * s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
 * await s.bind(['127.0.0.1', 8080]);
 * await s.listen(5);
 */
export function socket(family: number = AF_INET, type: number = SOCK_STREAM): Socket {
  return new Socket(family, type);
}

/** Options of `createConnection`. */
export interface CreateConnectionOptions {
  /** Timeout of the connect and of the returned socket, seconds (default: `getdefaulttimeout()`). */
  timeout?: number | null;
  /** Local `[host, port]` to bind before connecting. */
  sourceAddress?: Address;
}

/**
 * Connects to `[host, port]` and returns the connected socket, Python's `socket.create_connection`.
 * With `timeout`, the connect and the socket's later calls time out (ETIMEDOUT, 'timed out').
 * @example
 * const c = await createConnection(['127.0.0.1', 8080], { timeout: 5 });
 */
export async function createConnection(address: Address, options: CreateConnectionOptions = {}): Promise<Socket> {
  const s = new Socket();
  try {
    if (options.timeout !== undefined) s.settimeout(options.timeout);
    if (options.sourceAddress !== undefined) await s.bind(options.sourceAddress);
    await s.connect(address);
    return s;
  } catch (e) {
    s.close();
    throw e;
  }
}
