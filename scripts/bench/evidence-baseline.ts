/**
 * The baseline both evidence benchmarks compare against (scripts/bench/evidence.ts for the blob store,
 * evidence-http.ts over HTTP): generating the same pseudo-random stream, and hashing it with plain
 * SHA-256 + SM3 in this process, with nothing else in the way.
 */
import { createHash } from 'node:crypto';
import { randomStream } from '../../test/evidence/fixtures/random-stream';

/** Seconds `fn` takes. */
export async function timed(fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

export interface RawBaseline {
  /** Seconds to generate the stream alone. */
  genSecs: number;
  /** Seconds to generate it and hash it with SHA-256 and SM3. */
  rawSecs: number;
  /** Its digests (0x-hex): what the measured path must also give. */
  sha256: string;
  sm3: string;
}

export async function rawBaseline(size: number, seed: string): Promise<RawBaseline> {
  const genSecs = await timed(async () => {
    for await (const _chunk of randomStream(size, seed)) void _chunk;
  });
  let sha256 = '';
  let sm3 = '';
  const rawSecs = await timed(async () => {
    const sha = createHash('sha256');
    const sm = createHash('sm3');
    for await (const chunk of randomStream(size, seed)) {
      sha.update(chunk as Buffer);
      sm.update(chunk as Buffer);
    }
    sha256 = '0x' + sha.digest('hex');
    sm3 = '0x' + sm.digest('hex');
  });
  return { genSecs, rawSecs, sha256, sm3 };
}
