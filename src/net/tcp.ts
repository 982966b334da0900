/**
 * The real-TCP Net (real mode): the same non-blocking kernel interface on `node:net`. Node's events
 * fill each socket's state (received bytes, EOF, errors, completed connects) and queue a hub callback
 * that wakes the parked greenlet, so every blocking call is a hub park and nothing polls. A parked
 * greenlet counts as an outside source (`hub.addExternalSource`), so the hub does not raise LoopExit
 * while a real socket may still wake it; everything is closed when the hub closes, so a real-mode
 * program exits.
 *
 * This is the only module below the CLI that imports a Node built-in; only the Node entry imports it.
 *
 * Differences from the in-memory network: `bind` only records the address (Node binds when it listens
 * or connects, so `EADDRINUSE` surfaces at `listen`, and `getsockname` after `bind(port 0)` says 0
 * until then); Node accepts connections as fast as its loop polls, and the kernel's queue is at least
 * Node's default 511 whatever `listen` asks (a full kernel queue makes Linux drop handshakes and stall
 * clients for seconds), so the backlog does not limit real mode; a send is taken while Node's write buffer holds less than the window (64 KiB) — the kernel's
 * buffers come on top; `''` binds 127.0.0.1, not every interface (say '0.0.0.0' for that).
 */
import * as nodeNet from 'node:net';
import type { Hub } from '../core/hub.js';
import type { Greenlet } from '../core/greenlet.js';
import { ReceiveBuffer } from './buffer.js';
import { LOOPBACK, formatAddress } from './address.js';
import { sysError } from './errors.js';
import { DEFAULT_WINDOW } from './fabric.js';
import { READ, WRITE, type Address, type Direction, type HostDirectory, type Net, type NetSocket, type NetStats } from './net.js';
import { K_DELIVER } from './trace.js';

const FRESH = 0;
const BOUND = 1;
const LISTEN_PENDING = 2;
const LISTENING = 3;
const CONNECTING = 4;
const ESTABLISHED = 5;
const CLOSED = 6;

const EMPTY = new Uint8Array(0);
/** Node's default listen backlog: the least real mode asks the kernel for. */
const NODE_BACKLOG = 511;

/**
 * Real TCP for a real-mode hub (`hub.net`).
 * @example
 * const hub = new Hub({ mode: 'real' });
 * hub.net; // a TcpNet: sockets of this hub are node:net sockets on 127.0.0.1
 */
export class TcpNet implements Net {
  readonly kind = 'tcp' as const;
  readonly stats: NetStats = { connectRetries: 0, connections: 0, segments: 0 };
  /** Bytes a socket buffers before it stops reading, and Node's write buffer limit for `send`. */
  readonly window: number;
  /** Open sockets, in creation order. @internal */
  readonly open = new Set<TcpSocket>();
  /**
   * The simulation's hosts, when a scenario runs with `--real`: a host's sockets bind and connect
   * from its own loopback address, and host names resolve to those addresses. @internal
   */
  directory: HostDirectory | null = null;
  private fdCounter = 2;
  private closed = false;

  constructor(
    readonly hub: Hub,
    options: { window?: number } = hub.options,
  ) {
    this.window = options.window ?? DEFAULT_WINDOW;
    hub.onClose(() => this.close());
  }

  socket(): TcpSocket {
    if (this.closed) throw new Error('socket(): the hub has finished');
    return new TcpSocket(this);
  }

  /** IPv4 literals and `localhost`; other names are resolved by Node when connecting (ENOTFOUND then). */
  resolve(name: string): string {
    if (name === '' || name.toLowerCase() === 'localhost') return LOOPBACK;
    return this.directory?.lookup(name) ?? name;
  }

  /** @internal */
  nextFd(): number {
    return ++this.fdCounter;
  }

  /** Whether the hub has finished (sockets are then destroyed at once, unflushed). @internal */
  get hubClosed(): boolean {
    return this.closed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of [...this.open]) s.destroy();
  }
}

