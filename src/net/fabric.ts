/**
 * The in-memory network (sim mode): hosts with their kernels, name resolution, and the path of a
 * segment — the router's verdict, then the hub's pending-delivery queue (its I/O queue for "now",
 * read at its next poll; its timers for later; ordered by deliver-at, then sequence), then the
 * destination kernel.
 * Nothing here reads a clock but the hub's; every map is insertion-ordered.
 *
 * The fault model (what the simulation layer builds on):
 * - Every undelivered segment of a socket stays on that socket's wire, in send order; a segment that
 *   arrives before an earlier one waits for it (TCP's reassembly), so no fault reorders a connection.
 * - A `DROP` verdict loses a SYN for good (the connect retries after 1, 2, 4… s and fails with
 *   ETIMEDOUT after Linux's 6 retries) and any other segment until its retransmission timer fires:
 *   TCP's RTO, 200 ms doubling up to 120 s. After 15 retransmissions (tcp_retries2, 924.6 s) the
 *   sender gives up and its socket fails with ETIMEDOUT. So a connection across a partition stalls —
 *   no byte lost or reordered — and resumes at the first retransmission after the repair.
 * - Rules added `inFlight` are asked again when a segment arrives: a partition made while segments
 *   are on their way loses them too (then they are retransmitted), a hold holds them.
 * - `HOLD` keeps a segment in `held` until `release` delivers it (at once, its latency spent).
 * - A paused host's deliveries are held until it resumes; segments reaching a crashed host are lost
 *   (a SYN) or retransmitted until it restarts, whose kernel answers them with a reset.
 */
import { Timer, PRIORITY_DEFAULT } from '../core/timers.js';
import { toNs, type Hub } from '../core/hub.js';
import { rt } from '../core/runtime.js';
import { keepShapes } from '../core/shapes.js';
import type { Greenlet } from '../core/greenlet.js';
import { LOOPBACK, isIPv4, isLoopback, ANY } from './address.js';
import { notFoundError, sysError } from './errors.js';
import { Host, MemSocket } from './kernel.js';
import { Router, DROP, HOLD, PASS, type Rule, type RuleOptions } from './router.js';
import { Segment, DATA, SYN, IN_FLIGHT, ARRIVED, HELD, LOST, DONE } from './segment.js';
import { K_DROP, K_LOST, K_RETRANSMIT, K_HELD, K_RELEASE, K_CHAOS } from './trace.js';
import { latencySampler, type LatencySpec } from './latency.js';
import type { Direction, Net, NetStats } from './net.js';
import { allocBytes } from './bytes.js';

/** Default one-way latency between hosts, seconds (DESIGN.md "Network defaults"). */
export const DEFAULT_LATENCY = 0.001;
/** Default receive window per socket, bytes. */
export const DEFAULT_WINDOW = 65536;
/** TCP's first retransmission timeout (Linux TCP_RTO_MIN), ns; it doubles on every retransmission. */
export const RTO_MIN_NS = 200e6;
/** Delivered segments a network keeps for reuse. */
const MAX_SPARE = 64;
/** TCP's largest retransmission timeout (Linux TCP_RTO_MAX), ns. */
export const RTO_MAX_NS = 120e9;
/** Retransmissions before TCP gives up on a connection (Linux net.ipv4.tcp_retries2). */
export const TCP_RETRIES2 = 15;

/**
 * Stream chaos: with probability `split` a write is carried in several segments (2–4 pieces cut at
 * random bytes); with probability `coalesce` a write waits for the sender's next writes of the same
 * instant and goes out with them as one segment. A number sets both.
 * @example
 * const sim = new Simulation({ chaos: { split: 0.3, coalesce: 0.3 } });
 */
export type ChaosSpec = number | { split?: number; coalesce?: number };

