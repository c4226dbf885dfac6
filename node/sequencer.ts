/**
 * The sequencer: validate → append → durable → signed receipt (docs/protocol.md §5, docs/architecture.md "The write path").
 *
 * Submissions queue up; one flush at a time takes a group of them, applies each kind's domain rules
 * in arrival order against the subject's state (overlaid with earlier submissions of the same group,
 * so two racing requests on one subject can never both pass), builds salt, commitment and entry,
 * and writes log entries, tree nodes, records, subject indexes and states in ONE LevelDB batch with
 * `sync: true`. Only after that batch is on disk are the submitters acknowledged, each with a
 * receipt signed by the operator key. Many concurrent submitters share one fsync (group commit).
 *
 * Receipts (docs/protocol.md §5) are `tianfu.receipt/v2`: ONE operator signature per group, over the
 * signed checkpoint of the tree after the group ({type, logId, treeSize, rootHash, at}), and for each
 * record its RFC 9162 inclusion proof to that checkpoint, computed from the nodes the append formed
 * (no reads). The signed checkpoint is written in the group's own durable batch (one key per group),
 * so a receipt is never given for a tree head the node could forget; proofs are rebuilt from the log
 * on later reads. Records logged before v2 (below the index kept at `!seq!v2`) keep their
 * `tianfu.receipt/v1`: signed per record, deterministic (RFC 6979), cached, re-signed identically on a miss.
 */
import { randomBytes } from 'node:crypto';
import { computeAddress } from 'ethers';
import { Eip191Signer } from './crypto/eip191';
import { keccakReady } from './crypto/keccak';
import {
  ProtocolError,
  RECEIPT_TYPE,
  RECEIPT_V2_TYPE,
  CHECKPOINT_V2_TYPE,
  checkpointV2Message,
  commitment,
  entryBytes,
  makeEntry,
  parseEntry,
  receiptMessage,
  recordDigest,
  subjectPseudonym,
  toHex,
  type Hex,
  type LogEntry,
  type Receipt,
  type ReceiptV1,
  type SignedCheckpointV2,
  STATE_ROOT_KIND,
  isMappedKind,
  stateRootSubject,
} from './protocol';
import { DomainError, type Actor, type DomainRules } from './domain/types';
import { writeOps, type BatchOp, type Database } from './store/db';
import type { LogStore, PreparedAppend } from './store/log-store';
import type { StateMapStore } from './state/state-map-store';

export const SEQ_PREFIX = '!seq!';
const RECORD = SEQ_PREFIX + 'r'; // r<index> → StoredRecord (JSON)
const RECEIPT = SEQ_PREFIX + 'c'; // c<operator address>!<index> → v1 Receipt (JSON), a cache (records before V2_FROM)
const GROUP = SEQ_PREFIX + 'g'; // g<treeSize> → StoredGroup: the signed checkpoint of the group commit that ended at treeSize
const V2_FROM = SEQ_PREFIX + 'v2'; // the first log index whose receipt is v2 (the log size when this code first opened it)
const SUBJECT = SEQ_PREFIX + 's'; // s<subject>!<index> → ''
const STATE = SEQ_PREFIX + 't'; // t<subject> → state (JSON)
const LINK = SEQ_PREFIX + 'p'; // p<subject> → subject salt (0x-hex): the entry subject is its pseudonym
const LAST_AT = SEQ_PREFIX + 'at';

const pad = (i: number): string => i.toString(16).padStart(12, '0');
/** Signed checkpoints kept in memory for reads (bundles, receipts pages): the most recent groups. */
const GROUP_CACHE = 256;

/** A group's signed checkpoint as stored, with the address that signed it (a key rotation re-signs on read). */
interface StoredGroup extends SignedCheckpointV2 {
  signer: Hex;
}

