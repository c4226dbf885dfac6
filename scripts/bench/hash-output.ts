/**
 * What a SHA-256 costs under Node by the form its digest is asked in: `npx tsx scripts/bench/hash-output.ts`.
 * `crypto.hash(…, 'buffer')` allocates an ArrayBuffer for every digest; `'latin1'` returns a short string
 * that node/protocol/hash.ts copies into a plain Uint8Array. Prints µs per hash for a 65-byte state-map
 * node and a 1 000-byte record, three rounds each. Not part of `npm run bench` (a micro-benchmark).
 */
import crypto from 'node:crypto';
import { sha256 } from '../../node/protocol/hash';

const N = 300_000;

function time(label: string, size: number, n: number, f: (d: Uint8Array) => number): void {
  const data = new Uint8Array(size).fill(7);
  let x = 0;
  const t = performance.now();
  for (let i = 0; i < n; i++) {
    data[1] = i & 0xff;
    x += f(data);
  }
  console.log(`${label.padEnd(44)} ${size.toString().padStart(5)} B  ${(((performance.now() - t) * 1000) / n).toFixed(3)} µs/hash${x < 0 ? '' : ''}`);
}

for (let round = 1; round <= 3; round++) {
  console.log(`round ${round}`);
  for (const size of [65, 1000]) {
    const n = size > 100 ? N / 3 : N;
    time("crypto.hash 'buffer' + Uint8Array view", size, n, (d) => {
      const b = crypto.hash('sha256', d, 'buffer') as Buffer;
      return new Uint8Array(b.buffer, b.byteOffset, 32)[0]!;
    });
    time("crypto.hash 'latin1' + copy (protocol sha256)", size, n, (d) => sha256(d)[0]!);
  }
}
