/**
 * The simulation: several hosts on one hub, each with its own address, ports and greenlets, and the
 * faults a distributed program meets — latency with jitter, partitions, held messages, crashes,
 * restarts, pauses and stream chaos — all drawn from the hub's seeded PRNG and recorded in its trace.
 *
 * In real mode (a scenario run with `--real`) the same hosts map to distinct loopback addresses
 * (127.0.0.2, .3, …) on real TCP, and every fault call throws `faults need sim mode`.
 */
import { Hub, keeperHub, toNs, type HubOptions, type RunOptions } from '../core/hub.js';
import { keepShapes } from '../core/shapes.js';
import { Greenlet } from '../core/greenlet.js';
import { GreenletExit, brand } from '../core/errors.js';
import { rt, getHub } from '../core/runtime.js';
import { defineKind, internName } from '../core/trace.js';
import type { HubCallback } from '../core/timers.js';
import { isIPv4 } from '../net/address.js';
import type { MemoryNet, ChaosSpec } from '../net/fabric.js';
import type { Host } from '../net/kernel.js';
import type { HostDirectory } from '../net/net.js';
import { DROP, HOLD, PASS, type Verdict } from '../net/router.js';
import type { Segment } from '../net/segment.js';
import { describeLatency, type LatencySpec } from '../net/latency.js';
import { Message, HeldMessage } from './message.js';

/** Fault events in the trace: a = what (partition, repair, hold, release, crash, restart, pause, resume, latency, chaos, rule); b = the fault's id; s = its detail. */
const K_FAULT = defineKind('fault', { a: ['fault', 'name'], b: ['id', 'int'], s: 'detail' });
const F = {
  partition: internName('partition'),
  repair: internName('repair'),
  hold: internName('hold'),
  release: internName('release'),
  crash: internName('crash'),
  restart: internName('restart'),
  pause: internName('pause'),
  resume: internName('resume'),
  latency: internName('latency'),
  chaos: internName('chaos'),
  rule: internName('rule'),
  unrule: internName('unrule'),
};

/**
 * Options of a Simulation: the hub's (mode, seed, trace, perturb, latency, …) plus stream chaos.
 * @example
 * const sim = new Simulation({ seed: 7, trace: true, perturb: true, chaos: { split: 0.3, coalesce: 0.3 } });
 */
export interface SimulationOptions extends HubOptions {
  /**
   * Stream chaos on every connection, loopback included (sim mode): the probability that a write is
   * split into several segments and that adjacent writes are coalesced (`{ split, coalesce }`, or one
   * number for both). Off by default.
   */
  chaos?: ChaosSpec;
}

/**
 * A host's program: called when the simulation runs, and again on every restart.
 * @example
 * const serve: HostMain = async () => { await new StreamServer(['0.0.0.0', 80], handle).serveForever(); };
 */
export type HostMain = () => void | Promise<void>;

/**
 * Options of `host()` and `client()`.
 * @example
 * sim.host('gateway', main, { address: '192.168.1.1' });
 */
export interface HostOptions {
  /** Its IPv4 address in sim mode (default 10.0.0.1, .2, … in the order hosts are added). */
  address?: string;
}

/**
 * A host, or its name.
 * @example
 * sim.crash('db'); sim.crash(db); // the same
 */
export type HostRef = string | SimHost;
/**
 * One host or several (a side of a partition).
 * @example
 * sim.partition(['kv1', 'c1'], ['kv2', 'kv3', 'c2']);
 */
export type HostGroup = HostRef | readonly HostRef[];

/**
 * What a fault rule answers for a message: pass it on (also `undefined`), lose it, hold it, or deliver
 * it after some seconds instead of the link's latency.
 * @example
 * const verdict: RuleVerdict = { after: 0.5 };
 */
export type RuleVerdict = 'pass' | 'drop' | 'hold' | { after: number } | undefined;

/**
 * A fault rule: looks at one message and answers. It must not read a clock or block.
 * @example
 * const noFin: FaultRule = (m) => (m.kind === 'FIN' ? 'hold' : 'pass');
 */
export type FaultRule = (message: Message) => RuleVerdict;

/**
 * Options of `addRule`.
 * @example
 * sim.addRule(noFin, { inFlight: true, name: 'no FIN' });
 */