/** Options of an in-memory network; by default read from the hub's options. */
export interface MemoryNetOptions {
  /** One-way latency between distinct hosts, seconds (default 0.001). */
  latency?: number;
  /** One-way latency on loopback, seconds (default 0: the same virtual instant, after the sender parks). */
  loopbackLatency?: number;
  /** Receive window per socket, bytes (default 65536). */
  window?: number;
  /** Stream chaos on every connection, loopback included (default off). */
  chaos?: ChaosSpec | null;
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
  readonly stats: NetStats & { retransmits: number } = { connectRetries: 0, connections: 0, segments: 0, retransmits: 0 };
  readonly router: Router;
  /** Receive window of new sockets, bytes. */
  readonly window: number;
  /** Hosts by name, in creation order. */
  readonly hosts = new Map<string, Host>();
  /** The host greenlets live on unless placed elsewhere: `localhost`, 127.0.0.1. */
  readonly defaultHost: Host;
  /** Stream chaos seam: splits writes into several segments when set (overrides `chaos`). */
  splitter: WriteSplitter | null = null;
  /** Segments held by a HOLD verdict or a paused destination, in the order they were held. */
  readonly held = new Set<Segment>();
  /** What each held segment is held by: the rule's tag, or the paused Host. */
  private readonly heldBy = new Map<Segment, unknown>();
  private chaosSplit = 0;
  private chaosCoalesce = 0;
  private readonly byAddress = new Map<string, Host>();
  private readonly placements = new WeakMap<Greenlet<unknown>, Host>();
  private fdCounter = 2;
  private closed = false;
  /** Delivered segments nothing outside the fabric holds, for reuse (at most MAX_SPARE). */
  private readonly spare: Segment[] = [];

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
    if (options.chaos !== undefined) this.setChaos(options.chaos);
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

  /**
   * Adds a rule to the router's chain (the seam for fault injection); returns its remover. With
   * `inFlight`, the rule also judges segments already on their way, when they arrive.
   */
  addRule(rule: Rule, options?: RuleOptions): () => void {
    return this.router.addRule(rule, options);
  }

  /**
   * Sets the one-way latency from `src` to `dst` — seconds or a distribution drawn from the hub's
   * PRNG per segment (null restores the default). Jitter never reorders a connection.
   */
  setLatency(src: Host, dst: Host, latency: LatencySpec | null): void {
    this.router.setLinkLatency(src, dst, latency === null ? null : latencySampler(latency, this.hub.random));
  }

  /** Sets the latency of every link between distinct hosts that has no override of its own. */
  setDefaultLatency(latency: LatencySpec): void {
    this.router.setDefaultLatency(latencySampler(latency, this.hub.random));
  }

  /** Turns stream chaos on (probabilities of splitting and coalescing writes) or off (null or 0). */
  setChaos(spec: ChaosSpec | null): void {
    let split = 0;
    let coalesce = 0;
    if (typeof spec === 'number') split = coalesce = spec;
    else if (spec !== null && typeof spec === 'object') {
      split = spec.split ?? 0;
      coalesce = spec.coalesce ?? 0;
    } else if (spec !== null) throw new TypeError('chaos must be a probability or { split, coalesce }');
    for (const [k, v] of [['split', split], ['coalesce', coalesce]] as const) {
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new RangeError(`chaos ${k} must be a probability in [0, 1], got ${String(v)}`);
    }
    this.chaosSplit = split;
    this.chaosCoalesce = coalesce;
  }

  /** The stream chaos in effect: probabilities of splitting and of coalescing a write. */
  get chaos(): { split: number; coalesce: number } {
    return { split: this.chaosSplit, coalesce: this.chaosCoalesce };
  }

  socket(): MemSocket {
    if (this.closed) throw new Error('socket(): the hub has finished');
    const host = this.currentHost();
    if (host.down) throw sysError('ENETDOWN', 'socket');
    return new MemSocket(this, host);
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
    if (split !== null) {
      for (const piece of split(data, from)) from.transmit(DATA, piece);
      return;
    }
    if (this.chaosSplit === 0 && this.chaosCoalesce === 0 && from.coalesced === null) {
      from.transmit(DATA, data);
      return;
    }
    this.chaosSend(from, data);
  }

