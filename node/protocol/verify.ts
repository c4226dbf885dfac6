/**
 * Bundle verification (DESIGN §3.9): the one verifier used by the CLI (`tianfu verify`), the API and
 * the browser page. Pure: the chain is read through a `ChainReader` the caller supplies, files are
 * hashed by the caller (their digests are passed in), and nothing here does I/O.
 *
 * Shape after sigstore/rekor's pkg/verify: a chain of small named steps, each recomputing one thing
 * from the bundle and comparing it with what the next link (or the chain) says. Nothing the bundle
 * or the node that made it claims is trusted: every claim is either recomputed or read from the
 * chain. Every step is reported — including skipped ones, with why — so a court sees exactly what
 * was and was not checked (research/evidence.md §(b.2), rows 1–4, 9, 14, 15).
 *
 * Per item:      canonical-bytes → record-digest → commitment → entry → leaf-hash → inclusion
 *                → receipt-signature → receipt-fields
 * Per checkpoint: chain-id → registry-code → anchor → operator → block
 * Histories:     custody-order, custody-rules (when the caller passes the domain's lifecycle rules)
 * Evidence:      file-claim, file-sha256, file-sm3, file-size
 */
import { canonicalBytes } from './canonical';
import { sha256 } from './hash';
import { fromHex, toHex, type Hex } from './bytes';
import { commitment as commitmentOf, entryLeafHash, type LogEntry } from './record';
import { rootFromInclusionProof } from './merkle';
import { recoverSigner, receiptMessage } from './signatures';
import { ProtocolError } from './errors';
import { BUNDLE_FORMAT, type Anchor, type Bundle, type BundleItem } from './formats';
import { loadBundle } from './bundle-schema';
import { subjectComparisons } from './subject';

export { loadBundle, BundleFormatError } from './bundle-schema';

export const VERIFICATION_REPORT_TYPE = 'tianfu.verification/v1' as const;

/** What a verifier needs from an EVM chain. Implementations: node/chain/chain-reader.ts (ethers), the browser page's fetch reader. */
export interface ChainReader {
  chainId(): Promise<bigint>;
  getCode(address: Hex): Promise<string>;
  /** AnchorRegistry.checkpoint(logId, treeSize); null when that size was never anchored (or the log does not exist). */
  checkpoint(registry: Hex, logId: Hex, treeSize: number): Promise<{ rootHash: Hex; timestamp: bigint; blockNumber: bigint } | null>;
  getBlock(number: bigint): Promise<{ hash: Hex; timestamp: bigint } | null>;
  blockNumber(): Promise<bigint>;
  /** Optional: AnchorRegistry.operatorOf(logId) as of `blockNumber`; without it the `operator` step is skipped. */
  operatorOf?(registry: Hex, logId: Hex, blockNumber: bigint): Promise<Hex | null>;
  /**
   * Optional: where a transaction was mined and the logs it emitted; without it the bundle's txHash is
   * reported, not checked. With `logs`, the transaction must have emitted the checkpoint's event.
   */
  transaction?(txHash: Hex): Promise<{ blockNumber: bigint; blockHash: Hex; to: Hex | null; status: number; logs?: readonly ChainLog[] } | null>;
}

/** One EVM log of a transaction receipt. */
export interface ChainLog {
  address: Hex;
  topics: readonly Hex[];
  data: Hex;
}

/** topic0 of `CheckpointAnchored(bytes32 indexed logId, uint64 treeSize, bytes32 rootHash, uint64 previousTreeSize)`. */
export const CHECKPOINT_ANCHORED_TOPIC = '0x81aa484e785fddfe9489a2e8366e2c01d721f83751b07765ef222e25ba0339ab' as Hex;

/** Whether `logs` hold the registry's CheckpointAnchored event for (logId, treeSize, rootHash). */
function emitsCheckpoint(logs: readonly ChainLog[], registry: Hex, logId: Hex, treeSize: number, rootHash: Hex): boolean {
  const word = (data: string, i: number): string => data.slice(2 + 64 * i, 2 + 64 * (i + 1)).toLowerCase();
  return logs.some(
    (l) =>
      eqHex(l.address, registry) &&
      l.topics.length === 2 &&
      eqHex(l.topics[0], CHECKPOINT_ANCHORED_TOPIC) &&
      eqHex(l.topics[1], logId) &&
      typeof l.data === 'string' &&
      l.data.length === 2 + 64 * 3 &&
      word(l.data, 0) === treeSize.toString(16).padStart(64, '0') &&
      '0x' + word(l.data, 1) === rootHash.toLowerCase(),
  );
}

/** A reader call failed (network, RPC error): the chain is unusable, which is not a verdict on the bundle. */
export class ChainReadError extends Error {
  override readonly name = 'ChainReadError';
}

export type StepName =
  | 'canonical-bytes'
  | 'record-digest'
  | 'commitment'
  | 'entry'
  | 'leaf-hash'
  | 'inclusion'
  | 'receipt-signature'
  | 'receipt-fields'
  | 'chain-id'
  | 'registry-code'
  | 'anchor'
  | 'operator'
  | 'block'
  | 'file-claim'
  | 'file-sha256'
  | 'file-sm3'
  | 'file-size'
  | 'custody-order'
  | 'custody-rules';

export type StepStatus = 'ok' | 'failed' | 'pending' | 'skipped';

export interface VerificationStep {
  name: StepName;
  /** Position of the item in `bundle.items` (per-item steps). */
  item?: number;
  /** Tree size of the checkpoint (per-checkpoint steps). */
  checkpoint?: number;
  status: StepStatus;
  detail: string;
  expected?: string;
  calculated?: string;
}

/** One history violation found by a domain's lifecycle rules (node/invoice, node/evidence replayEntries). */
export interface HistoryViolation {
  /** Position in the entries passed (= position in bundle.items). */
  index: number;
  code: string;
  message: string;
}

/** The domain's lifecycle rules over a subject's entries (and records, where not erased), in log order. */
export type HistoryRules = (kind: Bundle['kind'], items: readonly { index: number; entry: LogEntry; record: Record<string, unknown> | null }[]) => HistoryViolation[];

export interface VerifyFileDigests {
  sha256: Hex;
  sm3?: Hex;
  size?: number;
}

