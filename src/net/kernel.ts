/**
 * The per-host kernel of the in-memory network: the socket table, bound ports, ephemeral ports, the
 * listen backlog, and each socket's TCP state (handshake with Linux's SYN retries, a byte stream with
 * a receive window, half-close, RST). It never routes: segments leave through the fabric
 * (`MemoryNet.transmit`) and arrive through `Host.receive`, always in a hub callback.
 * @internal
 */
import { ReceiveBuffer } from './buffer.js';
import { copyBytes } from './bytes.js';
import { Timer, PRIORITY_DEFAULT } from '../core/timers.js';
import type { Greenlet } from '../core/greenlet.js';
import { hashString } from '../core/trace.js';
import { ANY, LOOPBACK, isLoopback, formatAddress } from './address.js';
import { sysError } from './errors.js';
import { READ, WRITE, type Address, type Direction, type NetSocket } from './net.js';
import { Segment, SYN, SYN_ACK, DATA, FIN, RST, ACK, SEGMENT_NAMES } from './segment.js';
import { K_DELIVER, K_SEGMENT, K_DROP, K_ABORT } from './trace.js';
import type { MemoryNet } from './fabric.js';

/** Linux's ephemeral port range (net.ipv4.ip_local_port_range). */
export const EPHEMERAL_LOW = 32768;
export const EPHEMERAL_HIGH = 60999;
const EPHEMERAL_COUNT = EPHEMERAL_HIGH - EPHEMERAL_LOW + 1;
/** Linux's net.core.somaxconn: the cap on a listen backlog. */
export const SOMAXCONN = 4096;
/** Linux's net.ipv4.tcp_syn_retries: SYN retransmissions before connect gives up with ETIMEDOUT. */
export const SYN_RETRIES = 6;
/** Linux's initial retransmission timeout for a SYN (TCP_TIMEOUT_INIT), ns; doubles on every retry. */
const SYN_RTO_NS = 1e9;

// socket states
const FRESH = 0;
const BOUND = 1;
const LISTENING = 2;
const SYN_SENT = 3;
const ESTABLISHED = 4;
const CLOSED = 5;

/**
 * A host of the in-memory network: a name, its addresses, and its kernel state. Every host also
 * answers to the loopback addresses (127.0.0.0/8) for connections to itself.
 */
export class Host {
  /** Bound ports (listening or merely bound sockets), in binding order. */
  readonly ports = new Map<number, MemSocket>();
  /** The socket table: every open socket of this host by fd, in creation order. */
  readonly sockets = new Map<number, MemSocket>();
  /** Crashed and not restarted: segments reaching it are lost (TCP retransmits them). */
  down = false;
  /** Paused: segments reaching it are held until it resumes. */
  paused = false;
  private cursor: number;

  constructor(
    readonly net: MemoryNet,
    readonly name: string,
    /** Addresses this host answers to (besides loopback); the first is its primary address. */
    readonly addresses: string[],
    seed: number,
  ) {
    // ephemeral ports are handed out in order from a start derived from the seed and the host, so a
    // run is reproducible and other seeds see other ports — without drawing from the hub's PRNG
    this.cursor = hashString(`ports:${seed}:${name}`) % EPHEMERAL_COUNT;
  }

  /** The primary address (what a connection to another host comes from). */
  get address(): string {
    return this.addresses[0] ?? LOOPBACK;
  }

  /** Whether a socket of this host may bind `address`. */
  owns(address: string): boolean {
    return address === ANY || isLoopback(address) || this.addresses.includes(address);
  }

  /** A free port from Linux's ephemeral range, distinct from every bound port of this host. */
  ephemeralPort(syscall: string): number {
    for (let i = 0; i < EPHEMERAL_COUNT; i++) {
      const port = EPHEMERAL_LOW + ((this.cursor + i) % EPHEMERAL_COUNT);
      if (!this.ports.has(port)) {
        this.cursor = (this.cursor + i + 1) % EPHEMERAL_COUNT;
        return port;
      }
    }
    throw sysError('EADDRNOTAVAIL', syscall);
  }

  /**
   * The host crashes: every socket vanishes at once — no FIN, unread and unsent bytes gone — and the
   * peer of each connection is sent a reset (it sees ECONNRESET once the reset arrives, after what was
   * already on its way). Until `restart`, segments reaching the host are lost. Its ports are free.
   */
  crash(): void {
    for (const s of [...this.sockets.values()]) s.vanish();
    this.ports.clear();
    this.down = true;
  }

