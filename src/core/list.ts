/**
 * A FIFO list with O(1) push, shift and removal of any node: the waiter lists of every primitive.
 * Nodes carry a sequence number so a notifier can stop at the last node that was present when it
 * started, even if that node was removed meanwhile.
 * @internal
 */
export class ListNode<T> {
  prev: ListNode<T> | null = null;
  next: ListNode<T> | null = null;
  list: LinkedList<T> | null = null;
  constructor(
    readonly value: T,
    readonly seq: number,
  ) {}
}

export class LinkedList<T> {
  head: ListNode<T> | null = null;
  tail: ListNode<T> | null = null;
  size = 0;
  private seq = 0;
  /** A notification pass over this list is queued (kept here, not on every linkable). @internal */
  notifyQueued = false;
  /** The pass notifies nodes up to this sequence number. @internal */
  finalSeq = 0;

  push(value: T): ListNode<T> {
    const node = new ListNode(value, ++this.seq);
    node.list = this;
    node.prev = this.tail;
    if (this.tail) this.tail.next = node;
    else this.head = node;
    this.tail = node;
    this.size++;
    return node;
  }

  shift(): ListNode<T> | null {
    const node = this.head;
    if (node) this.remove(node);
    return node;
  }

  remove(node: ListNode<T>): boolean {
    if (node.list !== this) return false;
    if (node.prev) node.prev.next = node.next;
    else this.head = node.next;
    if (node.next) node.next.prev = node.prev;
    else this.tail = node.prev;
    node.prev = node.next = null;
    node.list = null;
    this.size--;
    return true;
  }

  /** Removes the first node holding `value`. */
  removeValue(value: T): boolean {
    for (let n = this.head; n; n = n.next) {
      if (n.value === value) return this.remove(n);
    }
    return false;
  }

  /** Sequence number of the last pushed node (0 if none was ever pushed). */
  get lastSeq(): number {
    return this.seq;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let n = this.head; n; n = n.next) yield n.value;
  }
}