export interface VerifyOptions {
  chain: ChainReader;
  /** Digests of the file the verifier holds (the CLI hashes it; the browser hashes it locally). */
  file?: VerifyFileDigests;
  /** Confirmations the anchoring block needs (default 1: mined). Fewer is reported as pending. */
  confirmations?: number;
  /** A pending bundle is `accepted` (the CLI exits 0). The verdict stays 'pending'. */
  allowPending?: boolean;
  history?: HistoryRules;
  /** Clock for `verifiedAt` (default: now). */
  now?: () => Date;
  /** How far an entry's `at` may be after its anchoring block's time (default 5000 ms). */
  clockSkewMs?: number;
  /**
   * The registry and log the verifier trusts, known out of band (the ledger's published address book).
   * Without them the registry and log id are the bundle's own claim: anyone can deploy a contract of
   * their own on the same chain, anchor a forged root in it and write its address into a bundle.
   */
  trust?: { registry?: Hex; logId?: Hex };
  /**
   * Signer recovery for receipts: default the pure-JS one (signatures.ts, ~2 ms a receipt here). Node
   * callers pass libsecp256k1's (node/crypto/eip191.ts recoverEip191Signer, ~0.1 ms), which accepts
   * exactly the same signatures and defers to the default for the reason of any refusal.
   */
  recoverSigner?: (message: Uint8Array, signature: string) => Hex;
}

export interface ItemSummary {
  item: number;
  index: number;
  kind: string;
  at: string;
  status: 'verified' | 'pending' | 'erased' | 'invalid';
  recordDigest: Hex | null;
  leafHash: Hex;
  /** Tree size of the checkpoint that anchors it; null while pending. */
  checkpoint: number | null;
}

export interface CheckpointSummary {
  chainId: string;
  registry: Hex;
  logId: Hex;
  treeSize: number;
  rootHash: Hex;
  txHash: Hex;
  blockNumber: string;
  /** Read from the chain; null when not reached. */
  blockHash: Hex | null;
  blockTime: string | null;
  confirmations: number | null;
  operator: Hex | null;
  items: number[];
  status: StepStatus;
}

export interface VerificationReport {
  type: typeof VERIFICATION_REPORT_TYPE;
  verdict: 'valid' | 'invalid' | 'pending';
  /** valid, or pending with allowPending. */
  accepted: boolean;
  /** The first failed step (invalid), else the first pending one (pending), else null. */
  firstFailure: VerificationStep | null;
  /** subjectKey: the plain subject a pseudonymous one is linked to (the invoice key), when the bundle carries the link. */
  bundle: { format: string; kind: Bundle['kind']; subject: string; subjectKey?: Hex; logId: Hex; operator: Hex; chainId: string; registry: Hex; items: number; createdAt: string };
  items: ItemSummary[];
  checkpoints: CheckpointSummary[];
  file: (VerifyFileDigests & { status: StepStatus }) | null;
  steps: VerificationStep[];
  /** What was proven, in words a person can put in a file. */
  proves: string[];
  /** What it does not prove. */
  limits: string[];
  confirmationsRequired: number;
  verifiedAt: string;
}

const FIRST_KIND: Partial<Record<Bundle['kind'], string>> = { invoice: 'invoice.issued', evidence: 'evidence.deposited' };
const KIND_PREFIX: Partial<Record<Bundle['kind'], string>> = { invoice: 'invoice.', evidence: 'evidence.' };

const eqHex = (a: string | null | undefined, b: string | null | undefined): boolean => typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase();
/** Block times are whole seconds: print them so, not with a fake .000 that would read as earlier than a same-second acceptance. */
const isoOf = (seconds: bigint): string => new Date(Number(seconds) * 1000).toISOString().replace('.000Z', 'Z');

interface ItemResult {
  leaf: Hex;
  digest: Hex | null;
  /** Root the inclusion proof leads to, when it was computed and agreed with the bundle. */
  root: Hex | null;
  failed: boolean;
  pending: boolean;
}

class Steps {
  readonly list: VerificationStep[] = [];
  add(s: VerificationStep): VerificationStep {
    this.list.push(s);
    return s;
  }
}

function describeError(err: unknown): { detail: string; expected?: string; calculated?: string } {
  if (err instanceof ProtocolError) {
    return { detail: `${err.code}: ${err.message}`, ...(err.expected !== undefined ? { expected: err.expected } : {}), ...(err.calculated !== undefined ? { calculated: err.calculated } : {}) };
  }
  return { detail: (err as Error).message ?? String(err) };
}

/** First mismatch among named comparisons, or null. */
function firstMismatch(checks: readonly [string, unknown, unknown][]): [string, string, string] | null {
  for (const [what, expected, calculated] of checks) {
    const same = typeof expected === 'string' && typeof calculated === 'string' && /^0x/i.test(expected) ? eqHex(expected, calculated) : expected === calculated;
    if (!same) return [what, String(expected), String(calculated)];
  }
  return null;
}

