/**
 * The anchorer (docs/protocol.md §6–7): every interval, when the log has grown, it signs the checkpoint
 * off-chain and sends `anchor()` with the RFC 9162 consistency proof from the last checkpoint the
 * CHAIN says is anchored (never from local belief), waits for the confirmations, re-reads the
 * receipt at that depth and compares block hashes (a reorg that dropped the transaction is seen and
 * the checkpoint re-sent), replaces stuck transactions at the same nonce, and backs off while the
 * chain is unreachable. Each raw transaction is persisted before it is broadcast, so after a crash
 * the anchorer either finds it mined or re-broadcasts the very same transaction: never a duplicate
 * checkpoint, never a gap.
 */
import { Transaction, keccak256, type JsonRpcProvider, type Wallet, type TransactionLike, type TransactionRequest } from 'ethers';
import { Eip191Signer } from './crypto/eip191';
import { TransactionSigner } from './crypto/transaction';
import { CHECKPOINT_TYPE, checkpointMessage, parseEntry, type Hex, type SignedCheckpoint } from './protocol';
import type { BatchOp, Database } from './store/db';
import type { LogStore } from './store/log-store';
import { RegistryError, type RegistryClient } from './chain/registry-client';

const PREFIX = '!anc!';
const STATE_KEY = PREFIX + 'state';
const CP = PREFIX + 'cp'; // cp<treeSize padded> → AnchoredRecord
const pad = (n: number): string => n.toString(16).padStart(12, '0');

/** An anchored checkpoint as the node records it (GET /v1/log/checkpoints). */
export interface AnchoredRecord {
  treeSize: number;
  rootHash: Hex;
  txHash: Hex;
  blockNumber: string;
  blockHash: Hex;
  timestamp: string;
  /** The operator's off-chain signature over the checkpoint. */
  signature: Hex;
}

interface Inflight {
  treeSize: number;
  fromSize: number;
  rootHash: Hex;
  raw: string;
  txHash: Hex;
  nonce: number;
  sentAt: number;
  /** Previous hashes of this checkpoint's transaction (replaced as stuck); any of them may be mined. */
  replaced: Hex[];
}

interface PersistedState {
  inflight: Inflight | null;
}

export interface AnchorerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface AnchorerOptions {
  db: Database;
  log: LogStore;
  registry: RegistryClient;
  provider: JsonRpcProvider;
  wallet: Wallet;
  logId: Hex;
  intervalMs: number;
  confirmations: number;
  mmdMs: number;
  logger?: AnchorerLogger;
  /** A transaction not mined after this long is replaced at the same nonce with a higher fee. */
  stuckMs?: number;
  /** Where to start looking for CheckpointAnchored events (the registry's deploy block), not block 0. */
  eventsFromBlock?: number;
  clock?: () => number;
  /** Runs before a new checkpoint is chosen (the ledger appends its state.root entry here, so the checkpoint covers it). */
  beforeAnchor?: () => Promise<unknown>;
}

export interface AnchorerStatus {
  anchored: AnchoredRecord | null;
  treeSize: number;
  /** Acceptance time of the oldest entry not yet anchored, or null. */
  oldestUnanchoredAt: string | null;
  /** True when that entry is older than the maximum merge delay. */
  mmdExceeded: boolean;
  lastError: string | null;
  chainReachable: boolean;
  inflight: { treeSize: number; txHash: Hex; sentAt: string } | null;
}

export class AnchorerFatalError extends Error {
  override readonly name = 'AnchorerFatalError';
}

