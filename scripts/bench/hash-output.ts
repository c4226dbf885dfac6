/**
 * What a SHA-256 costs under Node by the form its digest is asked in: `npx tsx scripts/bench/hash-output.ts`.
 * `crypto.hash(…, 'buffer')` allocates an ArrayBuffer for every digest; `'latin1'` returns a short string
 * that node/protocol/hash.ts copies into a plain Uint8Array. Likewise UTF-8: TextEncoder allocates an
 * ArrayBuffer per string, Buffer.from (node/protocol/bytes.ts utf8) copies a short one into Node's pool.
 * Prints µs per hash for a 65-byte state-map node and a 1 000-byte record, and µs per encoding of a
 * 220-character log entry, three rounds each. Not part of `npm run bench` (a micro-benchmark).
 */
import crypto from 'node:crypto';
import { sha256 } from '../../node/protocol/hash';
import { utf8 } from '../../node/protocol/bytes';

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
  const entry = '{"at":"2026-12-04T03:37:40.123Z","commitment":"0x' + 'ab'.repeat(32) + '","kind":"invoice.issued","subject":"0x' + 'cd'.repeat(32) + '","v":1}';
  const encoder = new TextEncoder();
  for (const [label, f] of [['TextEncoder.encode', (t: string) => encoder.encode(t)], ['Buffer.from + view (protocol utf8)', utf8]] as const) {
    let x = 0;
    const t = performance.now();
    // A new string each time, as the writer's are (a repeated one would be cached flat).
    for (let i = 0; i < N; i++) x += f(entry.slice(0, 200) + String(i).padStart(20, '0'))[0]!;
    console.log(`${label.padEnd(44)} ${'220'.padStart(5)} ch ${(((performance.now() - t) * 1000) / N).toFixed(3)} µs/encoding${x < 0 ? '' : ''}`);
  }
}
