/**
 * The errors of the core: GreenletExit, LoopExit, ConcurrentObjectUseError.
 */

/**
 * Makes `x instanceof cls` true for instances made by another copy of geventjs (the ESM and the CJS
 * build loaded side by side), by a brand registered under a global symbol. Subclasses a user declares
 * keep the ordinary prototype check.
 * @internal
 */

export function brand(cls: abstract new (...args: any[]) => object, name: string): void {
  const sym = Symbol.for(`geventjs.class.${name}`);
  Object.defineProperty(cls.prototype, sym, { value: true });
  Object.defineProperty(cls, Symbol.hasInstance, {
    value(this: unknown, x: unknown): boolean {
      if (typeof this === 'function' && Function.prototype[Symbol.hasInstance].call(this, x)) return true;
      return this === cls && typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[sym] === true;
    },
  });
}

/**
 * Thrown into a greenlet to kill it; a greenlet that ends with it counts as successful, and its
 * `value` is the GreenletExit instance (as in gevent).
 * @example
 * const g = spawn(async () => { try { await sleep(10) } finally { console.log('cleanup') } });
 * await sleep(0);
 * await g.kill(); // prints 'cleanup'; g.value instanceof GreenletExit
 */
export class GreenletExit extends Error {
  constructor(message = '') {
    super(message);
    this.name = 'GreenletExit';
  }
}
brand(GreenletExit, 'GreenletExit');

/** One greenlet that could not proceed when the hub ran out of things to do. */
export interface BlockedGreenlet {
  /** The greenlet's name, e.g. `Greenlet-3` or `main`. */
  greenlet: string;
  /** What it waits on, e.g. `Event.wait`, `Queue.get`, `socket.recv`. */
  waitingOn: string;
  /** Virtual (or, in real mode, hub-relative real) time in seconds at which it started waiting. */
  since: number;
}

/**
 * Raised into the main greenlet when nothing can run and nothing can happen: no ready greenlet, no
 * timer, and (real mode only) no open socket or adopted promise that could wake one.
 *
 * Unlike gevent's, the message lists every blocked greenlet, what it waits on and since when, and
 * `blocked` holds the same as data.
 * @example
 * try { await new Event().wait() } catch (e) { if (e instanceof LoopExit) console.log(e.blocked) }
 */
export class LoopExit extends Error {
  readonly blocked: BlockedGreenlet[];
  constructor(blocked: BlockedGreenlet[], header = '') {
    const lines = blocked.map(
      (b) => `\t${b.greenlet} waiting on ${b.waitingOn} since ${b.since.toFixed(3)}s`,
    );
    super(['This operation would block forever', header, ...lines].filter((l) => l !== '').join('\n'));
    this.name = 'LoopExit';
    this.blocked = blocked;
  }
}
brand(LoopExit, 'LoopExit');

/**
 * Two greenlets used an object that allows one user at a time, e.g. two readers of one socket.
 * @example
 * spawn(() => sock.recv(10));
 * await sleep(0);
 * await sock.recv(10); // throws ConcurrentObjectUseError: another greenlet already reads it
 */
export class ConcurrentObjectUseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConcurrentObjectUseError';
  }
}
brand(ConcurrentObjectUseError, 'ConcurrentObjectUseError');

/** An Error with Node's `code` property (`ECONNREFUSED`, `EPIPE`, …). @internal */
export function codedError(code: string, message: string, extra?: Record<string, unknown>): Error {
  const err = new Error(message) as Error & { code: string };
  err.code = code;
  if (extra) Object.assign(err, extra);
  return err;
}
