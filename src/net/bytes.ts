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
 * or `slice()` for a compact copy of one's own, which is also what to transfer to a worker), and a
 * view kept alive keeps its 8 KiB pool alive.
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

function freshPool(): void {
  pool = new ArrayBuffer(POOL_BYTES);
  used = 0;
}

/** Hands out bytes [start, start + n) of the current pool; the next slice starts 8-byte aligned, as Node's do. */
function slice(start: number, n: number): Uint8Array {
  used = (start + n + 7) & ~7;
  return new Uint8Array(pool, start, n);
}

/** A zero-filled array of `n` bytes. */
export function allocBytes(n: number): Uint8Array {
  if (n > POOLED_MAX || n === 0) return new Uint8Array(n); // (an empty view would pin the pool for nothing)
  // (a pool someone transferred to a worker is detached, with byteLength 0: go on with a fresh one)
  if (used + n > pool.byteLength) freshPool();
  return slice(used, n);
}

/** A copy of `data` (any byte view: a Node Buffer is copied too, not shared). */
export function copyBytes(data: Uint8Array): Uint8Array {
  const out = allocBytes(data.length);
  out.set(data);
  return out;
}

/**
 * The UTF-8 bytes of `s` (lone surrogates become U+FFFD, as `TextEncoder` makes them). It is encoded
 * into the rest of the current pool when that may hold it (an ASCII string needs a byte per code unit),
 * else into a fresh pool, which always can (a code unit takes at most 3 bytes).
 */
export function encodeUtf8(s: string): Uint8Array {
  const n = s.length;
  if (n * 3 > POOLED_MAX || n === 0) return encoder.encode(s);
  const start = used;
  const room = pool.byteLength - start; // negative when the pool was transferred away
  if (room >= n) {
    const r = encoder.encodeInto(s, new Uint8Array(pool, start, room));
    if (r.read === n) return slice(start, r.written);
    // it did not fit: what it wrote is never handed out, as a fresh pool follows
  }
  freshPool();
  return slice(0, encoder.encodeInto(s, new Uint8Array(pool)).written);
}
