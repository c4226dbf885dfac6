/**
 * The evidence service: deposit, custody, content reads, history, bundles and erasure, orchestrated
 * over the ledger (sequencer for the log, BlobStore for the bytes, LevelDB for the service's own small
 * indexes). The HTTP routes (api/routes/evidence.ts) are a thin layer over this class; docs/evidence.md
 * ("The service") records the decisions taken here.
 *
 * Ordering guarantees:
 *  - deposit: the blob is durable (BlobStore.ingest fsyncs file and directory) BEFORE the deposit record
 *    is appended; the record commits metadata, digests, size and the collector's key. A refusal after
 *    the blob was written removes the blob again unless another deposit uses the same bytes.
 *  - content read: the `accessed` event is appended BEFORE the first byte is sent, so a read that fails
 *    halfway still leaves exactly one `accessed` event (the log records release, not arrival).
 *  - erasure: `erased` event (with a pending-erasure marker in the same batch) → shred the deposit
 *    record and salt (dropping its blob reference in the same batch) → unlink the blob if no other
 *    live deposit references it → drop the marker. A crash anywhere in between is finished at start
 *    (`recover`).
 *
 * Deduplication and erasure: one blob may back several deposits. Each deposit writes a reference
 * `!evb!<sha256>!<evidenceId>` atomically with its record; erasure deletes the deposit's reference with
 * the shred and unlinks the bytes only when no reference is left and no deposit of the same bytes is in
 * flight (an in-process pin, checked under a per-blob lock; one node process owns a data directory).
 */
import type { Readable } from 'node:stream';
import type { Hex } from '../protocol/bytes';
import type { Bundle, Receipt } from '../protocol/formats';
import { DomainError, type Actor } from '../domain/types';
import type { Accepted, Sequencer, StoredRecord } from '../sequencer';
import type { BatchOp, Database } from '../store/db';
import type { Anchorer } from '../anchorer';
import type { BlobStore, IngestResult } from './blob-store';
import { assertCanRead, canView, isDepositor, type EvidenceState } from './custody';
import {
  CUSTODY_KIND_PREFIX,
  DEPOSIT_KIND,
  LIMITS,
  buildAccessRecord,
  buildCustodyRecord,
  buildDepositRecord,
  buildErasureRecord,
  claimDigest,
  custodyKind,
  isEvidenceId,
  newEvidenceId,
  parseCustodyEventInput,
  parseEvidenceMetadata,
  type ActorRef,
  type CustodyEvent,
  type EvidenceCustodyRecord,
  type EvidenceDepositRecord,
  type FileDigests,
} from './model';
import { verifyCollectorSignature } from './signature';
import { getBytes, hashMessage, recoverAddress } from 'ethers';

/** What the service needs from the ledger (a structural subset of `Ledger`, so tests and benches can pass one). */
export interface EvidenceLedger {
  readonly db: Database;
  readonly sequencer: Sequencer;
  readonly anchorer: Anchorer;
  readonly blobs: BlobStore;
  readonly config: { readonly maxEvidenceBytes: number };
  bundle(kind: Bundle['kind'], subject: string, opts?: { indexes?: number[]; file?: Bundle['file'] }): Promise<Bundle>;
}

const BLOB_REF = '!evb!'; // !evb!<sha256 hex>!<evidenceId> → ''   (live deposits using a blob)
const ERASING = '!eve!'; // !eve!<evidenceId> → {depositIndex, sha256}   (erasure not finished yet)
const SIGNER = '!evk!'; // !evk!<keyId> → RegisteredSigner

const refKey = (sha256: Hex, evidenceId: string): string => `${BLOB_REF}${sha256.slice(2)}!${evidenceId}`;
const refPrefix = (sha256: Hex): string => `${BLOB_REF}${sha256.slice(2)}!`;

/** The message a collector signs (EIP-191) to prove it holds the key it registers. */
export function signerRegistrationMessage(keyId: string, address: string): string {
  return `tianfu.evidence.signer/v1\nkey: ${keyId}\naddress: ${address.toLowerCase()}`;
}

export interface RegisteredSigner {
  keyId: string;
  address: Hex;
  registeredAt: string;
  /** The proof-of-possession signature over `signerRegistrationMessage(keyId, address)`. */
  proof: Hex;
}

export interface DepositResult {
  evidenceId: string;
  index: number;
  at: string;
  receipt: Receipt;
  sha256: Hex;
  sm3: Hex;
  size: number;
}

