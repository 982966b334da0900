/**
 * The byte arrays of data in flight (src/net/bytes.ts): small ones are carved from shared 8 KiB pools,
 * as Node's Buffer pool does, and must still behave as arrays of their own.
 */
import { describe, it, expect } from 'vitest';
import { run, socket } from 'geventjs';
import { allocBytes, copyBytes, encodeUtf8, POOL_BYTES, POOLED_MAX } from '../../src/net/bytes.js';

describe('pooled byte arrays', () => {
  it('small arrays share pools without overlapping, and come zero-filled', () => {
    const arrays: Uint8Array[] = [];
    let bytes = 0;
    for (let n = 1; bytes < 3 * POOL_BYTES; n = (n * 7 + 3) % 200) {
      const a = allocBytes(n);
      expect(a.length).toBe(n);
      expect(a.every((b) => b === 0)).toBe(true);
      expect(a.byteOffset % 8).toBe(0);
      arrays.push(a);
      bytes += n;
    }
    const pools = new Set(arrays.map((a) => a.buffer));
    expect(pools.size).toBeGreaterThanOrEqual(3);
    for (const p of pools) expect(p.byteLength).toBe(POOL_BYTES);
    // fill each with its own value: if any two overlapped, one would have been overwritten
    arrays.forEach((a, i) => a.fill(i & 0xff));
    arrays.forEach((a, i) => expect(a.every((b) => b === (i & 0xff))).toBe(true));
  });

  it('a larger array has storage of its own', () => {
    const big = allocBytes(POOLED_MAX + 1);
    expect(big.byteOffset).toBe(0);
    expect(big.buffer.byteLength).toBe(POOLED_MAX + 1);
    const edge = allocBytes(POOLED_MAX);
    expect(edge.buffer.byteLength).toBe(POOL_BYTES);
  });

  it('a pool transferred away (detached) is replaced, not written to', () => {
    const a = allocBytes(16);
    a.fill(7);
    structuredClone(a.buffer, { transfer: [a.buffer] }); // what postMessage(x, [data.buffer]) does
    expect(a.buffer.byteLength).toBe(0);
    const b = allocBytes(16);
    expect(b.buffer.byteLength).toBe(POOL_BYTES);
    expect([...b]).toEqual(new Array(16).fill(0));
    const s = encodeUtf8('after the transfer');
    expect(new TextDecoder().decode(s)).toBe('after the transfer');
    structuredClone(s.buffer, { transfer: [s.buffer] });
    expect(new TextDecoder().decode(encodeUtf8('and again'))).toBe('and again');
    // empty arrays are no views of a pool, so transferring one detaches nothing
    const empty = allocBytes(0);
    expect(empty.buffer).not.toBe(allocBytes(1).buffer);
    expect(encodeUtf8('').length).toBe(0);
  });

  it('copyBytes copies: the copy and the original are independent, whatever the original views', () => {
    const backing = new Uint8Array(100).map((_, i) => i);
    const view = backing.subarray(10, 30);
    const copy = copyBytes(view);
    expect([...copy]).toEqual([...view]);
    view.fill(0);
    expect(copy[0]).toBe(10);
    copy.fill(1);
    expect(backing[10]).toBe(0);
    // a view of the same pool, copied into that pool
    const pooled = copyBytes(new Uint8Array([1, 2, 3]));
    const again = copyBytes(pooled);
    pooled.fill(9);
    expect([...again]).toEqual([1, 2, 3]);
  });

  it('encodeUtf8 gives exactly what TextEncoder gives, and no more of the pool', () => {
    const encoder = new TextEncoder();
    for (const s of ['', 'a', 'hello world', 'héllo', '€uro', '😀', 'a\ud800b', '\udfff', 'x'.repeat(POOLED_MAX / 3), 'x'.repeat(POOLED_MAX / 3 + 1), 'é'.repeat(3000)]) {
      const got = encodeUtf8(s);
      expect(got).toEqual(encoder.encode(s));
      // the next array starts right after (aligned), not after the 3 bytes per character reserved
      if (got.length > 0 && got.buffer.byteLength === POOL_BYTES) {
        const next = allocBytes(1);
        if (next.buffer === got.buffer) expect(next.byteOffset).toBe(got.byteOffset + Math.ceil(got.length / 8) * 8);
      }
    }
  });

  it('what recv returns in simulation is pooled, whether a string or an array was sent', async () => {
    // a typed array held inside the JS heap would cost Node 24's TextDecoder ~0.7 µs per decode
    await run(async () => {
      const srv = socket();
      await srv.bind(['127.0.0.1', 0]);
      await srv.listen(1);
      const c = socket();
      await c.connect(srv.getsockname());
      const [conn] = await srv.accept();
      await c.send('hello');
      await c.send(new Uint8Array([1, 2, 3]));
      for (const want of [5, 3]) {
        const d = await conn.recv(want);
        expect(d.length).toBe(want);
        expect(d.buffer.byteLength).toBe(POOL_BYTES);
      }
      await c.send('abcdef');
      expect((await conn.recv(2)).buffer.byteLength).toBe(POOL_BYTES); // a piece cut from a chunk
    });
  });
});