  /** The host is back (after `crash`): an empty kernel answering every segment of an old connection with a reset. */
  restart(): void {
    this.down = false;
  }

  /** A segment arrives at this host (a hub callback). */
  receive(seg: Segment): void {
    const net = this.net;
    const hub = net.hub;
    if (seg.kind === SYN) {
      this.receiveSyn(seg);
      return;
    }
    const to = seg.to;
    if (to === null || to.host !== this) throw new Error(`geventjs net: ${seg.toString()} has no destination socket on host ${this.name}`);
    if (seg.kind === DATA) {
      hub.trace.record(K_DELIVER, hub.clock, -1, to.fd, seg.size, hub.trace.keepsAll ? seg.data! : undefined);
    } else {
      hub.trace.record(K_SEGMENT, hub.clock, -1, to.fd, seg.kind, SEGMENT_NAMES[seg.kind]);
    }
    to.receive(seg);
  }

  private receiveSyn(seg: Segment): void {
    const hub = this.net.hub;
    hub.trace.record(K_SEGMENT, hub.clock, -1, -1, SYN, SEGMENT_NAMES[SYN]);
    const client = seg.from!;
    const known = client.synChild;
    if (known !== null && !known.fdClosed) {
      // a retransmitted SYN whose SYN-ACK is still on its way: answer again
      known.transmit(SYN_ACK, null);
      return;
    }
    const listener = this.ports.get(seg.dstPort);
    if (listener === undefined || listener.state !== LISTENING || (listener.localAddr !== ANY && listener.localAddr !== seg.dstAddr)) {
      this.net.reply(seg, RST);
      return;
    }
    // Linux: the accept queue is full when it holds more than `backlog` connections; the SYN is dropped
    // and the client retransmits it after 1, 2, 4… s
    if (listener.queued > listener.backlog) {
      hub.trace.record(K_DROP, hub.clock, -1, client.fd, SYN, 'backlog full');
      return;
    }
    const child = new MemSocket(this.net, this);
    child.state = ESTABLISHED;
    child.localAddr = seg.dstAddr;
    child.localPort = seg.dstPort;
    child.remoteAddr = seg.srcAddr;
    child.remotePort = seg.srcPort;
    child.peer = client;
    child.peerHost = seg.src;
    child.sndEdge = seg.wnd;
    client.synChild = child;
    listener.enqueue(child);
    child.transmit(SYN_ACK, null);
    listener.notify(READ);
  }
}

/**
 * A socket of the in-memory kernel.
 *
 * Flow control: `sndNxt` counts bytes sent, `sndEdge` is the peer's advertised right edge (bytes it
 * will have accepted in total); `send` takes at most `sndEdge - sndNxt`. On the receiving side
 * `rcvRead + window` is the edge the socket could advertise; every segment it sends carries it, and
 * a separate window update (ACK) goes out only when the sender may be stalled or half a window freed.
 */
export class MemSocket implements NetSocket {
  readonly fd: number;
  /** @internal */ state = FRESH;
  /** @internal */ localAddr = ANY;
  /** @internal */ localPort = 0;
  /** @internal */ remoteAddr = '';
  /** @internal */ remotePort = 0;
  /** The other end of the connection. @internal */ peer: MemSocket | null = null;
  /** @internal */ peerHost: Host | null = null;
  /** Server side: the connection created for this client's SYN (answers a retransmitted SYN). @internal */
  synChild: MemSocket | null = null;
  /** The fd was closed: every further call is EBADF (the socket layer checks). @internal */
  fdClosed = false;
  /** Deliver-at of the last segment sent, ns: segments of one direction never overtake. @internal */
  lastDeliverAt = -0.5;
  /** The oldest segment this socket sent that has not been delivered (its wire, linked by `next`). @internal */
  wireHead: Segment | null = null;
  /** @internal */ wireTail: Segment | null = null;
  /** Stream chaos: writes waiting to go out as one segment with the next ones of this instant. @internal */
  coalesced: Uint8Array[] | null = null;

  // listening
  /** @internal */ backlog = 0;
  /** The accept queue: a listener's only (most sockets never listen). */
  private queue: MemSocket[] | null = null;
  private qHead = 0;