export interface FaultRuleOptions {
  /** Also judge messages already on their way, when they arrive (default false: only when sent). */
  inFlight?: boolean;
  /** A name for traces and reports. */
  name?: string;
}

/**
 * Options of `partition`, `hold` and `setLatency` between hosts.
 * @example
 * sim.partition('a', 'b', { oneWay: true }); // a's messages to b are lost; b's reach a
 */
export interface LinkOptions {
  /** Only from the first group to the second (default: both ways). */
  oneWay?: boolean;
}

/**
 * The state of a host.
 * @example
 * if (sim.getHost('db').state === 'crashed') sim.restart('db');
 */
export type HostState = 'up' | 'crashed' | 'paused';

/**
 * A simulated host: a name, an address, its main (a factory, rebuilt on restart) and its greenlets.
 * @example
 * const db = sim.host('db', async () => { await serveDb(); });
 * db.address; // '10.0.0.1' (sim mode), '127.0.0.2' (real mode)
 */
export class SimHost {
  /** Its main greenlet of this incarnation (null before the simulation runs, and while crashed). */
  greenlet: Greenlet<unknown> | null = null;
  /** How many times its main was started (1 after the first start, 2 after a restart, …). */
  incarnation = 0;
  /** @internal */ crashed = false;
  /** @internal */ paused = false;
  /** Switches held while paused (queued again on resume). @internal */
  readonly heldSwitches: { fn: HubCallback; arg: unknown }[] = [];
  /** @internal */ readonly heldGreenlets = new Set<Greenlet<unknown>>();

  /** @internal */
  constructor(
    readonly sim: Simulation,
    /** Its name (also what its address resolves from). */
    readonly name: string,
    /** Its address: the one given (sim mode), or 127.0.0.N (real mode). */
    readonly address: string,
    /** The address asked for (or assigned) in sim mode; in real mode it resolves to `address`. */
    readonly simAddress: string,
    /** Clients are hosts the fault presets never crash. */
    readonly client: boolean,
    /** Its main: called to start it and on every restart. */
    readonly main: HostMain,
    /** Its kernel in the in-memory network (sim mode), else null. @internal */
    readonly kernel: Host | null,
  ) {}

  /** `up`, `crashed` or `paused`. */
  get state(): HostState {
    return this.crashed ? 'crashed' : this.paused ? 'paused' : 'up';
  }

  /** `sim.crash(this)`. */
  crash(): void {
    this.sim.crash(this);
  }

  /** `sim.restart(this)`. */
  restart(): void {
    this.sim.restart(this);
  }

  /** `sim.pause(this)`. */
  pause(): void {
    this.sim.pause(this);
  }

  /** `sim.resume(this)`. */
  resume(): void {
    this.sim.resume(this);
  }

  toString(): string {
    return `<SimHost ${this.name} ${this.address} ${this.state}>`;
  }
}

/**
 * A fault in effect — a partition, a hold, a rule — as its adding call returns it. `remove()` undoes
 * it: repairs the partition, releases what the hold kept, takes the rule out of the chain.
 * @example
 * const cut = sim.partition('a', 'b');
 * await sleep(5);
 * cut.remove(); // the same as sim.repair(cut)
 */
export class FaultHandle {
  private removeRule: (() => void) | null;

  /** @internal */
  constructor(
    private readonly sim: Simulation,
    /** `partition`, `hold` or `rule`. */
    readonly kind: 'partition' | 'hold' | 'rule',
    /** A number unique within the simulation (the `id` of its trace events). */
    readonly id: number,
    /** What it does, e.g. `a | b`, `a > b`, `hold c > d`. */
    readonly description: string,
    /** The host kernels of each side (partitions and holds). @internal */
    readonly sides: readonly [ReadonlySet<Host>, ReadonlySet<Host>] | null,
    /** @internal */ readonly oneWay: boolean,
  ) {
    this.removeRule = null;
  }

  /** @internal */
  attach(remove: () => void): void {
    this.removeRule = remove;
  }

  /** Whether it is still in effect. */
  get active(): boolean {
    return this.removeRule !== null;
  }

  /** Whether it stands between hosts `a` and `b` (in either direction unless one-way). @internal */
  separates(a: Host, b: Host): boolean {
    if (this.sides === null) return false;
    const [x, y] = this.sides;
    return (x.has(a) && y.has(b)) || (x.has(b) && y.has(a));
  }

