/**
 * One audit, end to end: read the chain, replay the source through the engine, compare with the
 * state file, update it. The CLI (scripts/cli/audit.ts) only parses flags and prints.
 */
import type { JsonRpcProvider } from 'ethers';
import type { Hex } from '../protocol/bytes';
import { Auditor, type AuditReport, type PriorAudit } from './engine';
import { readChainCheckpoints, type ChainView } from './chain';
import type { LogSource } from './sources';
import { readState, stateFileFor, stateKey, writeState } from './state';
import fs from 'node:fs';
import { ReceiptCheckPool } from '../crypto/signing-pool';
import { availableParallelism } from 'node:os';

export class AuditInputError extends Error {
  override readonly name = 'AuditInputError';
}

export interface RunAuditOptions {
  source: LogSource;
  provider: JsonRpcProvider;
  /** The registry to trust; default: the one the source names (reported as such). */
  registry?: string;
  mmdMs?: number;
  clockSkewMs?: number;
  fromBlock?: number;
  pageBlocks?: number;
  /** One state file for every log (`--state FILE`); null: none (unless `stateDir`). */
  statePath: string | null;
  /** A directory with one state file per log (default of the CLI: ~/.tianfu/audit-state/); ignored when statePath is set. */
  stateDir?: string | null;
  /** With stateDir: a shared state file read (never written) for a log whose own file does not exist yet. */
  legacyStatePath?: string | null;
  receiptSignatureStride?: number;
  /** Worker threads checking receipt signatures (default: cores − 1, at least 1, at most 8; 0: on this thread). */
  receiptWorkers?: number;
  now?: number;
  /** Called with (entries replayed, total expected) after each batch. */
  onProgress?: (done: number, total: number) => void;
  /** Called once the chain is read, before the replay starts. */
  onChain?: (view: ChainView) => void;
}

export interface RunAuditResult {
  report: AuditReport & { source: string; registryFrom: 'flag' | 'source'; chainBlock: number; durationMs: number };
  /** What was written to the state file (null when nothing was, e.g. after violations). */
  savedState: PriorAudit | null;
  /** The state file this audit read and wrote (null: none); `priorFrom` says where the prior came from. */
  stateFile: string | null;
  priorFrom: 'state' | 'legacy' | null;
}

export async function runAudit(o: RunAuditOptions): Promise<RunAuditResult> {
  const t0 = Date.now();
  const { source } = o;
  const meta = source.meta;
  const registry = (o.registry ?? meta.registry).toLowerCase() as Hex;
  const chain = await readChainCheckpoints(o.provider, registry, meta.logId, { fromBlock: o.fromBlock, pageBlocks: o.pageBlocks });
  if (chain.chainId !== meta.chainId) {
    throw new AuditInputError(`the ${source.description} is for chain ${meta.chainId}, but the RPC serves chain ${chain.chainId}`);
  }
  o.onChain?.(chain);
  const key = stateKey(chain.chainId, registry, meta.logId);
  const statePath = o.statePath ?? (o.stateDir ? stateFileFor(o.stateDir, chain.chainId, registry, meta.logId) : null);
  const stateFile = statePath ? readState(statePath) : null;
  let prior = stateFile?.logs[key] ?? null;
  let priorFrom: RunAuditResult['priorFrom'] = prior ? 'state' : null;
  if (!prior && !o.statePath && statePath && o.legacyStatePath && fs.existsSync(o.legacyStatePath) && !fs.existsSync(statePath)) {
    prior = readState(o.legacyStatePath).logs[key] ?? null;
    if (prior) priorFrom = 'legacy';
  }
  const now = o.now ?? Date.now();
  // Default: one worker per core beyond this thread's (at least one, at most 8).
  const workers = o.receiptWorkers ?? Math.max(1, Math.min(8, availableParallelism() - 1));
  if (!Number.isInteger(workers) || workers < 0 || workers > 64) throw new AuditInputError(`receipt workers must be an integer 0..64, got ${workers}`);
  const pool = source.hasReceipts && workers > 0 ? new ReceiptCheckPool(workers) : null;
  const auditor = new Auditor({
    logId: meta.logId,
    operator: chain.operator,
    operators: chain.operators,
    chainId: chain.chainId,
    registry,
    checkpoints: chain.checkpoints,
    mmdMs: o.mmdMs ?? 60_000,
    clockSkewMs: o.clockSkewMs,
    now,
    prior,
    claimed: { treeSize: meta.treeSize, rootHash: meta.rootHash },
    nodeCheckpoints: source.nodeCheckpoints,
    receipts: source.hasReceipts,
    records: source.hasRecords,
    receiptSignatureStride: o.receiptSignatureStride,
    receiptPool: pool,
  });
  for (const p of chain.problems) auditor.addViolation(p);
  if (meta.registry !== registry) {
    auditor.addViolation({ source: 'node', code: 'SOURCE_REGISTRY_MISMATCH', message: `the ${source.description} names registry ${meta.registry}; the audit used ${registry}` });
  }
  if (meta.operator !== chain.operator) {
    auditor.addViolation({ source: 'node', code: 'SOURCE_OPERATOR_MISMATCH', message: `the ${source.description} names operator ${meta.operator}; the registry says ${chain.operator}` });
  }
  try {
    for await (const batch of source.rows()) {
      for (const r of batch) auditor.push(r.row, r.receipt, r.record);
      // Backpressure: a few batches of receipts in flight on the pool, not the whole log in memory.
      await auditor.drainReceipts(2);
      o.onProgress?.(auditor.size, meta.treeSize);
    }
    await auditor.drainReceipts();
    const orphans = source.orphans();
    for (const i of orphans.receipts) auditor.orphan('receipt', i);
    for (const i of orphans.records) auditor.orphan('record', i);
  } finally {
    source.close();
    await pool?.close();
  }
  const report = auditor.finish();
  let savedState: PriorAudit | null = null;
  if (statePath && stateFile) {
    const next = auditor.nextState(report);
    if (next && (!prior || next.treeSize >= prior.treeSize)) {
      stateFile.logs[key] = next;
      writeState(statePath, stateFile);
      savedState = next;
    }
  }
  return {
    report: { ...report, source: source.description, registryFrom: o.registry ? 'flag' : 'source', chainBlock: chain.blockNumber, durationMs: Date.now() - t0 },
    savedState,
    stateFile: statePath,
    priorFrom,
  };
}