  /** Stream chaos: cuts the write into pieces, or lets it wait to go out with the next ones. */
  private chaosSend(from: MemSocket, data: Uint8Array): void {
    const hub = this.hub;
    const random = hub.random;
    let pieces: Uint8Array[] = [data];
    if (data.length > 1 && random.chance(this.chaosSplit)) {
      const k = 2 + random.int(Math.min(3, data.length - 1));
      const cuts = new Set<number>();
      while (cuts.size < k - 1) cuts.add(1 + random.int(data.length - 1));
      const sorted = [...cuts].sort((a, b) => a - b);
      pieces = [];
      let prev = 0;
      for (const c of sorted) {
        pieces.push(data.subarray(prev, c));
        prev = c;
      }
      pieces.push(data.subarray(prev));
      hub.trace.record(K_CHAOS, hub.clock, -1, from.fd, k, 'split');
    }
    for (const piece of pieces) {
      if (from.coalesced !== null) {
        from.coalesced.push(piece);
      } else if (random.chance(this.chaosCoalesce)) {
        // wait for the next writes of this socket at this instant: they go out together
        from.coalesced = [piece];
        hub.schedule(flushCoalesced, from);
      } else {
        from.transmit(DATA, piece);
      }
    }
  }

  /** Sends what stream chaos held back for coalescing, as one segment. @internal */
  flushCoalesced(from: MemSocket): void {
    const parts = from.coalesced;
    if (parts === null) return;
    from.coalesced = null;
    let data: Uint8Array;
    if (parts.length === 1) {
      data = parts[0]!;
    } else {
      let n = 0;
      for (const p of parts) n += p.length;
      data = allocBytes(n);
      let off = 0;
      for (const p of parts) {
        data.set(p, off);
        off += p.length;
      }
      const hub = this.hub;
      hub.trace.record(K_CHAOS, hub.clock, -1, from.fd, parts.length, 'coalesce');
    }
    from.transmit(DATA, data);
  }

  /** Answers a segment with a kernel segment of `kind` (a reset from a port with no socket). @internal */
  reply(seg: Segment, kind: number): void {
    if (seg.from === null || seg.dst === null) return;
    this.transmit(this.blankSegment().fill(kind, seg.dst, seg.src, seg.dstAddr, seg.dstPort, seg.srcAddr, seg.srcPort, null, seg.from, null, 0));
  }

  /**
   * A segment to `fill()`: a delivered one that nothing outside the fabric saw (no rule, hold or timer),
   * or a new one — two allocations fewer per round trip of a connection. @internal
   */
  blankSegment(): Segment {
    return this.spare.pop() ?? new Segment();
  }

  /**
   * Hands a new segment to the router and queues its delivery on the hub: at the same instant through
   * its I/O queue (so it arrives at the next poll, after the sender parked and the callbacks queued
   * meanwhile ran, when gevent would see the socket readable), later through a timer. Segments of a
   * socket (but SYNs) join its wire, so none overtakes another. @internal
   */
  transmit(seg: Segment): void {
    if (this.closed) return;
    this.stats.segments++;
    const from = seg.from;
    if (from !== null && seg.kind !== SYN) {
      seg.wired = true;
      const tail = from.wireTail;
      if (tail === null) from.wireHead = seg;
      else tail.next = seg;
      from.wireTail = seg;
    }
    this.send(seg);
  }

  /** Routes a segment (new or retransmitted) and acts on the verdict. */
  private send(seg: Segment): void {
    const verdict = this.router.route(seg);
    if (verdict >= 0) {
      this.schedule(seg, verdict);
      return;
    }
    if (verdict === DROP) this.lose(seg, seg.dst === null ? 'no route' : reasonOf(this.router.tag));
    else if (verdict === HOLD) this.hold(seg, this.router.tag);
    else throw new Error(`geventjs net: unknown router verdict ${verdict}`);
  }

