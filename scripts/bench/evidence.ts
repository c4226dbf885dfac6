/**
 * Evidence ingest benchmark (issue 5 targets: a 2 GiB deposit grows RSS by < 64 MB and runs at
 * >= 50% of the speed of SHA-256 + SM3 over the same bytes in the same run).
 *
 * Measures, over one deterministic pseudo-random stream generated on the fly (AES-256-CTR
 * keystream, never held in memory):
 *  - generate: the generator alone (what both measurements below also pay);
 *  - raw hash: SHA-256 + SM3 (node:crypto) over the stream, no disk — the baseline;
 *  - ingest: BlobStore.ingest (both digests, temp file, fsync, rename, directory fsync);
 *  - RSS growth during the ingest: peak RSS sampled every 10 ms minus RSS just before it;
 *  - small files: blob ingests per second for distinct 4 KiB files (each fsynced).
 * The blob store is the content half of a deposit; the log append and receipt are the sequencer's
 * and are benchmarked there.
 *
 * Standalone: `npx tsx scripts/bench/evidence.ts [bytes] [smallFiles]` (default 2 GiB, 500).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobStore } from '../../node/evidence/blob-store';
import { randomStream } from '../../test/evidence/fixtures/random-stream';
import { rawBaseline, timed } from './evidence-baseline';

export interface BenchEvidenceOptions {
  /** Size of the large file in bytes (default 2 GiB). */
  bytes?: number;
  /** Number of distinct small files for the deposits-per-second figure. */
  smallFiles?: number;
  smallFileBytes?: number;
  dir?: string;
  keep?: boolean;
  log?: (line: string) => void;
}

export interface BenchEvidenceResult {
  bytes: number;
  generateMiBps: number;
  rawHashMiBps: number;
  ingestMiBps: number;
  /** ingest speed / raw SHA-256+SM3 speed (target >= 0.5). */
  ingestVsRawHash: number;
  rssBeforeMiB: number;
  rssPeakGrowthMiB: number;
  smallFiles: number;
  smallFileBytes: number;
  smallIngestsPerSec: number;
  sha256: string;
  sm3: string;
}

const MiB = 1024 * 1024;



const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

export async function benchEvidenceIngest(opts: BenchEvidenceOptions = {}): Promise<BenchEvidenceResult> {
  const size = opts.bytes ?? 2 * 1024 * MiB;
  const smallFiles = opts.smallFiles ?? 500;
  const smallFileBytes = opts.smallFileBytes ?? 4096;
  const log = opts.log ?? ((line: string) => console.log(line));
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'tianfu-bench-evidence-')));
  const seed = 'bench evidence';
  try {
    const store = await BlobStore.open(dir);
    // Warm every code path before measuring memory.
    await store.ingest(randomStream(MiB, 'warm-up'), { maxBytes: MiB });

    const { genSecs, rawSecs, sha256: rawSha, sm3: rawSm3 } = await rawBaseline(size, seed);

    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 10);
    let result: Awaited<ReturnType<BlobStore['ingest']>> | undefined;
    const ingestSecs = await timed(async () => {
      result = await store.ingest(randomStream(size, seed), { maxBytes: size });
    });
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    if (!result || result.sha256 !== rawSha || result.sm3 !== rawSm3) throw new Error(`ingest digests ${result?.sha256}/${result?.sm3} differ from the raw hash ${rawSha}/${rawSm3}`);
    await store.erase(result.sha256);

    const smallSecs = await timed(async () => {
      for (let i = 0; i < smallFiles; i++) await store.ingest(randomStream(smallFileBytes, `small ${i}`), { maxBytes: smallFileBytes });
    });

    const out: BenchEvidenceResult = {
      bytes: size,
      generateMiBps: round(size / MiB / genSecs),
      rawHashMiBps: round(size / MiB / rawSecs),
      ingestMiBps: round(size / MiB / ingestSecs),
      ingestVsRawHash: round(rawSecs / ingestSecs, 2),
      rssBeforeMiB: round(rssBefore / MiB),
      rssPeakGrowthMiB: round((peak - rssBefore) / MiB),
      smallFiles,
      smallFileBytes,
      smallIngestsPerSec: round(smallFiles / smallSecs),
      sha256: rawSha,
      sm3: rawSm3,
    };
    log(`evidence ingest, ${round(size / MiB, 0)} MiB: generate ${out.generateMiBps} MiB/s; SHA-256+SM3 raw ${out.rawHashMiBps} MiB/s; ingest ${out.ingestMiBps} MiB/s (${out.ingestVsRawHash}x raw, target >= 0.5)`);
    log(`  RSS before ${out.rssBeforeMiB} MiB, peak growth during ingest ${out.rssPeakGrowthMiB} MiB (target < 64 MB)`);
    log(`  small files: ${out.smallIngestsPerSec} ingests/s (${smallFiles} x ${smallFileBytes} B, each fsynced)`);
    return out;
  } finally {
    if (!opts.keep && opts.dir === undefined) await rm(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const bytes = process.argv[2] === undefined ? undefined : Number(process.argv[2]);
  const smallFiles = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
  const opts: BenchEvidenceOptions = {};
  if (bytes !== undefined) opts.bytes = bytes;
  if (smallFiles !== undefined) opts.smallFiles = smallFiles;
  benchEvidenceIngest(opts)
    .then((r) => console.log(JSON.stringify(r)))
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
