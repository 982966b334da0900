/**
 * Segments: what the in-memory fabric carries between kernel sockets. A simplified TCP: a handshake
 * (SYN, SYN-ACK), data, FIN, RST, and window updates (ACK). Every segment carries the sender's
 * receive-window edge, so replies double as window updates. Delivery is reliable and in order per
 * direction of a connection: the fabric keeps every undelivered segment of a socket on that socket's
 * `wire` (a FIFO), and a segment reaches the kernel only after the ones sent before it — as TCP's
 * reassembly does. The router may delay, hold or drop a segment; a dropped SYN is lost (the connect
 * retries), any other dropped segment is retransmitted after TCP's retransmission timeout.
 * @internal
 */
import type { MemSocket, Host } from './kernel.js';
import type { Timer } from '../core/timers.js';

export const SYN = 1;
export const SYN_ACK = 2;
export const DATA = 3;
export const FIN = 4;
export const RST = 5;
export const ACK = 6;

/** Where a segment is on its way (`Segment.state`). */
/** Scheduled: a timer or queued callback will bring it to its destination. */
export const IN_FLIGHT = 0;
/** Arrived, but an earlier segment of its socket has not: waits in the receiver's reassembly queue. */
export const ARRIVED = 1;
/** Held by a rule (`hold`) or by a paused destination, until released. */
export const HELD = 2;
/** Lost by a fault: the sender retransmits it when its retransmission timer fires. */
export const LOST = 3;
/** Delivered, or discarded with its connection: nothing more happens to it. */
export const DONE = 4;

/** Printable names of segment kinds, by kind. */
export const SEGMENT_NAMES: readonly string[] = ['', 'SYN', 'SYN-ACK', 'DATA', 'FIN', 'RST', 'ACK'];

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * A segment. Every field is a class field, so V8 counts them and gives every segment room for all of
 * them inside the object (it sizes an object by its class fields and the `this.x =` of its constructor;
 * with fields set only by a method, those past its slack went to a separate property array, one more
 * object and cache line per segment). `fill()` sets them all, in one order, so every segment has one
 * hidden class — see core/shapes.ts for why that matters across hubs.
 */
export class Segment {
  /** SYN, SYN_ACK, DATA, FIN, RST or ACK. */
  readonly kind!: number;
  /** The sending host. */
  readonly src!: Host;
  /** The host the destination address names, or null when no host answers to it. */
  readonly dst!: Host | null;
  readonly srcAddr!: string;
  readonly srcPort!: number;
  readonly dstAddr!: string;
  readonly dstPort!: number;
  /** The sending socket; null for a reset the kernel answers with (no socket there). */
  readonly from!: MemSocket | null;
  /** The receiving socket; null for a SYN (the destination kernel finds the listener by port). */
  readonly to!: MemSocket | null;
  /** The bytes of a DATA segment (owned by the segment), else null. */
  readonly data!: Uint8Array | null;
  /** The sender's receive-window right edge: total bytes it will have accepted from its peer. */
  readonly wnd!: number;
  /** IN_FLIGHT, ARRIVED, HELD, LOST or DONE. */
  state!: number;
  /** The next undelivered segment of the same socket (its wire). */
  next!: Segment | null;
  /** Retransmissions so far (after losses). */
  retries!: number;
  /** Released from a hold: hold rules let it pass from now on. */
  released!: boolean;
  /** Whether the segment is on its sender's wire (in-order delivery); SYNs and kernel resets are not. */
  wired!: boolean;
  /**
   * Whether anything outside the fabric may hold the segment (a rule saw it, it was held, or a
   * retransmission timer has it): only segments never shared are reused once delivered. @internal
   */
  shared!: boolean;
  /**
   * The delivery timer, made once and kept when the segment is reused (fill() leaves it): a Timer per
   * segment sent was an allocation per message, and at thousands of connections one more young object
   * alive in flight that every scavenge copied. @internal
   */
  timer: Timer | null = null;

  /**
   * Sets every field, in one order: a new segment (`new Segment().fill(...)`) and the fabric's reuse
   * of a delivered, never shared one take the same steps. @internal
   */
  fill(
    kind: number,
    src: Host,
    dst: Host | null,
    srcAddr: string,
    srcPort: number,
    dstAddr: string,
    dstPort: number,
    from: MemSocket | null,
    to: MemSocket | null,
    data: Uint8Array | null,
    wnd: number,
  ): this {
    const w = this as Writable<Segment>;
    w.kind = kind;
    w.src = src;
    w.dst = dst;
    w.srcAddr = srcAddr;
    w.srcPort = srcPort;
    w.dstAddr = dstAddr;
    w.dstPort = dstPort;
    w.from = from;
    w.to = to;
    w.data = data;
    w.wnd = wnd;
    w.state = IN_FLIGHT;
    w.next = null;
    w.retries = 0;
    w.released = false;
    w.wired = false;
    w.shared = false;
    return this;
  }

  /** Bytes of payload. */
  get size(): number {
    return this.data === null ? 0 : this.data.length;
  }

  toString(): string {
    return `${SEGMENT_NAMES[this.kind]} ${this.srcAddr}:${this.srcPort} -> ${this.dstAddr}:${this.dstPort}` + (this.data ? ` (${this.data.length} bytes)` : '');
  }
}