export interface DepositOptions {
  /**
   * Resolves once the whole request body has been received and parsed (the multipart form ended
   * properly); rejects if it did not. The deposit is committed only after both the blob is durable
   * and this settled, so a malformed tail never leaves an acknowledged-looking deposit behind.
   */
  bodyComplete?: Promise<void>;
  /** Only the node's own capture service sets this (docs/capture.md): the package's manifest. */
  capture?: { captureId: string; attempt: number; manifest: { sha256: Hex; sm3: Hex; size: number } };
}

export interface CustodyResult {
  evidenceId: string;
  event: CustodyEvent;
  index: number;
  at: string;
  receipt: Receipt;
}

export interface EvidenceAnchoring {
  /** The first anchored checkpoint that includes the record, or null while pending. */
  anchored: { treeSize: number; rootHash: Hex; txHash: Hex; blockNumber: string; timestamp: string } | null;
}

export interface CustodyView extends EvidenceAnchoring {
  index: number;
  at: string;
  event: CustodyEvent;
  /** Null only if the record itself was shredded (never happens for custody events today). */
  by: ActorRef | null;
  reason: string | null;
  note?: string;
}

export interface EvidenceView {
  evidenceId: string;
  status: 'active' | 'sealed' | 'withdrawn' | 'erased';
  sealed: boolean;
  withdrawn: boolean;
  erased: boolean;
  collector: ActorRef;
  deposit: EvidenceAnchoring & { index: number; at: string; receipt: Receipt };
  /** Null once erased: the metadata went with the shredded record. */
  metadata: EvidenceDepositRecord['metadata'] | null;
  /** Null once erased (keeping the digests would let anyone holding the file confirm it was deposited). */
  file: FileDigests | null;
  collectorSignature: EvidenceDepositRecord['collectorSignature'] | null;
  custody: CustodyView[];
}

export interface OpenedContent {
  stream: Readable;
  file: FileDigests;
  mediaType: string;
  fileName: string;
  /** The `accessed` event appended for this read (before any byte was sent). */
  accessed: Accepted;
  /** The inclusive byte range served, or null for the whole file. */
  range: { start: number; end: number } | null;
}

export interface ErasureResult {
  evidenceId: string;
  index: number;
  at: string;
  receipt: Receipt;
  /** True when the stored bytes were unlinked; false when another live deposit still uses the same bytes. */
  contentErased: boolean;
  /** How many other live deposits share the bytes (the bytes stay until the last one is erased). */
  sharedWith: number;
}

