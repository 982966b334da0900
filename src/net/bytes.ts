/**
 * Byte arrays for data in flight. Small ones are views into shared 8 KiB `ArrayBuffer`s, as Node's
 * `Buffer` pool hands them out (`Buffer.allocUnsafe`, the chunks a `net.Socket` reads).
 *
 * Why not `new Uint8Array(n)`: V8 keeps a typed array of up to 64 bytes inside the JS heap, with no
 * `ArrayBuffer` until someone asks for `.buffer`, and gives a larger one a backing store of its own.
 * Both are slow where the data goes next (measured on this machine, Node 20 and 24):
 * - a backing store of its own costs ~0.7 µs to allocate (a malloc and a GC-tracked extension): more
 *   than a whole simulated round trip of small messages, so 200-byte messages ran at a third the rate;
 * - Node 24's `TextDecoder.decode` materialises a heap-held array's `ArrayBuffer` first: ~0.75 µs
 *   instead of ~0.07 µs for every `decoder.decode(await conn.recv(n))`;
 * - `TextEncoder.encode` allocates such a backing store for every string; `encodeInto` a pooled view
 *   costs ~0.09 µs for a short string instead of ~0.75 µs.
 *
 * The trade-offs are Node's: `.buffer` is the whole pool (use it with `byteOffset` and `byteLength`,
 * or `slice()` for a compact copy of one's own), and a view kept alive keeps its 8 KiB pool alive.
 * Every pool is a fresh, zero-filled `ArrayBuffer` and no byte of it is handed out twice.
 * @internal
 */

/** Size of one pool. */
export const POOL_BYTES = 8192;
/** Larger arrays get storage of their own (Node's `Buffer.poolSize >>> 1`). */
export const POOLED_MAX = POOL_BYTES >>> 1;

let pool = new ArrayBuffer(POOL_BYTES);
let used = 0;
const encoder = new TextEncoder();

/** Start of `n` (≤ POOLED_MAX) bytes in the current pool, which moves on to a fresh one when full. */
function reserve(n: number): number {
  if (used + n > POOL_BYTES) {
    pool = new ArrayBuffer(POOL_BYTES);
    used = 0;
  }
  return used;
}

/** The pool's slices start 8-byte aligned, as Node's do. */
function commit(start: number, n: number): void {
  used = (start + n + 7) & ~7;
}

/** A zero-filled array of `n` bytes. */
export function allocBytes(n: number): Uint8Array {
  if (n > POOLED_MAX) return new Uint8Array(n);
  const start = reserve(n);
  commit(start, n);
  return new Uint8Array(pool, start, n);
}

/** A copy of `data` (any byte view: a Node Buffer is copied too, not shared). */
export function copyBytes(data: Uint8Array): Uint8Array {
  const out = allocBytes(data.length);
  out.set(data);
  return out;
}

/** The UTF-8 bytes of `s` (lone surrogates become U+FFFD, as `TextEncoder` makes them). */
export function encodeUtf8(s: string): Uint8Array {
  const max = s.length * 3; // a UTF-16 code unit takes at most 3 bytes
  if (max > POOLED_MAX) return encoder.encode(s);
  const start = reserve(max);
  const { written } = encoder.encodeInto(s, new Uint8Array(pool, start, max));
  commit(start, written);
  return new Uint8Array(pool, start, written);
}
