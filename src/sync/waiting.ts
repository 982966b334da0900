/**
 * What every primitive of the sync layer shares: parking the current greenlet on a waiter list with a
 * gevent-style timeout, and handing a waiter something from a hub callback.
 *
 * Timeouts of blocking sync calls are gevent `Timeout`s there (`Timeout._start_new_or_dummy`), so they
 * use the Timeout priority: a `sleep(t)` and a `q.get({ timeout: t })` that expire together — the
 * sleep's greenlet runs first. A timed-out wait wakes with `false`; a notified one with `true`.
 * @internal
 */
import { toNs, type Hub } from '../core/hub.js';
import type { Greenlet } from '../core/greenlet.js';
import type { Linkable, Link } from '../core/linkable.js';
import type { LinkedList, ListNode } from '../core/list.js';

/** Nanoseconds for a `timeout` option: Infinity for null/undefined (wait forever). */
export function timeoutNs(timeout: number | null | undefined): number {
  return timeout === null || timeout === undefined ? Infinity : toNs(timeout, 'timeout');
}

/** Arms `g`'s timer (Timeout priority) to wake it with `false` after `ns`; Infinity arms nothing. */
export function armTimeout(hub: Hub, g: Greenlet<unknown>, ns: number): void {
  if (ns === Infinity) return;
  hub.armWaitTimer(g, ns);
}

/** Turns a wake (true: notified, false: timed out) into the blocking call's result, in the hub. */
export type WakeMap = Greenlet<unknown>['wakeMap'];

/**
 * Parks the current greenlet `g` as a waiter on `linkable` (woken by its notification pass with true)
 * until notified or `ns` pass (false). With `wakeMap`, the call resolves to what it makes of the wake.
 */
export function parkOnLinkable(hub: Hub, g: Greenlet<unknown>, linkable: Linkable, reason: number, ns: number, wakeMap: WakeMap = null): Promise<boolean> {
  g.parkNode = linkable.addWaiter(g);
  g.wakeMap = wakeMap;
  armTimeout(hub, g, ns);
  return hub.park(g, reason, linkable) as Promise<boolean>;
}

/**
 * Parks `g` with `node` (already pushed on some waiter list) as its park node, so that any wake —
 * notification, timeout, an exception thrown in — takes it off the list. `wakeMap` as for
 * `parkOnLinkable`.
 */
export function parkOnNode<T>(hub: Hub, g: Greenlet<unknown>, node: ListNode<T>, ns: number, reason: number, target: unknown, wakeMap: WakeMap = null): Promise<unknown> {
  g.parkNode = node as unknown as ListNode<Link>;
  g.wakeMap = wakeMap;
  armTimeout(hub, g, ns);
  return hub.park(g, reason, target);
}

/** A greenlet waiting on a queue or channel, with the item it brings or receives. */
export interface ItemWaiter<T> {
  readonly g: Greenlet<unknown>;
  item: T | undefined;
}

/**
 * Takes the first waiter off `list` for a hand-off that will complete in a later hub callback: its
 * timeout is cancelled now so it cannot fire in between. Returns the node (for `deliver`).
 */
export function claimFirst<T>(hub: Hub, list: LinkedList<T>): ListNode<T> | null {
  const node = list.shift();
  if (node === null) return null;
  const g = (node.value as unknown as { g: Greenlet<unknown> }).g;
  const t = g.timer;
  if (t !== null && t.active) hub.cancelTimer(t);
  return node;
}

/** Wakes the greenlet of a claimed waiter node with true if it is still parked on that node. */
export function deliver(node: ListNode<ItemWaiter<unknown>>): boolean {
  const g = node.value.g;
  if (g.res === null || g.parkNode !== (node as unknown as ListNode<Link>)) return false;
  g.hub.wakeWaiter(g, true);
  return true;
}

/** A hub callback: `deliver` a claimed node. */
export function deliverCallback(node: ListNode<ItemWaiter<unknown>>): void {
  deliver(node);
}