  // connecting
  private connecting = false;
  private synRetries = 0;
  private synTimer: Timer | null = null;
  private autobound = false;
  /** `bind` named the port (Linux's SOCK_BINDPORT_LOCK): a listener shut down keeps it. */
  private portLocked = false;

  // receiving
  private readonly window: number;
  private readonly rcv = new ReceiveBuffer();
  private rcvRead = 0;
  private rcvNxt = 0;
  private rcvAdv: number;
  private peerFin = false;
  private rdShut = false;
  // sending
  private sndNxt = 0;
  /** @internal */ sndEdge = 0;
  private wrShut = false;
  private reset = false;
  /** The error the next call reports (ECONNREFUSED, ECONNRESET, EPIPE, ETIMEDOUT), once. */
  private error: string | null = null;

  private readWaiter: Greenlet<unknown> | null = null;
  private writeWaiter: Greenlet<unknown> | null = null;

  constructor(
    readonly net: MemoryNet,
    readonly host: Host,
  ) {
    this.fd = net.nextFd();
    this.window = net.window;
    this.rcvAdv = this.window;
    host.sockets.set(this.fd, this);
  }

  get listening(): boolean {
    return this.state === LISTENING;
  }

  /**
   * Whether the connection is still there: false once it was reset (by the peer, by this side's
   * close, by a crash or given up on) or both sides have sent their FIN — Linux's TCP_CLOSE, where
   * getpeername and shutdown raise ENOTCONN.
   */
  get connected(): boolean {
    return this.state === ESTABLISHED && this.peer !== null && !this.reset && !(this.peerFin && this.wrShut);
  }

  /** Connections waiting in the accept queue. @internal */
  get queued(): number {
    return this.queue === null ? 0 : this.queue.length - this.qHead;
  }

  /** @internal */
  enqueue(child: MemSocket): void {
    this.queue!.push(child);
  }

  // ------------------------------------------------------------------ the socket calls

  bind(host: string, port: number): void {
    if (this.state !== FRESH) throw sysError('EINVAL', 'bind');
    const addr = host === '' ? ANY : this.net.resolve(host);
    if (!this.host.owns(addr)) throw sysError('EADDRNOTAVAIL', 'bind', addr, port);
    if (port === 0) {
      port = this.host.ephemeralPort('bind');
    } else if (this.host.ports.has(port)) {
      throw sysError('EADDRINUSE', 'bind', addr, port);
    } else {
      this.portLocked = true;
    }
    this.host.ports.set(port, this);
    this.localAddr = addr;
    this.localPort = port;
    this.state = BOUND;
  }

  listen(backlog: number): boolean {
    if (this.state === FRESH) {
      this.localPort = this.host.ephemeralPort('listen');
      this.host.ports.set(this.localPort, this);
      this.state = BOUND;
    }
    if (this.state !== BOUND && this.state !== LISTENING) throw sysError('EINVAL', 'listen');
    this.backlog = Math.max(0, Math.min(SOMAXCONN, Math.floor(backlog)));
    this.queue ??= [];
    this.state = LISTENING;
    return true;
  }