  /** Queues the arrival of `seg` after `delay` ns — never before an earlier segment of its socket. */
  private schedule(seg: Segment, delay: number): void {
    const hub = this.hub;
    const now = hub.clock;
    let at = now + delay;
    const from = seg.from;
    if (from !== null) {
      if (at < from.lastDeliverAt) at = from.lastDeliverAt;
      from.lastDeliverAt = at;
    }
    seg.state = IN_FLIGHT;
    const t = (seg.timer ??= new Timer(arrive, seg));
    if (at <= now) hub.scheduleIo(t); // readable at the hub's next poll, after the callbacks queued now
    else hub.addTimer(t, at - now, PRIORITY_DEFAULT);
  }

  /**
   * A segment is lost: a SYN or a kernel's reset for good; a segment of a connection until its
   * retransmission timer fires (TCP's RTO: 200 ms, doubling, at most 120 s).
   */
  private lose(seg: Segment, reason: string): void {
    seg.shared = true;
    const hub = this.hub;
    const fd = seg.from === null ? -1 : seg.from.fd;
    if (!seg.wired) {
      seg.state = DONE;
      hub.trace.record(K_DROP, hub.clock, -1, fd, seg.kind, reason);
      return;
    }
    seg.state = LOST;
    hub.trace.record(K_LOST, hub.clock, -1, fd, seg.kind, reason);
    const rto = Math.min(RTO_MAX_NS, RTO_MIN_NS * 2 ** seg.retries);
    hub.addTimer(new Timer(retransmitSegment, seg), rto, PRIORITY_DEFAULT);
  }

  /** The retransmission timer of a lost segment fired: send it again, or give up on the connection. @internal */
  retransmit(seg: Segment): void {
    if (seg.state !== LOST || this.closed) return;
    const from = seg.from!;
    if (seg.retries >= TCP_RETRIES2) {
      from.abortConnection('ETIMEDOUT');
      return;
    }
    seg.retries++;
    this.stats.retransmits++;
    const hub = this.hub;
    hub.trace.record(K_RETRANSMIT, hub.clock, -1, from.fd, seg.retries);
    this.send(seg);
  }

  /** Keeps `seg` in `held` under `by` (a rule's tag, or a paused Host) until it is released. */
  private hold(seg: Segment, by: unknown): void {
    seg.shared = true;
    seg.state = HELD;
    this.held.add(seg);
    this.heldBy.set(seg, by);
    const hub = this.hub;
    hub.trace.record(K_HELD, hub.clock, -1, seg.from === null ? -1 : seg.from.fd, seg.kind, by instanceof Host ? `paused ${by.name}` : reasonOf(by));
  }

  /** What `seg` is held by (a rule's tag, or a paused Host), or undefined when it is not held. */
  holderOf(seg: Segment): unknown {
    return this.heldBy.get(seg);
  }

  /** The held segments filed under `by` (all of them when `by` is undefined), in the order they were held. */
  heldSegments(by?: unknown): Segment[] {
    const out: Segment[] = [];
    for (const seg of this.held) if (by === undefined || this.heldBy.get(seg) === by) out.push(seg);
    return out;
  }

  /**
   * Releases a held segment: it arrives at once (its latency is spent) — through the in-flight rules
   * again, and after the earlier segments of its connection. Hold rules let it pass from now on.
   */
  release(seg: Segment): void {
    if (!this.held.has(seg)) return;
    this.held.delete(seg);
    this.heldBy.delete(seg);
    seg.released = true;
    const hub = this.hub;
    hub.trace.record(K_RELEASE, hub.clock, -1, seg.from === null ? -1 : seg.from.fd, seg.kind);
    seg.state = IN_FLIGHT;
    this.arrive(seg);
  }

