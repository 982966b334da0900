/**
 * The in-memory network (sim mode): hosts with their kernels, name resolution, and the path of a
 * segment — the router's verdict, then the hub's pending-delivery queue (its callback queue for
 * "now", its timers for later; ordered by deliver-at, then sequence), then the destination kernel.
 * Nothing here reads a clock but the hub's; every map is insertion-ordered.
 */
import { Timer, PRIORITY_DEFAULT } from '../core/timers.js';
import { toNs, type Hub } from '../core/hub.js';
import { rt } from '../core/runtime.js';
import type { Greenlet } from '../core/greenlet.js';
import { LOOPBACK, isIPv4, isLoopback, ANY } from './address.js';
import { notFoundError } from './errors.js';
import { Host, MemSocket } from './kernel.js';
import { Router, DROP, type Rule } from './router.js';
import { Segment, DATA } from './segment.js';
import { K_DROP } from './trace.js';
import type { Net, NetStats } from './net.js';

/** Default one-way latency between hosts, seconds (DESIGN.md "Network defaults"). */
export const DEFAULT_LATENCY = 0.001;
/** Default receive window per socket, bytes. */
export const DEFAULT_WINDOW = 65536;

/** Options of an in-memory network; by default read from the hub's options. */
export interface MemoryNetOptions {
  /** One-way latency between distinct hosts, seconds (default 0.001). */
  latency?: number;
  /** One-way latency on loopback, seconds (default 0: the same virtual instant, after the sender parks). */
  loopbackLatency?: number;
  /** Receive window per socket, bytes (default 65536). */
  window?: number;
}

/**
 * Splits one write into the pieces the fabric carries as separate segments (stream chaos). The
 * pieces must concatenate to `data`. The network issue installs none: a write is one segment.
 */
export type WriteSplitter = (data: Uint8Array, from: MemSocket) => Uint8Array[];

/**
 * The in-memory network of a sim-mode hub (`hub.net`). One host exists from the start — `localhost`,
 * answering to 127.0.0.1 — and greenlets' sockets live on it unless placed on another host.
 * @example
 * const net = getNet() as MemoryNet;
 * const db = net.addHost('db', '10.0.0.2');
 * net.placeGreenlet(spawn(dbServer), db);   // its sockets (and its children's) live on `db`
 * // a client on localhost connects to ['10.0.0.2', 5432] (or ['db', 5432]): 1 ms each way
 */
export class MemoryNet implements Net {
  readonly kind = 'memory' as const;
  readonly stats: NetStats = { connectRetries: 0, connections: 0, segments: 0 };
  readonly router: Router;
  /** Receive window of new sockets, bytes. */
  readonly window: number;
  /** Hosts by name, in creation order. */
  readonly hosts = new Map<string, Host>();
  /** The host greenlets live on unless placed elsewhere: `localhost`, 127.0.0.1. */
  readonly defaultHost: Host;
  /** Stream chaos seam: splits writes into several segments when set. */
  splitter: WriteSplitter | null = null;
  private readonly byAddress = new Map<string, Host>();
  private readonly placements = new WeakMap<Greenlet<unknown>, Host>();
  private fdCounter = 2;
  private closed = false;

  constructor(
    readonly hub: Hub,
    options: MemoryNetOptions = hub.options,
  ) {
    const latency = options.latency ?? DEFAULT_LATENCY;
    const loopback = options.loopbackLatency ?? 0;
    const window = options.window ?? DEFAULT_WINDOW;
    if (typeof window !== 'number' || !Number.isInteger(window) || window < 1) {
      throw new RangeError(`window must be a positive integer number of bytes, got ${String(window)}`);
    }
    this.window = window;
    this.router = new Router(checkLatency(latency, 'latency'), checkLatency(loopback, 'loopbackLatency'));
    this.defaultHost = this.addHost('localhost', LOOPBACK);
    hub.onClose(() => this.close());
  }

  /**
   * Adds a host answering to `address` (and to its name, for name resolution). Throws if the name or
   * address is taken.
   */
  addHost(name: string, address: string): Host {
    if (typeof name !== 'string' || name === '') throw new TypeError('addHost(): a host needs a name');
    if (typeof address !== 'string' || !isIPv4(address)) throw new TypeError(`addHost(): ${JSON.stringify(address)} is not an IPv4 address`);
    const key = name.toLowerCase();
    if (this.hosts.has(key)) throw new Error(`addHost(): a host named ${name} exists already`);
    if (this.byAddress.has(address)) throw new Error(`addHost(): address ${address} belongs to host ${this.byAddress.get(address)!.name}`);
    const host = new Host(this, key, [address], this.hub.seed);
    this.hosts.set(key, host);
    if (address !== LOOPBACK) this.byAddress.set(address, host);
    return host;
  }