function checkItem(b: Bundle, it: BundleItem, i: number, steps: Steps, recover: (message: Uint8Array, signature: string) => Hex): ItemResult {
  const at = { item: i };
  let failed = false;
  const fail = (s: Omit<VerificationStep, 'status' | 'item'>): void => {
    failed = true;
    steps.add({ ...s, ...at, status: 'failed' });
  };
  const ok = (s: Omit<VerificationStep, 'status' | 'item'>): void => {
    steps.add({ ...s, ...at, status: 'ok' });
  };
  const skip = (name: StepName, detail: string): void => {
    steps.add({ name, ...at, status: 'skipped', detail });
  };

  // 1–3. canonical bytes, record digest, commitment (DESIGN §3.1–3.3).
  let digest: Hex | null = null;
  if (it.record === null || it.salt === null) {
    // Anyone can write null into a bundle. Only an evidence deposit may be erased (DELETE …/content),
    // and the erasure is itself a logged custody event: without it in the bundle, a missing record is a
    // record withheld, not erased.
    const erasedBy = it.entry.kind === 'evidence.deposited' ? b.items.find((x) => x.index > it.index && x.entry.subject === it.entry.subject && x.entry.kind === 'evidence.custody.erased') : undefined;
    if (!erasedBy) {
      const why =
        it.entry.kind === 'evidence.deposited'
          ? 'record and salt are missing, but the bundle holds no evidence.custody.erased event for this deposit: the record is withheld, not erased'
          : `record and salt are missing; only an evidence deposit can be erased, never a ${it.entry.kind} record`;
      skip('canonical-bytes', why);
      skip('record-digest', why);
      fail({ name: 'commitment', detail: why });
    } else {
      const why = `content erased (crypto-shredded, log index ${erasedBy.index}): record and salt are gone; the entry still proves that a ${it.entry.kind} record about this subject was logged at ${it.entry.at}, not what it said`;
      skip('canonical-bytes', why);
      skip('record-digest', why);
      skip('commitment', why);
    }
  } else {
    let bytes: Uint8Array | null = null;
    try {
      bytes = canonicalBytes(it.record);
      ok({ name: 'canonical-bytes', detail: `${bytes.length} bytes of RFC 8785 (JCS) canonical JSON` });
    } catch (err) {
      fail({ name: 'canonical-bytes', ...describeError(err) });
    }
    if (bytes === null) {
      skip('record-digest', 'no canonical bytes');
      skip('commitment', 'no canonical bytes');
    } else {
      digest = toHex(sha256(bytes));
      ok({ name: 'record-digest', detail: 'SHA-256 of the canonical bytes', calculated: digest });
      try {
        const c = commitmentOf(it.salt, digest);
        if (c === it.entry.commitment) ok({ name: 'commitment', detail: 'SHA-256("tianfu/commitment/v1" 0x00 salt recordDigest) equals the entry\'s commitment', expected: it.entry.commitment, calculated: c });
        else fail({ name: 'commitment', detail: 'the record or its salt is not what was logged: the commitment recomputed from them differs from the entry\'s', expected: it.entry.commitment, calculated: c });
      } catch (err) {
        fail({ name: 'commitment', ...describeError(err) });
      }
    }
  }

  // 4. entry: about this bundle's subject, of this bundle's domain, and the record names the same subject.
  {
    const prefix = KIND_PREFIX[b.kind];
    const [sameSubject, ...subjectLinks] = subjectComparisons(b, it.entry.subject, it.record);
    const m = firstMismatch([
      sameSubject!,
      ...(prefix !== undefined ? ([[`entry.kind in the ${b.kind} domain`, true, it.entry.kind.startsWith(prefix)]] as [string, unknown, unknown][]) : []),
      ...subjectLinks,
    ]);
    if (m) fail({ name: 'entry', detail: `${m[0]} differs${m[0].startsWith('entry.kind') ? `: ${it.entry.kind}` : ''}`, expected: m[1], calculated: m[2] });
    else ok({ name: 'entry', detail: `${it.entry.kind} about ${it.entry.subject} at ${it.entry.at}` });
  }

  // 5. leaf hash (RFC 9162 §2.1.1) against the leaf the operator's receipt names.
  const leaf = entryLeafHash(it.entry);
  if (leaf === it.receipt.leafHash) ok({ name: 'leaf-hash', detail: 'SHA-256(0x00 || JCS(entry)) equals the receipt\'s leafHash', expected: it.receipt.leafHash, calculated: leaf });
  else fail({ name: 'leaf-hash', detail: 'the entry is not the one the receipt was issued for', expected: it.receipt.leafHash, calculated: leaf });

  // 6. inclusion (RFC 9162 §2.1.3.2): the root the proof leads to must be the anchored root the bundle names.
  let root: Hex | null = null;
  let pending = false;
  if (it.inclusion === null || it.anchor === null) {
    pending = true;
    steps.add({ name: 'inclusion', ...at, status: 'pending', detail: `log index ${it.index} is not yet covered by an anchored checkpoint in this bundle; the receipt is checked below (refresh with tianfu verify --refresh URL)` });
  } else {
    const inc = it.inclusion;
    const m = firstMismatch([
      ['inclusion.leafIndex (vs item index)', it.index, inc.leafIndex],
      ['inclusion.treeSize (vs anchor.treeSize)', it.anchor.treeSize, inc.treeSize],
    ]);
    if (m) fail({ name: 'inclusion', detail: `${m[0]} differs`, expected: m[1], calculated: m[2] });
    else {
      try {
        const r = toHex(rootFromInclusionProof(it.index, inc.treeSize, fromHex(leaf, 32), inc.proof.map((h) => fromHex(h, 32))));
        const m2 = firstMismatch([
          ['inclusion.rootHash', inc.rootHash, r],
          ['anchor.rootHash', it.anchor.rootHash, r],
        ]);
        if (m2) fail({ name: 'inclusion', detail: `the proof for leaf ${it.index} of ${inc.treeSize} leads to another root than ${m2[0]}`, expected: m2[1], calculated: m2[2] });
        else {
          root = r;
          ok({ name: 'inclusion', detail: `leaf ${it.index} is in the tree of size ${inc.treeSize} (${inc.proof.length} proof hashes)`, expected: inc.rootHash, calculated: r });
        }
      } catch (err) {
        fail({ name: 'inclusion', ...describeError(err) });
      }
    }
  }

  // 7. receipt signature (EIP-191 over JCS{logId,index,leafHash,at}) by the log operator.
  try {
    const signer = recover(receiptMessage(it.receipt), it.receipt.signature);
    if (eqHex(signer, b.log.operator)) ok({ name: 'receipt-signature', detail: `signed by the log operator ${b.log.operator.toLowerCase()}`, expected: b.log.operator.toLowerCase(), calculated: signer.toLowerCase() });
    else fail({ name: 'receipt-signature', detail: 'the receipt is not signed by the log operator', expected: b.log.operator.toLowerCase(), calculated: signer.toLowerCase() });
  } catch (err) {
    fail({ name: 'receipt-signature', ...describeError(err) });
  }

  // 8. the signed receipt is for this entry at this place in this log.
  {
    const m = firstMismatch([
      ['receipt.logId (vs bundle log)', b.log.logId, it.receipt.logId],
      ['receipt.index (vs item index)', it.index, it.receipt.index],
      ['receipt.leafHash (vs the entry\'s leaf hash)', leaf, it.receipt.leafHash],
      ['receipt.at (vs entry.at)', it.entry.at, it.receipt.at],
    ]);
    if (m) fail({ name: 'receipt-fields', detail: `${m[0]} differs`, expected: m[1], calculated: m[2] });
    else ok({ name: 'receipt-fields', detail: `receipt for log index ${it.index}, accepted at ${it.receipt.at}` });
  }
  return { leaf, digest, root, failed, pending };
}

async function read<T>(what: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    throw new ChainReadError(`reading ${what} from the chain failed: ${(err as Error).message ?? String(err)}`, { cause: err });
  }
}

interface Group {
  anchor: Anchor;
  items: number[];
  roots: Hex[];
}

