/**
 * Audit benchmark: `tianfu audit --from-export` replay time per 100,000 entries.
 *
 * Synthesizes an export of N entries offline (an invoice-like mix: issue, issue, issue, lock, book),
 * anchors a few of its checkpoints on the embedded chain (real registry, real consistency proofs),
 * then times `runAudit` over it: chain reads, JCS + leaf hash of every entry, the incremental tree,
 * every checkpoint root and consistency proof, the anchoring delay and the invoice lifecycle replay.
 * Receipt signatures are measured apart on a signed sample (signing 10^5 receipts to build the
 * export would take longer than the audit itself): the fast precomputed-key path, and the protocol
 * verifier's recovery for comparison, each per 100,000 receipts.
 *
 * Standalone: `npx tsx scripts/bench/audit.ts [entries]` (default 100000; env BENCH_AUDIT_ENTRIES).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Wallet } from 'ethers';
import { RECEIPT_TYPE, entryBytes, leafHash, logIdFor, receiptMessage, sha256, toHex, utf8, verifyReceiptSigner, type Hex, type LogEntry, type Receipt } from '../../node/protocol';
import { deployRegistry } from '../../node/chain/registry-client';
import { startEmbeddedChain } from '../../node/chain/embedded/embedded-chain';
import { EXPORT_FORMAT, ExportSource, ReceiptVerifier, TreeReplay, chainProvider, runAudit, type ExportManifest } from '../../node/audit';
import { Eip191Signer } from '../../node/crypto/eip191';

export interface BenchAuditOptions {
  entries?: number;
  /** Checkpoints anchored on chain (evenly spaced, the last at N). */
  checkpoints?: number;
  /** Receipts signed to time signature checks. */
  receiptSample?: number;
  log?: (line: string) => void;
}

export interface BenchAuditResult {
  entries: number;
  checkpoints: number;
  synthesizeMs: number;
  /** Whole runAudit (chain reads + replay + lifecycle). */
  auditMs: number;
  auditMsPer100k: number;
  entriesPerSec: number;
  /** Extrapolated replay of 10^6 entries (linear: the replay is O(n), memory O(log n) for the tree). */
  projected1eMillionS: number;
  violations: number;
  rssMiB: number;
  exportMiB: number;
  receipts: { sample: number; fastMsPer100k: number; protocolMsPer100k: number; fastShare: number };
  /** 10^6 entries with every receipt signature verified, and with 1 in 100 sampled. */
  projected1eMillionWithReceiptsS: number;
  projected1eMillionReceiptSample100S: number;
  /** Measured: the whole audit with receipts.jsonl, every signature checked, on this thread and with one worker. */
  withEveryReceipt: { inlineMs: number; oneWorkerMs: number; projected1eMillionInlineS: number; projected1eMillionOneWorkerS: number };
}

const KINDS = ['invoice.issued', 'invoice.issued', 'invoice.issued', 'invoice.reimbursement-locked', 'invoice.booked'] as const;

function subjectOf(n: number): string {
  return toHex(sha256(utf8(`bench subject ${n}`)));
}