  /** The host named `name`; throws if there is none. */
  host(name: string): Host {
    const h = this.hosts.get(name.toLowerCase());
    if (h === undefined) throw new Error(`no host named ${name}`);
    return h;
  }

  /** Makes `g` — and the greenlets it spawns afterwards — open their sockets on `host`. */
  placeGreenlet(g: Greenlet<unknown>, host: Host): void {
    if (host.net !== this) throw new Error(`host ${host.name} belongs to another network`);
    this.placements.set(g, host);
  }

  /** The host of the running greenlet: its own placement or its nearest placed ancestor's, else localhost. */
  currentHost(): Host {
    for (let g: Greenlet<unknown> | null = rt.current; g !== null; g = g.parent) {
      const h = this.placements.get(g);
      if (h !== undefined) return h;
    }
    return this.defaultHost;
  }

  /** Adds a rule to the router's chain (the seam for fault injection); returns its remover. */
  addRule(rule: Rule): () => void {
    return this.router.addRule(rule);
  }

  /** Sets the one-way latency from `src` to `dst` (seconds; null restores the default). */
  setLatency(src: Host, dst: Host, seconds: number | null): void {
    this.router.setLinkLatency(src, dst, seconds === null ? null : checkLatency(seconds, 'latency'));
  }

  socket(): MemSocket {
    if (this.closed) throw new Error('socket(): the hub has finished');
    return new MemSocket(this, this.currentHost());
  }

  resolve(name: string): string {
    if (isIPv4(name)) return name;
    const key = name.toLowerCase();
    if (key === 'localhost') return LOOPBACK;
    const h = this.hosts.get(key);
    if (h !== undefined) return h.address;
    throw notFoundError(name);
  }

  /** The host `addr` reaches from `from`: itself for loopback and its own addresses, else the owner, else null. */
  hostFor(from: Host, addr: string): Host | null {
    if (addr === ANY || addr === LOOPBACK || from.addresses.includes(addr)) return from;
    const owner = this.byAddress.get(addr);
    if (owner !== undefined) return owner;
    return isLoopback(addr) ? from : null;
  }

  /** @internal */
  nextFd(): number {
    return ++this.fdCounter;
  }

  /** Carries `data` from `from` to its peer, split into pieces when stream chaos is on. @internal */
  sendData(from: MemSocket, data: Uint8Array): void {
    const split = this.splitter;
    if (split === null) {
      from.transmit(DATA, data);
      return;
    }
    for (const piece of split(data, from)) from.transmit(DATA, piece);
  }

  /** Answers a segment with a kernel segment of `kind` (a reset from a port with no socket). @internal */
  reply(seg: Segment, kind: number): void {
    if (seg.from === null || seg.dst === null) return;
    this.transmit(new Segment(kind, seg.dst, seg.src, seg.dstAddr, seg.dstPort, seg.srcAddr, seg.srcPort, null, seg.from, null, 0));
  }

  /**
   * Hands a segment to the router and queues its delivery on the hub: at the same instant through the
   * callback queue (so it arrives after the sender parks), later through a timer. Segments of one
   * socket never overtake each other. @internal
   */
  transmit(seg: Segment): void {
    if (this.closed) return;
    const hub = this.hub;
    this.stats.segments++;
    const verdict = this.router.route(seg);
    if (verdict < 0) {
      if (verdict !== DROP) throw new Error(`geventjs net: unknown router verdict ${verdict}`);
      hub.trace.record(K_DROP, hub.clock, -1, seg.from === null ? -1 : seg.from.fd, seg.kind, seg.dst === null ? 'no route' : 'router');
      return;
    }
    const now = hub.clock;
    let at = now + verdict;
    const from = seg.from;
    if (from !== null) {
      if (at < from.lastDeliverAt) at = from.lastDeliverAt;
      from.lastDeliverAt = at;
    }
    if (at <= now) {
      hub.schedule(deliver, seg);
    } else {
      hub.addTimer(new Timer(deliver, seg), at - now, PRIORITY_DEFAULT);
    }
  }

  /** Whether the hub has finished and the network with it. */
  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const host of this.hosts.values()) {
      for (const s of [...host.sockets.values()]) s.close();
    }
  }

  /** @internal */
  toString(): string {
    return `<MemoryNet ${[...this.hosts.values()].map((h) => `${h.name}=${h.address}`).join(' ')}>`;
  }
}

function deliver(seg: Segment): void {
  const dst = seg.dst!;
  if (dst.net.isClosed) return;
  dst.receive(seg);
}

function checkLatency(seconds: unknown, what: string): number {
  const ns = toNs(seconds as number, what);
  if (ns === Infinity) throw new RangeError(`${what} must be finite`);
  return ns;
}

