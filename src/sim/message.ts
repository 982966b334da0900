/**
 * Messages as fault rules and `held()` show them: a read-only view of one segment of the in-memory
 * network (a SYN, a piece of a stream, a FIN…), with the names of the hosts it goes between.
 */
import { SEGMENT_NAMES, type Segment } from '../net/segment.js';
import type { Address } from '../net/net.js';

/**
 * What a segment carries: the handshake (`SYN`, `SYN-ACK`), bytes (`DATA`), a close (`FIN`), a reset
 * (`RST`), a window update (`ACK`).
 * @example
 * sim.addRule((m) => (m.kind === 'SYN' && m.to === 'db' ? 'drop' : 'pass')); // db refuses no one: it never hears
 */
export type MessageKind = 'SYN' | 'SYN-ACK' | 'DATA' | 'FIN' | 'RST' | 'ACK';

const decoder = new TextDecoder();

/**
 * One message on the simulated network, as a fault rule sees it.
 * @example
 * sim.addRule((m) => (m.kind === 'DATA' && m.to === 'db' && m.text.startsWith('DELETE') ? 'drop' : 'pass'));
 */
export class Message {
  /** @internal */
  constructor(
    /** @internal */ readonly segment: Segment,
  ) {}

  /** `SYN`, `SYN-ACK`, `DATA`, `FIN`, `RST` or `ACK`. */
  get kind(): MessageKind {
    return SEGMENT_NAMES[this.segment.kind] as MessageKind;
  }

  /** Name of the sending host. */
  get from(): string {
    return this.segment.src.name;
  }

  /** Name of the destination host, or null when no host answers to the address. */
  get to(): string | null {
    return this.segment.dst === null ? null : this.segment.dst.name;
  }

  /** The sender's `[address, port]`. */
  get source(): Address {
    return [this.segment.srcAddr, this.segment.srcPort];
  }

  /** The destination's `[address, port]`. */
  get destination(): Address {
    return [this.segment.dstAddr, this.segment.dstPort];
  }

  /** Bytes of payload (DATA only). */
  get size(): number {
    return this.segment.size;
  }

  /** The payload of a DATA message (do not modify it), else null. */
  get data(): Uint8Array | null {
    return this.segment.data;
  }

  /** The payload decoded as UTF-8 ('' when there is none). */
  get text(): string {
    const d = this.segment.data;
    return d === null ? '' : decoder.decode(d);
  }

  /** Retransmissions so far (after losses). */
  get retries(): number {
    return this.segment.retries;
  }

  toString(): string {
    return `${this.kind} ${this.from} ${this.segment.srcAddr}:${this.segment.srcPort} -> ${this.to ?? '?'} ${this.segment.dstAddr}:${this.segment.dstPort}` +
      (this.segment.data !== null ? ` (${this.segment.data.length} bytes)` : '');
  }
}

/**
 * A message a hold keeps back (`sim.held()`); `release()` delivers it.
 * @example
 * const h = sim.hold('a', 'b');
 * // ... later, from a greenlet or the test:
 * for (const m of sim.held(h)) m.release(); // one by one, in the order you choose
 */
export class HeldMessage extends Message {
  /** @internal */
  constructor(
    segment: Segment,
    private readonly releaser: (seg: Segment) => void,
  ) {
    super(segment);
  }

  /**
   * Delivers the message now (its latency is spent). TCP's order holds: it reaches the application
   * only after the earlier messages of its connection, so releasing out of order reorders only
   * messages of different connections.
   */
  release(): void {
    this.releaser(this.segment);
  }
}