  accept(): MemSocket | null {
    if (this.state !== LISTENING) throw sysError('EINVAL', 'accept');
    const queue = this.queue!;
    if (this.qHead === queue.length) return null;
    const child = queue[this.qHead]!;
    queue[this.qHead++] = undefined as unknown as MemSocket;
    if (this.qHead === queue.length) {
      queue.length = 0;
      this.qHead = 0;
    }
    return child;
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
      case SYN_SENT:
        return false;
      case LISTENING:
        throw sysError('EISCONN', 'connect');
    }
    if (this.connecting) {
      // the connect this socket started has failed: report it once
      this.connecting = false;
      const code = this.error ?? 'ECONNREFUSED';
      this.error = null;
      throw sysError(code, 'connect', this.remoteAddr, this.remotePort);
    }
    const addr = host === '' || host === ANY ? LOOPBACK : this.net.resolve(host);
    const dst = this.net.hostFor(this.host, addr);
    if (this.state === FRESH) {
      this.localPort = this.host.ephemeralPort('connect');
      this.host.ports.set(this.localPort, this);
      this.autobound = true;
    }
    if (this.localAddr === ANY) this.localAddr = dst === this.host ? addr : this.host.address;
    this.remoteAddr = addr;
    this.remotePort = port;
    this.peerHost = dst;
    this.state = SYN_SENT;
    this.connecting = true;
    this.synRetries = 0;
    this.sendSyn();
    return false;
  }

  recv(n: number): Uint8Array | null {
    if (this.rcv.size > 0) return this.take(n);
    if (this.error !== null && !this.peerFin) {
      const code = this.error;
      this.error = null;
      throw sysError(code, 'read');
    }
    if (this.peerFin || this.rdShut || this.reset) return EMPTY;
    if (this.state === ESTABLISHED || this.state === SYN_SENT) return null;
    throw sysError('ENOTCONN', 'recv');
  }

  send(data: Uint8Array, owned = false): number {
    if (this.error !== null) {
      const code = this.error;
      this.error = null;
      throw sysError(code, 'write');
    }
    if (this.wrShut || this.reset || (this.state !== ESTABLISHED && this.state !== SYN_SENT)) throw sysError('EPIPE', 'write');
    if (this.state === SYN_SENT) return -1;
    const len = data.length;
    if (len === 0) return 0;
    const avail = this.sndEdge - this.sndNxt;
    if (avail <= 0) return -1;
    const n = len <= avail ? len : avail;
    this.sndNxt += n;
    // a copy unless the caller gives the array away (into a pool: see bytes.ts)
    this.net.sendData(this, n === len ? (owned ? data : copyBytes(data)) : copyBytes(data.subarray(0, n)));
    return n;
  }

  shutdown(how: number): void {
    if (how !== 0 && how !== 1 && how !== 2) throw sysError('EINVAL', 'shutdown');
    if (this.state === LISTENING) {
      if (how !== 1) this.stopListening(); // Linux: SHUT_WR does nothing to a listener
      return;
    }
    if (!this.connected) throw sysError('ENOTCONN', 'shutdown');
    if (how !== 1) this.rdShut = true;
    if (how !== 0 && !this.wrShut) {
      this.wrShut = true;
      if (!this.reset) this.transmit(FIN, null);
    }
  }

  /** Closes the fd. Returns true when the close reset the connection (unread data). */
  close(): boolean {
    if (this.fdClosed) return false;
    this.fdClosed = true;
    this.host.sockets.delete(this.fd);
    let rst = false;
    switch (this.state) {
      case LISTENING:
        this.abortQueued();
        break;
      case SYN_SENT:
        this.cancelSynTimer();
        break;
      case ESTABLISHED:
        if (this.rcv.size > 0) {
          // Linux: closing with unread data resets the connection (RFC 2525)
          rst = true;
          this.dropReceived();
          this.transmit(RST, null);
          this.reset = true;
        } else if (!this.wrShut && !this.reset) {
          this.wrShut = true;
          this.transmit(FIN, null);
        }
        break;
    }
    this.releasePort();
    this.state = CLOSED;
    return rst;
  }

  localAddress(): Address {
    return [this.localAddr, this.localPort];
  }

  remoteAddress(): Address | null {
    return this.peer !== null ? [this.remoteAddr, this.remotePort] : null;
  }

  waiter(dir: Direction): Greenlet<unknown> | null {
    return dir === READ ? this.readWaiter : this.writeWaiter;
  }

  setWaiter(dir: Direction, g: Greenlet<unknown>): void {
    if (dir === READ) this.readWaiter = g;
    else this.writeWaiter = g;
  }

  clearWaiter(dir: Direction): void {
    if (dir === READ) this.readWaiter = null;
    else this.writeWaiter = null;
  }

  describe(): string {
    const local = formatAddress(this.localAddr, this.localPort);
    return this.peer !== null ? `fd ${this.fd}, ${local} -> ${formatAddress(this.remoteAddr, this.remotePort)}` : `fd ${this.fd}, ${local}`;
  }

  // ------------------------------------------------------------------ internals

  /** Wakes the waiter of `dir`: at once from a hub callback that has woken nobody yet, else queued. @internal */
  notify(dir: Direction): void {
    const g = dir === READ ? this.readWaiter : this.writeWaiter;
    if (g === null) return;
    if (this.net.deferring) {
      this.net.deferred.push(this, dir);
      return;
    }
    const hub = this.net.hub;
    if (hub.running === null) hub.wakeWaiter(g, true);
    else hub.schedule(dir === READ ? wakeReader : wakeWriter, this);
  }

  /** Sends a control or data segment to the peer. @internal */
  transmit(kind: number, data: Uint8Array | null): void {
    if (this.coalesced !== null && kind !== DATA) this.net.flushCoalesced(this); // bytes before FIN/RST/ACK
    this.emit(kind, this.peer, data);
  }

  /** Puts a segment from this socket to `to` on the network; it advertises the receive window's edge. */
  private emit(kind: number, to: MemSocket | null, data: Uint8Array | null): void {
    const edge = this.rcvRead + this.window;
    this.rcvAdv = edge;
    const net = this.net;
    net.transmit(net.blankSegment().fill(kind, this.host, this.peerHost, this.localAddr, this.localPort, this.remoteAddr, this.remotePort, this, to, data, edge));
  }

  private sendSyn(): void {
    this.emit(SYN, null, null); // the listener, not a socket, receives a SYN
    const t = (this.synTimer ??= new Timer(synTimedOut, this));
    this.net.hub.addTimer(t, SYN_RTO_NS * 2 ** this.synRetries, PRIORITY_DEFAULT);
  }

  /** The SYN retransmission timer fired (a hub callback). @internal */
  synTimedOut(): void {
    if (this.state !== SYN_SENT || this.fdClosed) return;
    if (this.synRetries < SYN_RETRIES) {
      this.synRetries++;
      this.net.stats.connectRetries++;
      this.sendSyn();
      return;
    }
    this.failConnect('ETIMEDOUT');
  }

  /** The host crashed: the socket vanishes without a FIN; a connected peer is sent a reset. @internal */
  vanish(): void {
    this.coalesced = null;
    if (this.state === ESTABLISHED && !this.reset && this.peer !== null) this.transmit(RST, null);
    if (this.state === SYN_SENT) this.cancelSynTimer();
    this.fdClosed = true;
    this.reset = true;
    this.wrShut = true;
    this.dropReceived();
    this.queue = null;
    this.qHead = 0;
    this.host.sockets.delete(this.fd);
    this.releasePort();
    this.state = CLOSED;
    this.error = null;
  }

  /** TCP gives up on the connection (its retransmissions are exhausted): calls fail with `code`. @internal */
  abortConnection(code: string): void {
    this.net.discardWire(this);
    if (this.reset) return;
    const hub = this.net.hub;
    hub.trace.record(K_ABORT, hub.clock, -1, this.fd, 0, code);
    this.reset = true;
    this.error = code;
    this.notify(READ);
    this.notify(WRITE);
  }

  private failConnect(code: string): void {
    this.cancelSynTimer();
    this.error = code;
    if (this.autobound) {
      // Linux gives an automatically bound port back when the connect fails
      this.releasePort();
      this.autobound = false;
      this.localAddr = ANY;
      this.localPort = 0;
      this.state = FRESH;
    } else {
      this.state = BOUND;
    }
    this.peerHost = null;
    this.notify(WRITE);
  }

  private cancelSynTimer(): void {
    const t = this.synTimer;
    if (t !== null && t.active) this.net.hub.cancelTimer(t);
  }

  private releasePort(): void {
    if (this.localPort !== 0 && this.host.ports.get(this.localPort) === this) this.host.ports.delete(this.localPort);
  }

  /** A queued, never accepted connection of a closing listener: reset it. */
  private abort(): void {
    this.fdClosed = true;
    this.host.sockets.delete(this.fd);
    if (!this.reset) {
      this.reset = true;
      this.transmit(RST, null);
    }
    this.state = CLOSED;
  }

  private take(n: number): Uint8Array {
    const out = this.rcv.take(n);
    const size = out.length;
    this.rcvRead += size;
    this.maybeUpdateWindow();
    return out;
  }

  /**
   * `shutdown(SHUT_RD)` of a listener, as Linux's tcp_disconnect: the connections it had not accepted
   * are reset, SYNs are refused, accept is EINVAL. A port `bind` named stays bound (listen again
   * there); an ephemeral one is given back (listen again picks another), though getsockname still
   * shows it, as on Linux.
   */
  private stopListening(): void {
    this.abortQueued();
    this.backlog = 0;
    if (this.portLocked) {
      this.state = BOUND;
      return;
    }
    this.releasePort();
    this.state = FRESH;
  }

  /** A listener closes: the connections it had not accepted are reset. */
  private abortQueued(): void {
    const queue = this.queue!;
    for (let i = this.qHead; i < queue.length; i++) queue[i]!.abort();
    this.queue = null;
    this.qHead = 0;
  }

  private dropReceived(): void {
    this.rcv.clear();
  }

  /**
   * Sends a window update when the sender may be stalled (everything it was allowed to send has
   * arrived) or when half a window has freed since the last advertisement.
   */
  private maybeUpdateWindow(): void {
    if (this.state !== ESTABLISHED || this.reset || this.peerFin) return;
    const edge = this.rcvRead + this.window;
    if (edge <= this.rcvAdv) return;
    if (this.rcvNxt === this.rcvAdv || edge - this.rcvAdv >= this.window / 2) this.transmit(ACK, null);
  }

  /** A segment for this socket arrived (a hub callback). @internal */
  receive(seg: Segment): void {
    switch (seg.kind) {
      case SYN_ACK:
        if (this.state === ESTABLISHED && this.peer === seg.from) return; // a duplicate (retransmitted SYN)
        if (this.state !== SYN_SENT || this.fdClosed) {
          this.net.reply(seg, RST);
          return;
        }
        this.cancelSynTimer();
        this.peer = seg.from;
        this.sndEdge = seg.wnd;
        this.state = ESTABLISHED;
        this.net.stats.connections++;
        this.notify(WRITE);
        return;
      case DATA: {
        if (this.fdClosed || this.state !== ESTABLISHED || this.reset) {
          // data for a closed socket: Linux answers with a reset
          if (!this.reset || !this.fdClosed) this.net.reply(seg, RST);
          return;
        }
        const data = seg.data!;
        if (this.rdShut && this.wrShut && data.length > 0) {
          // Linux: data for a socket shut down both ways (its FIN sent, reading shut) is answered with
          // a reset; what it had not read is dropped and its next recv says ECONNRESET
          this.rcv.clear();
          this.net.reply(seg, RST);
          this.connectionReset('ECONNRESET');
          return;
        }
        this.rcvNxt += data.length;
        if (this.rcvNxt > this.rcvAdv) throw new Error(`geventjs net: ${seg.toString()} overflows the receive window of fd ${this.fd}`);
        this.rcv.push(data);
        this.updateSendEdge(seg.wnd);
        this.notify(READ);
        this.maybeUpdateWindow();
        return;
      }
      case FIN:
        if (this.fdClosed || this.state !== ESTABLISHED) return;
        this.peerFin = true;
        this.updateSendEdge(seg.wnd);
        this.notify(READ);
        return;
      case RST:
        if (this.fdClosed && this.state !== SYN_SENT) return;
        if (this.state === SYN_SENT) {
          this.failConnect('ECONNREFUSED');
          return;
        }
        if (this.state !== ESTABLISHED || this.reset) return;
        // Linux: a reset in CLOSE_WAIT (the peer's FIN already seen) reports EPIPE, else ECONNRESET
        this.connectionReset(this.peerFin ? 'EPIPE' : 'ECONNRESET');
        return;
      case ACK:
        if (this.fdClosed) return;
        this.updateSendEdge(seg.wnd);
        return;
    }
  }

  /** The connection is reset: what it had yet to deliver is dropped, both waiters learn `code`. */
  private connectionReset(code: string): void {
    this.reset = true;
    this.net.discardWire(this);
    this.error = code;
    this.notify(READ);
    this.notify(WRITE);
  }

  private updateSendEdge(wnd: number): void {
    if (wnd > this.sndEdge) {
      const stalled = this.sndNxt >= this.sndEdge;
      this.sndEdge = wnd;
      if (stalled) this.notify(WRITE);
    }
  }
}

const EMPTY = new Uint8Array(0);

function synTimedOut(s: MemSocket): void {
  s.synTimedOut();
}
function wakeReader(s: MemSocket): void {
  const g = s.waiter(READ);
  if (g !== null) s.net.hub.wakeWaiter(g, true);
}
function wakeWriter(s: MemSocket): void {
  const g = s.waiter(WRITE);
  if (g !== null) s.net.hub.wakeWaiter(g, true);
}

