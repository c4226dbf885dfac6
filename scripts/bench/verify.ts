/**
 * Bundle verification benchmark (issue 6): bundles verified per second,
 *  - offline: everything but the chain (canonical bytes, digest, commitment, leaf, inclusion proof,
 *    receipt signature recovery, history, file digests compared) — `verifyBundleOffline`;
 *  - with the chain read: the same plus chain id, registry code, checkpoint(logId, treeSize),
 *    operatorOf, the block, the head and the anchoring transaction over real HTTP JSON-RPC
 *    (`verifyBundle` with node/chain/chain-reader), one bundle at a time and 8 at once.
 * The bundles are real: evidence deposits with custody events, appended by a real node (embedded
 * Hardhat chain, LevelDB) and anchored. File hashing is not included (the CLI streams SHA-256 + SM3
 * at the speeds in scripts/bench/evidence.ts).
 *
 * Standalone: `npx tsx scripts/bench/verify.ts [seconds]` (default 2 s per measurement).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, Ledger, type Actor } from '../../node';
import { buildCustodyRecord, buildDepositRecord, custodyKind, newEvidenceId, parseEvidenceMetadata } from '../../node/evidence/model';
import type { Bundle, Hex } from '../../node/protocol';
import { verifyBundle, verifyBundleOffline } from '../../node/verifier';
import { recoverEip191Signer } from '../../node/crypto/eip191';
import { connectChainReader } from '../../node/chain/chain-reader';

export interface BenchVerifyOptions {
  /** Seconds per measurement (default 2). */
  seconds?: number;
  /** Custody events after the deposit in the multi-item bundle (default 2, so 3 items). */
  custodyEvents?: number;
  /** Progress lines (npm run bench passes one). */
  log?: (line: string) => void;
}

export interface VerifyRate {
  bundles: number;
  seconds: number;
  bundlesPerSec: number;
  msPerBundle: number;
}

export interface BenchVerifyResult {
  /** Headline figures first (npm run bench prints the first numeric leaves). */
  /** As the CLI and POST /v1/verify run it: libsecp256k1 receipt recovery. */
  offlineBundlesPerSec: number;
  /** As the browser page runs it: pure-JS recovery. */
  offlinePureJsBundlesPerSec: number;
  chainBundlesPerSec: number;
  chainConcurrent8BundlesPerSec: number;
  offlineOneItemBundlesPerSec: number;
  itemsPerBundle: number;
  offline: { oneItem: VerifyRate; multiItem: VerifyRate; multiItemPureJs: VerifyRate };
  withChain: { sequential: VerifyRate; concurrent8: VerifyRate; rpc: string };
}

const collector: Actor = { keyId: 'bench-collector', role: 'collector' };

async function measure(seconds: number, run: () => Promise<unknown> | unknown, concurrency = 1): Promise<VerifyRate> {
  for (let i = 0; i < 5; i++) await run(); // warm-up (JIT, connections)
  let n = 0;
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await run();
        n++;
      }
    }),
  );
  const s = (performance.now() - t0) / 1000;
  return { bundles: n, seconds: Number(s.toFixed(2)), bundlesPerSec: Math.round(n / s), msPerBundle: Number(((s * 1000) / n).toFixed(3)) };
}

async function deposit(ledger: Ledger, events: number): Promise<{ id: string; file: { sha256: Hex; sm3: Hex; size: number } }> {
  const id = newEvidenceId();
  const file = { sha256: `0x${randomBytes(32).toString('hex')}` as Hex, sm3: `0x${randomBytes(32).toString('hex')}` as Hex, size: 4096 };
  const metadata = parseEvidenceMetadata({
    title: 'bench capture', mediaType: 'text/html', fileName: 'page.html', method: 'web-page',
    source: { url: 'https://shop.example.com/item/42' }, capturedAt: '2025-03-01T10:15:00+08:00', environment: { tool: 'bench', toolVersion: '1' },
  });
  await ledger.sequencer.submit({ kind: 'evidence.deposited', subject: id, actor: collector, record: buildDepositRecord({ evidenceId: id, metadata, file, collector }) as unknown as Record<string, unknown> });
  for (let i = 0; i < events; i++) {
    await ledger.sequencer.submit({
      kind: custodyKind('annotated'), subject: id, actor: collector,
      record: buildCustodyRecord(id, { event: 'annotated', reason: `note ${i}` }, collector) as unknown as Record<string, unknown>,
    });
  }
  return { id, file };
}