/** A real TCP socket behind the kernel interface. @internal */
export class TcpSocket implements NetSocket {
  readonly fd: number;
  /** The loopback address of the simulated host the socket was created on (real-mode scenarios), or null. */
  private readonly hostAddr: string | null;
  private state = FRESH;
  private bindHost = '';
  private bindPort = 0;
  private server: nodeNet.Server | null = null;
  private sock: nodeNet.Socket | null = null;
  private queue: TcpSocket[] = [];
  private remote: Address | null = null;
  private local: Address | null = null;
  private readonly rcv = new ReceiveBuffer();
  private paused = false;
  private peerFin = false;
  private rdShut = false;
  private wrShut = false;
  /** The error the next call reports, once; afterwards `failed` stays set (EOF on recv, EPIPE on send). */
  private error: Error | null = null;
  private failed = false;
  private connecting = false;
  private connectStart = 0.5;
  private fdClosed = false;
  private readWaiter: Greenlet<unknown> | null = null;
  private writeWaiter: Greenlet<unknown> | null = null;
  /** @internal */ readQueued = false;
  /** @internal */ writeQueued = false;

  constructor(readonly net: TcpNet) {
    this.fd = net.nextFd();
    this.hostAddr = net.directory?.currentAddress() ?? null;
    net.open.add(this);
  }

  get listening(): boolean {
    return this.state === LISTENING;
  }

  /**
   * Whether the connection is still there: false once Node has destroyed the socket (a reset, an
   * error, or both sides ended) — where Linux says ENOTCONN to getpeername and shutdown.
   */
  get connected(): boolean {
    const s = this.sock;
    return this.state === ESTABLISHED && s !== null && !s.destroyed && !this.failed;
  }

  private get hub(): Hub {
    return this.net.hub;
  }

  bind(host: string, port: number): void {
    if (this.state !== FRESH) throw sysError('EINVAL', 'bind');
    this.bindHost = host === '' ? '' : this.net.resolve(host);
    // a simulated host's "every address" is its own loopback address
    if (this.hostAddr !== null && (this.bindHost === '' || this.bindHost === '0.0.0.0')) this.bindHost = this.hostAddr;
    this.bindPort = port;
    this.state = BOUND;
  }

  listen(backlog: number): boolean {
    switch (this.state) {
      case LISTENING:
        return true;
      case LISTEN_PENDING:
        if (this.error !== null) {
          const err = this.error;
          this.error = null;
          this.server = null;
          this.state = this.bindHost !== '' || this.bindPort !== 0 ? BOUND : FRESH;
          throw err;
        }
        return false;
      case FRESH:
      case BOUND:
        break;
      default:
        throw sysError('EINVAL', 'listen');
    }
    const server = nodeNet.createServer({ allowHalfOpen: true, noDelay: true });
    this.server = server;
    server.on('connection', (s: nodeNet.Socket) => {
      if (this.fdClosed || this.server !== server) {
        s.resetAndDestroy();
        return;
      }
      const child = new TcpSocket(this.net);
      child.adopt(s);
      this.queue.push(child);
      this.wake(READ);
    });
    server.on('listening', () => {
      if (this.server !== server) return;
      this.state = LISTENING;
      const a = server.address() as nodeNet.AddressInfo;
      this.local = [a.address, a.port];
      this.wake(WRITE);
    });
    server.on('error', (err: Error) => {
      if (this.server !== server) return;
      this.error = err;
      this.wake(WRITE);
    });
    this.state = LISTEN_PENDING;
    server.listen({
      host: this.bindHost === '' ? (this.hostAddr ?? LOOPBACK) : this.bindHost,
      port: this.bindPort,
      // Node accepts every queued connection as soon as its loop polls, so the kernel's queue only has
      // to absorb a burst between two polls; with a tiny one (the tutorial's listen(5)) Linux drops
      // the handshakes of a burst and those clients stall for 1, 2, 4… s. Ask for at least Node's default.
      backlog: Math.max(NODE_BACKLOG, Math.floor(backlog)),
      exclusive: true,
    });
    return false;
  }

  accept(): TcpSocket | null {
    if (this.state !== LISTENING) throw sysError('EINVAL', 'accept');
    return this.queue.shift() ?? null;
  }