export interface SubmitRequest {
  kind: string;
  subject: string;
  record: Record<string, unknown>;
  actor: Actor | null;
  /** SHA-256 of JCS(record), when the caller computed it already (the intake workers): not computed again here. */
  recordDigest?: Hex;
  /** Extra operations committed atomically with this record (e.g. an index of the domain's own). */
  extraOps?: (accepted: { index: number; at: string }) => BatchOp[];
}

export interface StoredRecord {
  index: number;
  kind: string;
  /** The plain subject (invoice key, evidence id): state, indexes and rules go by it. */
  subject: string;
  /**
   * Pseudonymous subjects only: the subject's salt, so that entry.subject = subjectPseudonym(subjectSalt,
   * subject). Absent for evidence, and for invoices first logged before pseudonyms (their entries keep
   * the plain key for life, so one invoice's history stays one subject).
   */
  subjectSalt?: Hex;
  record: Record<string, unknown> | null;
  salt: Hex | null;
  recordDigest: Hex;
  entry: LogEntry;
  leafHash: Hex;
  actor: { keyId: string; role: string } | null;
}

export interface Accepted extends StoredRecord {
  receipt: Receipt;
  /** The subject's state after this record. */
  state: unknown;
}

export interface SequencerOptions {
  db: Database;
  log: LogStore;
  logId: Hex;
  /** Operator private key (0x-hex). */
  operatorKey: Hex;
  rules: readonly DomainRules<unknown>[];
  /** fsync each group commit (default true). Off only for the benchmark's comparison. */
  durable?: boolean;
  /** Largest group per flush. */
  maxGroup?: number;
  clock?: () => Date;
  /**
   * @deprecated Ignored since receipts v2: one signature per group commit is made on this thread,
   * overlapping the group's fsync.
   */
  signingWorkers?: number;
  /** The state map (node/state): updated in every group's batch; enables appendStateRoot(). */
  stateMap?: StateMapStore;
}

interface Pending {
  /** Applied all-or-nothing, in order, in one group (e.g. a red invoice and the reversal of its blue one). */
  reqs: SubmitRequest[];
  resolve: (a: Accepted[]) => void;
  reject: (e: unknown) => void;
  /** A state.root request (appendStateRoot): placed first in its group, before the group's own records. */
  stateRoot?: boolean;
}

export class Sequencer {
  private readonly db: Database;
  private readonly log: LogStore;
  readonly logId: Hex;
  private readonly signer: Eip191Signer;
  /**
   * Receipt-cache key prefix, per operator: after a key rotation (setOperator, then a restart with
   * the new key) receipts are served signed by the operator the registry names now, never from the
   * old key's cache (a bundle names one operator, checked against the registry at its checkpoint).
   */
  private readonly receiptPrefix: string;
  /** The operator's address, lowercase (who signs group checkpoints now). */
  private readonly operator: Hex;
  /** The first log index whose receipt is v2. */
  private v2From = 0;
  private readonly groups = new Map<number, SignedCheckpointV2>();
  /** The log store's prepared append of the group being committed, until it is committed or aborted. */
  private openAppend: PreparedAppend | null = null;
  private readonly rulesByKind = new Map<string, DomainRules<unknown>>();
  private readonly durable: boolean;
  private readonly maxGroup: number;
  private readonly clock: () => Date;
  readonly stateMap: StateMapStore | null;
  /** Whether the log's last entry is a state.root (then another one would say nothing new). */
  private lastIsStateRoot = false;
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;
  private lastAtMs = 0;
  private closed = false;
  /** Counters for /metrics. */
  readonly stats = { accepted: 0, refused: 0, groups: 0, failedGroups: 0 };

  private constructor(o: SequencerOptions) {
    this.db = o.db;
    this.log = o.log;
    this.logId = o.logId;
    this.signer = new Eip191Signer(o.operatorKey);
    this.operator = computeAddress(o.operatorKey).toLowerCase() as Hex;
    this.receiptPrefix = RECEIPT + this.operator.slice(2) + '!';
    this.durable = o.durable ?? true;
    this.maxGroup = o.maxGroup ?? 4096;
    this.clock = o.clock ?? (() => new Date());
    this.stateMap = o.stateMap ?? null;
    for (const r of o.rules) {
      for (const k of r.kinds) {
        if (this.rulesByKind.has(k)) throw new Error(`two domains claim entry kind ${k}`);
        this.rulesByKind.set(k, r);
      }
    }
  }

