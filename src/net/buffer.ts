/**
 * A socket's receive buffer: the chunks that arrived, read in order, in pieces of any size. Shared by
 * the in-memory kernel and the TCP adapter.
 * @internal
 */
export class ReceiveBuffer {
  private chunks: Uint8Array[] = [];
  /** index of the first unread chunk (chunks before it are read; compacted now and then) */
  private head = 0;
  /** bytes of chunks[head] already read */
  private offset = 0;
  /** unread bytes */
  size = 0;

  push(data: Uint8Array): void {
    this.chunks.push(data);
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
    if (this.offset === 0 && first.length <= n && (chunks.length - this.head === 1 || first.length === n)) {
      out = first;
      this.advance();
    } else {
      const size = Math.min(n, this.size);
      out = new Uint8Array(size);
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
    this.chunks.length = 0;
    this.head = 0;
    this.offset = 0;
    this.size = 0;
  }

  private advance(): void {
    this.chunks[this.head++] = EMPTY;
    this.offset = 0;
    if (this.head === this.chunks.length) {
      this.chunks.length = 0;
      this.head = 0;
    } else if (this.head >= 64 && this.head * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }
}

const EMPTY = new Uint8Array(0);