export async function benchVerify(opts: BenchVerifyOptions = {}): Promise<BenchVerifyResult> {
  const seconds = opts.seconds ?? 2;
  const events = opts.custodyEvents ?? 2;
  const log = opts.log ?? (() => undefined);
  const dir = mkdtempSync(join(tmpdir(), 'tianfu-bench-verify-'));
  const config = loadConfig({ TIANFU_DATA_DIR: dir, TIANFU_PORT: '0', TIANFU_CHAIN_PORT: '0', TIANFU_LOG_LEVEL: 'silent', TIANFU_CHECKPOINT_INTERVAL_MS: '100' });
  const ledger = await Ledger.start(config);
  try {
    const one = await deposit(ledger, 0);
    const multi = await deposit(ledger, events);
    const deadline = Date.now() + 30_000;
    while ((ledger.anchorer.status().anchored?.treeSize ?? 0) < ledger.log.size) {
      if (Date.now() > deadline) throw new Error('bench: the records were not anchored within 30 s');
      await new Promise((r) => setTimeout(r, 25));
    }
    const oneBundle: Bundle = await ledger.bundle('evidence', one.id, { file: one.file });
    const multiBundle: Bundle = await ledger.bundle('evidence', multi.id, { file: multi.file });
    const check = (b: Bundle, v: string): void => {
      if (v === 'invalid') throw new Error(`bench: bundle ${b.subject} did not verify`);
    };
    log(`verify: measuring offline verification (${seconds} s each)`);
    // As the CLI and POST /v1/verify run it (libsecp256k1 recovery), and as the browser page does (pure JS).
    const node = { recoverSigner: recoverEip191Signer };
    const offlineOne = await measure(seconds, () => check(oneBundle, verifyBundleOffline(oneBundle, { file: one.file, ...node }).verdict));
    const offlineMulti = await measure(seconds, () => check(multiBundle, verifyBundleOffline(multiBundle, { file: multi.file, ...node }).verdict));
    const offlineMultiPureJs = await measure(seconds, () => check(multiBundle, verifyBundleOffline(multiBundle, { file: multi.file }).verdict));
    const reader = await connectChainReader(ledger.chain.rpcUrl);
    try {
      const run = async (): Promise<void> => {
        const r = await verifyBundle(multiBundle, { chain: reader, file: multi.file, ...node });
        if (r.verdict !== 'valid') throw new Error(`bench: ${r.verdict} at ${r.firstFailure?.name}: ${r.firstFailure?.detail}`);
      };
      log('verify: measuring verification with the chain read over JSON-RPC');
      const sequential = await measure(seconds, run);
      const concurrent8 = await measure(seconds, run, 8);
      return {
        offlineBundlesPerSec: offlineMulti.bundlesPerSec,
        offlinePureJsBundlesPerSec: offlineMultiPureJs.bundlesPerSec,
        chainBundlesPerSec: sequential.bundlesPerSec,
        chainConcurrent8BundlesPerSec: concurrent8.bundlesPerSec,
        offlineOneItemBundlesPerSec: offlineOne.bundlesPerSec,
        itemsPerBundle: multiBundle.items.length,
        offline: { oneItem: offlineOne, multiItem: offlineMulti, multiItemPureJs: offlineMultiPureJs }, withChain: { sequential, concurrent8, rpc: 'embedded Hardhat chain over HTTP JSON-RPC (same machine), 7 reads per bundle' } };
    } finally {
      reader.close();
    }
  } finally {
    await ledger.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const seconds = process.argv[2] === undefined ? undefined : Number(process.argv[2]);
  benchVerify(seconds === undefined ? {} : { seconds })
    .then((r) => console.log(JSON.stringify(r, null, 2)))
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