/** A tiny per-key async mutex (FIFO per key). */
class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev.then(() => mine);
    this.tails.set(key, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

function notFound(evidenceId: string): DomainError {
  return new DomainError('EVIDENCE_NOT_FOUND', `no evidence ${evidenceId} was deposited`, { evidenceId });
}

export class EvidenceService {
  private readonly locks = new KeyedMutex();
  /** Deposits in flight per blob (after ingest, before their record is committed or refused). */
  private readonly pins = new Map<Hex, number>();
  private recovered: Promise<void> | null = null;

  constructor(private readonly ledger: EvidenceLedger) {}

  /** Finishes erasures a crash interrupted; idempotent. Every public method awaits it first. */
  ready(): Promise<void> {
    this.recovered ??= this.recover();
    return this.recovered;
  }

  private async recover(): Promise<void> {
    const pending: { evidenceId: string; depositIndex: number; sha256: Hex }[] = [];
    for await (const [key, value] of this.ledger.db.iterator({ gte: ERASING, lt: ERASING + '\xff', valueEncoding: 'json' })) {
      const v = value as unknown as { depositIndex: number; sha256: Hex };
      pending.push({ evidenceId: key.slice(ERASING.length), ...v });
    }
    for (const p of pending) await this.finishErasure(p.evidenceId, p.depositIndex, p.sha256);
  }

  // ---- collector signing keys ----

  /**
   * Registers (or replaces) the address whose EIP-191 signatures this collector key's deposits may carry.
   * `proof` is that address's signature over `signerRegistrationMessage(keyId, address)`, so a collector
   * cannot claim someone else's address. Deposits carry the address they were checked against, so a
   * later replacement does not affect them.
   */
  async registerSigner(actor: Actor, address: string, proof: string): Promise<RegisteredSigner> {
    await this.ready();
    if (actor.role !== 'collector') throw new DomainError('EVIDENCE_FORBIDDEN', `only a collector key registers a signing address (got ${actor.role})`, { role: actor.role });
    if (!/^0x[0-9a-fA-F]{40}$/.test(address)) throw new DomainError('EVIDENCE_SIGNER_PROOF_INVALID', `address ${JSON.stringify(address)} is not a 20-byte 0x address`, { path: ['address'] });
    if (!/^0x[0-9a-f]{130}$/.test(proof)) throw new DomainError('EVIDENCE_SIGNER_PROOF_INVALID', 'proof must be a 65-byte EIP-191 signature, 0x-prefixed lowercase hex', { path: ['proof'] });
    const addr = address.toLowerCase() as Hex;
    const message = signerRegistrationMessage(actor.keyId, addr);
    let recovered: string;
    try {
      recovered = recoverAddress(hashMessage(message), proof).toLowerCase();
    } catch (err) {
      throw new DomainError('EVIDENCE_SIGNER_PROOF_INVALID', `the proof signature cannot be recovered: ${(err as Error).message}`, { path: ['proof'] });
    }
    if (recovered !== addr) {
      throw new DomainError('EVIDENCE_SIGNER_PROOF_INVALID', `the proof was signed by ${recovered}, not by ${addr} (sign exactly: ${JSON.stringify(message)})`, { path: ['proof'], expected: addr, calculated: recovered });
    }
    const rec: RegisteredSigner = { keyId: actor.keyId, address: addr, registeredAt: new Date().toISOString(), proof: proof as Hex };
    await this.ledger.db.batch<unknown, unknown>([{ type: 'put', key: SIGNER + actor.keyId, value: rec, valueEncoding: 'json' } as BatchOp], { sync: true });
    return rec;
  }

  async signerOf(keyId: string): Promise<RegisteredSigner | undefined> {
    return (await this.ledger.db.get(SIGNER + keyId, { valueEncoding: 'json' })) as RegisteredSigner | undefined;
  }

  // ---- deposit ----

  /**
   * Checks the metadata (and the signature against the collector's registered address) BEFORE reading
   * the file, then streams the file into the blob store, then appends the deposit record.
   * Refusals before the file is read leave the stream unread (the caller stops the upload).
   */
  async deposit(actor: Actor, rawMetadata: unknown, file: Readable, opts: DepositOptions = {}): Promise<DepositResult> {
    await this.ready();
    if (actor.role !== 'collector') throw new DomainError('EVIDENCE_FORBIDDEN', `only a collector deposits evidence (got ${actor.role})`, { role: actor.role });
    const metadata = parseEvidenceMetadata(rawMetadata);
    let signerAddress: Hex | undefined;
    if (metadata.signature !== undefined) {
      const signer = await this.signerOf(actor.keyId);
      if (!signer) {
        throw new DomainError('EVIDENCE_SIGNER_NOT_REGISTERED', `the metadata is signed, but collector key ${actor.keyId} has no registered signing address (PUT /v1/evidence/signer first)`, { path: ['signature'] });
      }
      signerAddress = verifyCollectorSignature(claimDigest(metadata), metadata.signature as Hex, signer.address);
    }
    // The rules refuse a capture time after the deposit; checking it here too refuses before any byte is stored.
    if (Date.parse(metadata.capturedAt) > Date.now() + LIMITS.captureSkewMs) {
      throw new DomainError('EVIDENCE_CAPTURED_AFTER_DEPOSIT', `capturedAt ${metadata.capturedAt} is in the future`, { path: ['capturedAt'] });
    }

    const ingestOpts: Parameters<BlobStore['ingest']>[1] = { maxBytes: this.ledger.config.maxEvidenceBytes };
    if (metadata.sha256 !== undefined) ingestOpts.expectSha256 = metadata.sha256 as Hex;
    if (metadata.sm3 !== undefined) ingestOpts.expectSm3 = metadata.sm3 as Hex;
    const stored = await this.ledger.blobs.ingest(file, ingestOpts);

    // Pin the blob, then make sure it still exists: an erasure unlinks only unpinned blobs, under the
    // same lock, so after this check the bytes stay until the pin is released.
    await this.locks.run(stored.sha256, async () => {
      this.pins.set(stored.sha256, (this.pins.get(stored.sha256) ?? 0) + 1);
      if (!(await this.ledger.blobs.has(stored.sha256))) {
        this.unpin(stored.sha256);
        throw new DomainError('EVIDENCE_CONTENT_RACE', 'identical content was being erased while this upload completed; retry the deposit', { sha256: stored.sha256 });
      }
    });
    let committed = false;
    try {
      if (opts.bodyComplete) await opts.bodyComplete;
      const evidenceId = newEvidenceId();
      const record = buildDepositRecord({ evidenceId, metadata, file: { sha256: stored.sha256, sm3: stored.sm3, size: stored.size }, collector: actor, ...(signerAddress ? { signerAddress } : {}), ...(opts.capture ? { capture: opts.capture } : {}) });
      const accepted = await this.ledger.sequencer.submit({
        kind: DEPOSIT_KIND,
        subject: evidenceId,
        record: record as unknown as Record<string, unknown>,
        actor,
        extraOps: () => [{ type: 'put', key: refKey(stored.sha256, evidenceId), value: '', valueEncoding: 'utf8' } as BatchOp],
      });
      committed = true;
      return { evidenceId, index: accepted.index, at: accepted.entry.at, receipt: accepted.receipt, sha256: stored.sha256, sm3: stored.sm3, size: stored.size };
    } finally {
      await this.locks.run(stored.sha256, async () => {
        this.unpin(stored.sha256);
        if (!committed) await this.dropIfUnused(stored);
      });
    }
  }

  private unpin(sha256: Hex): void {
    const n = (this.pins.get(sha256) ?? 1) - 1;
    if (n <= 0) this.pins.delete(sha256);
    else this.pins.set(sha256, n);
  }

  private async liveRefs(sha256: Hex): Promise<string[]> {
    const out: string[] = [];
    const prefix = refPrefix(sha256);
    for await (const key of this.ledger.db.keys({ gte: prefix, lt: prefix + '\xff' })) out.push(key.slice(prefix.length));
    return out;
  }

  /** Under the blob's lock: a refused deposit leaves nothing behind unless other deposits use the bytes. */
  private async dropIfUnused(stored: IngestResult): Promise<void> {
    if (stored.deduplicated) return; // the bytes were there before this upload
    if ((this.pins.get(stored.sha256) ?? 0) > 0) return;
    if ((await this.liveRefs(stored.sha256)).length > 0) return;
    await this.ledger.blobs.erase(stored.sha256);
  }

  // ---- reads of the state ----

  private async state(evidenceId: string): Promise<EvidenceState> {
    if (!isEvidenceId(evidenceId)) throw notFound(evidenceId);
    const s = await this.ledger.sequencer.getState<EvidenceState>(evidenceId);
    if (!s) throw notFound(evidenceId);
    return s;
  }

  /**
   * The state, for an actor that may know the item exists: a collector key that did not deposit it
   * is answered exactly as for an id never deposited (its scope is its own deposits), before any
   * other fact about the item (sealed, withdrawn, erased) is looked at.
   */
  private async scopedState(actor: Actor, evidenceId: string): Promise<EvidenceState> {
    const s = await this.state(evidenceId);
    if (actor.role === 'collector' && !isDepositor(s, actor)) throw notFound(evidenceId);
    return s;
  }

  private async viewableState(actor: Actor, evidenceId: string): Promise<EvidenceState> {
    const s = await this.scopedState(actor, evidenceId);
    if (!canView(s, actor)) {
      throw new DomainError('EVIDENCE_FORBIDDEN', `a ${actor.role} key that did not deposit evidence ${evidenceId} may not see it`, { evidenceId, role: actor.role });
    }
    return s;
  }

  private async records(evidenceId: string): Promise<StoredRecord[]> {
    const out: StoredRecord[] = [];
    for (const i of await this.ledger.sequencer.subjectIndexes(evidenceId)) {
      const r = await this.ledger.sequencer.getRecord(i);
      if (!r) throw new Error(`record ${i} of ${evidenceId} is missing from the store`);
      out.push(r);
    }
    if (out[0]?.kind !== DEPOSIT_KIND) throw new Error(`the first record of ${evidenceId} is not its deposit`);
    return out;
  }

  private async anchoring(index: number): Promise<EvidenceAnchoring['anchored']> {
    const latest = this.ledger.anchorer.status().anchored;
    if (!latest || latest.treeSize <= index) return null;
    const cp = await this.ledger.anchorer.checkpointCovering(index + 1);
    if (!cp) return null;
    return { treeSize: cp.treeSize, rootHash: cp.rootHash, txHash: cp.txHash, blockNumber: cp.blockNumber, timestamp: cp.timestamp };
  }

  /** Metadata, digests and custody history with anchoring state (court, auditor, admin, the depositor). */
  async get(actor: Actor, evidenceId: string): Promise<EvidenceView> {
    await this.ready();
    const s = await this.viewableState(actor, evidenceId);
    const [deposit, ...rest] = await this.records(evidenceId);
    const dep = deposit!.record as EvidenceDepositRecord | null;
    const custody: CustodyView[] = [];
    for (const r of rest) {
      const rec = r.record as EvidenceCustodyRecord | null;
      const v: CustodyView = {
        index: r.index,
        at: r.entry.at,
        event: r.kind.slice(CUSTODY_KIND_PREFIX.length) as CustodyEvent,
        by: rec?.by ?? null,
        reason: rec?.reason ?? null,
        anchored: await this.anchoring(r.index),
      };
      if (rec?.note !== undefined) v.note = rec.note;
      custody.push(v);
    }
    return {
      evidenceId,
      status: s.erased ? 'erased' : s.withdrawn ? 'withdrawn' : s.sealed ? 'sealed' : 'active',
      sealed: s.sealed,
      withdrawn: s.withdrawn,
      erased: s.erased,
      collector: s.collector,
      deposit: { index: deposit!.index, at: deposit!.entry.at, receipt: (await this.ledger.sequencer.getReceipt(deposit!.index))!, anchored: await this.anchoring(deposit!.index) },
      metadata: dep && !s.erased ? dep.metadata : null,
      file: dep && !s.erased ? dep.file : null,
      collectorSignature: dep && !s.erased ? (dep.collectorSignature ?? null) : null,
      custody,
    };
  }

  /**
   * `tianfu.bundle/v1` kind 'evidence': the deposit and one item per custody event, each with its
   * inclusion proof and anchor, and `file` = the digests the file beside the bundle must have.
   * After erasure the deposit item has record and salt null, `file` is null, and the `erased` item
   * says who erased it, when and why.
   */
  async bundle(actor: Actor, evidenceId: string): Promise<{ bundle: Bundle; erased: boolean }> {
    await this.ready();
    const s = await this.viewableState(actor, evidenceId);
    const bundle = await this.ledger.bundle('evidence', evidenceId, { file: s.erased ? null : { sha256: s.file.sha256 as Hex, sm3: s.file.sm3 as Hex, size: s.file.size } });
    return { bundle, erased: s.erased };
  }

  // ---- custody ----

  /** A client custody event (transferred, sealed, exported, annotated, withdrawn); rules in custody.ts. */
  async addCustody(actor: Actor, evidenceId: string, body: unknown): Promise<CustodyResult> {
    await this.ready();
    await this.scopedState(actor, evidenceId);
    const input = parseCustodyEventInput(body);
    const record = buildCustodyRecord(evidenceId, input, actor);
    const accepted = await this.ledger.sequencer.submit({ kind: custodyKind(input.event), subject: evidenceId, record: record as unknown as Record<string, unknown>, actor });
    return { evidenceId, event: input.event, index: accepted.index, at: accepted.entry.at, receipt: accepted.receipt };
  }

  // ---- content ----

  /**
   * Opens the content for `reader` and appends its `accessed` event before returning the stream.
   * Refused reads (rules), and content missing from disk, leave no event: nothing was released.
   * If the append fails the opened file is closed and the error is thrown.
   */
  /**
   * What a content read would release, without releasing it (HTTP HEAD): the same permission check,
   * no bytes and so no `accessed` event.
   */
  async describeContent(reader: Actor, evidenceId: string): Promise<Omit<OpenedContent, 'stream' | 'accessed' | 'range'>> {
    const { depRec } = await this.readableDeposit(reader, evidenceId);
    return { file: depRec.file, mediaType: depRec.metadata.mediaType, fileName: depRec.metadata.fileName };
  }

  /** The item's state and deposit record, once `reader` may read its content (refusals log nothing). */
  private async readableDeposit(reader: Actor, evidenceId: string): Promise<{ s: EvidenceState; depRec: EvidenceDepositRecord }> {
    await this.ready();
    const s = await this.scopedState(reader, evidenceId);
    assertCanRead(s, reader);
    const [deposit] = await this.ledger.sequencer.subjectIndexes(evidenceId);
    const depRec = (await this.ledger.sequencer.getRecord(deposit!))?.record as EvidenceDepositRecord | null | undefined;
    if (!depRec) throw new DomainError('EVIDENCE_ERASED', `evidence ${evidenceId} deposit record was erased`, { evidenceId });
    return { s, depRec };
  }

  /**
   * Opens the content for `reader` and appends its `accessed` event before a byte is released.
   * `range` (inclusive byte offsets, from an HTTP Range) reads part of the file: one range read is
   * one read, with its own event whose reason names the bytes. `resolveRange` gets the file size
   * first, so an unsatisfiable range is refused before anything is logged.
   */
  async openContent(reader: Actor, evidenceId: string, resolveRange?: (size: number, sha256: Hex) => { start: number; end: number } | null): Promise<OpenedContent> {
    const { s, depRec } = await this.readableDeposit(reader, evidenceId);
    const range = resolveRange ? resolveRange(depRec.file.size, depRec.file.sha256 as Hex) : null;
    const stream = await this.ledger.blobs.open(s.file.sha256 as Hex, range ?? {});
    const reason = range ? `evidence content read, bytes ${range.start}-${range.end} of ${depRec.file.size}` : undefined;
    let accessed: Accepted;
    try {
      // actor null: the node writes `accessed`; the rules re-check canRead against the state at append time.
      accessed = await this.ledger.sequencer.submit({ kind: custodyKind('accessed'), subject: evidenceId, record: buildAccessRecord(evidenceId, reader, reason) as unknown as Record<string, unknown>, actor: null });
    } catch (err) {
      stream.destroy();
      throw err;
    }
    return { stream, file: depRec.file, mediaType: depRec.metadata.mediaType, fileName: depRec.metadata.fileName, accessed, range };
  }

  // ---- erasure ----

  /** Admin erasure (crypto-shredding): `erased` event, then record + salt shredded, then the bytes if unused. */
  async erase(admin: Actor, evidenceId: string, reason: string, note?: string): Promise<ErasureResult> {
    await this.ready();
    const s = await this.state(evidenceId);
    const [depositIndex] = await this.ledger.sequencer.subjectIndexes(evidenceId);
    const sha256 = s.file.sha256 as Hex;
    const record = buildErasureRecord(evidenceId, reason, admin, note);
    const accepted = await this.ledger.sequencer.submit({
      kind: custodyKind('erased'),
      subject: evidenceId,
      record: record as unknown as Record<string, unknown>,
      actor: admin,
      extraOps: () => [{ type: 'put', key: ERASING + evidenceId, value: { depositIndex, sha256 }, valueEncoding: 'json' } as BatchOp],
    });
    const { contentErased, sharedWith } = await this.finishErasure(evidenceId, depositIndex!, sha256);
    return { evidenceId, index: accepted.index, at: accepted.entry.at, receipt: accepted.receipt, contentErased, sharedWith };
  }

  /** Steps 2–4 of an erasure; idempotent, so `recover` can redo them after a crash. */
  private async finishErasure(evidenceId: string, depositIndex: number, sha256: Hex): Promise<{ contentErased: boolean; sharedWith: number }> {
    const seq = this.ledger.sequencer;
    const rec = await seq.getRecord(depositIndex);
    if (rec && (rec.record !== null || rec.salt !== null)) {
      await seq.shredRecord(depositIndex, [{ type: 'del', key: refKey(sha256, evidenceId) } as BatchOp]);
      // LevelDB keeps overwritten values in older files until compaction; push this key through now
      // (best effort: the commitment can no longer be opened from the live record either way).
      const key = `!seq!r${depositIndex.toString(16).padStart(12, '0')}`;
      await this.ledger.db.compactRange(key, key + '\x00').catch(() => undefined);
    } else {
      await this.ledger.db.del(refKey(sha256, evidenceId));
    }
    const out = await this.locks.run(sha256, async () => {
      const others = await this.liveRefs(sha256);
      const pinned = (this.pins.get(sha256) ?? 0) > 0;
      if (others.length > 0 || pinned) return { contentErased: false, sharedWith: others.length + (pinned ? 1 : 0) };
      await this.ledger.blobs.erase(sha256);
      return { contentErased: true, sharedWith: 0 };
    });
    await this.ledger.db.batch<unknown, unknown>([{ type: 'del', key: ERASING + evidenceId } as BatchOp], { sync: true });
    return out;
  }
}

/** The 32 bytes a collector signs for a deposit (EIP-191 personal_sign): `claimDigest(metadata)`. */
export function depositSigningBytes(metadata: Parameters<typeof claimDigest>[0]): Uint8Array {
  return getBytes(claimDigest(metadata));
}
