/**
 * The SM3 worker's ring (node/evidence/sm3-offload.ts): chunks of every size, larger than the ring
 * included, from several sessions at once, give OpenSSL's SM3 over the same bytes; a dropped session
 * leaves the others intact, and rings are reused without mixing sessions' bytes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { OffloadedSm3, RING_BYTES } from '../../node/evidence/sm3-offload';

const sm3 = (chunks: Buffer[]): string => {
  const h = createHash('sm3');
  for (const c of chunks) h.update(c);
  return h.digest('hex');
};

async function feed(chunks: Buffer[]): Promise<string> {
  const s = new OffloadedSm3();
  for (const c of chunks) await s.update(c);
  return s.digest();
}

describe('SM3 on the worker, through the ring', () => {
  it('chunk sizes from 0 bytes to twice the ring, in odd positions, match node:crypto', async () => {
    const sizes = [0, 1, 7, 65536, RING_BYTES - 3, 5, RING_BYTES * 2 + 11, 1 << 20, 3, RING_BYTES];
    const chunks = sizes.map((n) => randomBytes(n));
    expect(await feed(chunks)).toBe(sm3(chunks));
    expect(await feed([])).toBe(sm3([]));
  });

  it('eight sessions at once, one dropped half-way, each its own digest; rings are reused after', async () => {
    const inputs = Array.from({ length: 8 }, (_, i) => Array.from({ length: 40 }, (_, j) => randomBytes(1000 + ((i * 7919 + j * 104729) % 300_000))));
    const dropped = new OffloadedSm3();
    await dropped.update(randomBytes(RING_BYTES - 1));
    const results = Promise.all(inputs.map(feed));
    dropped.drop();
    expect(await results).toEqual(inputs.map(sm3));
    const again = inputs.slice(0, 3).map((c) => c.slice().reverse());
    expect(await Promise.all(again.map(feed))).toEqual(again.map(sm3));
  });
});