  /** Undoes the fault (repair / release / remove); removing twice does nothing. */
  remove(): void {
    const r = this.removeRule;
    if (r === null) return;
    this.removeRule = null;
    r();
    this.sim.faultRemoved(this);
  }

  /** `using cut = sim.partition(a, b)` repairs it at the end of the block. */
  [Symbol.dispose](): void {
    this.remove();
  }

  toString(): string {
    return `<${this.kind} #${this.id} ${this.description}${this.active ? '' : ' (removed)'}>`;
  }
}

const NEED_SIM = 'faults need sim mode';

/**
 * A hub with several hosts and the faults of a distributed system. Each host has its own address,
 * ports and greenlets (greenlets spawned by a host's greenlets belong to it; `currentHost()` tells
 * which); its main is a factory, so it can crash and restart. Faults are callable from the test and
 * from inside the simulation, and each is an event of the trace.
 *
 * The fault model: a partition loses what crosses it, including what is already in flight, and TCP
 * retransmits (RTO 200 ms doubling to 120 s): a connection stalls — no byte lost or reordered — and
 * resumes at its next retransmission after the repair, or fails with ETIMEDOUT after 15
 * retransmissions (924.6 s, Linux's tcp_retries2); a connect across it fails with ETIMEDOUT after
 * Linux's 6 SYN retries (127 s). A hold keeps messages until released, one by one or all; a crash
 * kills the host's greenlets (GreenletExit) and vanishes its sockets (each peer is sent a reset);
 * a pause stops its greenlets and queues its deliveries.
 * @example
 * const sim = new Simulation({ seed: 7 });
 * sim.host('server', serve);
 * sim.client('alice', async () => { const c = await createConnection(['server', 80]); ... });
 * await sim.run(async () => {
 *   await sleep(1);
 *   const cut = sim.partition('server', 'alice');
 *   await sleep(5);
 *   cut.remove();
 * });
 */
export class Simulation extends Hub {
  private readonly hostList: SimHost[] = [];
  private readonly byName = new Map<string, SimHost>();
  private readonly byKernel = new Map<Host, SimHost>();
  private readonly placements = new WeakMap<Greenlet<unknown>, SimHost>();
  private readonly hostCache = new WeakMap<Greenlet<unknown>, SimHost | null>();
  private readonly faults = new Set<FaultHandle>();
  private readonly hostErrors: unknown[] = [];
  private faultIds = 0;
  private pausedCount = 0;
  private started = false;
  private readonly gate: (g: Greenlet<unknown>, fn: HubCallback, arg: unknown, isThrow: boolean) => boolean;

  constructor(options: SimulationOptions = {}) {
    super({ ...options, mode: options.mode ?? 'sim' });
    if (this.mode === 'real') {
      if (options.chaos !== undefined && options.chaos !== 0 && options.chaos !== null) throw new Error(NEED_SIM);
      const directory: HostDirectory = {
        currentAddress: () => this.currentHost()?.address ?? null,
        lookup: (name) => this.lookup(name),
      };
      (this.net as { directory: HostDirectory | null }).directory = directory;
    }
    this.gate = (g, fn, arg, isThrow) => this.holdIfPaused(g, fn, arg, isThrow);
  }

  // ---------------------------------------------------------------- hosts

  /**
   * Adds a host running `main` (a factory: called when the simulation runs, and again on every
   * restart; state it must keep across a crash has to live outside it). Its address is
   * `options.address`, else the next free 10.0.0.N (in real mode, 127.0.0.N from .2 on); its name
   * resolves to it. Added while the simulation runs, it starts at once.
   * @example
   * const db = sim.host('db', async () => {
   *   const server = new StreamServer(['0.0.0.0', 5432], handle);
   *   await server.serveForever();
   * });
   */
  host(name: string, main: HostMain, options: HostOptions = {}): SimHost {
    return this.addHost(name, main, options, false);
  }

  /**
   * Adds a client host: the same as `host`, but the fault presets never crash it.
   * @example
   * sim.client('alice', async () => { const c = await createConnection(['db', 5432]); ... });
   */
  client(name: string, main: HostMain, options: HostOptions = {}): SimHost {
    return this.addHost(name, main, options, true);
  }

