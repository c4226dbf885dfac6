/**
 * The audit engine (`tianfu audit`): replays a whole log, row by row, against checkpoints read from
 * the chain. Pure apart from the clock value it is given: the caller reads the chain and the log
 * source (node/audit/chain.ts, node/audit/sources.ts) and feeds this class. It never imports the
 * store or the API: an auditor trusts the chain and recomputes everything else.
 *
 * Checks, each with a stable violation code:
 *  - log:      every leaf hash recomputed from the entry's JCS bytes (RFC 9162 §2.1.1) and the tree
 *              incrementally; indexes contiguous and in order; entries well-formed; times non-decreasing.
 *  - chain:    the root at every anchored checkpoint size equals the recomputed root; an RFC 9162
 *              consistency proof built from the replay verifies between consecutive checkpoints with
 *              the protocol verifier (what the contract checked at anchoring time).
 *  - anchor:   every entry is covered by a checkpoint whose block time is within the maximum merge
 *              delay of its `at`, and no entry claims a time after the block that anchored it.
 *  - receipt:  signed by the operator the registry names, fields equal to the entry.
 *  - record:   (exports with records) record + salt open the entry's commitment (docs/protocol.md §2),
 *              then the record-level lifecycle replay.
 *  - invoice / evidence: the domains' own replays from the entries.
 *  - state:    the history served now extends what the previous audit verified.
 *  - map:      the state map recomputed from the entries (node/state/replay.ts); every `state.root`
 *              entry must name its own index and commit to exactly that map's root (STATE_ROOT_MISMATCH).
 */
import { bytesEqual, fromHex, toHex, type Hex } from '../protocol/bytes';
import { canonicalBytes } from '../protocol/canonical';
import { leafHash, verifyConsistency } from '../protocol/merkle';
import { commitment, parseEntry, recordDigest, type LogEntry } from '../protocol/record';
import { linkOpens, type SubjectLink } from '../protocol/subject';
import { CHECKPOINT_V2_TYPE, RECEIPT_TYPE, RECEIPT_V2_TYPE, type Receipt, type ReceiptV2 } from '../protocol/formats';
import { receiptMessage, receiptProofRoot, verifyCheckpointSigner } from '../protocol/signatures';
import { replayEntries as replayInvoiceEntries, replayRecords as replayInvoiceRecords, type EntryLike, type RecordItem } from '../invoice/replay';
import { EvidenceEntryReplayer, replayRecords as replayEvidenceRecords, type RecordReplayItem } from '../evidence/custody';
import { TreeReplay } from './tree-replay';
import { STATE_ROOT_KIND, stateRootSubject } from '../protocol/state-map';
import { StateReplay } from '../state/replay';
import { ReceiptVerifier } from './receipt-verifier';
import type { ReceiptCheckPool } from '../crypto/signing-pool';

/** An anchored checkpoint as read from the chain (event + `checkpoint()` storage). */
export interface ChainCheckpoint {
  treeSize: number;
  rootHash: Hex;
  /** Block timestamp, seconds. */
  timestamp: number;
  blockNumber: string;
  txHash: Hex;
  previousTreeSize: number;
  /** Position of its CheckpointAnchored event in the block (orders it against a rotation in the same block). */
  logIndex?: number;
}

/** From this event on (block, log index), `operator` ran the log (LogCreated or OperatorChanged). */
export interface OperatorTenure {
  operator: Hex;
  blockNumber: number;
  logIndex: number;
}

/** A checkpoint as the node lists it (GET /v1/log/checkpoints, checkpoints.json in an export). */
export interface NodeCheckpoint {
  treeSize: number;
  rootHash: Hex;
  txHash?: Hex;
  blockNumber?: string;
  signature?: Hex;
}

export type ViolationSource = 'log' | 'chain' | 'anchor' | 'receipt' | 'record' | 'invoice' | 'evidence' | 'state' | 'map' | 'node';

export interface AuditViolation {
  source: ViolationSource;
  code: string;
  message: string;
  /** Log index the violation is about, when it is about one entry. */
  index?: number;
  /** Tree size, when it is about a checkpoint. */
  treeSize?: number;
  subject?: string;
  kind?: string;
}

/** What a previous audit verified for this (chain, registry, log). */
export interface PriorAudit {
  /** The largest anchored checkpoint verified. */
  treeSize: number;
  rootHash: Hex;
  /** The whole log as replayed then (may extend past the last anchor). */
  head?: { treeSize: number; rootHash: Hex };
  verifiedAt: string;
}