async function checkCheckpoint(b: Bundle, g: Group, opts: VerifyOptions, steps: Steps, cache: { chainId?: bigint; head?: bigint }, required: number): Promise<CheckpointSummary> {
  const a = g.anchor;
  const where = { checkpoint: a.treeSize };
  const summary: CheckpointSummary = {
    chainId: a.chainId, registry: a.registry.toLowerCase() as Hex, logId: a.logId, treeSize: a.treeSize, rootHash: a.rootHash, txHash: a.txHash, blockNumber: a.blockNumber,
    blockHash: null, blockTime: null, confirmations: null, operator: null, items: g.items, status: 'ok',
  };
  const add = (name: StepName, status: StepStatus, detail: string, ev: { expected?: string; calculated?: string } = {}): void => {
    steps.add({ name, ...where, status, detail, ...ev });
    if (status === 'failed' || (status === 'pending' && summary.status !== 'failed')) summary.status = status;
  };
  const skipRest = (names: StepName[], why: string): CheckpointSummary => {
    for (const n of names) add(n, 'skipped', why);
    return summary;
  };

  // chain-id: the RPC must serve the chain the bundle names, or every later read is about another chain.
  cache.chainId ??= await read('the chain id', () => opts.chain.chainId());
  const rpcChain = cache.chainId.toString();
  if (a.chainId !== b.log.chainId) {
    add('chain-id', 'failed', 'the anchor names another chain than the bundle\'s log', { expected: b.log.chainId, calculated: a.chainId });
    return skipRest(['registry-code', 'anchor', 'operator', 'block'], 'not read: the bundle names two chains');
  }
  if (rpcChain !== a.chainId) {
    add('chain-id', 'failed', `the RPC endpoint serves chain ${rpcChain}, the bundle was anchored on chain ${a.chainId}: use an endpoint of that chain`, { expected: a.chainId, calculated: rpcChain });
    return skipRest(['registry-code', 'anchor', 'operator', 'block'], 'not read: wrong chain');
  }
  add('chain-id', 'ok', `the RPC endpoint serves chain ${rpcChain}, the chain the bundle names`, { expected: a.chainId, calculated: rpcChain });

  // registry-code: an address without code would answer every call with nothing.
  if (opts.trust?.registry !== undefined && !eqHex(a.registry, opts.trust.registry)) {
    add('registry-code', 'failed', 'the bundle was anchored in another registry than the one trusted (--registry): anyone can deploy a registry of their own', { expected: opts.trust.registry.toLowerCase(), calculated: a.registry.toLowerCase() });
    return skipRest(['anchor', 'operator', 'block'], 'not read: not the trusted registry');
  }
  if (!eqHex(a.registry, b.log.registry)) {
    add('registry-code', 'failed', 'the anchor names another registry than the bundle\'s log', { expected: b.log.registry.toLowerCase(), calculated: a.registry.toLowerCase() });
    return skipRest(['anchor', 'operator', 'block'], 'not read: the bundle names two registries');
  }
  const code = await read(`the code at ${a.registry}`, () => opts.chain.getCode(a.registry));
  if (typeof code !== 'string' || code === '0x' || code.length <= 2) {
    add('registry-code', 'failed', `there is no contract at ${a.registry.toLowerCase()} on chain ${rpcChain}: not the registry the bundle was anchored in`);
    return skipRest(['anchor', 'operator', 'block'], 'not read: no registry');
  }
  add('registry-code', 'ok', `contract code at ${a.registry.toLowerCase()} (${(code.length - 2) / 2} bytes)`);

  // anchor: the chain's checkpoint(logId, treeSize) must be the root the proofs lead to.
  if (a.logId !== b.log.logId) {
    add('anchor', 'failed', 'the anchor names another log than the bundle\'s', { expected: b.log.logId, calculated: a.logId });
    return skipRest(['operator', 'block'], 'not read: the bundle names two logs');
  }
  if (opts.trust?.logId !== undefined && !eqHex(a.logId, opts.trust.logId)) {
    add('anchor', 'failed', 'the bundle is about another log than the one trusted (--log-id)', { expected: opts.trust.logId.toLowerCase(), calculated: a.logId });
    return skipRest(['operator', 'block'], 'not read: not the trusted log');
  }
  const cp = await read(`checkpoint(${a.logId}, ${a.treeSize})`, () => opts.chain.checkpoint(a.registry, a.logId, a.treeSize));
  if (cp === null) {
    add('anchor', 'failed', `registry ${a.registry.toLowerCase()} on chain ${rpcChain} holds no checkpoint of size ${a.treeSize} for log ${a.logId}: never anchored`, { expected: a.rootHash, calculated: 'none' });
    return skipRest(['operator', 'block'], 'not read: no anchored checkpoint');
  }
  const proofRoot = g.roots[0] ?? a.rootHash;
  const m = firstMismatch([
    ['the root the inclusion proofs lead to', cp.rootHash, proofRoot],
    ...g.roots.slice(1).map((r) => ['the root another item\'s proof leads to', cp.rootHash, r] as [string, unknown, unknown]),
    ['anchor.rootHash', cp.rootHash, a.rootHash],
    ['anchor.blockNumber', cp.blockNumber.toString(), a.blockNumber],
    ['anchor.timestamp', cp.timestamp.toString(), a.timestamp],
  ]);
  if (m) {
    add('anchor', 'failed', `the chain's checkpoint of size ${a.treeSize} differs from ${m[0]}`, { expected: m[1], calculated: m[2] });
    return skipRest(['operator', 'block'], 'not read: the anchor does not match');
  }
  add('anchor', 'ok', `checkpoint(${a.logId}, ${a.treeSize}) on chain ${rpcChain} is the root the proofs lead to${g.roots.length === 0 ? ' (no proof of this checkpoint verified)' : ''}`, { expected: cp.rootHash, calculated: proofRoot });

  // operator: who signed the receipts must be the log's operator by the registry's record, not the
  // bundle's (see operatorInOffice for when).
  if (opts.chain.operatorOf) {
    const r = await operatorInOffice(b, g, cp.blockNumber, opts.chain, cache);
    const calculated = b.log.operator.toLowerCase();
    if (r.ok) {
      summary.operator = r.operator;
      add('operator', 'ok', r.detail, { expected: r.operator, calculated });
    } else {
      add('operator', 'failed', "the bundle's log operator (who signed the receipts) is not the operator the registry names: not at the anchoring block, not now, not when the entries were accepted", {
        expected: r.expected,
        calculated,
      });
    }
  } else add('operator', 'skipped', 'this chain reader cannot read operatorOf; the operator is as the bundle states');

  // block: the anchoring block exists, its time is the checkpoint's, and it is deep enough.
  const blk = await read(`block ${cp.blockNumber}`, () => opts.chain.getBlock(cp.blockNumber));
  if (blk === null) {
    add('block', 'failed', `block ${cp.blockNumber} does not exist on chain ${rpcChain}`);
    return summary;
  }
  cache.head ??= await read('the block number', () => opts.chain.blockNumber());
  const confirmations = Number(cache.head - cp.blockNumber + 1n);
  summary.blockHash = blk.hash.toLowerCase() as Hex;
  summary.blockTime = isoOf(blk.timestamp);
  summary.confirmations = confirmations;
  if (blk.timestamp !== cp.timestamp) {
    add('block', 'failed', `block ${cp.blockNumber}'s time differs from the time the registry recorded for the checkpoint`, { expected: cp.timestamp.toString(), calculated: blk.timestamp.toString() });
    return summary;
  }
  let lastTx: { logs?: readonly ChainLog[] } | null = null;
  if (opts.chain.transaction) {
    const tx = await read(`transaction ${a.txHash}`, () => opts.chain.transaction!(a.txHash));
    lastTx = tx;
    const mt = tx === null
      ? ['the bundle\'s txHash is not a mined transaction', a.txHash, 'none']
      : firstMismatch([
        ['the anchoring transaction\'s block', cp.blockNumber.toString(), tx.blockNumber.toString()],
        ['the anchoring transaction\'s block hash', blk.hash, tx.blockHash],
        ['the anchoring transaction\'s target', a.registry, tx.to ?? 'none'],
        ['the anchoring transaction\'s status', 1, tx.status],
      ]);
    if (mt) {
      add('block', 'failed', `${mt[0]} does not match (anchor.txHash ${a.txHash})`, { expected: String(mt[1]), calculated: String(mt[2]) });
      return summary;
    }
    // Another successful registry transaction in the same block would pass the checks above: the
    // transaction named must be the one that anchored this very checkpoint.
    if (tx!.logs && !emitsCheckpoint(tx!.logs, a.registry, a.logId, a.treeSize, cp.rootHash)) {
      add('block', 'failed', `the anchoring transaction ${a.txHash} did not emit CheckpointAnchored for this log, size and root`, {
        expected: `CheckpointAnchored(${a.logId.toLowerCase()}, ${a.treeSize}, ${cp.rootHash.toLowerCase()})`,
        calculated: `${tx!.logs.length} log${tx!.logs.length === 1 ? '' : 's'}, none of them that event`,
      });
      return summary;
    }
  }
  // A reader without transaction logs (or without transactions at all) cannot show which transaction
  // anchored the checkpoint: say so in the step, rather than let it pass unremarked.
  const unchecked = !opts.chain.transaction ? '; the anchoring transaction was not checked (this chain reader cannot read transactions)' : undefined;
  const noLogs = unchecked ?? (lastTx !== null && lastTx.logs === undefined ? '; its CheckpointAnchored event was not checked (this chain reader gives no transaction logs)' : '');
  const what = `block ${cp.blockNumber} (hash ${blk.hash.toLowerCase()}) at ${isoOf(blk.timestamp)}, ${confirmations} confirmation${confirmations === 1 ? '' : 's'}${noLogs}`;
  if (confirmations < required) add('block', 'pending', `${what}; ${required} required`, { expected: String(required), calculated: String(confirmations) });
  else add('block', 'ok', what, { expected: `>= ${required} confirmations`, calculated: String(confirmations) });

  // The chain bounds the operator's acceptance times from above: an entry cannot have been accepted
  // after the block that anchored it. Block times have whole seconds; `clockSkewMs` allows for the
  // node's clock running ahead of the chain's (the audit's AT_AFTER_ANCHOR applies the same rule).
  const latestMs = Number(blk.timestamp) * 1000 + 999 + (opts.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS);
  for (const i of g.items) {
    const it = b.items[i]!;
    const atMs = Date.parse(it.entry.at);
    if (atMs > latestMs) {
      steps.add({
        name: 'entry',
        item: i,
        status: 'failed',
        detail: `entry ${it.index} claims it was accepted at ${it.entry.at}, after block ${cp.blockNumber} anchored it at ${isoOf(blk.timestamp)}: the operator's time is forward-dated`,
        expected: `no later than ${new Date(latestMs).toISOString()}`,
        calculated: it.entry.at,
      });
    }
  }
  return summary;
}