  private addHost(name: string, main: HostMain, options: HostOptions, client: boolean): SimHost {
    const what = client ? 'client' : 'host';
    if (typeof name !== 'string' || name === '') throw new TypeError(`${what}(): a host needs a name`);
    if (typeof main !== 'function') throw new TypeError(`${what}(${JSON.stringify(name)}): main must be a function (a factory, called again on restart), got ${typeof main}`);
    const key = name.toLowerCase();
    if (key === 'localhost' || this.byName.has(key)) throw new Error(`${what}(): a host named ${name} exists already`);
    let simAddress = options.address;
    if (simAddress !== undefined) {
      if (typeof simAddress !== 'string' || !isIPv4(simAddress)) throw new TypeError(`${what}(${JSON.stringify(name)}): ${JSON.stringify(simAddress)} is not an IPv4 address`);
      if (this.hostList.some((h) => h.simAddress === simAddress)) throw new Error(`${what}(): address ${simAddress} is taken`);
    } else {
      for (let n = 1; ; n++) {
        const a = `10.0.${n >> 8}.${n & 255}`;
        if (!this.hostList.some((h) => h.simAddress === a)) {
          simAddress = a;
          break;
        }
      }
    }
    let host: SimHost;
    if (this.mode === 'sim') {
      const kernel = (this.net as MemoryNet).addHost(name, simAddress);
      host = new SimHost(this, name, simAddress, simAddress, client, main, kernel);
      this.byKernel.set(kernel, host);
    } else {
      const n = this.hostList.length + 2;
      host = new SimHost(this, name, `127.0.${n >> 8}.${n & 255}`, simAddress, client, main, null);
    }
    this.hostList.push(host);
    this.byName.set(key, host);
    if (this.started) this.startHost(host);
    return host;
  }

  /** Every host and client, in the order they were added. */
  get hosts(): readonly SimHost[] {
    return this.hostList;
  }

  /** The host named `name` (case-insensitive); throws if there is none. */
  getHost(name: string): SimHost {
    const h = this.byName.get(String(name).toLowerCase());
    if (h === undefined) throw new Error(`no host named ${String(name)}`);
    return h;
  }

  /** The host greenlet `g` belongs to (its own or its nearest placed ancestor's), or null (no host: the test's own code). */
  hostOf(g: Greenlet<unknown>): SimHost | null {
    const cached = this.hostCache.get(g);
    if (cached !== undefined) return cached;
    let found: SimHost | null = null;
    for (let x: Greenlet<unknown> | null = g; x !== null; x = x.parent) {
      const h = this.placements.get(x);
      if (h !== undefined) {
        found = h;
        break;
      }
    }
    this.hostCache.set(g, found);
    return found;
  }

  /** The host of the running greenlet, or null when it runs on no host. */
  currentHost(): SimHost | null {
    const g = rt.current;
    return g === null || g.hub !== this ? null : this.hostOf(g);
  }

  private lookup(name: string): string | undefined {
    const h = this.byName.get(name.toLowerCase());
    if (h !== undefined) return h.address;
    for (const x of this.hostList) if (x.simAddress === name) return x.address;
    return undefined;
  }

  private resolveHost(ref: HostRef, what: string): SimHost {
    if (ref instanceof SimHost) {
      if (ref.sim !== this) throw new Error(`${what}(): host ${ref.name} belongs to another simulation`);
      return ref;
    }
    if (typeof ref !== 'string') throw new TypeError(`${what}(): a host is a name or a SimHost, got ${ref === null ? 'null' : typeof ref}`);
    return this.getHost(ref);
  }

  /** The kernels of a group of hosts (a name may also be `localhost`, the test's own host). */
  private kernels(group: HostGroup, what: string): Set<Host> {
    const net = this.net as MemoryNet;
    const list = Array.isArray(group) ? (group as readonly HostRef[]) : [group as HostRef];
    if (list.length === 0) throw new RangeError(`${what}(): a side names no host`);
    const out = new Set<Host>();
    for (const ref of list) {
      if (typeof ref === 'string' && ref.toLowerCase() === 'localhost') out.add(net.defaultHost);
      else out.add(this.resolveHost(ref as HostRef, what).kernel!);
    }
    return out;
  }

  private startHost(host: SimHost): void {
    if (this.isFinished) return;
    host.incarnation++;
    const name = host.incarnation === 1 ? host.name : `${host.name}#${host.incarnation}`;
    const g = Greenlet.create(host.main, [], this, this.nextGreenletId(), name, null);
    this.placements.set(g, host);
    if (host.kernel !== null) (this.net as MemoryNet).placeGreenlet(g, host.kernel);
    host.greenlet = g;
    g.watchErrors(() => this.hostFailed(host, g.exception));
    g.start();
  }