  /** A segment reaches its destination host (a hub callback): the in-flight rules, then the kernel. @internal */
  arrive(seg: Segment): void {
    if (seg.state !== IN_FLIGHT || this.closed) return;
    const router = this.router;
    if (router.hasInFlightRules) {
      const v = router.check(seg);
      if (v !== PASS) {
        if (v === DROP) this.lose(seg, `in flight: ${reasonOf(router.tag)}`);
        else this.hold(seg, router.tag);
        return;
      }
    }
    const dst = seg.dst!;
    if (dst.down) {
      this.lose(seg, `${dst.name} is down`);
      return;
    }
    if (dst.paused) {
      this.hold(seg, dst);
      return;
    }
    if (!seg.wired) {
      seg.state = DONE;
      dst.receive(seg);
      return;
    }
    const from = seg.from!;
    if (from.wireHead !== seg) {
      // an earlier segment of this socket is still on its way: wait for it, as TCP's reassembly does
      seg.state = ARRIVED;
      return;
    }
    let s: Segment | null = seg;
    if (s.next === null || s.next.state !== ARRIVED) {
      // the usual case: one segment
      from.wireHead = s.next;
      if (s.next === null) from.wireTail = null;
      s.next = null;
      s.state = DONE;
      dst.receive(s);
      if (!s.shared && this.spare.length < MAX_SPARE) this.spare.push(s);
      return;
    }
    // A run of segments that waited for this one (TCP reassembly): all of it becomes readable before
    // a reader is woken, as a kernel hands the reassembled bytes to the socket at once.
    this.deferring = true;
    try {
      do {
        from.wireHead = s.next;
        if (s.next === null) from.wireTail = null;
        s.next = null;
        s.state = DONE;
        dst.receive(s);
        s = from.wireHead;
      } while (s !== null && s.state === ARRIVED);
    } finally {
      this.deferring = false;
    }
    const deferred = this.deferred;
    this.deferred = [];
    for (let i = 0; i < deferred.length; i += 2) (deferred[i] as MemSocket).notify(deferred[i + 1] as Direction);
  }

  /** While a reassembled run is delivered, notifications wait here (socket, direction pairs). @internal */
  deferring = false;
  /** @internal */
  deferred: unknown[] = [];

  /** Forgets every undelivered segment of `from` (its connection was reset or aborted). @internal */
  discardWire(from: MemSocket): void {
    for (let s = from.wireHead; s !== null; ) {
      const next: Segment | null = s.next;
      if (s.state === HELD) {
        this.held.delete(s);
        this.heldBy.delete(s);
      }
      s.state = DONE;
      s.next = null;
      s = next;
    }
    from.wireHead = from.wireTail = null;
  }

  /** Releases every segment a paused host held (it resumed) or lets them meet its crash. @internal */
  releasePaused(host: Host): void {
    for (const seg of this.heldSegments(host)) {
      this.held.delete(seg);
      this.heldBy.delete(seg);
      seg.state = IN_FLIGHT;
      this.arrive(seg);
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

/**
 * One object of each class of the in-memory network, on a stand-in hub (nothing of any real hub is
 * reachable from them): they keep the network's maps alive between runs (see core/shapes.ts), so
 * transmit, arrive, receive… stay optimised from one hub to the next.
 */
function networkKeepers(): { net: MemoryNet; socket: MemSocket; segment: Segment; timer: Timer } {
  const hub = { seed: 0, onClose() {} } as unknown as Hub;
  const net = new MemoryNet(hub, {});
  const host = net.defaultHost;
  const socket = new MemSocket(net, host);
  const peer = new MemSocket(net, host);
  const segment = new Segment().fill(DATA, host, host, LOOPBACK, 1, LOOPBACK, 2, socket, peer, new Uint8Array(1), 1);
  const timer = new Timer(arrive, segment);
  return { net, socket, segment, timer };
}

/** How a rule's tag shows as the reason of a loss. */
function reasonOf(tag: unknown): string {
  return tag === undefined || tag === null ? 'router' : String(tag);
}

function arrive(seg: Segment): void {
  seg.src.net.arrive(seg);
}
function retransmitSegment(seg: Segment): void {
  seg.src.net.retransmit(seg);
}
function flushCoalesced(from: MemSocket): void {
  from.net.flushCoalesced(from);
}

function checkLatency(seconds: unknown, what: string): number {
  const ns = toNs(seconds as number, what);
  if (ns === Infinity) throw new RangeError(`${what} must be finite`);
  return ns;
}

keepShapes(networkKeepers);