/**
 * Whether the bundle's operator (who signed its receipts) was the log's operator by the registry, at
 * one of three times, asked in this order:
 * - the anchoring block of this checkpoint;
 * - now (after a key rotation the node serves every receipt re-signed by the new key, also for
 *   entries anchored under the old one);
 * - when the entries say they were accepted: their `at` is bound into the leaves and bounded above by
 *   the anchoring block's time. This is a receipt the old key signed before a rotation, on entries
 *   the new key anchored (a pending bundle refreshed). Block times are whole seconds, so every block
 *   of that second and the last one before it may be the one whose state held: each is asked, the
 *   latest first, up to OPERATOR_SECOND_BLOCKS of them.
 */
async function operatorInOffice(
  b: Bundle,
  g: Group,
  anchoredAt: bigint,
  chain: ChainReader,
  cache: { head?: bigint },
): Promise<{ ok: true; operator: Hex; detail: string } | { ok: false; expected: string }> {
  const logId = b.log.logId;
  const registry = g.anchor.registry;
  const operatorAt = (block: bigint): Promise<Hex | null> => read(`operatorOf(${logId})`, () => chain.operatorOf!(registry, logId, block));
  const is = (op: Hex): boolean => eqHex(op, b.log.operator);

  const op = await operatorAt(anchoredAt);
  if (op !== null && is(op)) return { ok: true, operator: op.toLowerCase() as Hex, detail: `the registry names ${op.toLowerCase()} as the log's operator at block ${anchoredAt}` };

  cache.head ??= await read('the block number', () => chain.blockNumber());
  const head = cache.head;
  const now = await operatorAt(head);
  if (now !== null && is(now)) {
    return { ok: true, operator: now.toLowerCase() as Hex, detail: `the registry names ${now.toLowerCase()} as the log's operator now (block ${head}); at the anchoring block ${anchoredAt} it named ${op?.toLowerCase() ?? 'none'} (the key was rotated since)` };
  }

  const latestAt = Math.max(...g.items.map((i) => Date.parse(b.items[i]!.entry.at)));
  const second = BigInt(Math.floor(latestAt / 1000));
  const hiBlock = await blockAtOrBefore(chain, second, anchoredAt);
  const loBlock = (await blockAtOrBefore(chain, second - 1n, anchoredAt)) ?? 0n;
  let k: bigint | null = null;
  let then: Hex | null = null;
  for (let n = hiBlock; n !== null && n >= loBlock && hiBlock! - n < BigInt(OPERATOR_SECOND_BLOCKS); n--) {
    k = n;
    then = await operatorAt(n);
    if (then !== null && is(then)) {
      return {
        ok: true,
        operator: then.toLowerCase() as Hex,
        detail: `the registry named ${then.toLowerCase()} as the log's operator at block ${k}, when the entries were accepted (${new Date(latestAt).toISOString()}, to the block time's second); the key was rotated before the anchoring block ${anchoredAt}`,
      };
    }
  }
  return { ok: false, expected: `${op?.toLowerCase() ?? 'none'} (block ${anchoredAt}) or ${now?.toLowerCase() ?? 'none'} (block ${head}) or ${then?.toLowerCase() ?? 'none'} (block ${k ?? 'none'})` };
}