  /** A host's main failed: the run fails with its error (main gets it at once). */
  private hostFailed(host: SimHost, error: unknown): void {
    this.hostErrors.push(error);
    const main = this.main;
    if (main !== null && !main.dead && !this.implicitMain) main.killNoWait(error instanceof Error ? error : new Error(`host ${host.name} failed: ${String(error)}`));
    else this.reportError(error, host.greenlet);
  }

  /** Whether the run is over or ending (main has returned): nothing new starts. */
  get isFinished(): boolean {
    return this.closed || (this.main !== null && this.main.dead);
  }

  /**
   * Runs the simulation: every host's main starts, then `main` (if given) as the main greenlet. Resolves
   * with main's value — or, without main, once nothing is left to do (or at `until`). Rejects with the
   * first error a host's main died of.
   * @example
   * await sim.run();                       // until the hosts are done or blocked forever
   * await sim.run(undefined, { until: 60 }); // one virtual minute
   */
  override run<T>(main?: () => T | Promise<T>, options: RunOptions = {}): Promise<Awaited<T>> {
    if (!this.started && !this.closed) {
      this.started = true;
      for (const h of this.hostList) if (h.greenlet === null && !h.crashed) this.startHost(h);
    }
    return super.run(main, options).then((v) => {
      if (this.hostErrors.length > 0) throw this.hostErrors[0];
      return v;
    });
  }

  // ---------------------------------------------------------------- fault rules

  private needSim(what: string): MemoryNet {
    if (this.mode !== 'sim') throw new Error(NEED_SIM);
    void what;
    return this.net as MemoryNet;
  }

  private record(fault: number, id: number, detail: string): void {
    const g = rt.current;
    this.trace.record(K_FAULT, this.clock, g !== null && g.hub === this ? g.id : -1, fault, id, detail);
  }

  /** @internal a handle was removed: forget it, record it, release what it held. */
  faultRemoved(h: FaultHandle): void {
    this.faults.delete(h);
    const net = this.net as MemoryNet;
    if (h.kind === 'partition') {
      this.record(F.repair, h.id, h.description);
    } else {
      this.record(h.kind === 'hold' ? F.release : F.unrule, h.id, h.description);
      for (const seg of net.heldSegments(h)) net.release(seg);
    }
  }

  /**
   * Adds a rule to the end of the fault chain: for each message the first rule that does not answer
   * `'pass'` decides — `'drop'` (a SYN is lost; anything else is retransmitted by TCP), `'hold'` (kept
   * until released: `held()`, `release()`), or `{ after: seconds }` (delivered after that long instead
   * of the link's latency). With `inFlight`, the rule is asked again as each message arrives, so it
   * also hits messages sent before it was added. Returns the handle that removes it.
   * @example
   * const slow = sim.addRule((m) => (m.to === 'db' ? { after: 0.5 } : 'pass'));
   * slow.remove();
   */
  addRule(rule: FaultRule, options: FaultRuleOptions = {}): FaultHandle {
    const net = this.needSim('addRule');
    if (typeof rule !== 'function') throw new TypeError(`addRule(): a rule is a function from a message to a verdict, got ${typeof rule}`);
    const h = new FaultHandle(this, 'rule', ++this.faultIds, options.name ?? (rule.name || 'rule'), null, false);
    const fn = (seg: Segment): Verdict => toVerdict(rule(new Message(seg)), seg);
    h.attach(net.addRule(fn, { inFlight: options.inFlight === true, tag: h }));
    this.faults.add(h);
    this.record(F.rule, h.id, h.description);
    return h;
  }

