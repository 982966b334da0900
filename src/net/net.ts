/**
 * The Net interface: the one seam between the gevent socket API (`src/socket`, `src/server`) and a
 * network — the in-memory fabric in sim mode (`MemoryNet`), real TCP through `node:net` in real mode
 * (`TcpNet`). The hub's mode picks the implementation (`hub.net`).
 *
 * The interface is the kernel's, non-blocking: every operation either completes at once, throws the
 * error a user would see, or says "would block". The socket layer then parks the calling greenlet as
 * the socket's reader or writer (`setWaiter`) and retries when the net wakes it — exactly how gevent
 * drives a non-blocking socket with its read and write watchers. So parking, timeouts and
 * `ConcurrentObjectUseError` live in one place, and a Net holds only state.
 */
import type { Greenlet } from '../core/greenlet.js';
import { getHub, type Hub } from '../core/hub.js';

/** An IPv4 address and a port, as gevent's `(host, port)` tuple. */
export type Address = [host: string, port: number];

/** Readiness direction: data, EOF, an error or a pending connection to take. */
export const READ = 0;
/** Readiness direction: window space, a completed connect or listen, or an error. */
export const WRITE = 1;
/** `READ` or `WRITE`. */
export type Direction = typeof READ | typeof WRITE;

/** Counters a Net keeps for reports (the echo scenario's summary). */
export interface NetStats {
  /** SYN retransmissions: connects that found a full backlog (estimated from connect times in real mode). */
  connectRetries: number;
  /** Connections established. */
  connections: number;
  /** Segments handed to the router (memory) or chunks received (tcp). */
  segments: number;
}

/**
 * One kernel socket (a file descriptor). Every method is non-blocking and synchronous.
 * @internal the socket layer is its only user; exported for other Net implementations
 */
export interface NetSocket {
  /** A small number unique within its Net (what `fileno()` returns). */
  readonly fd: number;
  /** The Net this socket belongs to. */
  readonly net: Net;
  /** Whether the socket is listening. */
  readonly listening: boolean;
  /**
   * Whether it has a connection that is not over: false before connecting, and once the connection
   * was reset or closed by both sides (Linux's TCP_CLOSE, where getpeername and shutdown say ENOTCONN),
   * though `remoteAddress()` may still name the peer.
   */
  readonly connected: boolean;
  /** Records the local address; `port` 0 picks an ephemeral port (memory) or defers to listen/connect (tcp). */
  bind(host: string, port: number): void;
  /** Starts listening. True when listening; false while in progress (wait WRITE, call again). */
  listen(backlog: number): boolean;
  /** Takes one established connection, or null when none is queued (wait READ). */
  accept(): NetSocket | null;
  /** Starts or completes a connect. True when connected; false while in progress (wait WRITE, call again). */
  connect(host: string, port: number): boolean;
  /** Up to `n` bytes (n > 0); an empty array at EOF; null when nothing is there yet (wait READ). */
  recv(n: number): Uint8Array | null;
  /**
   * Sends what the peer's window takes of `data`; -1 when it takes nothing now (wait WRITE). A copy is
   * kept unless `owned` says the caller gives the array away (nobody will write to it again).
   */
  send(data: Uint8Array, owned?: boolean): number;
  /** `SHUT_RD` (0), `SHUT_WR` (1) or `SHUT_RDWR` (2). */
  shutdown(how: number): void;
  /** Releases the socket: FIN, or RST if unread data remains. Idempotent. True when it sent a reset. */
  close(): boolean;
  /** The local address (getsockname); `['0.0.0.0', 0]` when unbound. */
  localAddress(): Address;
  /** The peer's address, or null when not connected. */
  remoteAddress(): Address | null;
  /** The greenlet parked waiting for `dir`, or null. */
  waiter(dir: Direction): Greenlet<unknown> | null;
  /**
   * Makes `g` the greenlet parked waiting for `dir`. The Net wakes it with `hub.wakeWaiter(g, true)`,
   * from a hub callback, when the socket may have become ready in that direction (the woken greenlet
   * retries; a wake is "try again", never a hand-over).
   */
  setWaiter(dir: Direction, g: Greenlet<unknown>): void;
  /** Forgets the waiter of `dir` (on wake, timeout or kill). */
  clearWaiter(dir: Direction): void;
  /** How the socket shows in LoopExit reports: `fd 3, 127.0.0.1:8080`. */
  describe(): string;
}

/**
 * Where the simulation layer tells a real network about its hosts (real mode maps each simulated host
 * to a loopback address of its own, 127.0.0.2, .3, …).
 * @internal
 */
export interface HostDirectory {
  /** The address of the current greenlet's host, or null when it runs on no simulated host. */
  currentAddress(): string | null;
  /** The address a host name (or a host's simulated address) stands for, or undefined. */
  lookup(name: string): string | undefined;
}

/**
 * A network: makes kernel sockets and resolves names. One per hub (`hub.net`).
 * @internal implemented by MemoryNet and TcpNet
 */
export interface Net {
  /** `memory` (the in-memory fabric, sim mode) or `tcp` (node:net, real mode). */
  readonly kind: 'memory' | 'tcp';
  readonly hub: Hub;
  readonly stats: NetStats;
  /** A fresh, unbound socket on the current greenlet's host. */
  socket(): NetSocket;
  /** Resolves a host name to an IPv4 address; throws ENOTFOUND. */
  resolve(host: string): string;
  /** Closes every socket (the hub is closing). */
  close(): void;
}

/**
 * The network of `hub` (the current hub by default): in-memory in sim mode, TCP in real mode.
 * @example
 * await run(async () => {
 *   // ... clients connect ...
 *   console.log(getNet().stats.connectRetries);
 * });
 */
export function getNet(hub: Hub = getHub()): Net {
  return hub.net as Net;
}
