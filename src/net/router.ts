/**
 * The router: a clock-free function from a segment to a verdict. It owns no time and no queue — the
 * fabric hands the verdict to the hub, whose timers and callback queue are the pending-delivery queue
 * (ordered by deliver-at, then sequence).
 *
 * A verdict is a number: a delay in nanoseconds (deliver after that long; 0 = the same virtual instant,
 * after the sender parks) or `DROP`. Rules form an ordered chain in front of the default verdict: each
 * rule returns `PASS` or a verdict, the first non-PASS verdict wins, and `addRule` returns the function
 * that removes the rule again. This is the seam the simulation layer builds fault injection on
 * (partitions, latency rules, hold); the network issue itself installs no rule.
 * @internal
 */
import type { Segment } from './segment.js';
import type { Host } from './kernel.js';

/** Verdict: the segment is lost. */
export const DROP = -1;
/** A rule's answer when it has no opinion: ask the next rule (never a router verdict). */
export const PASS = -2;

/** A delay in ns (>= 0), `DROP`, or — from a rule — `PASS`. */
export type Verdict = number;

/** A rule of the chain: looks at a segment and returns `PASS` or a verdict. Must not read a clock. */
export type Rule = (segment: Segment) => Verdict;

export class Router {
  /** One-way latency between distinct hosts, ns. */
  latencyNs: number;
  /** One-way latency on loopback (a host talking to itself), ns. */
  loopbackLatencyNs: number;
  private readonly rules: Rule[] = [];
  /** Per-link latency overrides, keyed `src>dst` by host name. */
  private readonly links = new Map<string, number>();

  constructor(latencyNs: number, loopbackLatencyNs: number) {
    this.latencyNs = latencyNs;
    this.loopbackLatencyNs = loopbackLatencyNs;
  }

  /** Appends a rule to the chain; returns its remover. */
  addRule(rule: Rule): () => void {
    this.rules.push(rule);
    return () => {
      const i = this.rules.indexOf(rule);
      if (i >= 0) this.rules.splice(i, 1);
    };
  }

  /** Sets the one-way latency from host `src` to host `dst`, ns (null removes the override). */
  setLinkLatency(src: Host, dst: Host, ns: number | null): void {
    const key = `${src.name}>${dst.name}`;
    if (ns === null) this.links.delete(key);
    else this.links.set(key, ns);
  }

  /** The verdict for one segment: the first rule's non-PASS verdict, else the link's latency. */
  route(seg: Segment): Verdict {
    const rules = this.rules;
    for (let i = 0; i < rules.length; i++) {
      const v = rules[i]!(seg);
      if (v !== PASS) return v;
    }
    const dst = seg.dst;
    if (dst === null) return DROP;
    if (this.links.size > 0) {
      const ns = this.links.get(`${seg.src.name}>${dst.name}`);
      if (ns !== undefined) return ns;
    }
    return dst === seg.src ? this.loopbackLatencyNs : this.latencyNs;
  }
}