/** Blocks of one second asked for the operator, at most (a chain mining many blocks a second). */
const OPERATOR_SECOND_BLOCKS = 64;

/** The last block at or below `hi` whose time is ≤ `t` seconds (binary search on block times), or null. */
async function blockAtOrBefore(chain: ChainReader, t: bigint, hi: bigint): Promise<bigint | null> {
  const timeOf = async (n: bigint): Promise<bigint> => {
    const blk = await read(`block ${n}`, () => chain.getBlock(n));
    if (blk === null) throw new ChainReadError(`block ${n} is missing from the chain`);
    return blk.timestamp;
  };
  if ((await timeOf(0n)) > t) return null;
  let lo = 0n;
  let top = hi;
  while (lo < top) {
    const mid = (lo + top + 1n) / 2n;
    if ((await timeOf(mid)) <= t) lo = mid;
    else top = mid - 1n;
  }
  return lo;
}

/** How far the node's clock may run ahead of the chain's before an entry's time counts as forward-dated. */
export const DEFAULT_CLOCK_SKEW_MS = 5000;

/**
 * A bundle with no anchored item has no checkpoint step, so nothing would compare the operator whose
 * key signed its receipts with the registry's: anyone could sign a "pending" bundle with a key of their
 * own. Read operatorOf at the chain head instead (chain and registry checked first).
 */
async function checkPendingOperator(b: Bundle, opts: VerifyOptions, steps: Steps, cache: { chainId?: bigint }): Promise<void> {
  cache.chainId ??= await read('the chain id', () => opts.chain.chainId());
  const rpcChain = cache.chainId.toString();
  if (rpcChain !== b.log.chainId) {
    steps.add({ name: 'chain-id', status: 'failed', detail: `the RPC endpoint serves chain ${rpcChain}, the bundle's log is on chain ${b.log.chainId}`, expected: b.log.chainId, calculated: rpcChain });
    return;
  }
  if (opts.trust?.registry !== undefined && !eqHex(b.log.registry, opts.trust.registry)) {
    steps.add({ name: 'registry-code', status: 'failed', detail: 'the bundle names another registry than the one trusted (--registry)', expected: opts.trust.registry.toLowerCase(), calculated: b.log.registry.toLowerCase() });
    return;
  }
  if (opts.trust?.logId !== undefined && !eqHex(b.log.logId, opts.trust.logId)) {
    steps.add({ name: 'operator', status: 'failed', detail: 'the bundle is about another log than the one trusted (--log-id)', expected: opts.trust.logId.toLowerCase(), calculated: b.log.logId });
    return;
  }
  if (!opts.chain.operatorOf) {
    steps.add({ name: 'operator', status: 'skipped', detail: 'this chain reader cannot read operatorOf; the operator of the pending receipts is as the bundle states' });
    return;
  }
  const head = await read('the block number', () => opts.chain.blockNumber());
  const op = await read(`operatorOf(${b.log.logId})`, () => opts.chain.operatorOf!(b.log.registry, b.log.logId, head));
  if (op !== null && eqHex(op, b.log.operator)) steps.add({ name: 'operator', status: 'ok', detail: `the registry names ${op.toLowerCase()} as the log's operator at block ${head} (no anchored item: read at the head)`, expected: op.toLowerCase(), calculated: b.log.operator.toLowerCase() });
  else steps.add({ name: 'operator', status: 'failed', detail: 'the receipts are signed by a key the registry does not name as the log\'s operator', expected: op === null ? 'none' : op.toLowerCase(), calculated: b.log.operator.toLowerCase() });
}

function depositFile(b: Bundle): { sha256?: unknown; sm3?: unknown; size?: unknown } | null | undefined {
  // The file's digests the log commits to live in the deposit record (items[0] of an evidence bundle).
  // undefined: no record names a file; null: the deposit record was erased.
  const first = b.items[0];
  if (!first) return undefined;
  if (first.record === null) return first.entry.kind === FIRST_KIND.evidence ? null : undefined;
  const f = first.record.file;
  return typeof f === 'object' && f !== null && !Array.isArray(f) ? (f as { sha256?: unknown }) : undefined;
}

function checkFile(b: Bundle, opts: Omit<VerifyOptions, 'chain'>, steps: Steps): VerificationReport['file'] {
  const relevant = b.kind === 'evidence' || (b.file !== undefined && b.file !== null) || opts.file !== undefined;
  if (!relevant) return null;
  const rec = depositFile(b);
  let status: StepStatus = 'ok';
  const add = (name: StepName, st: StepStatus, detail: string, ev: { expected?: string; calculated?: string } = {}): void => {
    steps.add({ name, status: st, detail, ...ev });
    if (st === 'failed') status = 'failed';
    else if (st === 'skipped' && status === 'ok' && name !== 'file-claim') status = 'skipped';
  };
  if (b.file) {
    if (rec === null) add('file-claim', 'skipped', 'the deposit record is erased: the bundle\'s file digests cannot be tied to the log');
    else if (rec === undefined) add('file-claim', 'failed', 'the bundle names file digests but none of its records does');
    else {
      const m = firstMismatch([
        ['file.sha256', rec.sha256, b.file.sha256],
        ['file.sm3', rec.sm3, b.file.sm3],
        ['file.size', rec.size, b.file.size],
      ]);
      if (m) add('file-claim', 'failed', `the bundle's ${m[0]} differs from the deposit record's`, { expected: m[1], calculated: m[2] });
      else add('file-claim', 'ok', 'the bundle\'s file digests are the deposit record\'s');
    }
  }
  const given = opts.file;
  // A file given but not tied to the log fails: record and salt null is also what a forger writes to
  // make any file pass, so "erased" with a file given must never read as valid.
  const noRec = rec === null ? 'the deposit record is erased (record and salt null in this bundle): the file given cannot be tied to the log, so it is not shown to be the deposited file' : 'no record in the bundle names file digests';
  if (!given) {
    add('file-sha256', 'skipped', 'no file given: pass the evidence file (--file) to check its content');
    add('file-sm3', 'skipped', 'no file given');
    return null;
  }
  const cmp = (name: StepName, alg: string, want: unknown, got: string | number | undefined): void => {
    if (got === undefined) return add(name, 'skipped', `the ${alg} of the file was not given`);
    if (rec === null || rec === undefined) return add(name, 'failed', noRec, { calculated: String(got) });
    if (want === undefined) return add(name, 'skipped', `the deposit record has no ${alg}`);
    if (typeof got === 'number' ? want === got : eqHex(String(want), got)) add(name, 'ok', `the file's ${alg} equals the deposited file's`, { expected: String(want), calculated: String(got) });
    else add(name, 'failed', `the file's ${alg} differs from the deposited file's: not the same file`, { expected: String(want), calculated: String(got) });
  };
  cmp('file-sha256', 'SHA-256', rec?.sha256, given.sha256);
  cmp('file-sm3', 'SM3', rec?.sm3, given.sm3);
  if (given.size !== undefined) cmp('file-size', 'byte length', rec?.size, given.size);
  return { ...given, status };
}

