/**
 * gevent.server.StreamServer: accepts connections in a greenlet and runs a handler for each in a new
 * greenlet, closing the connection when the handler returns.
 */
import { getHub, type Hub } from '../core/hub.js';
import { Greenlet, spawn, sleep } from '../core/greenlet.js';
import { Linkable } from '../core/linkable.js';
import { internName } from '../core/trace.js';
import { brand, GreenletExit } from '../core/errors.js';
import { Pool, type GroupBase } from '../sync/pool.js';
import { checkAddress } from '../net/address.js';
import { errorCode } from '../net/errors.js';
import type { Address } from '../net/net.js';
import { Socket, SOL_SOCKET, SO_REUSEADDR } from '../socket/socket.js';

/** Handles one connection; the connection is closed when it returns (or throws). */
export type Handler = (socket: Socket, address: Address) => unknown;

/**
 * Options of `StreamServer`.
 * @example
 * new StreamServer(['127.0.0.1', 0], handle, { backlog: 128, spawn: new Pool(100) });
 */
export interface StreamServerOptions {
  /** Listen backlog when the server binds an address itself (default 128, gevent's). */
  backlog?: number;
  /**
   * How handlers run: `'default'` spawns a greenlet per connection with no limit; a number `n` runs at
   * most `n` at once (a `Pool(n)`); a `Pool` (or `Group`) runs them in it. While the pool is full the
   * server stops accepting, so new connections wait in the listen backlog.
   */
  spawn?: 'default' | number | GroupBase;
}

const R_SERVE = internName('StreamServer.serveForever');

/** Ready once the server has stopped: what serveForever waits on. */
class StopSignal extends Linkable {
  stopped = true;
  ready(): boolean {
    return this.stopped;
  }
  set(): void {
    this.stopped = true;
    this.checkAndNotify();
  }
  override describe(): string {
    return 'StreamServer';
  }
}

/**
 * A TCP server, gevent's `StreamServer(listener, handle, backlog, spawn)`: `listener` is a `[host,
 * port]` to bind (port 0 picks a free port — read it from `address` after `start`) or a listening
 * `Socket`. Each connection runs `handler(conn, [host, port])` in its own greenlet; `conn` is closed
 * when the handler returns.
 *
 * The listener is a `[host, port]`, a listening `Socket`, or gevent's shorthands: `':8080'` or
 * `'*:8080'` (every address: `''`), `'127.0.0.1:8080'`, or a port alone (`8080` or `'8080'`).
 *
 * Differences from gevent: `start`, `serveForever` and `stop` return Promises; `handle` is the second
 * constructor argument or an overridden `handle` method.
 * @example
 * const server = new StreamServer(['127.0.0.1', 0], async (conn, addr) => {
 *   for (;;) {
 *     const data = await conn.recv(1024);
 *     if (data.length === 0) break;
 *     await conn.sendall(data);
 *   }
 * }, { spawn: 100 });
 * await server.start();
 * console.log(server.address); // ['127.0.0.1', 32768…60999]
 * // …
 * await server.stop();
 */
export class StreamServer {
  /** gevent's default listen backlog for servers. */
  static backlog = 128;
  /** Seconds `stop()` waits for the handlers of a pool by default (gevent's `stop_timeout`). */
  static stopTimeout = 1;
  readonly hub: Hub;
  /** The pool handlers run in, or null (`spawn: 'default'`). */
  readonly pool: GroupBase | null;
  /** The listening socket, once started (or as given). */
  socket: Socket | null;
  private readonly bindAddress: Address | null;
  private readonly backlog: number;
  private readonly handler: Handler | null;
  private readonly stopSignal: StopSignal;
  private acceptor: Greenlet<void> | null = null;
  private boundAddress: Address;
  /** gevent's `closed` (`not hasattr(self, 'socket')`): no listening socket yet, or no longer. */
  private isClosed: boolean;