  /**
   * Cuts the network between two hosts (or groups of hosts): both ways, or with `oneWay` only from `a`
   * to `b`. What crosses is lost — also what is already on its way — and TCP retransmits it: the
   * connections stall and resume after the repair; connects fail with ETIMEDOUT after 127 s.
   * Returns the handle that repairs it (`repair(handle)` does too).
   * @example
   * const cut = sim.partition(['a', 'b'], ['c']);   // a and b on one side, c on the other
   * sim.partition('a', 'c', { oneWay: true });       // a's messages to c are lost, c's reach a
   */
  partition(a: HostGroup, b: HostGroup, options: LinkOptions = {}): FaultHandle {
    this.needSim('partition');
    const sa = this.kernels(a, 'partition');
    const sb = this.kernels(b, 'partition');
    for (const k of sa) if (sb.has(k)) throw new RangeError(`partition(): host ${k.name} is on both sides`);
    const oneWay = options.oneWay === true;
    const desc = `${names(sa)} ${oneWay ? '>' : '|'} ${names(sb)}`;
    const h = new FaultHandle(this, 'partition', ++this.faultIds, desc, [sa, sb], oneWay);
    const rule = (seg: Segment): Verdict => {
      const dst = seg.dst;
      if (dst === null) return PASS;
      if (sa.has(seg.src) && sb.has(dst)) return DROP;
      if (!oneWay && sb.has(seg.src) && sa.has(dst)) return DROP;
      return PASS;
    };
    h.attach((this.net as MemoryNet).addRule(rule, { inFlight: true, tag: h }));
    this.faults.add(h);
    this.record(F.partition, h.id, desc);
    return h;
  }

  /**
   * Repairs partitions: the one given, those between hosts `a` and `b` (either direction), or every
   * one. Stalled connections resume at their next retransmission. Returns how many were repaired.
   * @example
   * sim.repair('a', 'b');
   * sim.repair();          // every partition
   */
  repair(a?: FaultHandle | HostRef, b?: HostRef): number {
    this.needSim('repair');
    return this.removeWhere('partition', a, b, 'repair');
  }

  /**
   * Holds every message from `a` to `b` (both ways unless `oneWay`), also those already on their way,
   * until released: inspect them with `held()`, deliver them one by one (`message.release()`) or all
   * (`release(handle)`, `handle.remove()`).
   * @example
   * const h = sim.hold('client', 'server');
   * await sleep(1);
   * const [first, second] = sim.held(h);
   * second.release(); first.release(); // messages of different connections, in the order chosen
   */
  hold(a: HostGroup, b: HostGroup, options: LinkOptions = {}): FaultHandle {
    this.needSim('hold');
    const sa = this.kernels(a, 'hold');
    const sb = this.kernels(b, 'hold');
    const oneWay = options.oneWay === true;
    const desc = `${names(sa)} ${oneWay ? '>' : '<>'} ${names(sb)}`;
    const h = new FaultHandle(this, 'hold', ++this.faultIds, desc, [sa, sb], oneWay);
    const rule = (seg: Segment): Verdict => {
      const dst = seg.dst;
      if (dst === null || seg.released) return PASS;
      if (sa.has(seg.src) && sb.has(dst)) return HOLD;
      if (!oneWay && sb.has(seg.src) && sa.has(dst)) return HOLD;
      return PASS;
    };
    h.attach((this.net as MemoryNet).addRule(rule, { inFlight: true, tag: h }));
    this.faults.add(h);
    this.record(F.hold, h.id, desc);
    return h;
  }

  /**
   * The messages held by `handle` (by every hold and rule when omitted), in the order they were held.
   * @example
   * sim.held().map(String); // ['DATA a 10.0.0.1:40000 -> b 10.0.0.2:80 (5 bytes)', …]
   */
  held(handle?: FaultHandle): HeldMessage[] {
    const net = this.needSim('held');
    const release = (seg: Segment): void => net.release(seg);
    return net
      .heldSegments(handle)
      .filter((seg) => handle !== undefined || net.holderOf(seg) instanceof FaultHandle)
      .map((seg) => new HeldMessage(seg, release));
  }

  /**
   * Releases held messages: one message, everything a hold (or rule) keeps — removing it —, the holds
   * between hosts `a` and `b`, or every hold. Released messages are delivered at once, in the order
   * they were held (and each after the earlier messages of its connection). Returns how many holds
   * were removed.
   * @example
   * sim.release(sim.held()[0]);  // one message
   * sim.release(h);              // the hold h and all it kept
   * sim.release();               // every hold
   */
  release(target?: HeldMessage | FaultHandle | HostRef, b?: HostRef): number {
    const net = this.needSim('release');
    if (target instanceof HeldMessage) {
      net.release(target.segment);
      return 0;
    }
    return this.removeWhere('hold', target, b, 'release');
  }