function checkHistory(b: Bundle, opts: Omit<VerifyOptions, 'chain'>, steps: Steps): void {
  const first = FIRST_KIND[b.kind];
  const problems: [string, string, string][] = [];
  if (first !== undefined) {
    if (b.items[0]!.entry.kind !== first) problems.push([`the first item must be the ${first} record`, first, b.items[0]!.entry.kind]);
    b.items.forEach((it, i) => {
      if (i > 0 && it.entry.kind === first) problems.push([`item ${i} is a second ${first}`, 'one', `items[${i}]`]);
    });
  }
  for (let i = 1; i < b.items.length; i++) {
    const prev = b.items[i - 1]!;
    const cur = b.items[i]!;
    if (cur.index <= prev.index) problems.push([`items are not in log order: item ${i} has log index ${cur.index} after ${prev.index}`, `> ${prev.index}`, String(cur.index)]);
    if (cur.entry.at < prev.entry.at) problems.push([`item ${i} was accepted at ${cur.entry.at}, before item ${i - 1} (${prev.entry.at})`, `>= ${prev.entry.at}`, cur.entry.at]);
    if (cur.entry.subject !== prev.entry.subject) problems.push([`item ${i} is about another subject`, prev.entry.subject, cur.entry.subject]);
  }
  const p = problems[0];
  if (p) steps.add({ name: 'custody-order', status: 'failed', detail: p[0], expected: p[1], calculated: p[2] });
  else steps.add({ name: 'custody-order', status: 'ok', detail: `${b.items.length} record${b.items.length === 1 ? '' : 's'} in log order, times non-decreasing${first ? `, starting with ${first}` : ''}` });

  if (!opts.history) {
    steps.add({ name: 'custody-rules', status: 'skipped', detail: 'no lifecycle rules given to this verifier' });
    return;
  }
  const v = opts.history(b.kind, b.items.map((it) => ({ index: it.index, entry: it.entry, record: it.record })));
  if (v.length === 0) steps.add({ name: 'custody-rules', status: 'ok', detail: `the ${b.items.length} events replay cleanly under the ${b.kind} lifecycle rules` });
  else {
    const f = v[0]!;
    steps.add({ name: 'custody-rules', item: f.index, status: 'failed', detail: `${f.code}: ${f.message} (item ${f.index}${v.length > 1 ? `; ${v.length - 1} more` : ''}) — an event is missing, reordered or not allowed`, calculated: f.code });
  }
}

function statements(b: Bundle, items: ItemSummary[], cps: CheckpointSummary[], file: VerificationReport['file'], required: number, trust: VerifyOptions['trust']): { proves: string[]; limits: string[] } {
  const proves: string[] = [];
  const byTree = new Map(cps.map((c) => [c.treeSize, c]));
  for (const c of cps) {
    if (c.status !== 'ok') continue;
    proves.push(`Log ${c.logId} had ${c.treeSize} entries with root ${c.rootHash} no later than ${c.blockTime} (UTC, to the second): registry ${c.registry} on chain ${c.chainId} recorded it in block ${c.blockNumber} (hash ${c.blockHash}, ${c.confirmations} confirmation${c.confirmations === 1 ? '' : 's'}), read from the chain, not from the bundle.`);
  }
  for (const s of items) {
    const c = s.checkpoint === null ? undefined : byTree.get(s.checkpoint);
    const when = c && c.status === 'ok' ? `; it existed, unchanged, no later than ${c.blockTime}` : '';
    if (s.status === 'verified') proves.push(`Item ${s.item} (log index ${s.index}, ${s.kind}): the record in this bundle is exactly the one committed in that entry (SHA-256 of its canonical JSON ${s.recordDigest}), accepted by log operator ${b.log.operator.toLowerCase()} at ${s.at} per its signed receipt${when}.`);
    else if (s.status === 'erased') proves.push(`Item ${s.item} (log index ${s.index}, ${s.kind}): content erased; the entry proves a ${s.kind} record about ${b.subject} was logged at ${s.at}${when}, not what it said.`);
    else if (s.status === 'pending') proves.push(`Item ${s.item} (log index ${s.index}, ${s.kind}): accepted by log operator ${b.log.operator.toLowerCase()} at ${s.at} per its signed receipt (a promise to anchor); not yet anchored on chain.`);
  }
  if (file && file.status === 'ok') proves.push(`The file given (SHA-256 ${file.sha256}${file.sm3 ? `, SM3 ${file.sm3}` : ''}) is byte for byte the file deposited.`);
  const limits = [
    'This proves integrity and existence since the anchoring time: the records (and the file) have not changed since then. It does not prove that their content is true, nor that the data was authentic before it was registered (SPC Online Litigation Rules Arts. 16 and 18).',
    'Acceptance times (entry `at`) are the log operator\'s statement, signed in its receipts; the block time is the chain\'s and bounds them from above.',
    'A bundle shows the events it holds. It cannot show that no event about the subject came after its last one, or that none was left out where the lifecycle rules would allow it: `tianfu audit` replays the whole log for that.',
    `The anchoring block had at least ${required} confirmation${required === 1 ? '' : 's'} when read; a chain reorganisation deeper than the confirmations could still replace it.`,
  ];
  if (trust?.registry === undefined || trust.logId === undefined) {
    limits.push(`The registry ${b.log.registry.toLowerCase()} and log ${b.log.logId} are the bundle's own claim${trust?.registry !== undefined ? ' (the registry was pinned)' : ''}: anyone can deploy a registry of their own and anchor in it. Compare them with the ledger's published address book, or pin them (tianfu verify --registry ADDR --log-id ID).`);
  }
  return { proves, limits };
}

/** Items checked between two yields to the event loop in `verifyBundle` (a few ms of CPU). */
const ITEMS_PER_SLICE = 32;

/** The pure part of verification (no chain): per-item, file and history steps. */
function offlineSteps(b: Bundle, opts: Omit<VerifyOptions, 'chain'>, steps: Steps): { results: ItemResult[]; groups: Group[]; file: VerificationReport['file'] } {
  const recover = opts.recoverSigner ?? recoverSigner;
  return groupByAnchor(b, b.items.map((it, i) => checkItem(b, it, i, steps, recover)));
}