const silent: AnchorerLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export class Anchorer {
  private readonly o: Required<Omit<AnchorerOptions, 'logger' | 'stuckMs' | 'clock' | 'eventsFromBlock' | 'beforeAnchor'>> & Pick<AnchorerOptions, 'beforeAnchor'> & { logger: AnchorerLogger; stuckMs: number; clock: () => number; eventsFromBlock: number };
  private state: PersistedState = { inflight: null };
  private anchored: AnchoredRecord | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;
  private backoffMs = 0;
  private lastError: string | null = null;
  private chainReachable = true;
  private oldestUnanchored: { index: number; at: string } | null = null;
  private fatal: Error | null = null;
  /** Counters and observations for /metrics. */
  readonly metrics = { rpcErrors: 0, reorgs: 0, anchorsSent: 0, anchorsConfirmed: 0, replacements: 0, lastGasUsed: 0n, totalGasUsed: 0n, lastAnchorLatencyMs: 0 };
  /** Called whenever a checkpoint is confirmed, with the time from the oldest entry it newly covers to now (ms). */
  onAnchored: ((rec: AnchoredRecord, previousSize: number, latencyMs: number | null) => void) | null = null;

  /** The operator key on libsecp256k1: same bytes as the wallet's ethers signatures, ~5 ms less of this thread each. */
  private readonly txSigner: TransactionSigner;
  private readonly messageSigner: Eip191Signer;

  private constructor(o: AnchorerOptions) {
    this.o = { ...o, logger: o.logger ?? silent, stuckMs: o.stuckMs ?? Math.max(30_000, 10 * o.intervalMs), clock: o.clock ?? Date.now, eventsFromBlock: o.eventsFromBlock ?? 0 };
    this.txSigner = new TransactionSigner(o.wallet.privateKey);
    this.messageSigner = new Eip191Signer(o.wallet.privateKey as Hex);
  }

  /**
   * eth_sendRawTransaction without ethers' response wrapping (which recovers the sender in pure JS,
   * another ~5 ms). Errors are ethers' own (the provider maps JSON-RPC errors in send()).
   */
  private async broadcast(raw: Hex, txHash: Hex): Promise<void> {
    const answered = String(await this.o.provider.send('eth_sendRawTransaction', [raw])).toLowerCase();
    if (answered !== txHash) throw new Error(`the chain answered eth_sendRawTransaction with hash ${answered}, expected ${txHash}`);
  }

  static async open(o: AnchorerOptions): Promise<Anchorer> {
    const a = new Anchorer(o);
    const st = (await o.db.get(STATE_KEY, { valueEncoding: 'json' })) as PersistedState | undefined;
    if (st) a.state = st;
    a.anchored = await a.lastRecorded();
    return a;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops the loop and waits for a tick in progress. Anything in flight is resumed at the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      const started = this.o.clock();
      this.running = this.tick()
        .then(() => {
          // A clean tick: the chain answered and nothing failed, so an old error no longer describes the node.
          this.backoffMs = 0;
          this.lastError = null;
        })
        .catch((err: unknown) => this.onTickError(err))
        .finally(() => {
          this.running = null;
          // A fixed cadence: the next tick is due one interval after this one STARTED, so the time a
          // tick spends on the chain does not stretch the interval (ack → anchored stays within ~2
          // intervals). Backoff after an error is measured from the error.
          this.schedule(this.backoffMs || Math.max(0, this.o.intervalMs - (this.o.clock() - started)));
        });
    }, ms);
  }

  private onTickError(err: unknown): void {
    const msg = (err as Error)?.message ?? String(err);
    this.lastError = msg;
    if (err instanceof AnchorerFatalError) {
      this.fatal = err;
      this.o.logger.error({ err: msg }, 'anchorer halted: the chain disagrees with the local log');
      this.stopped = true;
      return;
    }
    if (err instanceof RegistryError) {
      this.o.logger.warn({ err: msg }, 'anchor refused by the registry; will recompute from the chain');
      this.backoffMs = this.o.intervalMs;
      return;
    }
    this.metrics.rpcErrors++;
    this.chainReachable = false;
    this.backoffMs = Math.min(30_000, Math.max(this.o.intervalMs, this.backoffMs * 2 || this.o.intervalMs));
    this.o.logger.warn({ err: msg, retryInMs: this.backoffMs }, 'chain unreachable or RPC error; backing off');
  }

  status(): AnchorerStatus {
    const now = this.o.clock();
    const oldest = this.oldestUnanchored;
    return {
      anchored: this.anchored,
      treeSize: this.o.log.size,
      oldestUnanchoredAt: oldest?.at ?? null,
      mmdExceeded: oldest !== null && now - Date.parse(oldest.at) > this.o.mmdMs,
      lastError: this.fatal ? `FATAL: ${this.fatal.message}` : this.lastError,
      chainReachable: this.chainReachable,
      inflight: this.state.inflight ? { treeSize: this.state.inflight.treeSize, txHash: this.state.inflight.txHash, sentAt: new Date(this.state.inflight.sentAt).toISOString() } : null,
    };
  }

  get fatalError(): Error | null {
    return this.fatal;
  }

  /** Every checkpoint this node has seen anchored, oldest first. */
  async checkpoints(opts: { fromSize?: number; limit?: number } = {}): Promise<AnchoredRecord[]> {
    const out: AnchoredRecord[] = [];
    for await (const v of this.o.db.values({ gte: CP + pad(opts.fromSize ?? 0), lt: CP + '~', limit: opts.limit ?? 1000, valueEncoding: 'json' })) {
      out.push(v as unknown as AnchoredRecord);
    }
    return out;
  }

  /** The anchored checkpoint with the smallest tree size ≥ `size` (the one a proof for index size-1 can use). */
  async checkpointCovering(size: number): Promise<AnchoredRecord | null> {
    for await (const v of this.o.db.values({ gte: CP + pad(size), lt: CP + '~', limit: 1, valueEncoding: 'json' })) return v as unknown as AnchoredRecord;
    return null;
  }

  private async lastRecorded(): Promise<AnchoredRecord | null> {
    for await (const v of this.o.db.values({ gte: CP, lt: CP + '~', reverse: true, limit: 1, valueEncoding: 'json' })) return v as unknown as AnchoredRecord;
    return null;
  }

  private async saveState(extra: BatchOp[] = []): Promise<void> {
    await this.o.db.batch<unknown, unknown>([{ type: 'put', key: STATE_KEY, value: this.state, valueEncoding: 'json' } as BatchOp, ...extra], { sync: true });
  }

  signCheckpoint(treeSize: number, rootHash: Hex): SignedCheckpoint {
    const payload = { type: CHECKPOINT_TYPE, logId: this.o.logId, treeSize, rootHash };
    return { ...payload, signature: this.messageSigner.sign(checkpointMessage(payload)) };
  }

  private async refreshOldestUnanchored(): Promise<void> {
    const from = this.anchored?.treeSize ?? 0;
    if (this.o.log.size <= from) {
      this.oldestUnanchored = null;
      return;
    }
    if (this.oldestUnanchored?.index === from) return;
    const [e] = await this.o.log.entries(from, from + 1);
    if (!e) return;
    this.oldestUnanchored = { index: from, at: parseEntry(JSON.parse(new TextDecoder().decode(e.bytes))).at };
  }

  /** One step of the loop; public for tests. */
  async tick(): Promise<void> {
    if (this.fatal) throw this.fatal;
    const { registry, logId, log } = this.o;
    await this.refreshOldestUnanchored();
    const head = await registry.latest(logId);
    this.chainReachable = true;
    const chainSize = Number(head.treeSize);

    // 1. Reconcile with what the chain says. A local record above the chain's head, or whose block is
    //    no longer canonical, was dropped by a reorg.
    if (this.anchored && (this.anchored.treeSize > chainSize || !(await this.isCanonical(this.anchored)))) {
      this.metrics.reorgs++;
      this.o.logger.warn({ treeSize: this.anchored.treeSize, txHash: this.anchored.txHash }, 'anchored checkpoint dropped by a reorg; re-anchoring');
      await this.dropRecordsAbove(chainSize);
    }
    // A checkpoint counts as anchored only at the confirmation depth: adopt the registry's latest as of
    // block (tip - confirmations + 1), while new anchors still extend the chain's newest head.
    const confirmed = await this.confirmedHead(chainSize, head.rootHash);
    if (confirmed.size > (this.anchored?.treeSize ?? 0)) await this.adoptChainHead(confirmed.size, confirmed.rootHash);

    // 2. A transaction in flight: confirmed, replaced, or superseded.
    const inflight = this.state.inflight;
    if (inflight) {
      if (chainSize >= inflight.treeSize) {
        this.state.inflight = null;
        await this.saveState();
      } else {
        await this.checkInflight(inflight);
        return;
      }
    }

    // 3. Anything new: anchor it, extending the chain's head.
    if (log.size > chainSize && this.o.beforeAnchor) await this.o.beforeAnchor();
    const size = log.size;
    if (size > chainSize) await this.sendAnchor(chainSize, size);
    await this.refreshOldestUnanchored();
  }

  /** The registry's latest checkpoint as of the confirmation depth (the head itself when confirmations = 1). */
  private async confirmedHead(headSize: number, headRoot: Hex): Promise<{ size: number; rootHash: Hex }> {
    if (this.o.confirmations <= 1) return { size: headSize, rootHash: headRoot };
    const depthBlock = (await this.o.provider.getBlockNumber()) - this.o.confirmations + 1;
    if (depthBlock < 0) return { size: 0, rootHash: headRoot };
    try {
      const at = await this.o.registry.latest(this.o.logId, depthBlock);
      return { size: Number(at.treeSize), rootHash: at.rootHash };
    } catch (err) {
      // At that depth the log may not exist yet (created within the last few blocks): nothing is confirmed.
      if (err instanceof RegistryError && err.revert?.name === 'AnchorRegistryUnknownLog') return { size: 0, rootHash: headRoot };
      throw err;
    }
  }

  private async isCanonical(rec: AnchoredRecord): Promise<boolean> {
    const b = await this.o.provider.getBlock(Number(rec.blockNumber));
    return b !== null && b.hash?.toLowerCase() === rec.blockHash;
  }

  private async dropRecordsAbove(size: number): Promise<void> {
    const ops: BatchOp[] = [];
    for await (const k of this.o.db.keys({ gt: CP + pad(size), lt: CP + '~' })) ops.push({ type: 'del', key: k } as BatchOp);
    await this.o.db.batch<unknown, unknown>(ops, { sync: true });
    this.anchored = await this.lastRecorded();
    this.oldestUnanchored = null;
  }

  /** Records a checkpoint the chain has and we have not (our own tx after a crash, or confirmed). */
  private async adoptChainHead(size: number, rootHash: Hex, mined?: { txHash: Hex; blockNumber: number; blockHash: Hex; timestamp: number }): Promise<void> {
    if (size > this.o.log.size) throw new AnchorerFatalError(`the registry has tree size ${size} anchored for this log but the local log has only ${this.o.log.size} entries`);
    const local = await this.o.log.root(size);
    if (local !== rootHash) throw new AnchorerFatalError(`the registry's root at size ${size} is ${rootHash}, the local log's is ${local}`);
    let where = mined;
    if (!where) {
      // Not our confirmed transaction (e.g. mined before a crash): find it from the chain's events.
      const events = await this.o.registry.queryAnchoredEvents(this.o.eventsFromBlock, 'latest', this.o.logId);
      const ev = events.find((e) => Number(e.treeSize) === size);
      if (!ev) throw new Error(`CheckpointAnchored event for size ${size} not found yet`);
      const cp = await this.o.registry.checkpoint(this.o.logId, size);
      if (!cp) throw new Error(`checkpoint ${size} not readable`);
      where = { txHash: ev.txHash, blockNumber: Number(ev.blockNumber), blockHash: ev.blockHash, timestamp: Number(cp.timestamp) };
    }
    const rec: AnchoredRecord = {
      treeSize: size,
      rootHash,
      txHash: where.txHash,
      blockNumber: where.blockNumber.toString(),
      blockHash: where.blockHash,
      timestamp: where.timestamp.toString(),
      signature: this.signCheckpoint(size, rootHash).signature,
    };
    const previous = this.anchored?.treeSize ?? 0;
    const oldest = this.oldestUnanchored;
    const latencyMs = oldest && oldest.index >= previous && oldest.index < size ? this.o.clock() - Date.parse(oldest.at) : null;
    await this.o.db.batch<unknown, unknown>([{ type: 'put', key: CP + pad(size), value: rec, valueEncoding: 'json' } as BatchOp], { sync: true });
    this.anchored = rec;
    this.oldestUnanchored = null;
    this.metrics.anchorsConfirmed++;
    this.o.logger.info({ treeSize: size, txHash: rec.txHash, blockNumber: rec.blockNumber }, 'checkpoint anchored');
    if (latencyMs !== null) this.metrics.lastAnchorLatencyMs = latencyMs;
    this.onAnchored?.(rec, previous, latencyMs);
  }

  private async checkInflight(tx: Inflight): Promise<void> {
    const { provider, wallet } = this.o;
    for (const hash of [tx.txHash, ...tx.replaced]) {
      const receipt = await provider.getTransactionReceipt(hash);
      if (!receipt) continue;
      if (receipt.status === 0) {
        // Reverted (e.g. a concurrent anchor raced us): recompute from the chain next tick.
        this.o.logger.warn({ txHash: hash }, 'anchor transaction reverted; recomputing from the chain');
        this.state.inflight = null;
        await this.saveState();
        return;
      }
      const tip = await provider.getBlockNumber();
      if (tip - receipt.blockNumber + 1 < this.o.confirmations) return; // wait for depth
      // Re-read at depth: the block that holds it must still be canonical.
      const again = await provider.getTransactionReceipt(hash);
      const block = again ? await provider.getBlock(again.blockNumber) : null;
      if (!again || !block || block.hash !== again.blockHash) return; // reorg in progress: next tick decides
      this.metrics.lastGasUsed = again.gasUsed;
      this.metrics.totalGasUsed += again.gasUsed;
      this.state.inflight = null;
      await this.saveState();
      // Our own transaction, successful, at depth: it stored exactly (treeSize, rootHash); the receipt
      // and block say where, so no event scan from block 0 is needed on every checkpoint.
      await this.adoptChainHead(tx.treeSize, tx.rootHash, { txHash: hash, blockNumber: again.blockNumber, blockHash: block.hash.toLowerCase() as Hex, timestamp: block.timestamp });
      return;
    }
    // Not mined. If our nonce is used by something else, it was superseded; if the transaction vanished
    // (a reorg dropped it) or is stuck, re-broadcast / replace it at the same nonce.
    const mined = await provider.getTransactionCount(wallet.address, 'latest');
    if (mined > tx.nonce) {
      this.state.inflight = null;
      await this.saveState();
      return;
    }
    const known = await provider.getTransaction(tx.txHash);
    if (!known) {
      this.o.logger.warn({ txHash: tx.txHash }, 'anchor transaction unknown to the chain (dropped by a reorg or never broadcast); re-broadcasting');
      await this.broadcast(tx.raw as Hex, tx.txHash);
      return;
    }
    if (this.o.clock() - tx.sentAt > this.o.stuckMs) {
      this.metrics.replacements++;
      this.o.logger.warn({ txHash: tx.txHash }, 'anchor transaction stuck; replacing with a higher fee at the same nonce');
      await this.broadcastNew(tx.fromSize, tx.treeSize, tx.rootHash, tx.nonce, [tx.txHash, ...tx.replaced], Transaction.from(tx.raw));
    }
  }

  private async sendAnchor(fromSize: number, toSize: number): Promise<void> {
    const { log } = this.o;
    const rootHash = await log.root(toSize);
    const nonce = await this.o.provider.getTransactionCount(this.o.wallet.address, 'pending');
    await this.broadcastNew(fromSize, toSize, rootHash, nonce, [], null);
  }

  private async broadcastNew(fromSize: number, toSize: number, rootHash: Hex, nonce: number, replaced: Hex[], previous: Transaction | null): Promise<void> {
    const { registry, provider, logId, log } = this.o;
    const proof = fromSize === 0 ? [] : await log.consistencyProof(fromSize, toSize);
    const params = { logId, treeSize: toSize, rootHash, consistencyProof: proof };
    // Dry run: a revert here (stale size, bad proof) costs no gas and tells us why.
    const gas = await registry.estimateAnchorGas(params);
    const data = registry.contract.interface.encodeFunctionData('anchor', [logId, toSize, rootHash, proof]);
    const fee = await provider.getFeeData();
    const req: TransactionRequest = { to: registry.address, data, nonce, gasLimit: (gas * 12n) / 10n + 10_000n, chainId: (await provider.getNetwork()).chainId };
    const bump = (v: bigint | null | undefined, prev: bigint | null | undefined): bigint => {
      const base = v ?? 0n;
      const min = prev ? (prev * 125n) / 100n + 1n : 0n;
      return base > min ? base : min;
    };
    if (fee.maxFeePerGas !== null && fee.maxPriorityFeePerGas !== null) {
      req.type = 2;
      req.maxFeePerGas = bump(fee.maxFeePerGas, previous?.maxFeePerGas);
      req.maxPriorityFeePerGas = bump(fee.maxPriorityFeePerGas, previous?.maxPriorityFeePerGas);
    } else {
      req.type = 0;
      req.gasPrice = bump(fee.gasPrice, previous?.gasPrice);
    }
    const raw = this.txSigner.sign(req as TransactionLike<string>);
    const txHash = keccak256(raw).toLowerCase() as Hex;
    this.state.inflight = { treeSize: toSize, fromSize, rootHash, raw, txHash, nonce, sentAt: this.o.clock(), replaced };
    await this.saveState(); // persisted before broadcast: a crash now re-broadcasts this same transaction
    this.metrics.anchorsSent++;
    await this.broadcast(raw, txHash);
    this.o.logger.info({ treeSize: toSize, fromSize, txHash, proofLength: proof.length }, 'anchor sent');
    // Automining chains have it already: confirm without waiting a whole interval.
    await this.checkInflight(this.state.inflight);
  }
}