  connect(host: string, port: number): boolean {
    switch (this.state) {
      case ESTABLISHED:
      case CLOSED:
        if (this.connecting) {
          this.connecting = false;
          return true;
        }
        throw sysError('EISCONN', 'connect');
      case CONNECTING:
        if (this.error !== null) {
          const err = this.error;
          this.error = null;
          this.connecting = false;
          this.sock?.destroy();
          this.sock = null;
          this.state = this.bindHost !== '' || this.bindPort !== 0 ? BOUND : FRESH;
          throw err;
        }
        return false;
      case LISTEN_PENDING:
      case LISTENING:
        throw sysError('EISCONN', 'connect');
    }
    const addr = this.net.resolve(host);
    const opts: nodeNet.TcpNetConnectOpts = { host: addr, port, family: 4, allowHalfOpen: true, noDelay: true };
    if (this.bindHost !== '' && this.bindHost !== '0.0.0.0') opts.localAddress = this.bindHost;
    else if (this.hostAddr !== null) opts.localAddress = this.hostAddr;
    if (this.bindPort !== 0) opts.localPort = this.bindPort;
    this.state = CONNECTING;
    this.connecting = true;
    this.connectStart = this.hub.now();
    const s = nodeNet.connect(opts);
    this.sock = s;
    s.once('connect', () => {
      if (this.fdClosed) return;
      this.state = ESTABLISHED;
      this.remote = [s.remoteAddress ?? addr, s.remotePort ?? port];
      this.local = [s.localAddress ?? '0.0.0.0', s.localPort ?? 0];
      const stats = this.net.stats;
      stats.connections++;
      // a connect that took about 1, 3, 7… s went through SYN retransmissions after a full backlog
      const elapsed = this.hub.now() - this.connectStart;
      if (elapsed >= 0.9) stats.connectRetries += Math.floor(Math.log2(elapsed + 1.1));
      this.wake(WRITE);
    });
    this.listenData(s);
    return false;
  }

  /** Takes over a socket Node accepted. */
  private adopt(s: nodeNet.Socket): void {
    this.sock = s;
    this.state = ESTABLISHED;
    this.remote = [s.remoteAddress ?? '0.0.0.0', s.remotePort ?? 0];
    this.local = [s.localAddress ?? '0.0.0.0', s.localPort ?? 0];
    this.net.stats.connections++;
    this.listenData(s);
  }

  private listenData(s: nodeNet.Socket): void {
    s.on('data', (chunk: Buffer) => {
      if (this.fdClosed) return;
      const data = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      const hub = this.hub;
      hub.now();
      this.net.stats.segments++;
      hub.trace.record(K_DELIVER, hub.clock, -1, this.fd, data.length, hub.trace.keepsAll ? data : undefined);
      if (this.rdShut && this.wrShut) {
        // as Linux answers data for a socket shut down both ways (Node cannot shut reading down in
        // the kernel, so the reset is sent here): the peer gets a reset, our next recv ECONNRESET
        this.rcv.clear();
        this.error = sysError('ECONNRESET', 'read');
        s.resetAndDestroy();
        this.wake(READ);
        this.wake(WRITE);
        return;
      }
      this.rcv.push(data);
      if (this.rcv.size >= this.net.window && !this.paused) {
        this.paused = true;
        s.pause();
      }
      this.wake(READ);
    });
    s.on('end', () => {
      this.peerFin = true;
      this.wake(READ);
    });
    s.on('drain', () => this.wake(WRITE));
    s.on('error', (err: Error) => {
      if (this.fdClosed) return;
      if (this.error === null && !this.failed) this.error = err;
      this.wake(READ);
      this.wake(WRITE);
    });
    s.on('close', () => {
      if (this.fdClosed) return;
      if (this.state === ESTABLISHED && this.error === null) this.failed = true;
      this.wake(READ);
      this.wake(WRITE);
    });
  }

  recv(n: number): Uint8Array | null {
    if (this.rcv.size > 0) return this.take(n);
    if (this.error !== null && !this.peerFin && this.state !== CONNECTING) {
      const err = this.error;
      this.error = null;
      this.failed = true;
      throw err;
    }
    if (this.peerFin || this.rdShut || this.failed) return EMPTY;
    if (this.state === ESTABLISHED || this.state === CONNECTING) return null;
    throw sysError('ENOTCONN', 'recv');
  }

  private take(n: number): Uint8Array {
    const out = this.rcv.take(n);
    if (this.paused && this.rcv.size < this.net.window) {
      this.paused = false;
      this.sock?.resume();
    }
    return out;
  }

  send(data: Uint8Array, owned = false): number {
    if (this.error !== null && this.state !== CONNECTING) {
      const err = this.error;
      this.error = null;
      this.failed = true;
      throw err;
    }
    if (this.state === CONNECTING) return -1;
    const s = this.sock;
    if (this.wrShut || this.failed || s === null || s.destroyed || this.state !== ESTABLISHED) throw sysError('EPIPE', 'write');
    const len = data.length;
    if (len === 0) return 0;
    const room = this.net.window - s.writableLength;
    if (room <= 0) return -1;
    const n = len <= room ? len : room;
    s.write(owned && n === len ? data : data.slice(0, n));
    return n;
  }