  private removeWhere(kind: 'partition' | 'hold', a: FaultHandle | HostRef | undefined, b: HostRef | undefined, what: string): number {
    if (a instanceof FaultHandle) {
      if (a.kind !== kind && !(kind === 'hold' && a.kind === 'rule')) throw new TypeError(`${what}(): ${String(a)} is not a ${kind}`);
      const was = a.active;
      a.remove();
      return was ? 1 : 0;
    }
    let ka: Host | null = null;
    let kb: Host | null = null;
    if (a !== undefined) {
      ka = [...this.kernels(a, what)][0]!;
      if (b === undefined) throw new TypeError(`${what}(a, b): name both hosts`);
      kb = [...this.kernels(b, what)][0]!;
    }
    let n = 0;
    for (const h of [...this.faults]) {
      if (h.kind !== kind) continue;
      if (ka !== null && kb !== null && !h.separates(ka, kb)) continue;
      h.remove();
      n++;
    }
    return n;
  }

  /**
   * Sets the one-way latency — seconds, or a distribution drawn from the seed per message:
   * `{ uniform: [min, max] }`, `{ exponential: mean, min?, max? }`, `{ fixed }`. With one argument, for
   * every link between distinct hosts; with hosts, for the links between them (both ways unless
   * `oneWay`). Jitter never reorders the messages of one connection.
   * @example
   * sim.setLatency({ exponential: 0.002, min: 0.001 });   // everywhere
   * sim.setLatency('eu', 'us', { uniform: [0.04, 0.06] }); // one slow link
   */
  setLatency(a: HostGroup | LatencySpec, b?: HostGroup, spec?: LatencySpec | null, options: LinkOptions = {}): void {
    const net = this.needSim('setLatency');
    if (b === undefined) {
      const s = a as LatencySpec;
      net.setDefaultLatency(s);
      this.record(F.latency, 0, `* ${describeLatency(s)}`);
      return;
    }
    if (spec === undefined) throw new TypeError('setLatency(a, b, latency): the latency is missing');
    const sa = this.kernels(a as HostGroup, 'setLatency');
    const sb = this.kernels(b, 'setLatency');
    for (const x of sa) {
      for (const y of sb) {
        net.setLatency(x, y, spec);
        if (options.oneWay !== true) net.setLatency(y, x, spec);
      }
    }
    this.record(F.latency, 0, `${names(sa)} ${options.oneWay === true ? '>' : '<>'} ${names(sb)} ${spec === null ? 'default' : describeLatency(spec)}`);
  }

  /**
   * Turns stream chaos on or off for every connection, loopback included: with probability `split` a
   * write is delivered in several pieces, with probability `coalesce` adjacent writes arrive as one —
   * as real TCP may do. A program that assumes one `recv` is one message fails under it.
   * @example
   * sim.setChaos({ split: 0.3, coalesce: 0.3 });
   * sim.setChaos(null); // off
   */
  setChaos(spec: ChaosSpec | null): void {
    const net = this.needSim('setChaos');
    net.setChaos(spec);
    const c = net.chaos;
    this.record(F.chaos, 0, `split ${c.split} coalesce ${c.coalesce}`);
  }

  // ---------------------------------------------------------------- host lifecycle

  /**
   * Crashes a host: its greenlets die with GreenletExit (their `finally` blocks run, but its sockets
   * are gone), its sockets vanish without a FIN — each peer is sent a reset and sees ECONNRESET —
   * and its ports are free. Until `restart`, messages to it are lost (connects time out; TCP
   * retransmits the rest). State its main kept is gone; only what lives outside the factory stays.
   * Crashing the host the caller runs on ends the caller too (GreenletExit).
   * @example
   * sim.crash('db');
   * await sleep(2);
   * sim.restart('db');  // its main runs again, from its factory
   */
  crash(ref: HostRef): void {
    this.needSim('crash');
    const host = this.resolveHost(ref, 'crash');
    if (this.crashHost(host)) throw new GreenletExit(`host ${host.name} crashed`);
  }

