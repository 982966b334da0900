/**
 * The router: a clock-free function from a segment to a verdict. It owns no time and no queue — the
 * fabric hands the verdict to the hub, whose timers and I/O queue are the pending-delivery queue
 * (ordered by deliver-at, then sequence).
 *
 * A verdict is a number: a delay in nanoseconds (deliver after that long; 0 = the same virtual instant,
 * after the sender parks), `DROP` (lost: a SYN is gone, any other segment is retransmitted after TCP's
 * retransmission timeout) or `HOLD` (kept until released). Rules form an ordered chain in front of the
 * link's latency: each rule returns `PASS` or a verdict, the first non-PASS verdict wins, and `addRule`
 * returns the function that removes the rule again. A rule added with `inFlight` is asked again when a
 * segment arrives (`check`), so a partition or a hold also hits segments already on their way. The
 * link's latency is a constant or a sampler (seeded jitter); the router draws it, never a clock.
 * @internal
 */
import type { Segment } from './segment.js';
import type { Host } from './kernel.js';

/** Verdict: the segment is lost (a SYN for good; anything else until the sender retransmits it). */
export const DROP = -1;
/** A rule's answer when it has no opinion: ask the next rule (never a router verdict). */
export const PASS = -2;
/** Verdict: the segment is kept (see `Router.tag`) until something releases it. */
export const HOLD = -3;

/** A delay in ns (>= 0), `DROP`, `HOLD`, or — from a rule — `PASS`. */
export type Verdict = number;

/** A rule of the chain: looks at a segment and returns `PASS` or a verdict. Must not read a clock. */
export type Rule = (segment: Segment) => Verdict;

/** A one-way latency in ns: a constant, or a sampler drawing one (seeded jitter). */
export type LatencyNs = number | (() => number);

/** How a rule joins the chain. */
export interface RuleOptions {
  /** Ask the rule again when a segment arrives, so it also hits segments already in flight (default false). */
  inFlight?: boolean;
  /** What the rule's `HOLD` verdicts are filed under (`Router.tag` after a HOLD). */
  tag?: unknown;
}

interface Entry {
  rule: Rule;
  inFlight: boolean;
  tag: unknown;
}

export class Router {
  /** One-way latency between distinct hosts, ns, unless `setDefaultLatency` installed a sampler. */
  latencyNs: number;
  /** One-way latency on loopback (a host talking to itself), ns. */
  loopbackLatencyNs: number;
  /** The tag of the rule whose verdict decided the last segment (undefined when the latency did). */
  tag: unknown = undefined;
  private rules: Entry[] = [];
  private inFlightCount = 0;
  private sampler: (() => number) | null = null;
  /** Per-link latency overrides, keyed `src>dst` by host name. */
  private readonly links = new Map<string, LatencyNs>();

  constructor(latencyNs: number, loopbackLatencyNs: number) {
    this.latencyNs = latencyNs;
    this.loopbackLatencyNs = loopbackLatencyNs;
  }

  /** Appends a rule to the chain; returns its remover. */
  addRule(rule: Rule, options: RuleOptions = {}): () => void {
    const entry: Entry = { rule, inFlight: options.inFlight === true, tag: options.tag };
    // copy on write: a rule may add or remove rules while the chain is being asked
    this.rules = [...this.rules, entry];
    if (entry.inFlight) this.inFlightCount++;
    return () => {
      const i = this.rules.indexOf(entry);
      if (i < 0) return;
      this.rules = this.rules.filter((e) => e !== entry);
      if (entry.inFlight) this.inFlightCount--;
    };
  }

  /** Whether some rule also judges segments in flight. */
  get hasInFlightRules(): boolean {
    return this.inFlightCount > 0;
  }

  /** Sets the one-way latency from host `src` to host `dst`, ns or a sampler (null removes the override). */
  setLinkLatency(src: Host, dst: Host, latency: LatencyNs | null): void {
    const key = `${src.name}>${dst.name}`;
    if (latency === null) this.links.delete(key);
    else this.links.set(key, latency);
  }

  /** Sets the latency of every link between distinct hosts without an override (ns or a sampler). */
  setDefaultLatency(latency: LatencyNs): void {
    if (typeof latency === 'number') {
      this.latencyNs = latency;
      this.sampler = null;
    } else {
      this.sampler = latency;
    }
  }

  /** The verdict for a segment being sent: the first rule's non-PASS verdict, else the link's latency. */
  route(seg: Segment): Verdict {
    const rules = this.rules;
    if (rules.length > 0) seg.shared = true; // a rule may keep it
    for (let i = 0; i < rules.length; i++) {
      const e = rules[i]!;
      const v = e.rule(seg);
      if (v !== PASS) {
        this.tag = e.tag;
        return v;
      }
    }
    this.tag = undefined;
    const dst = seg.dst;
    if (dst === null) return DROP;
    if (this.links.size > 0) {
      const l = this.links.get(`${seg.src.name}>${dst.name}`);
      if (l !== undefined) return typeof l === 'number' ? l : l();
    }
    if (dst === seg.src) return this.loopbackLatencyNs;
    return this.sampler === null ? this.latencyNs : this.sampler();
  }

  /**
   * The verdict for a segment arriving: the first in-flight rule's DROP or HOLD, else PASS (a delay
   * from a rule counts only when sending: the segment has travelled already).
   */
  check(seg: Segment): Verdict {
    const rules = this.rules;
    for (let i = 0; i < rules.length; i++) {
      const e = rules[i]!;
      if (!e.inFlight) continue;
      seg.shared = true;
      const v = e.rule(seg);
      if (v === DROP || v === HOLD) {
        this.tag = e.tag;
        return v;
      }
    }
    return PASS;
  }
}
