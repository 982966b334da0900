/**
 * The linkable protocol, gevent's `AbstractLinkable`: an object that greenlets and callbacks can wait
 * on, notified FIFO through the hub's callback queue — never synchronously.
 *
 * Every waitable in geventjs (Greenlet, Event, AsyncResult, Semaphore, Queue's waiters, …) stands on it.
 * A notification pass wakes the links present when it began, in the order they were added; for
 * semaphore-like objects (`notifyAll = false`) it stops as soon as the object is no longer ready.
 * A woken greenlet runs until it blocks again before the next link is notified, as in gevent.
 */
import type { Hub } from './hub.js';
import type { Greenlet } from './greenlet.js';
import { LinkedList, type ListNode } from './list.js';
import { getHub } from './runtime.js';

/** A callback link: called in the hub with the object that became ready. */
export type LinkCallback<S> = (source: S) => void;

/** A link: a waiting greenlet (switched into) or a callback. @internal */
export type Link = Greenlet<unknown> | LinkCallback<never>;

/**
 * Something greenlets can wait on and callbacks can link to (gevent's AbstractLinkable): subclass it,
 * say when it is `ready()`, and call `checkAndNotify()` when that may have changed; `wait`, `iwait`
 * and `rawlink` then work with it.
 * @example
 * class Flag extends Linkable {
 *   private on = false;
 *   ready() { return this.on; }
 *   set() { this.on = true; this.checkAndNotify(); }
 * }
 * await wait([new Flag()], { timeout: 1 });
 */
export abstract class Linkable {
  /** The hub this object belongs to (the current hub when it was created). */
  readonly hub: Hub;
  /** Created on first use: most greenlets are never linked to. */
  private linkList: LinkedList<Link> | null = null;
  /**
   * False for objects whose notification stops once they are no longer ready (semaphores). A default
   * on the prototype (true), so most objects carry no field for it.
   */
  declare protected notifyAll: boolean;

  constructor(hub?: Hub) {
    this.hub = hub ?? getHub();
  }

  /** The links, FIFO. @internal */
  get links(): LinkedList<Link> {
    return (this.linkList ??= new LinkedList<Link>());
  }

  /** Whether waiting on this object would return at once. */
  abstract ready(): boolean;

  /** How the object shows in LoopExit reports. */
  describe(): string {
    return this.constructor.name;
  }

  /**
   * Calls `callback(this)` in the hub, once, when this object is (or becomes) ready.
   * @example
   * event.rawlink(() => console.log('set'));
   */
  rawlink(callback: LinkCallback<this>): void {
    if (typeof callback !== 'function') throw new TypeError(`Expected callable: ${String(callback)}`);
    this.links.push(callback as Link);
    this.checkAndNotify();
  }

  /** Removes a link added with `rawlink`. */
  unlink(callback: LinkCallback<this>): void {
    this.linkList?.removeValue(callback as Link);
  }

  /** Number of links (waiting greenlets and callbacks). */
  linkcount(): number {
    return this.linkList === null ? 0 : this.linkList.size;
  }

  /**
   * Who notifies a link added while this object's own notification pass runs (say, by a greenlet that
   * pass woke). False, the default, as gevent's AbstractLinkable (Event, AsyncResult, Semaphore…): the
   * next pass, which the running one queues when it ends, after whatever was queued meanwhile. True, as
   * gevent's Greenlet, whose pass loops until no link is left: the running pass. A default on the
   * prototype, so objects carry no field for it.
   */
  declare protected lateLinksJoinPass: boolean;

  /** Queues a notification pass if the object is ready and someone waits (see lateLinksJoinPass). @internal */
  protected checkAndNotify(): void {
    const list = this.linkList;
    if (list === null || list.notifyQueued || list.size === 0) return;
    if (this.hub.notifier === this) {
      if (this.lateLinksJoinPass) list.finalSeq = list.lastSeq;
      return;
    }
    if (this.ready()) {
      list.notifyQueued = true;
      this.hub.schedule(beginNotify, this);
    }
  }

  /** Adds a waiting greenlet; returns its node so the hub can unlink it on wake. @internal */
  addWaiter(g: Greenlet<unknown>): ListNode<Link> {
    return this.links.push(g);
  }

  /**
   * Makes a running notification pass also wake the links added so far: gevent's "arrived while
   * waiting" — a greenlet that waits on a ready object during its pass is woken by that same pass.
   * @internal
   */
  extendPass(): void {
    if (this.hub.notifier === this) this.links.finalSeq = this.links.lastSeq;
  }

  /** @internal Called by the hub's dispatcher: notifies until one greenlet is switched into or the pass ends. */
  stepNotify(hub: Hub): void {
    const links = this.links;
    for (;;) {
      const node = links.head;
      if (node === null || node.seq > links.finalSeq || (!this.notifyAll && !this.ready())) {
        hub.notifier = null;
        // something may have arrived, or become ready again, while we were switching
        this.checkAndNotify();
        return;
      }
      links.remove(node);
      const link = node.value;
      if (typeof link === 'function') {
        try {
          (link as LinkCallback<this>)(this);
        } catch (e) {
          hub.reportError(e, null);
        }
        if (hub.running !== null) return;
      } else {
        hub.wakeWaiter(link, true);
        return;
      }
    }
  }

  /** @internal */
  beginNotify(): void {
    const links = this.links;
    links.notifyQueued = false;
    links.finalSeq = links.lastSeq;
    // like gevent, a pass once queued wakes every link of a notify-all object even if it is no longer
    // ready (Event set() then clear() at once); semaphore-like objects stop as soon as they are not
    if (links.size === 0 || (!this.notifyAll && !this.ready())) return;
    this.hub.notifier = this;
  }
}

(Linkable.prototype as unknown as { notifyAll: boolean }).notifyAll = true;
(Linkable.prototype as unknown as { lateLinksJoinPass: boolean }).lateLinksJoinPass = false;

function beginNotify(l: Linkable): void {
  l.beginNotify();
}