  static async open(o: SequencerOptions): Promise<Sequencer> {
    await keccakReady; // the fast hasher from the first receipt on (the JS one would give the same bytes)
    const s = new Sequencer(o);
    const last = await o.db.get(LAST_AT, { valueEncoding: 'utf8' });
    // Acceptance times never go backwards, even if the wall clock does after a restart.
    if (last !== undefined) s.lastAtMs = Number(last);
    // Receipts v2 from the log's size when this code first opened it; every record before keeps its v1 receipt.
    const from = await o.db.get(V2_FROM, { valueEncoding: 'utf8' });
    if (from === undefined) {
      s.v2From = o.log.size;
      await o.db.put(V2_FROM, String(s.v2From), { valueEncoding: 'utf8', sync: true });
    } else s.v2From = Number(from);
    if (o.log.size > 0) s.lastIsStateRoot = (await s.getRecord(o.log.size - 1))?.kind === STATE_ROOT_KIND;
    return s;
  }


  /** Queues one record; resolves once it is durable, with its signed receipt; rejects with DomainError when refused. */
  submit(req: SubmitRequest): Promise<Accepted> {
    return this.submitAll([req]).then((a) => a[0]!);
  }

  /** Several records appended all-or-nothing, in order: if any is refused, none is appended. */
  submitAll(reqs: SubmitRequest[]): Promise<Accepted[]> {
    if (this.closed) return Promise.reject(new Error('sequencer is closed'));
    if (reqs.length === 0) return Promise.resolve([]);
    for (const req of reqs) {
      if (!this.rulesByKind.has(req.kind)) return Promise.reject(new DomainError('UNKNOWN_KIND', `no domain accepts entry kind ${req.kind}`));
    }
    return new Promise<Accepted[]>((resolve, reject) => {
      this.queue.push({ reqs, resolve, reject });
      this.schedule();
    });
  }

  /**
   * Appends a `state.root` entry committing to the state map's root as of its own index (the entry's
   * subject names that tree size; its commitment IS the map root). Resolves with it, or null when there
   * is no map or the log's last entry already is a state.root (nothing changed since). The anchorer
   * calls this before each checkpoint, so every anchored checkpoint covers a state root.
   */
  appendStateRoot(): Promise<Accepted | null> {
    if (!this.stateMap || this.closed) return Promise.resolve(null);
    return new Promise<Accepted[]>((resolve, reject) => {
      this.queue.push({ reqs: [], resolve, reject, stateRoot: true });
      this.schedule();
    }).then((a) => a[0] ?? null);
  }