  constructor(listener: Address | Socket | string | number, handler?: Handler | null, options: StreamServerOptions = {}) {
    this.hub = getHub();
    if (listener instanceof Socket) {
      if (options.backlog !== undefined) throw new TypeError('backlog must be undefined when a socket instance is passed');
      this.socket = listener;
      this.bindAddress = null;
      this.boundAddress = listener.getsockname();
      this.isClosed = false;
    } else {
      this.bindAddress = checkAddress(typeof listener === 'string' || typeof listener === 'number' ? parseListener(listener) : listener, 'StreamServer');
      this.socket = null;
      this.boundAddress = [this.bindAddress[0], this.bindAddress[1]];
      this.isClosed = true;
    }
    this.backlog = options.backlog ?? StreamServer.backlog;
    const spawnOpt = options.spawn ?? 'default';
    if (spawnOpt === 'default') this.pool = null;
    else if (typeof spawnOpt === 'number') this.pool = new Pool(spawnOpt);
    else if (typeof spawnOpt === 'object' && spawnOpt !== null && typeof (spawnOpt as GroupBase).spawnBlocking === 'function') this.pool = spawnOpt;
    else throw new TypeError(`spawn must be 'default', a number or a Pool, not ${typeof spawnOpt}`);
    this.handler = handler ?? null;
    if (this.handler === null && this.handle === StreamServer.prototype.handle) throw new TypeError("'handle' must be provided");
    this.stopSignal = new StopSignal(this.hub);
  }

  /**
   * Handles one connection; by default calls the handler given to the constructor. Subclasses may
   * override it instead of passing a handler.
   */
  handle(socket: Socket, address: Address): unknown {
    return this.handler!(socket, address);
  }

  /** The address the server listens on (`[host, port]`; after `start`, port 0 is the assigned port). */
  get address(): Address {
    return [this.boundAddress[0], this.boundAddress[1]];
  }

  /** The host part of `address`. */
  get serverHost(): string {
    return this.boundAddress[0];
  }

  /** The port part of `address`. */
  get serverPort(): number {
    return this.boundAddress[1];
  }

  /** Whether the server is accepting connections. */
  get started(): boolean {
    return !this.stopSignal.stopped;
  }

  /**
   * Whether the server has no listening socket, as gevent's `closed`: true before `start` (unless it
   * was given a socket), after a failed `start`, and after `stop` or `close`.
   * @example
   * new StreamServer(['127.0.0.1', 0], handle).closed; // true: nothing listens yet
   */
  get closed(): boolean {
    return this.isClosed;
  }

  /**
   * Binds and listens (when given an address) and starts accepting in a new greenlet.
   * @example
   * await server.start();
   */
  async start(): Promise<void> {
    if (this.started) return;
    if (this.socket === null || this.socket.closed) {
      if (this.bindAddress === null) {
        this.isClosed = true; // gevent's failed start closes the server
        throw new Error('StreamServer.start(): the listening socket was closed');
      }
      const s = new Socket();
      try {
        s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
        await s.bind(this.bindAddress);
        await s.listen(this.backlog);
      } catch (e) {
        s.close();
        this.isClosed = true;
        throw e;
      }
      this.socket = s;
    }
    this.boundAddress = this.socket.getsockname();
    this.isClosed = false;
    this.stopSignal.stopped = false;
    const g = new Greenlet(acceptLoop, this, this.socket);
    g.name = `StreamServer(${this.boundAddress[0]}:${this.boundAddress[1]})`;
    this.acceptor = g;
    g.start();
  }

  /**
   * Starts the server if needed, then waits until it is stopped; if the waiting greenlet is killed, the
   * server is stopped.
   * @example
   * spawn(() => server.serveForever());
   */
  async serveForever(stopTimeout?: number): Promise<void> {
    if (!this.started) await this.start();
    try {
      if (!this.stopSignal.stopped) await this.hub.waitOn(this.stopSignal, R_SERVE, null);
    } finally {
      await this.stop(stopTimeout);
    }
  }

  /** Stops accepting and closes the listening socket (handlers keep running). */
  close(): void {
    this.stopSignal.set();
    this.isClosed = true;
    const acceptor = this.acceptor;
    this.acceptor = null;
    this.socket?.close();
    if (acceptor !== null && !acceptor.dead) acceptor.killNoWait(new GreenletExit());
  }