  /** Crashes `host`; true when the caller runs on it. */
  private crashHost(host: SimHost): boolean {
    if (host.crashed) return false;
    const net = this.net as MemoryNet;
    const kernel = host.kernel!;
    if (host.paused) this.unpause(host, false);
    this.record(F.crash, host.incarnation, host.name);
    host.crashed = true;
    host.greenlet = null;
    kernel.crash();
    net.releasePaused(kernel); // what waited for the paused host now meets a crashed one
    const me = rt.current;
    let self = false;
    const exit = (): GreenletExit => new GreenletExit(`host ${host.name} crashed`);
    for (const g of [...this.greenlets]) {
      if (this.hostOf(g) !== host) continue;
      if (g === me) self = true;
      else g.killNoWait(exit());
    }
    if (self && me !== null) me.killNoWait(exit());
    return self;
  }

  /**
   * Restarts a crashed host (a running one is crashed first): an empty kernel at the same address,
   * and its main rebuilt from its factory.
   * @example
   * sim.restart('db');
   */
  restart(ref: HostRef): void {
    this.needSim('restart');
    const host = this.resolveHost(ref, 'restart');
    const self = host.crashed ? false : this.crashHost(host);
    host.crashed = false;
    host.kernel!.restart();
    this.record(F.restart, host.incarnation + 1, host.name);
    this.startHost(host);
    if (self) throw new GreenletExit(`host ${host.name} restarted`);
  }

  /**
   * Pauses a host (a stopped process, a VM frozen): its greenlets do not run — their wakes wait —
   * and messages reaching it are held, until `resume`. Its peers see nothing but silence.
   * @example
   * sim.pause('db');
   * await sleep(3);
   * sim.resume('db'); // its greenlets run again; held messages are delivered, in order
   */
  pause(ref: HostRef): void {
    this.needSim('pause');
    const host = this.resolveHost(ref, 'pause');
    if (host.crashed) throw new Error(`pause(): host ${host.name} is crashed`);
    if (host.paused) return;
    host.paused = true;
    host.kernel!.paused = true;
    this.pausedCount++;
    this.holdSwitch = this.gate;
    this.record(F.pause, host.incarnation, host.name);
  }

  /** Resumes a paused host: its greenlets' held wakes run, then its held messages are delivered. */
  resume(ref: HostRef): void {
    this.needSim('resume');
    const host = this.resolveHost(ref, 'resume');
    if (!host.paused) return;
    this.unpause(host, true);
    this.record(F.resume, host.incarnation, host.name);
    (this.net as MemoryNet).releasePaused(host.kernel!);
  }

  private unpause(host: SimHost, replay: boolean): void {
    host.paused = false;
    host.kernel!.paused = false;
    if (--this.pausedCount === 0) this.holdSwitch = null;
    const held = host.heldSwitches.splice(0);
    host.heldGreenlets.clear();
    if (replay) for (const { fn, arg } of held) this.schedule(fn, arg);
  }

  /** The gate of paused hosts: keeps the switch into a greenlet of a paused host for its resume. */
  private holdIfPaused(g: Greenlet<unknown>, fn: HubCallback, arg: unknown, isThrow: boolean): boolean {
    const host = this.hostOf(g);
    if (host === null || !host.paused) return false;
    // the first wake of a parked greenlet wins (later ones would have found it running); kills queue up
    if (!isThrow && host.heldGreenlets.has(g)) return true;
    host.heldGreenlets.add(g);
    host.heldSwitches.push({ fn, arg });
    return true;
  }
}
keepShapes(() => keeperHub(Simulation), Simulation);
brand(Simulation, 'Simulation');
brand(SimHost, 'SimHost');
brand(FaultHandle, 'FaultHandle');

function names(set: ReadonlySet<Host>): string {
  return [...set].map((h) => h.name).join(',');
}

function toVerdict(v: RuleVerdict, seg: Segment): Verdict {
  if (v === undefined || v === 'pass') return PASS;
  if (v === 'drop') return DROP;
  if (v === 'hold') return seg.released ? PASS : HOLD;
  if (typeof v === 'object' && v !== null && typeof v.after === 'number') return toNs(v.after, 'after');
  throw new TypeError(`a fault rule returned ${JSON.stringify(v)}: answer 'pass', 'drop', 'hold' or { after: seconds }`);
}

/**
 * The simulated host the running greenlet belongs to, or null (no Simulation, or the test's own code).
 * @example
 * sim.host('db', async () => {
 *   currentHost()!.name; // 'db' — also in every greenlet it spawns
 * });
 */
export function currentHost(): SimHost | null {
  const hub = getHub();
  return hub instanceof Simulation ? hub.currentHost() : null;
}