  /** Waits until everything queued so far is written (used by SIGTERM drain). */
  async drain(): Promise<void> {
    while (this.flushing || this.queue.length > 0) {
      if (!this.flushing) this.schedule();
      await this.flushing;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.drain();
    // The state map's overlay (changed since its last write, once per epoch) goes to disk, so that the
    // next open replays nothing; after a crash instead, the open replays the log from the written map.
    await this.stateMap?.flush();
  }

  /** The first log index whose receipt is tianfu.receipt/v2 (earlier ones are v1). */
  get firstV2Index(): number {
    return this.v2From;
  }

  private schedule(): void {
    if (this.flushing) return;
    this.flushing = (async () => {
      // Yield once so that submissions arriving in the same tick join this group.
      await new Promise((r) => setImmediate(r));
      while (this.queue.length > 0) {
        const group = this.queue.splice(0, this.maxGroup);
        await this.flushGroup(group);
      }
    })().finally(() => {
      this.flushing = null;
      if (this.queue.length > 0) this.schedule();
    });
  }

  private nextAt(): Date {
    const now = this.clock().getTime();
    this.lastAtMs = Math.max(this.lastAtMs, now);
    return new Date(this.lastAtMs);
  }

  /**
   * One group commit. Nothing it throws may leave the group's submitters waiting or the log store
   * with a prepared append outstanding (every later group would be refused): such a failure rejects
   * the whole group, as a failed write does.
   */
  private async flushGroup(all: Pending[]): Promise<void> {
    try {
      await this.commitGroup(all);
    } catch (err) {
      if (this.openAppend) {
        this.openAppend.abort();
        this.openAppend = null;
      }
      this.stats.failedGroups++;
      for (const p of all) p.reject(err);
    }
  }

  private async commitGroup(all: Pending[]): Promise<void> {
    const rootReqs = all.filter((p) => p.stateRoot);
    const group = rootReqs.length === 0 ? all : all.filter((p) => !p.stateRoot);
    const subjects = [...new Set(group.flatMap((p) => p.reqs.map((r) => r.subject)))];
    let states: unknown[];
    try {
      states = await this.db.getMany(subjects.map((s) => STATE + s), { valueEncoding: 'json' });
    } catch (err) {
      for (const p of all) p.reject(err);
      return;
    }
    const overlay = new Map<string, unknown>();
    subjects.forEach((s, i) => overlay.set(s, states[i] ?? undefined));
    // Subject salts (pseudonymous kinds): a salt, or null for a subject logged with its plain key
    // before pseudonyms existed, or undefined for a new subject (a salt is drawn for it below).
    const pseudoReqs = group.reduce((n, p) => n + p.reqs.filter((r) => this.rulesByKind.get(r.kind)!.pseudonymousSubjects === true).length, 0);
    const links = new Map<string, Hex | null | undefined>();
    if (pseudoReqs > 0) {
      const pseudoSubjects = [...new Set(group.flatMap((p) => p.reqs.filter((r) => this.rulesByKind.get(r.kind)!.pseudonymousSubjects === true).map((r) => r.subject)))];
      let salts: (string | undefined)[];
      try {
        salts = await this.db.getMany(pseudoSubjects.map((s) => LINK + s), { valueEncoding: 'utf8' });
      } catch (err) {
        for (const p of all) p.reject(err);
        return;
      }
      pseudoSubjects.forEach((s, i) => links.set(s, (salts[i] as Hex | undefined) ?? (overlay.get(s) !== undefined ? null : undefined)));
    }
    const subjectSaltPool = pseudoReqs > 0 ? randomBytes(32 * pseudoReqs) : null;
    let subjectSaltsUsed = 0;
    const newLinks = new Map<string, Hex>();
    const freshSubjects = new Set<string>();

    const at = this.nextAt();
    const atIso = at.toISOString();
    const accepted: { p: Pending; req: SubmitRequest; stored: StoredRecord; state: unknown }[] = [];
    const bytes: Uint8Array[] = [];
    let nextIndex = this.log.size;
    // One draw from the CSPRNG for the whole group's salts (a 32-byte call each cost ~11 µs).
    const saltPool = randomBytes(32 * group.reduce((n, p) => n + p.reqs.length, 0));
    let saltsUsed = 0;
    // A state.root goes first: it commits to the map before this group, i.e. as of its own index.
    let stateRootAt: number | undefined;
    if (rootReqs.length > 0 && this.stateMap && !this.lastIsStateRoot) {
      stateRootAt = nextIndex;
      const mapRoot = await this.stateMap.settledRoot();
      const entry = makeEntry(STATE_ROOT_KIND, stateRootSubject(nextIndex), mapRoot, at);
      const req: SubmitRequest = { kind: STATE_ROOT_KIND, subject: entry.subject, record: {}, actor: null };
      accepted.push({ p: rootReqs[0]!, req, state: null, stored: { index: nextIndex, kind: STATE_ROOT_KIND, subject: entry.subject, record: null, salt: null, recordDigest: mapRoot, entry, leafHash: '0x' as Hex, actor: null } });
      bytes.push(entryBytes(entry));
      nextIndex++;
    }
    for (const p of rootReqs.slice(stateRootAt === undefined ? 0 : 1)) p.resolve([]);
    for (const p of group) {
      // Apply this submission's records against a tentative overlay; merge only if all pass.
      const tentative = new Map<string, unknown>();
      const tentativeLinks = new Map<string, Hex | null>();
      const mine: typeof accepted = [];
      const mineBytes: Uint8Array[] = [];
      let failed: unknown = null;
      for (const req of p.reqs) {
        const { kind, subject, record, actor } = req;
        try {
          const prev = tentative.has(subject) ? tentative.get(subject) : overlay.get(subject);
          let memo: Hex | undefined;
          const digestOf = (): Hex => (memo ??= req.recordDigest ?? recordDigest(record));
          const next = this.rulesByKind.get(kind)!.apply({ kind, subject, record, state: prev, at, actor, recordDigest: digestOf });
          const salt = toHex(saltPool.subarray(32 * saltsUsed, 32 * ++saltsUsed));
          const digest = digestOf();
          let subjectSalt: Hex | null = null;
          let drawnSalt = false;
          if (this.rulesByKind.get(kind)!.pseudonymousSubjects === true) {
            const known = tentativeLinks.has(subject) ? tentativeLinks.get(subject) : links.get(subject);
            subjectSalt = known !== undefined ? known : toHex(subjectSaltPool!.subarray(32 * subjectSaltsUsed, 32 * ++subjectSaltsUsed));
            tentativeLinks.set(subject, subjectSalt);
            drawnSalt = known === undefined;
          }
          const entrySubject = subjectSalt === null ? subject : subjectPseudonym(subjectSalt, subject as Hex);
          // A pseudonym from a salt drawn just now has never been logged: the state map need not read its old leaf.
          if (drawnSalt) freshSubjects.add(entrySubject);
          const entry = makeEntry(kind, entrySubject, commitment(salt, digest), at);
          tentative.set(subject, next);
          mineBytes.push(entryBytes(entry));
          mine.push({
            p,
            req,
            state: next,
            stored: {
              index: nextIndex + mine.length,
              kind,
              subject,
              ...(subjectSalt !== null ? { subjectSalt } : {}),
              record,
              salt,
              recordDigest: digest,
              entry,
              leafHash: '0x' as Hex,
              actor: actor ? { keyId: actor.keyId, role: actor.role } : null,
            },
          });
        } catch (err) {
          // A record with no canonical form (a lone surrogate, an unsafe integer…) is the client's
          // input refused, not a failure of the node: say so, with the node's message.
          failed = err instanceof ProtocolError && err.code === 'INVALID_INPUT' ? new DomainError('RECORD_INVALID', `the record has no canonical JSON form: ${err.message}`) : err;
          break;
        }
      }
      if (failed !== null) {
        this.stats.refused++;
        p.reject(failed);
        continue;
      }
      for (const [k, v] of tentative) overlay.set(k, v);
      for (const [k, v] of tentativeLinks) {
        if (v !== null && links.get(k) === undefined) newLinks.set(k, v);
        links.set(k, v);
      }
      nextIndex += mine.length;
      accepted.push(...mine);
      bytes.push(...mineBytes);
    }
    if (accepted.length === 0) return;

    const prepared = this.log.prepareAppend(bytes);
    this.openAppend = prepared;
    const ops: BatchOp[] = [...prepared.ops];
    let mapUpdate: Awaited<ReturnType<StateMapStore['prepare']>> | null = null;
    if (this.stateMap) {
      const changes = accepted.flatMap((a, j) => (isMappedKind(a.stored.kind) ? [{ ...a.stored.entry, index: a.stored.index, leafHash: prepared.leafHashes[j]!, fresh: freshSubjects.has(a.stored.entry.subject) }] : []));
      try {
        mapUpdate = await this.stateMap.prepare(changes, prepared.newSize, stateRootAt);
      } catch (err) {
        prepared.abort();
        this.openAppend = null;
        this.stats.failedGroups++;
        for (const p of new Set(accepted.map((a) => a.p))) p.reject(err);
        return;
      }
      ops.push(...mapUpdate.ops);
    }
    const touched = new Set<string>();
    accepted.forEach((a, j) => {
      a.stored.leafHash = prepared.leafHashes[j]!;
      const i = a.stored.index;
      ops.push({ type: 'put', key: RECORD + pad(i), value: a.stored, valueEncoding: 'json' } as BatchOp);
      ops.push({ type: 'put', key: SUBJECT + a.stored.subject + '!' + pad(i), value: '', valueEncoding: 'utf8' } as BatchOp);
      if (a.req.extraOps) ops.push(...a.req.extraOps({ index: i, at: atIso }));
      if (a.stored.kind !== STATE_ROOT_KIND) touched.add(a.stored.subject);
    });
    for (const s of touched) ops.push({ type: 'put', key: STATE + s, value: overlay.get(s), valueEncoding: 'json' } as BatchOp);
    for (const [s, salt] of newLinks) ops.push({ type: 'put', key: LINK + s, value: salt, valueEncoding: 'utf8' } as BatchOp);
    ops.push({ type: 'put', key: LAST_AT, value: String(this.lastAtMs), valueEncoding: 'utf8' } as BatchOp);

    // ONE signature for the group: its checkpoint, the tree after it (receipts v2). Made before the
    // write so that it is durable with the group; ~50 µs, once per group however large.
    const checkpoint = this.signGroup(prepared.newSize, prepared.rootHash, atIso);
    ops.push({ type: 'put', key: GROUP + pad(prepared.newSize), value: { ...checkpoint, signer: this.operator } satisfies StoredGroup, valueEncoding: 'json' } as BatchOp);
    // The durable write runs on libuv's pool while this thread builds the proofs. Its outcome is
    // captured at once, so that a failure meanwhile is never an unhandled rejection.
    const written = writeOps(this.db, ops, { sync: this.durable }).then(
      () => null,
      (err: unknown) => ({ err }),
    );
    const receiptOf = (a: (typeof accepted)[number], proof: Hex[]): Receipt => ({ type: RECEIPT_V2_TYPE, logId: this.logId, index: a.stored.index, leafHash: a.stored.leafHash, at: atIso, checkpoint, proof });
    let receipts: Receipt[] | null = null;
    try {
      const proofs = prepared.inclusionProofs();
      receipts = accepted.map((a, j) => receiptOf(a, proofs[j]!));
    } catch {
      // Our proof builder failed its own check (a bug, never a bad input): the proofs are read from
      // the log store below, each checked there, once the group is committed.
    }
    const failed = await written;
    if (failed) {
      const err = failed.err;
      prepared.abort();
      this.openAppend = null;
      this.stats.failedGroups++;
      for (const p of new Set(accepted.map((a) => a.p))) p.reject(err);
      return;
    }
    prepared.commit();
    this.openAppend = null;
    mapUpdate?.commit();
    receipts ??= await Promise.all(accepted.map(async (a) => receiptOf(a, (await this.log.inclusionProof(a.stored.index, checkpoint.treeSize)).proof)));
    this.remember(checkpoint);
    this.lastIsStateRoot = accepted[accepted.length - 1]!.stored.kind === STATE_ROOT_KIND;
    this.stats.groups++;
    this.stats.accepted += accepted.length;
    const results = new Map<Pending, Accepted[]>();
    accepted.forEach((a, j) => {
      const list = results.get(a.p) ?? [];
      list.push({ ...a.stored, receipt: receipts[j]!, state: a.state });
      results.set(a.p, list);
    });
    for (const [p, list] of results) p.resolve(list);
  }

  /** The signed checkpoint v2 of the tree of `treeSize` at `at`, by the operator key. */
  private signGroup(treeSize: number, rootHash: Hex, at: string): SignedCheckpointV2 {
    const payload = { type: CHECKPOINT_V2_TYPE, logId: this.logId, treeSize, rootHash, at };
    return { ...payload, signature: this.signer.sign(checkpointV2Message(payload)) };
  }

  private remember(cp: SignedCheckpointV2): void {
    this.groups.set(cp.treeSize, cp);
    if (this.groups.size > GROUP_CACHE) this.groups.delete(this.groups.keys().next().value!);
  }

  /**
   * The signed checkpoint of the group commit that holds log index `index` (the first group head
   * above it), signed by the current operator: a group signed before a key rotation is re-signed
   * (deterministic) so that a bundle names one operator. Undefined for an index before v2 or beyond the log.
   */
  async groupCheckpoint(index: number): Promise<SignedCheckpointV2 | undefined> {
    if (index < this.v2From || index >= this.log.size) return undefined;
    // The cache holds the latest groups in commit order, contiguously: the first one above index is
    // its group if the cached group before it ends at or below index (else its start is not known here).
    let prev: number | undefined;
    for (const [size, cp] of this.groups) {
      if (size > index) {
        if (prev !== undefined) return cp;
        break;
      }
      prev = size;
    }
    for await (const [, v] of this.db.iterator({ gt: GROUP + pad(index), lt: GROUP + '\xff', limit: 1, valueEncoding: 'json' })) {
      const g = v as unknown as StoredGroup;
      const { signer, ...cp } = g;
      return signer === this.operator ? cp : this.signGroup(cp.treeSize, cp.rootHash, cp.at);
    }
    return undefined;
  }

  /** Signs a v1 receipt: EIP-191 over JCS({logId, index, leafHash, at}) (records before v2). */
  sign(index: number, leafHash: Hex, at: string): ReceiptV1 {
    const payload = { logId: this.logId, index, leafHash, at };
    const signature = this.signer.sign(receiptMessage(payload));
    return { type: RECEIPT_TYPE, ...payload, signature };
  }

  // ---- reads ----

  async getRecord(index: number): Promise<StoredRecord | undefined> {
    const r = (await this.db.get(RECORD + pad(index), { valueEncoding: 'json' })) as StoredRecord | undefined;
    if (r) r.entry = parseEntry(r.entry);
    return r;
  }

  /**
   * The receipt of log index `index`: v1 for records before v2 (cached, else re-signed identically),
   * v2 for the others (the group's signed checkpoint and a proof from the log to its tree size).
   */
  async getReceipt(index: number): Promise<Receipt | undefined> {
    if (index < this.v2From) {
      const cached = (await this.db.get(this.receiptPrefix + pad(index), { valueEncoding: 'json' })) as Receipt | undefined;
      if (cached) return cached;
      const r = await this.getRecord(index);
      return r ? this.sign(index, r.leafHash, r.entry.at) : undefined;
    }
    const [r, cp] = await Promise.all([this.getRecord(index), this.groupCheckpoint(index)]);
    if (!r || !cp) return undefined;
    const inc = await this.log.inclusionProof(index, cp.treeSize);
    if (inc.rootHash !== cp.rootHash) throw new Error(`the stored checkpoint of size ${cp.treeSize} names root ${cp.rootHash}, the log's root there is ${inc.rootHash}`);
    return { type: RECEIPT_V2_TYPE, logId: this.logId, index, leafHash: r.leafHash, at: r.entry.at, checkpoint: cp, proof: inc.proof };
  }

  /**
   * The receipts of log indexes [start, end), in order (undefined where none can be made): as
   * getReceipt gives them, but the v2 proofs of each group checkpoint's indexes are built with one
   * read of the nodes they share (a page of 1,000 receipts is a few reads, not 1,000 proofs' worth).
   */
  async getReceipts(start: number, end: number): Promise<(Receipt | undefined)[]> {
    const out: (Receipt | undefined)[] = new Array(Math.max(0, end - start));
    const firstV2 = Math.min(Math.max(start, this.v2From), end);
    await Promise.all(Array.from({ length: firstV2 - start }, async (_, k) => (out[k] = await this.getReceipt(start + k))));
    if (firstV2 >= end) return out;
    // The records in one read; only their leaf hash and time are needed (the entry is not re-parsed).
    const records = (await this.db.getMany(Array.from({ length: end - firstV2 }, (_, k) => RECORD + pad(firstV2 + k)), { valueEncoding: 'json' })) as (StoredRecord | undefined)[];
    // Indexes ascend: each group checkpoint is looked up once, when the page enters its group.
    const byGroup = new Map<number, { cp: SignedCheckpointV2; indexes: number[] }>();
    let cp: SignedCheckpointV2 | undefined;
    for (let i = firstV2; i < end; i++) {
      if (!records[i - firstV2]) continue;
      if (!cp || i >= cp.treeSize) cp = await this.groupCheckpoint(i);
      if (!cp) continue;
      const g = byGroup.get(cp.treeSize) ?? { cp, indexes: [] };
      g.indexes.push(i);
      byGroup.set(cp.treeSize, g);
    }
    for (const { cp: c, indexes } of byGroup.values()) {
      const [proofs, root] = await Promise.all([this.log.inclusionProofs(indexes, c.treeSize), this.log.root(c.treeSize)]);
      if (root !== c.rootHash) throw new Error(`the stored checkpoint of size ${c.treeSize} names root ${c.rootHash}, the log's root there is ${root}`);
      indexes.forEach((i, k) => {
        const r = records[i - firstV2]!;
        out[i - start] = { type: RECEIPT_V2_TYPE, logId: this.logId, index: i, leafHash: r.leafHash, at: r.entry.at, checkpoint: c, proof: proofs[k]! };
      });
    }
    return out;
  }

  async getState<S>(subject: string): Promise<S | undefined> {
    return (await this.db.get(STATE + subject, { valueEncoding: 'json' })) as S | undefined;
  }

  /** A pseudonymous subject's salt (node/protocol/subject.ts); undefined for a plain subject or an unknown one. */
  async subjectSalt(subject: string): Promise<Hex | undefined> {
    return (await this.db.get(LINK + subject, { valueEncoding: 'utf8' })) as Hex | undefined;
  }

  /** The subject as the log's entries name it: its pseudonym when it has a salt, else itself. */
  async entrySubject(subject: string): Promise<string> {
    const salt = await this.subjectSalt(subject);
    return salt === undefined ? subject : subjectPseudonym(salt, subject as Hex);
  }

  /** Log indexes of every record about `subject`, ascending. */
  async subjectIndexes(subject: string): Promise<number[]> {
    const out: number[] = [];
    const prefix = SUBJECT + subject + '!';
    for await (const key of this.db.keys({ gte: prefix, lt: prefix + '\xff' })) out.push(parseInt(key.slice(prefix.length), 16));
    return out;
  }

  /**
   * Crypto-shredding (evidence erasure): drops a record's content and salt so the commitment can no
   * longer be opened. The entry and its leaf stay, so every proof keeps verifying.
   */
  async shredRecord(index: number, extraOps: BatchOp[] = []): Promise<void> {
    const r = await this.getRecord(index);
    if (!r) throw new DomainError('NOT_FOUND', `no record at index ${index}`);
    const shredded: StoredRecord = { ...r, record: null, salt: null };
    await this.db.batch<unknown, unknown>([{ type: 'put', key: RECORD + pad(index), value: shredded, valueEncoding: 'json' } as BatchOp, ...extraOps], { sync: true });
  }
}