export async function benchAudit(opts: BenchAuditOptions = {}): Promise<BenchAuditResult> {
  const log = opts.log ?? ((l: string) => void process.stderr.write(l + '\n'));
  const N = opts.entries ?? Number(process.env.BENCH_AUDIT_ENTRIES ?? 100_000);
  const K = Math.max(1, opts.checkpoints ?? 4);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-bench-audit-'));
  const exportDir = path.join(dir, 'export');
  fs.mkdirSync(exportDir);
  const operator = Wallet.createRandom();
  const logId = logIdFor('bench-audit');
  const chain = await startEmbeddedChain({ dataDir: dir, port: 0, fundedKeys: [operator.privateKey as Hex] });
  const provider = chainProvider(chain.rpcUrl);
  try {
    const signer = operator.connect(provider);
    const { client } = await deployRegistry(signer);
    await client.createLog(logId, operator.address);

    // 1. Synthesize entries.jsonl, anchoring checkpoints as the tree passes their sizes.
    const t0 = performance.now();
    const sizes = Array.from({ length: K }, (_, i) => Math.max(1, Math.round(((i + 1) * N) / K)));
    const tree = new TreeReplay();
    for (let i = 1; i < sizes.length; i++) tree.wantConsistency(sizes[i - 1]!, sizes[i]!);
    const fd = fs.openSync(path.join(exportDir, 'entries.jsonl'), 'w');
    const base = Date.now();
    let buf: string[] = [];
    let prevSize = 0;
    let prevRoot: Uint8Array | null = null;
    let issued = 0;
    const anchors: Promise<unknown>[] = [];
    const leaves: { leafHash: Hex; at: string }[] = [];
    for (let i = 0; i < N; i++) {
      const kind = KINDS[i % 5]!;
      // issue three, then lock the first of them and book the second: a lawful history.
      const group = Math.floor(i / 5) * 3;
      const subject = kind === 'invoice.issued' ? subjectOf(issued++) : subjectOf(group + (kind === 'invoice.booked' ? 1 : 0));
      const entry: LogEntry = { v: 1, kind, subject, commitment: toHex(sha256(utf8(`c${i}`))), at: new Date(base + Math.floor(i / 1000)).toISOString() };
      const leaf = leafHash(entryBytes(entry));
      tree.append(leaf);
      buf.push(JSON.stringify({ index: i, entry, leafHash: toHex(leaf) }));
      leaves.push({ leafHash: toHex(leaf) as Hex, at: entry.at });
      if (buf.length >= 5000) {
        fs.writeSync(fd, buf.join('\n') + '\n');
        buf = [];
      }
      if (sizes.includes(tree.size)) {
        const root = tree.root();
        const proof = prevSize === 0 ? [] : tree.consistencyProof(prevSize, tree.size).map(toHex);
        // Anchors are sent in order (same signer, increasing nonces) while synthesis goes on.
        anchors.push(client.anchor({ logId, treeSize: tree.size, rootHash: toHex(root), consistencyProof: proof }));
        await anchors[anchors.length - 1];
        prevSize = tree.size;
        prevRoot = root;
      }
    }
    if (buf.length > 0) fs.writeSync(fd, buf.join('\n') + '\n');
    fs.closeSync(fd);
    await Promise.all(anchors);
    void prevRoot;
    const manifest: ExportManifest = {
      format: EXPORT_FORMAT,
      logId,
      chainId: (await provider.getNetwork()).chainId.toString(),
      registry: client.address,
      operator: operator.address.toLowerCase() as Hex,
      treeSize: N,
      rootHash: toHex(tree.root()),
      exportedAt: new Date().toISOString(),
      records: false,
    };
    fs.writeFileSync(path.join(exportDir, 'manifest.json'), JSON.stringify(manifest));
    const synthesizeMs = performance.now() - t0;
    const exportMiB = fs.statSync(path.join(exportDir, 'entries.jsonl')).size / 1024 ** 2;
    log(`audit bench: synthesized ${N} entries (${exportMiB.toFixed(1)} MiB) and anchored ${K} checkpoints in ${(synthesizeMs / 1000).toFixed(1)} s`);

    // 2. The timed part: the audit replay, exactly as `tianfu audit --from-export` runs it.
    const t1 = performance.now();
    const { report } = await runAudit({ source: new ExportSource(exportDir), provider, statePath: null, mmdMs: 24 * 3_600_000 });
    const auditMs = performance.now() - t1;
    if (report.checkpoints.verified !== K) throw new Error(`bench audit verified ${report.checkpoints.verified} of ${K} checkpoints: ${JSON.stringify(report.violations.slice(0, 3))}`);
    const rssMiB = process.memoryUsage().rss / 1024 ** 2;
    log(`audit bench: replayed ${N} entries in ${(auditMs / 1000).toFixed(2)} s (${Math.round(N / (auditMs / 1000))} entries/s), ${report.violations.length} violations, ${report.checkpoints.consistencyProofs} consistency proofs, RSS ${rssMiB.toFixed(0)} MiB`);

    // 3. Receipt signatures, on a signed sample (signed as the node signs: same bytes as ethers).
    const receiptSigner = new Eip191Signer(operator.privateKey as Hex);
    const S = opts.receiptSample ?? 2000;
    const receipts: Receipt[] = [];
    for (let i = 0; i < S; i++) {
      const p = { logId, index: i, leafHash: toHex(sha256(utf8(`l${i}`))) as Hex, at: new Date(base).toISOString() };
      receipts.push({ type: RECEIPT_TYPE, ...p, signature: receiptSigner.sign(receiptMessage(p)) });
    }
    const verifier = new ReceiptVerifier(operator.address.toLowerCase() as Hex);
    const t2 = performance.now();
    for (const r of receipts) verifier.verify(r);
    const fastMs = performance.now() - t2;
    const P = Math.min(S, 300);
    const t3 = performance.now();
    for (let i = 0; i < P; i++) verifyReceiptSigner(receipts[i]!, operator.address);
    const protocolMs = performance.now() - t3;
    const fastMsPer100k = (fastMs / S) * 100_000;
    const protocolMsPer100k = (protocolMs / P) * 100_000;
    log(`audit bench: receipt signatures ${(fastMs / S).toFixed(3)} ms each on the precomputed-key path (${verifier.fast}/${S} fast), ${(protocolMs / P).toFixed(3)} ms with recovery`);

    // 4. The whole audit with every receipt: a receipts.jsonl signed by the operator (native curve,
    // not timed), then runAudit with the signatures checked on this thread and on one worker.
    const ts = performance.now();
    const rfd = fs.openSync(path.join(exportDir, 'receipts.jsonl'), 'w');
    let rbuf: string[] = [];
    leaves.forEach((l, i) => {
      const p = { logId, index: i, leafHash: l.leafHash, at: l.at };
      rbuf.push(JSON.stringify({ type: RECEIPT_TYPE, ...p, signature: receiptSigner.sign(receiptMessage(p)) }));
      if (rbuf.length >= 5000) {
        fs.writeSync(rfd, rbuf.join('\n') + '\n');
        rbuf = [];
      }
    });
    if (rbuf.length > 0) fs.writeSync(rfd, rbuf.join('\n') + '\n');
    fs.closeSync(rfd);
    log(`audit bench: signed ${N} receipts for the export in ${((performance.now() - ts) / 1000).toFixed(1)} s`);
    const withReceipts = async (receiptWorkers: number): Promise<number> => {
      const t = performance.now();
      const { report: r } = await runAudit({ source: new ExportSource(exportDir), provider, statePath: null, mmdMs: 24 * 3_600_000, receiptWorkers });
      if (r.violations.length > 0 || r.receipts.signaturesVerified !== N) throw new Error(`bench audit with receipts: ${r.receipts.signaturesVerified}/${N} signatures, ${JSON.stringify(r.violations.slice(0, 3))}`);
      return performance.now() - t;
    };
    const receiptsInlineMs = await withReceipts(0);
    const receiptsPooledMs = await withReceipts(1);
    log(`audit bench: ${N} entries with every receipt: ${(receiptsInlineMs / 1000).toFixed(2)} s on one thread, ${(receiptsPooledMs / 1000).toFixed(2)} s with one receipt worker`);

    const auditMsPer100k = (auditMs / N) * 100_000;
    const result: BenchAuditResult = {
      entries: N,
      checkpoints: K,
      synthesizeMs: Math.round(synthesizeMs),
      auditMs: Math.round(auditMs),
      auditMsPer100k: Math.round(auditMsPer100k),
      entriesPerSec: Math.round(N / (auditMs / 1000)),
      projected1eMillionS: Math.round(auditMsPer100k * 10) / 1000,
      violations: report.violations.length,
      rssMiB: Math.round(rssMiB),
      exportMiB: Math.round(exportMiB * 10) / 10,
      receipts: { sample: S, fastMsPer100k: Math.round(fastMsPer100k), protocolMsPer100k: Math.round(protocolMsPer100k), fastShare: verifier.fast / S },
      projected1eMillionWithReceiptsS: Math.round((auditMsPer100k + fastMsPer100k) * 10) / 1000,
      projected1eMillionReceiptSample100S: Math.round((auditMsPer100k + fastMsPer100k / 100) * 10) / 1000,
      withEveryReceipt: {
        inlineMs: Math.round(receiptsInlineMs),
        oneWorkerMs: Math.round(receiptsPooledMs),
        projected1eMillionInlineS: Math.round((receiptsInlineMs / N) * 1e6) / 1000,
        projected1eMillionOneWorkerS: Math.round((receiptsPooledMs / N) * 1e6) / 1000,
      },
    };
    log(`audit bench: ${JSON.stringify(result)}`);
    return result;
  } finally {
    provider.destroy();
    await chain.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const n = process.argv[2] ? Number(process.argv[2]) : undefined;
  benchAudit({ entries: n })
    .then((r) => process.stdout.write(JSON.stringify(r, null, 2) + '\n'))
    .catch((err: unknown) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    });
}