  shutdown(how: number): void {
    if (how !== 0 && how !== 1 && how !== 2) throw sysError('EINVAL', 'shutdown');
    if (this.state === LISTENING) {
      if (how !== 1) this.stopListening(); // Linux: SHUT_WR does nothing to a listener
      return;
    }
    if (!this.connected || this.sock === null) throw sysError('ENOTCONN', 'shutdown');
    if (how !== 1) this.rdShut = true;
    if (how !== 0 && !this.wrShut) {
      this.wrShut = true;
      this.sock.end();
    }
  }

  /**
   * `shutdown(SHUT_RD)` of a listener, the nearest Node has to Linux's: the server closes (connects
   * are refused), the connections not yet accepted are reset, accept is EINVAL, and `listen` may start
   * again. getsockname still shows the old address, as on Linux; unlike Linux, a port `bind` named is
   * free for others until then.
   */
  private stopListening(): void {
    const server = this.server;
    this.server = null;
    server?.close();
    for (const child of this.queue) child.resetUnaccepted();
    this.queue.length = 0;
    this.state = this.bindHost !== '' || this.bindPort !== 0 ? BOUND : FRESH;
  }

  /** A connection its listener never handed out: reset it, and release it. */
  private resetUnaccepted(): void {
    this.sock?.resetAndDestroy();
    this.destroy();
  }

  close(): boolean {
    if (this.fdClosed) return false;
    const reset = this.sock !== null && this.rcv.size > 0 && !this.sock.destroyed;
    this.destroy();
    return reset;
  }

  /** Closes the fd: RST with unread data, else FIN once Node has flushed what was written. @internal */
  destroy(): void {
    if (this.fdClosed) return;
    this.fdClosed = true;
    this.net.open.delete(this);
    this.clearWaiter(READ);
    this.clearWaiter(WRITE);
    const server = this.server;
    if (server !== null) {
      server.close();
      for (const child of this.queue) child.sock?.resetAndDestroy();
      this.queue.length = 0;
    }
    const s = this.sock;
    if (s !== null && !s.destroyed) {
      if (this.rcv.size > 0) s.resetAndDestroy();
      else if (this.state === CONNECTING || s.writableLength === 0 || this.net.hubClosed) s.destroy();
      else s.end(() => s.destroy());
    }
    this.rcv.clear();
    this.state = CLOSED;
  }

  localAddress(): Address {
    if (this.local !== null) return [this.local[0], this.local[1]];
    if (this.state === BOUND || this.state === LISTEN_PENDING) return [this.bindHost === '' ? LOOPBACK : this.bindHost, this.bindPort];
    return ['0.0.0.0', 0];
  }

  remoteAddress(): Address | null {
    return this.remote;
  }

  waiter(dir: Direction): Greenlet<unknown> | null {
    return dir === READ ? this.readWaiter : this.writeWaiter;
  }

  setWaiter(dir: Direction, g: Greenlet<unknown>): void {
    const had = dir === READ ? this.readWaiter : this.writeWaiter;
    if (dir === READ) this.readWaiter = g;
    else this.writeWaiter = g;
    if (had === null) this.hub.addExternalSource(1);
  }

  clearWaiter(dir: Direction): void {
    const had = dir === READ ? this.readWaiter : this.writeWaiter;
    if (had === null) return;
    if (dir === READ) this.readWaiter = null;
    else this.writeWaiter = null;
    this.hub.addExternalSource(-1);
  }

  describe(): string {
    const [h, p] = this.localAddress();
    const local = formatAddress(h, p);
    return this.remote !== null ? `fd ${this.fd}, ${local} -> ${formatAddress(this.remote[0], this.remote[1])}` : `fd ${this.fd}, ${local}`;
  }

  /** Queues a hub callback waking the waiter of `dir` (Node events happen outside the hub). */
  private wake(dir: Direction): void {
    if (dir === READ) {
      if (this.readWaiter === null || this.readQueued) return;
      this.readQueued = true;
      this.hub.schedule(wakeReader, this);
    } else {
      if (this.writeWaiter === null || this.writeQueued) return;
      this.writeQueued = true;
      this.hub.schedule(wakeWriter, this);
    }
  }
}

function wakeReader(s: TcpSocket): void {
  s.readQueued = false;
  const g = s.waiter(READ);
  if (g !== null) s.net.hub.wakeWaiter(g, true);
}
function wakeWriter(s: TcpSocket): void {
  s.writeQueued = false;
  const g = s.waiter(WRITE);
  if (g !== null) s.net.hub.wakeWaiter(g, true);
}