/**
 * The same, yielding to the event loop between slices of items: a bundle of thousands of items
 * (a much-viewed piece of evidence) must not hold a server's thread (POST /v1/verify) for seconds.
 */
async function offlineStepsYielding(b: Bundle, opts: Omit<VerifyOptions, 'chain'>, steps: Steps): Promise<{ results: ItemResult[]; groups: Group[]; file: VerificationReport['file'] }> {
  const recover = opts.recoverSigner ?? recoverSigner;
  const results: ItemResult[] = [];
  for (let i = 0; i < b.items.length; i++) {
    if (i > 0 && i % ITEMS_PER_SLICE === 0) await new Promise((r) => setTimeout(r, 0));
    results.push(checkItem(b, b.items[i]!, i, steps, recover));
  }
  return groupByAnchor(b, results);
}

function groupByAnchor(b: Bundle, results: ItemResult[]): { results: ItemResult[]; groups: Group[]; file: VerificationReport['file'] } {
  const groups = new Map<string, Group>();
  b.items.forEach((it, i) => {
    if (!it.anchor) return;
    const a = it.anchor;
    const key = [a.chainId, a.registry.toLowerCase(), a.logId, a.treeSize, a.rootHash, a.txHash, a.blockNumber, a.timestamp].join('|');
    const g = groups.get(key) ?? { anchor: a, items: [], roots: [] };
    g.items.push(i);
    const r = results[i]!.root;
    if (r !== null && !g.roots.includes(r)) g.roots.push(r);
    groups.set(key, g);
  });
  return { results, groups: [...groups.values()], file: null };
}

function finish(b: Bundle, opts: Omit<VerifyOptions, 'chain'>, steps: Steps, results: ItemResult[], cps: CheckpointSummary[], file: VerificationReport['file'], required: number): VerificationReport {
  const failedItems = new Set(steps.list.filter((s) => s.status === 'failed' && s.item !== undefined).map((s) => s.item!));
  const cpByTree = new Map(cps.map((c) => [c.treeSize, c]));
  const items: ItemSummary[] = b.items.map((it, i) => {
    const r = results[i]!;
    const cp = it.anchor ? cpByTree.get(it.anchor.treeSize) : undefined;
    let status: ItemSummary['status'];
    if (failedItems.has(i) || cp?.status === 'failed') status = 'invalid';
    else if (r.pending || cp === undefined || cp.status !== 'ok') status = 'pending';
    else status = it.record === null ? 'erased' : 'verified';
    return { item: i, index: it.index, kind: it.entry.kind, at: it.entry.at, status, recordDigest: r.digest, leafHash: r.leaf, checkpoint: it.anchor?.treeSize ?? null };
  });
  const failed = steps.list.find((s) => s.status === 'failed') ?? null;
  const pendingStep = steps.list.find((s) => s.status === 'pending') ?? null;
  const verdict: VerificationReport['verdict'] = failed ? 'invalid' : pendingStep ? 'pending' : 'valid';
  const { proves, limits } = statements(b, items, cps, file, required, opts.trust);
  return {
    type: VERIFICATION_REPORT_TYPE,
    verdict,
    accepted: verdict === 'valid' || (verdict === 'pending' && opts.allowPending === true),
    firstFailure: failed ?? pendingStep,
    bundle: { format: BUNDLE_FORMAT, kind: b.kind, subject: b.subject, ...(b.subjectLink ? { subjectKey: b.subjectLink.key } : {}), logId: b.log.logId, operator: b.log.operator.toLowerCase() as Hex, chainId: b.log.chainId, registry: b.log.registry.toLowerCase() as Hex, items: b.items.length, createdAt: b.createdAt },
    items,
    checkpoints: cps,
    file,
    steps: steps.list,
    proves,
    limits,
    confirmationsRequired: required,
    verifiedAt: (opts.now ?? (() => new Date()))().toISOString(),
  };
}

function requiredConfirmations(n: number | undefined): number {
  const r = n ?? 1;
  if (!Number.isSafeInteger(r) || r < 1) throw new ProtocolError('INVALID_INPUT', `confirmations must be a positive integer, got ${n}`);
  return r;
}

/**
 * Verifies a bundle against the chain. Throws BundleFormatError for a bundle that does not load and
 * ChainReadError when the chain cannot be read; every other problem is a failed step in the report.
 */
export async function verifyBundle(bundle: Bundle, opts: VerifyOptions): Promise<VerificationReport> {
  const b = loadBundle(bundle);
  const required = requiredConfirmations(opts.confirmations);
  const steps = new Steps();
  const { results, groups } = await offlineStepsYielding(b, opts, steps);
  const cache: { chainId?: bigint; head?: bigint } = {};
  const cps: CheckpointSummary[] = [];
  for (const g of groups) cps.push(await checkCheckpoint(b, g, opts, steps, cache, required));
  if (groups.length === 0) await checkPendingOperator(b, opts, steps, cache);
  // History before file: the file's digests are read from the first item, which custody-order checks is the deposit.
  checkHistory(b, opts, steps);
  const file = checkFile(b, opts, steps);
  return finish(b, opts, steps, results, cps, file, required);
}

/**
 * Everything that needs no chain: records, commitments, entries, proofs, receipts, file and history.
 * Anchors are reported as skipped, so the verdict is at best 'pending': only the chain settles a bundle.
 * For a first answer before the chain is reached (the browser page) and for the benchmark.
 */
export function verifyBundleOffline(bundle: Bundle, opts: Omit<VerifyOptions, 'chain'> = {}): VerificationReport {
  const b = loadBundle(bundle);
  const required = requiredConfirmations(opts.confirmations);
  const steps = new Steps();
  const { results, groups } = offlineSteps(b, opts, steps);
  const cps: CheckpointSummary[] = groups.map((g) => {
    steps.add({ name: 'anchor', checkpoint: g.anchor.treeSize, status: 'pending', detail: 'the chain was not read (offline verification)' });
    const a = g.anchor;
    return { chainId: a.chainId, registry: a.registry.toLowerCase() as Hex, logId: a.logId, treeSize: a.treeSize, rootHash: a.rootHash, txHash: a.txHash, blockNumber: a.blockNumber, blockHash: null, blockTime: null, confirmations: null, operator: null, items: g.items, status: 'pending' as const };
  });
  // History before file: the file's digests are read from the first item, which custody-order checks is the deposit.
  checkHistory(b, opts, steps);
  const file = checkFile(b, opts, steps);
  return finish(b, opts, steps, results, cps, file, required);
}