export interface AuditOptions {
  logId: Hex;
  /** The operator the registry names for the log (operatorOf) now, lowercase: the signer of every receipt served now. */
  operator: Hex;
  /**
   * The registry's operator history, in chain order. A checkpoint the node lists must be signed by the
   * operator in office when it was anchored (anchor() is operator-only); without the history, by `operator`.
   */
  operators?: readonly OperatorTenure[];
  chainId: string;
  registry: Hex;
  /** Every anchored checkpoint of the log, ascending, read from the chain. */
  checkpoints: readonly ChainCheckpoint[];
  /** Maximum merge delay: an entry must be anchored within this many ms of its `at`. */
  mmdMs: number;
  /** Allowed difference between the node's clock and block time (an `at` after its anchoring block). */
  clockSkewMs?: number;
  /** Reference time (ms) for entries not anchored yet. */
  now: number;
  prior?: PriorAudit | null;
  /** What the source says its head is (export manifest, GET /v1/log). */
  claimed?: { treeSize: number; rootHash: Hex } | null;
  /** The node's own list of anchored checkpoints, checked against the chain. */
  nodeCheckpoints?: readonly NodeCheckpoint[] | null;
  /** Receipts are supplied for every entry. */
  receipts: boolean;
  /** Records (and salts) are supplied for every entry. */
  records: boolean;
  /** Verify every k-th receipt signature (random offset) instead of all; fields are always checked. */
  receiptSignatureStride?: number;
  /**
   * Worker threads for receipt signatures. With a pool, signatures are checked in batches off this
   * thread and their findings are flagged by `drainReceipts()`, which must run before `finish()`.
   */
  receiptPool?: ReceiptCheckPool | null;
}

/** Receipts sent to the pool in one message. */
const RECEIPT_BATCH = 2048;

/** One row of the log as served: the entry object and the node's leaf hash. */
export interface EntryRow {
  index: number;
  entry: unknown;
  leafHash?: string;
}

/** One record as exported (GET /v1/log/records). `record` and `salt` are null when erased. */
export interface RecordRow {
  index: number;
  kind: string;
  subject: string;
  record: Record<string, unknown> | null;
  salt: Hex | null;
  recordDigest: Hex;
  /** Pseudonymous subjects: opens `subject` to the invoice key the record names (node/protocol/subject.ts). */
  subjectLink?: SubjectLink;
}

export interface AuditReport {
  ok: boolean;
  logId: Hex;
  chainId: string;
  registry: Hex;
  operator: Hex;
  /** Entries replayed, and the root they give. */
  treeSize: number;
  rootHash: Hex;
  kinds: Record<string, number>;
  checkpoints: {
    onChain: number;
    verified: number;
    mismatched: number;
    /** Anchored on chain beyond what the source delivered (an export older than the chain). */
    beyondReplay: number;
    consistencyProofs: number;
    latest: ChainCheckpoint | null;
  };
  anchoring: { mmdMs: number; maxDelayMs: number | null; pending: number };
  receipts: { checked: number; signaturesVerified: number; sampled: boolean };
  records: { checked: number; erased: number; replayed: boolean };
  /** The state map replayed from the entries: subjects, its root, and how many state.root entries were checked. */
  stateMap: { subjects: number; root: Hex; stateRoots: number };
  nodeCheckpoints: { listed: number; matching: number } | null;
  state: { prior: PriorAudit | null; consistent: boolean | null };
  /** Counts per violation code. */
  violationCounts: Record<string, number>;
  violations: AuditViolation[];
}

interface GapRange {
  start: number;
  end: number;
}

const errMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export class Auditor {
  private readonly tree = new TreeReplay();
  private readonly o: AuditOptions;
  private readonly violations: AuditViolation[] = [];
  private readonly kinds: Record<string, number> = {};
  /** Sizes at which the replay root is needed → root once reached. */
  private readonly rootsAt = new Map<number, Uint8Array | null>();
  /** v2 receipts' signed checkpoints not yet reached by the replay: tree size → the roots they name (and the first index naming each). */
  private readonly heads = new Map<number, Map<Hex, number>>();
  /** v2 checkpoints whose signature was checked (or queued), by their JCS fields and signature. */
  private readonly headsSigned = new Set<string>();
  private readonly cps: readonly ChainCheckpoint[];
  private nextCp = 0;
  /** Index into cps of the first checkpoint covering the current position (treeSize > position). */
  private coverCp = 0;
  private lastIndex = -1;
  private gaps: GapRange[] = [];
  private lastAtMs = -Infinity;
  private maxDelayMs: number | null = null;
  private pending = 0;
  private readonly verifier: ReceiptVerifier;
  private readonly stride: number;
  private readonly strideOffset: number;
  private receiptsChecked = 0;
  private signaturesVerified = 0;
  private recordsChecked = 0;
  private recordsErased = 0;
  private readonly invoiceEntries: EntryLike[] = [];
  private readonly invoiceIndexes: number[] = [];
  private readonly evidence = new EvidenceEntryReplayer();
  private readonly stateMap = new StateReplay();
  private stateRoots = 0;
  /** subject: the plain one the rules go by (the invoice key); entrySubject: as the log writes it. */
  private readonly invoiceRecords: (RecordItem & { logIndex: number; entrySubject: string })[] = [];
  private readonly evidenceRecords: RecordReplayItem[] = [];
  /** Subjects with a record that does not open its commitment: record-level replay skips them. */
  private readonly taintedSubjects = new Set<string>();
  private verifiedCps = 0;
  private mismatchedCps = 0;
  private consistencyProofs = 0;
  /** Last checkpoint (in chain order) whose root matched the replay. */
  private lastGoodCp: ChainCheckpoint | null = null;
  private lastCheckedCp: ChainCheckpoint | null = null;
  private finished = false;
  /** Receipts waiting to be sent to the pool, and batches in flight there, in log order. */
  private queued: { index: number; receipt: Receipt; message: Uint8Array; signature: Uint8Array }[] = [];
  private readonly inFlight: { batch: { index: number; receipt: Receipt }[]; result: Promise<boolean[]> }[] = [];

  constructor(o: AuditOptions) {
    this.o = o;
    this.cps = [...o.checkpoints].sort((a, b) => a.treeSize - b.treeSize);
    this.verifier = new ReceiptVerifier(o.operator);
    this.stride = Math.max(1, Math.floor(o.receiptSignatureStride ?? 1));
    this.strideOffset = this.stride > 1 ? Math.floor(Math.random() * this.stride) : 0;
    this.checkChainSequence();
    let prev = 0;
    for (const cp of this.cps) {
      this.rootsAt.set(cp.treeSize, null);
      // Consistency from the previous checkpoint, as the contract required at anchoring time.
      if (prev > 0) this.tree.wantConsistency(prev, cp.treeSize);
      prev = cp.treeSize;
    }
    const last = this.cps[this.cps.length - 1];
    if (o.prior) {
      this.rootsAt.set(o.prior.treeSize, null);
      if (o.prior.head) this.rootsAt.set(o.prior.head.treeSize, null);
      if (last && o.prior.treeSize > 0 && last.treeSize > o.prior.treeSize) this.tree.wantConsistency(o.prior.treeSize, last.treeSize);
    }
    if (o.claimed) this.rootsAt.set(o.claimed.treeSize, null);
    if (this.rootsAt.has(0)) this.rootsAt.set(0, this.tree.root());
  }

  private flag(v: AuditViolation): void {
    this.violations.push(v);
  }

  /** Adds a violation found outside the replay (chain reads, source metadata). */
  addViolation(v: AuditViolation): void {
    this.flag(v);
  }

  /** The events must chain: each anchor names the previous size the contract checked consistency from. */
  private checkChainSequence(): void {
    let prev = 0;
    for (const cp of this.cps) {
      if (cp.previousTreeSize !== prev) {
        this.flag({ source: 'chain', code: 'CHAIN_SEQUENCE_GAP', treeSize: cp.treeSize, message: `checkpoint ${cp.treeSize} was anchored from size ${cp.previousTreeSize}, but the previous checkpoint read from the chain is ${prev}: events are missing` });
      }
      prev = cp.treeSize;
    }
  }

  get size(): number {
    return this.tree.size;
  }

  /** A receipt or record the source had with no entry for its index. */
  orphan(what: 'receipt' | 'record', index: number): void {
    // The receipt of an entry already reported missing is that same fault, not a second one.
    if (this.gaps.some((g) => g.start <= index && index < g.end)) return;
    this.flag({ source: what, code: what === 'receipt' ? 'RECEIPT_WITHOUT_ENTRY' : 'RECORD_WITHOUT_ENTRY', index, message: `a ${what} for index ${index}, which the log did not serve` });
  }

  /** Feeds the next row of the log, in the order served, with its receipt and record (undefined when absent). */
  push(row: EntryRow, receipt?: Receipt | null, record?: RecordRow | null): void {
    if (this.finished) throw new Error('audit already finished');
    const position = this.tree.size;
    const index = typeof row.index === 'number' && Number.isSafeInteger(row.index) && row.index >= 0 ? row.index : position;
    if (index !== row.index) this.flag({ source: 'log', code: 'ENTRY_MALFORMED', index: position, message: `row at position ${position} has no valid index (${JSON.stringify(row.index)})` });
    this.trackIndex(index);

    // 1. Leaf from the entry's canonical bytes, never from the node's word.
    let leaf: Uint8Array;
    try {
      leaf = leafHash(canonicalBytes(row.entry));
    } catch (err) {
      this.flag({ source: 'log', code: 'ENTRY_MALFORMED', index, message: `entry ${index} has no canonical form: ${errMessage(err)}` });
      leaf = leafHash(new Uint8Array(0));
    }
    const leafHex = toHex(leaf);
    if (row.leafHash !== undefined && row.leafHash !== leafHex) {
      this.flag({ source: 'log', code: 'LEAF_HASH_MISMATCH', index, message: `the source states leaf hash ${row.leafHash} for entry ${index}; its bytes hash to ${leafHex}` });
    }
    this.tree.append(leaf);
    const size = this.tree.size;
    if (this.rootsAt.has(size)) this.rootsAt.set(size, this.tree.root());
    if (this.heads.has(size)) this.checkHeads(size);
    while (this.nextCp < this.cps.length && this.cps[this.nextCp]!.treeSize === size) this.checkCheckpoint(this.cps[this.nextCp++]!);

    // 2. The entry itself.
    let entry: LogEntry | null = null;
    try {
      entry = parseEntry(row.entry);
    } catch (err) {
      this.flag({ source: 'log', code: 'ENTRY_MALFORMED', index, message: `entry ${index}: ${errMessage(err)}` });
    }
    if (entry) this.checkEntry(index, position, entry);
    if (entry) this.checkStateMap(index, entry, leafHex);
    if (this.o.receipts) this.checkReceipt(index, leafHex, entry, receipt);
    if (this.o.records) this.checkRecord(index, entry, record);
  }

  private trackIndex(index: number): void {
    if (index === this.lastIndex + 1) {
      this.lastIndex = index;
      return;
    }
    if (index > this.lastIndex + 1) {
      this.gaps.push({ start: this.lastIndex + 1, end: index });
      this.lastIndex = index;
      return;
    }
    // index ≤ lastIndex: either it fills an earlier gap (served out of order) or it is served twice.
    const g = this.gaps.findIndex((r) => r.start <= index && index < r.end);
    if (g < 0) {
      this.flag({ source: 'log', code: 'ENTRY_DUPLICATE', index, message: `entry ${index} is served twice` });
      return;
    }
    const r = this.gaps[g]!;
    const split: GapRange[] = [];
    if (r.start < index) split.push({ start: r.start, end: index });
    if (index + 1 < r.end) split.push({ start: index + 1, end: r.end });
    this.gaps.splice(g, 1, ...split);
    this.flag({ source: 'log', code: 'ENTRY_OUT_OF_ORDER', index, message: `entry ${index} is served at position ${this.tree.size}, after entry ${this.lastIndex}: the log order was changed` });
  }

  private checkEntry(index: number, position: number, entry: LogEntry): void {
    this.kinds[entry.kind] = (this.kinds[entry.kind] ?? 0) + 1;
    const at = Date.parse(entry.at);
    // The sequencer stamps times in log order; a step back is a back-dated or reordered entry.
    if (at < this.lastAtMs) this.flag({ source: 'log', code: 'AT_DECREASED', index, kind: entry.kind, subject: entry.subject, message: `entry ${index} at ${entry.at} is earlier than the entry before it (${new Date(this.lastAtMs).toISOString()})` });
    if (at > this.lastAtMs) this.lastAtMs = at;

    // Maximum merge delay against the first checkpoint that covers this position (docs/protocol.md §5, docs/architecture.md "The write path").
    while (this.coverCp < this.cps.length && this.cps[this.coverCp]!.treeSize <= position) this.coverCp++;
    const cover = this.cps[this.coverCp];
    if (cover) {
      const anchoredMs = cover.timestamp * 1000;
      const delay = anchoredMs - at;
      if (this.maxDelayMs === null || delay > this.maxDelayMs) this.maxDelayMs = delay;
      if (delay > this.o.mmdMs) {
        this.flag({ source: 'anchor', code: 'ANCHORED_LATE', index, treeSize: cover.treeSize, message: `entry ${index} (at ${entry.at}) was first anchored in checkpoint ${cover.treeSize} at block time ${new Date(anchoredMs).toISOString()}, ${delay} ms later; the maximum merge delay is ${this.o.mmdMs} ms` });
      }
      // Block times are whole seconds: allow the truncation plus the configured skew.
      if (at > anchoredMs + 999 + (this.o.clockSkewMs ?? 5000)) {
        this.flag({ source: 'anchor', code: 'AT_AFTER_ANCHOR', index, treeSize: cover.treeSize, message: `entry ${index} claims ${entry.at}, after the block that anchored it (${new Date(anchoredMs).toISOString()}): a forward-dated entry` });
      }
    } else if (this.o.now - at > this.o.mmdMs) {
      this.flag({ source: 'anchor', code: 'NOT_ANCHORED', index, message: `entry ${index} (at ${entry.at}) is not covered by any anchored checkpoint ${this.o.now - at} ms later; the maximum merge delay is ${this.o.mmdMs} ms` });
    } else {
      this.pending++;
    }

    if (entry.kind.startsWith('invoice.')) {
      this.invoiceEntries.push({ kind: entry.kind, subject: entry.subject, at: entry.at });
      this.invoiceIndexes.push(index);
    } else if (entry.kind.startsWith('evidence.')) {
      this.evidence.push(index, entry);
    }
  }

  /** The map replayed from the entries; a state.root entry must commit to it as of its own index. */
  private checkStateMap(index: number, entry: LogEntry, leafHex: Hex): void {
    if (entry.kind !== STATE_ROOT_KIND) {
      this.stateMap.push(index, entry, leafHex);
      return;
    }
    this.stateRoots++;
    const root = this.stateMap.root();
    if (entry.subject !== stateRootSubject(index)) {
      this.flag({ source: 'map', code: 'STATE_ROOT_MISMATCH', index, kind: entry.kind, subject: entry.subject, message: `state.root entry ${index} names ${JSON.stringify(entry.subject)}; a state root describes the log before it, ${stateRootSubject(index)}` });
    } else if (entry.commitment !== root) {
      this.flag({ source: 'map', code: 'STATE_ROOT_MISMATCH', index, kind: entry.kind, subject: entry.subject, message: `state.root entry ${index} commits to map root ${entry.commitment}; the map replayed from the ${index} entries before it (${this.stateMap.subjects} subjects) has root ${root}` });
    }
  }

  private checkReceipt(index: number, leafHex: Hex, entry: LogEntry | null, receipt: Receipt | null | undefined): void {
    if (!receipt) {
      this.flag({ source: 'receipt', code: 'RECEIPT_MISSING', index, message: `no receipt for entry ${index}` });
      return;
    }
    this.receiptsChecked++;
    const wrong: string[] = [];
    if (receipt.type !== RECEIPT_TYPE && receipt.type !== RECEIPT_V2_TYPE) wrong.push(`type ${JSON.stringify((receipt as { type: unknown }).type)}`);
    if (receipt.logId !== this.o.logId) wrong.push(`logId ${receipt.logId} (log is ${this.o.logId})`);
    if (receipt.index !== index) wrong.push(`index ${receipt.index}`);
    if (receipt.leafHash !== leafHex) wrong.push(`leafHash ${receipt.leafHash} (entry hashes to ${leafHex})`);
    if (entry && receipt.at !== entry.at) wrong.push(`at ${receipt.at} (entry says ${entry.at})`);
    if (receipt.type === RECEIPT_V2_TYPE) {
      const v2 = receipt;
      const cp = v2.checkpoint;
      if (cp?.type !== CHECKPOINT_V2_TYPE) wrong.push(`checkpoint type ${JSON.stringify(cp?.type)}`);
      else {
        if (cp.logId !== this.o.logId) wrong.push(`checkpoint logId ${cp.logId} (log is ${this.o.logId})`);
        if (!(Date.parse(cp.at) >= Date.parse(v2.at))) wrong.push(`checkpoint at ${cp.at} is before the entry's ${v2.at}`);
        if (!(cp.treeSize > index)) wrong.push(`checkpoint tree size ${cp.treeSize} does not hold index ${index}`);
      }
    }
    if (wrong.length > 0) this.flag({ source: 'receipt', code: 'RECEIPT_MISMATCH', index, message: `receipt for entry ${index} differs from the entry: ${wrong.join('; ')}` });
    const sign = this.stride === 1 || index % this.stride === this.strideOffset || index === 0;
    if (receipt.type === RECEIPT_V2_TYPE) {
      // Without a checkpoint of the known type there is nothing signed to check (flagged above).
      if (receipt.checkpoint?.type === CHECKPOINT_V2_TYPE) this.checkReceiptV2(index, leafHex, receipt, sign);
      return;
    }
    if (!sign) return;
    const q = this.verifier.publicKey;
    if (this.o.receiptPool && q && typeof receipt.signature === 'string' && /^0x[0-9a-f]{130}$/.test(receipt.signature)) {
      this.queued.push({ index, receipt, message: receiptMessage(receipt), signature: fromHex(receipt.signature as Hex, 65) });
      if (this.queued.length >= RECEIPT_BATCH) this.sendQueued(q);
      return;
    }
    this.verifyReceiptHere(index, receipt);
  }

  /**
   * A v2 receipt: its group checkpoint's signature (once per distinct checkpoint, here: a few per
   * thousand entries), its proof (sampled like v1 signatures; the replay already shows the leaf is at
   * its index), and the checkpoint's root against the root the replay computes at its size: a signed
   * tree head the log does not have is a fork, whatever the proofs say.
   */
  private checkReceiptV2(index: number, leafHex: Hex, r: ReceiptV2, sampled: boolean): void {
    const cp = r.checkpoint;
    const key = `${cp.treeSize}|${cp.rootHash}|${cp.at}|${cp.signature}`;
    if (!this.headsSigned.has(key)) {
      this.headsSigned.add(key);
      this.verifyReceiptHere(index, r);
    }
    if (sampled) {
      let root: Hex | null = null;
      try {
        root = receiptProofRoot({ ...r, leafHash: leafHex });
      } catch (err) {
        this.flag({ source: 'receipt', code: 'RECEIPT_PROOF', index, message: `receipt for entry ${index}: the proof is unusable: ${errMessage(err)}` });
      }
      if (root !== null && root !== cp.rootHash) {
        this.flag({ source: 'receipt', code: 'RECEIPT_PROOF', index, treeSize: cp.treeSize, message: `receipt for entry ${index}: the proof leads to ${root}, not to the root of its checkpoint of size ${cp.treeSize} (${cp.rootHash})` });
      }
    }
    const named = this.heads.get(cp.treeSize) ?? new Map<Hex, number>();
    if (!named.has(cp.rootHash)) named.set(cp.rootHash, index);
    this.heads.set(cp.treeSize, named);
    if (cp.treeSize === this.tree.size) this.checkHeads(cp.treeSize);
  }

  /** The replay is at `size`: every root a v2 checkpoint of this size names must be the log's. */
  private checkHeads(size: number): void {
    const named = this.heads.get(size);
    if (!named) return;
    this.heads.delete(size);
    const root = toHex(this.tree.root());
    for (const [claimed, index] of named) {
      if (claimed !== root) {
        this.flag({ source: 'receipt', code: 'RECEIPT_CHECKPOINT', index, treeSize: size, message: `the receipt for entry ${index} carries a checkpoint signed for tree size ${size} with root ${claimed}; the log replayed to that size has root ${root} (the operator signed a tree the log does not have)` });
      }
    }
  }

  private verifyReceiptHere(index: number, receipt: Receipt): void {
    try {
      this.verifier.verify(receipt);
      this.signaturesVerified++;
    } catch (err) {
      this.flag({ source: 'receipt', code: 'RECEIPT_SIGNATURE', index, message: `receipt for entry ${index} is not signed by the operator ${this.o.operator}: ${errMessage(err)}` });
    }
  }

  private sendQueued(q: Uint8Array): void {
    const batch = this.queued;
    this.queued = [];
    if (batch.length === 0) return;
    const result = this.o.receiptPool!.checkMany(q, batch.map((b) => b.message), batch.map((b) => b.signature));
    result.catch(() => undefined); // handled in drainReceipts (a dead worker: checked here instead)
    this.inFlight.push({ batch: batch.map(({ index, receipt }) => ({ index, receipt })), result });
  }

  /**
   * Settles receipt batches checked on the pool until at most `keep` are in flight (0: all, the
   * queue included). Receipts the pool did not accept are checked here, by the protocol's code, and
   * flagged with its message; if the pool failed, the whole batch is.
   */
  async drainReceipts(keep = 0): Promise<void> {
    if (keep === 0 && this.verifier.publicKey) this.sendQueued(this.verifier.publicKey);
    while (this.inFlight.length > keep) {
      const { batch, result } = this.inFlight.shift()!;
      let ok: boolean[] | null = null;
      try {
        ok = await result;
      } catch {
        ok = null;
      }
      batch.forEach((b, i) => {
        if (ok?.[i] === true) {
          this.verifier.fast++;
          this.signaturesVerified++;
        } else this.verifyReceiptHere(b.index, b.receipt);
      });
    }
  }

  private checkRecord(index: number, entry: LogEntry | null, row: RecordRow | null | undefined): void {
    if (!row) {
      this.flag({ source: 'record', code: 'RECORD_MISSING', index, message: `no record for entry ${index}` });
      return;
    }
    if (!entry) return;
    // A state.root has no record: its commitment is the map root itself (checked by checkStateMap).
    if (entry.kind === STATE_ROOT_KIND && row.kind === entry.kind && row.subject === entry.subject) return;
    if (row.kind !== entry.kind || row.subject !== entry.subject) {
      this.flag({ source: 'record', code: 'RECORD_MISMATCH', index, kind: entry.kind, subject: entry.subject, message: `record ${index} is for ${row.kind} ${row.subject}, the entry for ${entry.kind} ${entry.subject}` });
      this.taintedSubjects.add(entry.subject);
      return;
    }
    if (row.record === null || row.salt === null) {
      // Crypto-shredded (evidence erasure): the commitment can no longer be opened, by design.
      this.recordsErased++;
      if (entry.kind.startsWith('evidence.')) this.evidenceRecords.push({ index, entry, record: null });
      else this.taintedSubjects.add(entry.subject);
      return;
    }
    this.recordsChecked++;
    let digest: Hex;
    let opened: Hex;
    try {
      digest = recordDigest(row.record);
      opened = commitment(row.salt, digest);
    } catch (err) {
      this.flag({ source: 'record', code: 'RECORD_MALFORMED', index, kind: entry.kind, subject: entry.subject, message: `record ${index}: ${errMessage(err)}` });
      this.taintedSubjects.add(entry.subject);
      return;
    }
    if (opened !== entry.commitment) {
      const why = digest !== row.recordDigest ? ` (the record hashes to ${digest}, not the stated ${row.recordDigest})` : '';
      this.flag({ source: 'record', code: 'RECORD_NOT_COMMITTED', index, kind: entry.kind, subject: entry.subject, message: `record ${index} and its salt do not open the entry's commitment ${entry.commitment}${why}` });
      this.taintedSubjects.add(entry.subject);
      return;
    }
    if (digest !== row.recordDigest) {
      this.flag({ source: 'record', code: 'RECORD_DIGEST_STATED_WRONG', index, message: `record ${index} hashes to ${digest}; the source states ${row.recordDigest}` });
    }
    let subject = entry.subject;
    if (row.subjectLink !== undefined) {
      // A pseudonymous subject: the rules are about the invoice key the link opens it to.
      let opens = false;
      try {
        opens = linkOpens(row.subjectLink, entry.subject);
      } catch {
        opens = false; // a malformed link opens nothing; flagged below
      }
      if (!opens) {
        this.flag({ source: 'record', code: 'SUBJECT_LINK_MISMATCH', index, kind: entry.kind, subject: entry.subject, message: `record ${index}: SHA-256("tianfu/subject/v1" 0x00 salt key) of its subjectLink is not the entry's subject ${entry.subject}` });
        this.taintedSubjects.add(entry.subject);
        return;
      }
      subject = row.subjectLink.key;
    }
    if (entry.kind.startsWith('invoice.')) this.invoiceRecords.push({ kind: entry.kind, subject, entrySubject: entry.subject, at: entry.at, record: row.record, actor: null, logIndex: index });
    else if (entry.kind.startsWith('evidence.')) this.evidenceRecords.push({ index, entry, record: row.record });
  }

  private checkCheckpoint(cp: ChainCheckpoint): void {
    const root = this.rootsAt.get(cp.treeSize)!;
    const prev = this.lastCheckedCp;
    this.lastCheckedCp = cp;
    if (!bytesEqual(root, fromHex(cp.rootHash, 32))) {
      this.mismatchedCps++;
      this.flag({ source: 'chain', code: 'CHECKPOINT_ROOT_MISMATCH', treeSize: cp.treeSize, message: `the chain anchored root ${cp.rootHash} at size ${cp.treeSize} (block ${cp.blockNumber}, tx ${cp.txHash}); the replayed log gives ${toHex(root)}` });
      return;
    }
    this.verifiedCps++;
    // RFC 9162 §2.1.4.2 with the protocol verifier, from the previous checkpoint, as the contract did.
    if (prev && this.lastGoodCp === prev) {
      try {
        const proof = this.tree.consistencyProof(prev.treeSize, cp.treeSize);
        verifyConsistency(prev.treeSize, cp.treeSize, proof, fromHex(prev.rootHash, 32), fromHex(cp.rootHash, 32));
        this.consistencyProofs++;
      } catch (err) {
        this.flag({ source: 'chain', code: 'CONSISTENCY_PROOF_FAILED', treeSize: cp.treeSize, message: `consistency proof ${prev.treeSize} → ${cp.treeSize} built from the replay does not verify against the chain's roots: ${errMessage(err)}` });
      }
    }
    this.lastGoodCp = cp;
  }

  /** Ends the replay: checkpoints beyond it, state, node claims and the lifecycle replays. */
  finish(): AuditReport {
    if (this.finished) throw new Error('audit already finished');
    if (this.queued.length > 0 || this.inFlight.length > 0) throw new Error('receipt checks still pending: await drainReceipts() before finish()');
    this.finished = true;
    const size = this.tree.size;
    const rootHex = toHex(this.tree.root());
    for (const g of this.gaps) {
      const what = g.end - g.start === 1 ? `entry ${g.start} is` : `entries ${g.start}..${g.end - 1} are`;
      this.flag({ source: 'log', code: 'ENTRY_MISSING', index: g.start, message: `${what} missing from the log as served` });
    }
    const beyond = this.cps.filter((c) => c.treeSize > size);
    const claimed = this.o.claimed;
    if (claimed) {
      if (claimed.treeSize !== size) {
        this.flag({ source: 'log', code: 'SOURCE_SIZE_MISMATCH', treeSize: claimed.treeSize, message: `the source claims ${claimed.treeSize} entries and delivered ${size}` });
      } else if (claimed.rootHash !== rootHex) {
        this.flag({ source: 'log', code: 'SOURCE_ROOT_MISMATCH', treeSize: size, message: `the source claims root ${claimed.rootHash} at size ${size}; the replay gives ${rootHex}` });
      }
    }
    this.checkPrior(size);
    const nodeSummary = this.checkNodeCheckpoints();
    this.replayLifecycles();

    const violationCounts: Record<string, number> = {};
    for (const v of this.violations) violationCounts[v.code] = (violationCounts[v.code] ?? 0) + 1;
    const latest = this.cps[this.cps.length - 1] ?? null;
    return {
      ok: this.violations.length === 0,
      logId: this.o.logId,
      chainId: this.o.chainId,
      registry: this.o.registry,
      operator: this.o.operator,
      treeSize: size,
      rootHash: rootHex,
      kinds: this.kinds,
      checkpoints: { onChain: this.cps.length, verified: this.verifiedCps, mismatched: this.mismatchedCps, beyondReplay: beyond.length, consistencyProofs: this.consistencyProofs, latest },
      anchoring: { mmdMs: this.o.mmdMs, maxDelayMs: this.maxDelayMs, pending: this.pending },
      receipts: { checked: this.receiptsChecked, signaturesVerified: this.signaturesVerified, sampled: this.stride > 1 },
      records: { checked: this.recordsChecked, erased: this.recordsErased, replayed: this.o.records },
      stateMap: { subjects: this.stateMap.subjects, root: this.stateMap.root(), stateRoots: this.stateRoots },
      nodeCheckpoints: nodeSummary,
      state: { prior: this.o.prior ?? null, consistent: this.o.prior ? !this.violations.some((v) => v.source === 'state') : null },
      violationCounts,
      violations: this.violations,
    };
  }

  /** The state to remember for the next audit, or null when nothing was verified cleanly. */
  nextState(report: AuditReport): PriorAudit | null {
    if (report.violations.some((v) => v.source === 'log' || v.source === 'chain' || v.source === 'state')) return null;
    const good = this.lastGoodCp;
    if (!good) return this.o.prior ?? null;
    return { treeSize: good.treeSize, rootHash: good.rootHash, head: { treeSize: report.treeSize, rootHash: report.rootHash }, verifiedAt: new Date(this.o.now).toISOString() };
  }

  private checkPrior(size: number): void {
    const prior = this.o.prior;
    if (!prior) return;
    for (const [what, p] of [['last verified checkpoint', { treeSize: prior.treeSize, rootHash: prior.rootHash }], ['last replayed head', prior.head]] as const) {
      if (!p || p.treeSize === 0) continue;
      if (p.treeSize > size) {
        this.flag({ source: 'state', code: 'STATE_LOG_SHRANK', treeSize: p.treeSize, message: `the previous audit (${prior.verifiedAt}) verified ${p.treeSize} entries (${what}); the log now has ${size}` });
        continue;
      }
      const now = this.rootsAt.get(p.treeSize);
      if (now && toHex(now) !== p.rootHash) {
        this.flag({ source: 'state', code: 'STATE_HISTORY_REWRITTEN', treeSize: p.treeSize, message: `the ${what} of the previous audit (${prior.verifiedAt}) had root ${p.rootHash} at size ${p.treeSize}; the log served now gives ${toHex(now)}: history was rewritten` });
      }
    }
    // And the RFC 9162 proof from the remembered checkpoint to the newest verified one.
    const last = this.cps[this.cps.length - 1];
    if (last && this.lastGoodCp === last && prior.treeSize > 0 && last.treeSize > prior.treeSize && !this.violations.some((v) => v.source === 'state')) {
      try {
        verifyConsistency(prior.treeSize, last.treeSize, this.tree.consistencyProof(prior.treeSize, last.treeSize), fromHex(prior.rootHash, 32), fromHex(last.rootHash, 32));
        this.consistencyProofs++;
      } catch (err) {
        this.flag({ source: 'state', code: 'STATE_INCONSISTENT', treeSize: prior.treeSize, message: `no consistency from the previously verified checkpoint ${prior.treeSize} to ${last.treeSize}: ${errMessage(err)}` });
      }
    }
  }

  /** The operator in office when checkpoint `c` was anchored (the current one when unknown). */
  private operatorWhenAnchored(c: ChainCheckpoint | undefined): Hex {
    const history = this.o.operators;
    if (!c || !history || history.length === 0) return this.o.operator;
    const block = Number(c.blockNumber);
    const pos = c.logIndex ?? Number.MAX_SAFE_INTEGER;
    let who: Hex | null = null;
    for (const t of history) {
      if (t.blockNumber < block || (t.blockNumber === block && t.logIndex < pos)) who = t.operator;
      else break;
    }
    return who ?? this.o.operator;
  }

  private checkNodeCheckpoints(): { listed: number; matching: number } | null {
    const list = this.o.nodeCheckpoints;
    if (!list) return null;
    const byChain = new Map(this.cps.map((c) => [c.treeSize, c]));
    let matching = 0;
    for (const n of list) {
      const c = byChain.get(n.treeSize);
      let sigNote = '';
      let sigOk = true;
      if (n.signature !== undefined) {
        try {
          // By the operator in office when it was anchored, or the one in office now (a node restarted
          // with a rotated key signs the checkpoints it adopts from the chain with its own key).
          const signed = { type: 'tianfu.checkpoint/v1' as const, logId: this.o.logId, treeSize: n.treeSize, rootHash: n.rootHash, signature: n.signature };
          const then = this.operatorWhenAnchored(c);
          try {
            verifyCheckpointSigner(signed, then);
          } catch (first) {
            if (then.toLowerCase() === this.o.operator.toLowerCase()) throw first;
            try {
              verifyCheckpointSigner(signed, this.o.operator);
            } catch {
              throw first; // named after the operator in office when it was anchored
            }
          }
        } catch (err) {
          sigOk = false;
          sigNote = `; its operator signature does not cover it (${errMessage(err)})`;
        }
      }
      if (!c) {
        this.flag({ source: 'node', code: 'NODE_CHECKPOINT_NOT_ON_CHAIN', treeSize: n.treeSize, message: `the node lists a checkpoint at size ${n.treeSize} that the chain does not hold${sigNote}` });
        continue;
      }
      if (c.rootHash !== n.rootHash || (n.blockNumber !== undefined && n.blockNumber !== c.blockNumber) || (n.txHash !== undefined && n.txHash !== c.txHash)) {
        this.flag({ source: 'node', code: 'NODE_CHECKPOINT_MISMATCH', treeSize: n.treeSize, message: `the node lists checkpoint ${n.treeSize} as root ${n.rootHash} (tx ${n.txHash ?? '?'}, block ${n.blockNumber ?? '?'}); the chain holds root ${c.rootHash} (tx ${c.txHash}, block ${c.blockNumber})${sigNote}` });
        continue;
      }
      if (!sigOk) {
        this.flag({ source: 'node', code: 'NODE_CHECKPOINT_SIGNATURE', treeSize: n.treeSize, message: `checkpoint ${n.treeSize} matches the chain${sigNote}` });
        continue;
      }
      matching++;
    }
    return { listed: list.length, matching };
  }

  private replayLifecycles(): void {
    // Times: the global AT_DECREASED above already covers the domains' own time checks.
    for (const v of replayInvoiceEntries(this.invoiceEntries)) {
      if (v.code === 'AT_DECREASED') continue;
      this.flag({ source: 'invoice', code: v.code, index: this.invoiceIndexes[v.index]!, subject: v.subject, kind: v.kind, message: v.message });
    }
    for (const v of this.evidence.violations) {
      if (v.code === 'TIME_REVERSED') continue;
      this.flag({ source: 'evidence', code: v.code, index: v.index, subject: v.subject, kind: v.kind, message: v.message });
    }
    if (!this.o.records) return;
    const inv = this.invoiceRecords.filter((r) => !this.taintedSubjects.has(r.entrySubject));
    for (const v of replayInvoiceRecords(inv).violations) {
      this.flag({ source: 'record', code: v.code, index: inv[v.index]!.logIndex, subject: inv[v.index]!.entrySubject, kind: v.kind, message: `record replay: ${v.message}` });
    }
    const ev = this.evidenceRecords.filter((r) => !this.taintedSubjects.has(r.entry.subject));
    for (const v of replayEvidenceRecords(ev).violations) {
      this.flag({ source: 'record', code: v.code, index: v.index, subject: v.subject, kind: v.kind, message: `record replay: ${v.message}` });
    }
  }
}
