import { allocBytes } from './bytes.js';

/**
 * A socket's receive buffer: the chunks that arrived, read in order, in pieces of any size. Shared by
 * the in-memory kernel and the TCP adapter.
 *
 * The chunk array never shrinks on the hot path: unread chunks are the slots [head, tail), the others
 * hold EMPTY, and a drained buffer only resets its indices. (Setting an array's length to 0 frees its
 * backing store, so the next push allocated a new one: one allocation and a slow builtin per segment.)
 * @internal
 */
export class ReceiveBuffer {
  private chunks: Uint8Array[] = [];
  /** index of the first unread chunk */
  private head = 0;
  /** one past the last unread chunk */
  private tail = 0;
  /** bytes of chunks[head] already read */
  private offset = 0;
  /** unread bytes */
  size = 0;

  push(data: Uint8Array): void {
    const chunks = this.chunks;
    if (this.tail < chunks.length) chunks[this.tail] = data;
    else chunks.push(data);
    this.tail++;
    this.size += data.length;
  }

  /**
   * Takes up to `n` (> 0) unread bytes; the buffer must not be empty. A chunk read whole is handed out
   * as it is, with no copy.
   */
  take(n: number): Uint8Array {
    const chunks = this.chunks;
    const first = chunks[this.head]!;
    let out: Uint8Array;
    if (this.offset === 0 && first.length <= n && (this.tail - this.head === 1 || first.length === n)) {
      out = first;
      this.advance();
    } else {
      const size = Math.min(n, this.size);
      out = allocBytes(size);
      let filled = 0;
      while (filled < size) {
        const chunk = chunks[this.head]!;
        const avail = chunk.length - this.offset;
        const k = Math.min(avail, size - filled);
        out.set(chunk.subarray(this.offset, this.offset + k), filled);
        filled += k;
        if (k === avail) this.advance();
        else this.offset += k;
      }
    }
    this.size -= out.length;
    return out;
  }

  /** Forgets everything unread. */
  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.tail = 0;
    this.offset = 0;
    this.size = 0;
  }

  private advance(): void {
    const chunks = this.chunks;
    chunks[this.head++] = EMPTY;
    this.offset = 0;
    if (this.head === this.tail) {
      this.head = 0;
      this.tail = 0;
      // a burst left a long array behind: let it go
      if (chunks.length > MAX_IDLE_SLOTS) this.chunks = [];
    } else if (this.head >= 64 && this.head * 2 >= this.tail) {
      // the read half is dead weight: move the unread chunks to the front
      const live = this.tail - this.head;
      chunks.copyWithin(0, this.head, this.tail);
      chunks.fill(EMPTY, live, this.tail);
      this.head = 0;
      this.tail = live;
    }
  }
}

const EMPTY = new Uint8Array(0);
/** A drained buffer keeps its chunk array up to this many slots. */
const MAX_IDLE_SLOTS = 64;