  /**
   * Stops accepting, closes the listening socket and, when handlers run in a pool, waits up to
   * `timeout` seconds (default 1) for them to finish, then kills the rest. Without a pool, handlers
   * keep running, as in gevent.
   * @example
   * await server.stop(5);
   */
  async stop(timeout?: number | null): Promise<void> {
    this.close();
    const pool = this.pool;
    if (pool !== null) {
      await pool.join(timeout ?? StreamServer.stopTimeout);
      await pool.kill(undefined, { block: true, timeout: 1 });
    }
  }

  /** @internal Runs the handler for one connection, in the pool if there is one. */
  async dispatch(conn: Socket, address: Address): Promise<void> {
    const pool = this.pool;
    try {
      if (pool === null) spawn(handleAndClose, this, conn, address);
      else await pool.spawnBlocking(handleAndClose, [this, conn, address]);
    } catch (e) {
      conn.close();
      throw e;
    }
  }

  /**
   * @internal The accept loop on `listener` has ended. Unless `close` ended it, it was killed (the hub
   * kills every greenlet when main returns) or failed: the server stops, so `closed` and `started`
   * say so and `serveForever` returns.
   */
  acceptorEnded(listener: Socket): void {
    if (this.socket !== listener || this.acceptor === null) return;
    this.acceptor = null;
    this.close();
  }

  /** @internal */
  get poolFull(): boolean {
    return this.pool !== null && this.pool.full();
  }

  toString(): string {
    return `<StreamServer address=${this.boundAddress[0]}:${this.boundAddress[1]}${this.started ? '' : ' stopped'}>`;
  }
}
brand(StreamServer, 'StreamServer');

async function handleAndClose(server: StreamServer, conn: Socket, address: Address): Promise<void> {
  try {
    await server.handle(conn, address);
  } finally {
    conn.close();
  }
}

const MIN_DELAY = 0.01;
const MAX_DELAY = 1;
const FATAL = ['EBADF', 'EINVAL', 'ENOTSOCK'];

async function acceptLoop(server: StreamServer, listener: Socket): Promise<void> {
  let delay = MIN_DELAY;
  try {
    for (;;) {
      // a full pool pauses accepting: new connections wait in the backlog; once a place frees, the
      // next accept waits for the hub's poll, as gevent's server restarts its listener's I/O watcher
      if (server.poolFull) {
        await server.pool!.waitAvailable();
        await server.hub.nextPoll('StreamServer accept');
      }
      let conn: Socket;
      let address: Address;
      try {
        [conn, address] = await listener.accept();
        delay = MIN_DELAY;
      } catch (e) {
        if (server.closed || listener.closed) return;
        // Only the socket's own errors (they carry a `code`) are handled as gevent's accept loop does;
        // anything else was thrown into this greenlet — GreenletExit from kill() or from the hub
        // when main returns, or another kill exception — and ends the loop (the server closes).
        if (!isSocketError(e)) throw e;
        server.hub.reportError(e, null);
        if (FATAL.includes(errorCode(e) ?? '')) {
          server.close();
          return;
        }
        await sleep(delay);
        delay = Math.min(MAX_DELAY, delay * 2);
        continue;
      }
      await server.dispatch(conn, address);
    }
  } finally {
    server.acceptorEnded(listener);
  }
}

/** An error of a socket call (a Node-style `code`), not one thrown into the greenlet by a kill. */
function isSocketError(e: unknown): boolean {
  return typeof errorCode(e) === 'string';
}

/**
 * gevent's `parse_address` for a listener given as a string or a port: `'host:port'` (`'*'` or nothing
 * before the colon: every address, `''`), or a port alone. IPv6 (`'[::1]:80'`) is not supported.
 */
function parseListener(listener: string | number): [string, unknown] {
  if (typeof listener === 'number') return ['', listener];
  const colon = listener.lastIndexOf(':');
  const host = colon < 0 ? '' : listener.slice(0, colon);
  const portText = listener.slice(colon + 1).trim();
  if (host.startsWith('[')) throw new RangeError(`StreamServer(): IPv6 addresses are not supported: '${listener}'`);
  // Python's int(): an optional sign and decimal digits (a bad port then fails the range check)
  const port = /^[+-]?\d+$/.test(portText) ? Number(portText) : NaN;
  if (Number.isNaN(port)) throw new RangeError(`StreamServer(): invalid port in '${listener}' (expected 'host:port', ':port' or a port)`);
  return [host === '*' ? '' : host, port];
}
