/**
 * The state map (pure, browser-safe): every subject of the log (invoice key, evidence id — exactly the
 * entry's `subject` string as logged) → a *state leaf*, authenticated as a sparse Merkle tree whose root
 * is committed through the log itself by `state.root` entries (docs/status-proofs.md).
 *
 * Construction: a binary sparse Merkle tree over 256-bit keys in which every subtree holding exactly one
 * leaf is collapsed into that leaf (as Diem's / Aptos' sparse Merkle tree), so a tree of n leaves has
 * expected depth ~log2(n) instead of 256 and a proof carries ~log2(n) sibling hashes:
 *
 *   key(subject)        = SHA-256("tianfu/state-key/v1" || 0x00 || UTF-8(subject))
 *   valueHash(leaf)     = SHA-256(JCS(leaf))
 *   leaf node           = SHA-256(0x00 || key || valueHash)
 *   internal node       = SHA-256(0x01 || left || right)
 *   empty subtree       = 32 zero bytes (no preimage is known, so it cannot be confused with a node)
 *
 * The root is a function of the set of (key, value) pairs only (never of the insertion order). At depth d
 * a subtree splits by bit d of the key (bit 0 = most significant bit of byte 0; 0 = left).
 *
 * A proof for a key is the sibling hashes on the path from the root down to the depth where the path ends,
 * plus what it ends in: the key's own leaf (presence), an empty subtree (absence), or another key's leaf
 * sharing the path so far (absence: had our key been present, that subtree would hold two leaves and be an
 * internal node instead).
 */
import { concatBytes, fromHex, toHex, utf8, type Hex } from './bytes';
import { canonicalJson, isPlainObjectOfSize, plainJcsString } from './canonical';
import { sha256 } from './hash';
import { ProtocolError } from './errors';

export const STATE_KEY_TAG = 'tianfu/state-key/v1';
export const STATE_HISTORY_TAG = 'tianfu/state-history/v1';
export const STATE_LEAF_TYPE = 'tianfu.state-leaf/v1' as const;
export const STATE_ROOT_KIND = 'state.root';
export const MAP_KEY_BITS = 256;
export const EMPTY_SUBTREE: Uint8Array = new Uint8Array(32);
export const EMPTY_MAP_ROOT: Hex = toHex(EMPTY_SUBTREE);

/** The subject of a `state.root` entry names the log size whose map it commits to. */
export function stateRootSubject(treeSize: number): string {
  return `state@${treeSize}`;
}

/** The tree size a `state.root` subject names, or null when it is not one. */
export function parseStateRootSubject(subject: string): number | null {
  const m = /^state@(0|[1-9][0-9]{0,15})$/.exec(subject);
  if (!m) return null;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : null;
}

/** Entries whose subjects are in the map: the invoice and evidence domains. Everything else (state.root) is not. */
export function isMappedKind(kind: string): boolean {
  return kind.startsWith('invoice.') || kind.startsWith('evidence.');
}

const KEY_PREFIX = concatBytes(utf8(STATE_KEY_TAG), new Uint8Array([0]));
const HISTORY_PREFIX = concatBytes(utf8(STATE_HISTORY_TAG), new Uint8Array([0]));

export function mapKey(subject: string): Uint8Array {
  return sha256(concatBytes(KEY_PREFIX, utf8(subject)));
}

export function mapLeafNode(key: Uint8Array, valueHash: Uint8Array): Uint8Array {
  const n = new Uint8Array(65);
  n[0] = 0;
  n.set(key, 1);
  n.set(valueHash, 33);
  return n;
}

export function mapInternalNode(left: Uint8Array, right: Uint8Array): Uint8Array {
  const n = new Uint8Array(65);
  n[0] = 1;
  n.set(left, 1);
  n.set(right, 33);
  return n;
}

/** Hash of an encoded node (65 bytes: tag, then key+valueHash or left+right). */
export function mapNodeHash(node: Uint8Array): Uint8Array {
  return sha256(node);
}

/** Bit `i` of a 256-bit key (0 = the most significant bit of byte 0). */
export function keyBit(key: Uint8Array, i: number): 0 | 1 {
  return ((key[i >> 3]! >> (7 - (i & 7))) & 1) as 0 | 1;
}

/** Number of leading bits two keys share. */
export function commonPrefixBits(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < 32; i++) {
    const x = a[i]! ^ b[i]!;
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return MAP_KEY_BITS;
}

// ---- state leaves: what the map says about one subject ----

export interface InvoiceLeafStatus {
  /** From the reversal entries: a full reversal (`invoice.reversed`) is final. */
  status: 'issued' | 'partially-reversed' | 'fully-reversed';
  reimbursement: 'init' | 'locked' | 'closed';
  use: 'none' | 'use-confirmed' | 'booked';
  /** Red-letter forms opened and not yet closed (rejected, withdrawn, expired or used by a reversal). */
  openRedForms: number;
}

export interface EvidenceLeafStatus {
  sealed: boolean;
  withdrawn: boolean;
  erased: boolean;
  /** Custody events after the deposit (accessed included). */
  custodyEvents: number;
}

/**
 * One subject's leaf. Every field is a function of the subject's public log entries alone (kind, order,
 * time, leaf hash), so any auditor replaying the public log recomputes the same map. `history` chains
 * the leaf hashes of all the subject's entries: a party holding the subject's records (its bundle) checks
 * that it holds them all as of the state root, and so knows the private state too (amounts remaining per
 * line, the parties) by replaying them.
 */
export interface StateLeaf {
  type: typeof STATE_LEAF_TYPE;
  subject: string;
  domain: 'invoice' | 'evidence';
  status: InvoiceLeafStatus | EvidenceLeafStatus;
  /** How many entries are about this subject. */
  entries: number;
  /** Log index, kind and time of the last entry that changed this leaf. */
  lastIndex: number;
  lastKind: string;
  lastAt: string;
  /** H_k = SHA-256("tianfu/state-history/v1" || 0x00 || H_{k-1} || leafHash_k), H_0 = 32 zero bytes. */
  history: Hex;
}

export interface MappedEntry {
  kind: string;
  subject: string;
  at: string;
}

export function historyStep(previous: Hex | null, leafHash: Hex): Hex {
  const prev = previous === null ? EMPTY_SUBTREE : fromHex(previous, 32);
  return toHex(sha256(concatBytes(HISTORY_PREFIX, prev, fromHex(leafHash, 32))));
}

/**
 * The next leaf of `entry.subject` after appending `entry` at `index` (whose RFC 9162 leaf hash is
 * `leafHash`). Total: it never refuses (the lifecycle rules refuse at append time and the audit flags
 * violations separately); for a valid history it mirrors the domains' rules. Only for mapped kinds.
 */
export function nextStateLeaf(prev: StateLeaf | undefined, entry: MappedEntry, index: number, leafHash: Hex): StateLeaf {
  const domain = entry.kind.startsWith('invoice.') ? 'invoice' : 'evidence';
  const history = historyStep(prev?.history ?? null, leafHash);
  let status: InvoiceLeafStatus | EvidenceLeafStatus;
  if (domain === 'invoice') {
    const s: InvoiceLeafStatus = prev && prev.domain === 'invoice' ? { ...(prev.status as InvoiceLeafStatus) } : { status: 'issued', reimbursement: 'init', use: 'none', openRedForms: 0 };
    switch (entry.kind) {
      case 'invoice.reimbursement-locked':
        if (s.reimbursement === 'init') s.reimbursement = 'locked';
        break;
      case 'invoice.reimbursement-unlocked':
        if (s.reimbursement === 'locked') s.reimbursement = 'init';
        break;
      case 'invoice.reimbursement-closed':
        if (s.reimbursement === 'locked') s.reimbursement = 'closed';
        break;
      case 'invoice.use-confirmed':
        if (s.use === 'none') s.use = 'use-confirmed';
        break;
      case 'invoice.booked':
        s.use = 'booked';
        break;
      case 'invoice.red-form-opened':
        s.openRedForms++;
        break;
      case 'invoice.red-form-rejected':
      case 'invoice.red-form-withdrawn':
      case 'invoice.red-form-expired':
        if (s.openRedForms > 0) s.openRedForms--;
        break;
      case 'invoice.partially-reversed':
      case 'invoice.reversed':
        if (s.openRedForms > 0) s.openRedForms--;
        if (entry.kind === 'invoice.reversed') s.status = 'fully-reversed';
        else if (s.status !== 'fully-reversed') s.status = 'partially-reversed';
        break;
      default:
        break; // invoice.issued (first), conflict-refused, red-form-confirmed: status unchanged
    }
    status = s;
  } else {
    const s: EvidenceLeafStatus = prev && prev.domain === 'evidence' ? { ...(prev.status as EvidenceLeafStatus) } : { sealed: false, withdrawn: false, erased: false, custodyEvents: 0 };
    if (entry.kind.startsWith('evidence.custody.')) {
      s.custodyEvents++;
      const event = entry.kind.slice('evidence.custody.'.length);
      if (event === 'sealed') s.sealed = true;
      if (event === 'withdrawn') s.withdrawn = true;
      if (event === 'erased') s.erased = true;
    }
    status = s;
  }
  return { type: STATE_LEAF_TYPE, subject: entry.subject, domain, status, entries: (prev?.entries ?? 0) + 1, lastIndex: index, lastKind: entry.kind, lastAt: entry.at, history };
}

export function leafValueHash(leaf: StateLeaf): Uint8Array {
  return sha256(utf8(leafJcs(leaf)));
}

/**
 * JCS (RFC 8785) of a state leaf. A leaf of the usual shape — exactly its fields, strings of printable
 * ASCII without `"` or `\`, counts as safe integers — is written directly in JCS key order (it is
 * hashed for every change of every subject; the general serializer costs several times as much); any
 * other value, e.g. a leaf read from a proof file with an extra field, goes through the general
 * canonical JSON, which also refuses what JSON cannot carry. Both give the same bytes (tested).
 */
export function leafJcs(leaf: StateLeaf): string {
  return fastLeafJcs(leaf) ?? canonicalJson(leaf);
}

const str = plainJcsString;
const count = (v: unknown): string | null => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? String(v) : null);
const bool = (v: unknown): string | null => (v === true ? 'true' : v === false ? 'false' : null);

function fastStatusJcs(s: unknown, domain: unknown): string | null {
  if (!isPlainObjectOfSize(s, 4)) return null;
  if (domain === 'invoice') {
    const a = count(s.openRedForms), b = str(s.reimbursement), c = str(s.status), d = str(s.use);
    return a && b && c && d ? `{"openRedForms":${a},"reimbursement":${b},"status":${c},"use":${d}}` : null;
  }
  if (domain === 'evidence') {
    const a = count(s.custodyEvents), b = bool(s.erased), c = bool(s.sealed), d = bool(s.withdrawn);
    return a && b && c && d ? `{"custodyEvents":${a},"erased":${b},"sealed":${c},"withdrawn":${d}}` : null;
  }
  return null;
}

function fastLeafJcs(leaf: StateLeaf): string | null {
  const l = leaf as unknown;
  if (!isPlainObjectOfSize(l, 9)) return null;
  const domain = str(l.domain), entries = count(l.entries), history = str(l.history), lastAt = str(l.lastAt);
  const lastIndex = count(l.lastIndex), lastKind = str(l.lastKind), status = fastStatusJcs(l.status, l.domain), subject = str(l.subject), type = str(l.type);
  if (!domain || !entries || !history || !lastAt || !lastIndex || !lastKind || !status || !subject || !type) return null;
  return `{"domain":${domain},"entries":${entries},"history":${history},"lastAt":${lastAt},"lastIndex":${lastIndex},"lastKind":${lastKind},"status":${status},"subject":${subject},"type":${type}}`;
}

// ---- proofs ----

/** Where a key's path ends: its own or another key's leaf, or an empty subtree. */
export type MapProofTerminal = { type: 'leaf'; key: Hex; valueHash: Hex } | { type: 'empty' };

export interface MapProof {
  /** Sibling hashes from the root down: siblings[i] is the sibling of the path's node at depth i + 1. */
  siblings: Hex[];
  terminal: MapProofTerminal;
}

export type MapProofErrorCode = 'MALFORMED' | 'WRONG_KEY' | 'ROOT_MISMATCH' | 'NOT_ON_PATH';

export class MapProofError extends ProtocolError {
  readonly mapCode: MapProofErrorCode;
  constructor(code: MapProofErrorCode, message: string, opts: { expected?: string; calculated?: string } = {}) {
    super(code === 'ROOT_MISMATCH' ? 'ROOT_MISMATCH' : code === 'MALFORMED' ? 'MALFORMED' : 'INVALID_INPUT', message, opts);
    this.mapCode = code;
  }
}

/** Root recomputed from a proof for `key` (pure compute; compare it yourself or use verifyMapProof). */
export function mapRootFromProof(key: Uint8Array, proof: MapProof): Uint8Array {
  const depth = proof.siblings.length;
  if (!Array.isArray(proof.siblings) || depth > MAP_KEY_BITS) throw new MapProofError('MALFORMED', `a map proof has at most ${MAP_KEY_BITS} siblings, got ${depth}`);
  let h: Uint8Array;
  if (proof.terminal.type === 'empty') h = EMPTY_SUBTREE;
  else if (proof.terminal.type === 'leaf') {
    const k = hexArg('terminal.key', proof.terminal.key);
    if (commonPrefixBits(k, key) < depth) throw new MapProofError('NOT_ON_PATH', `the proof ends in a leaf whose key does not share the first ${depth} bits of the path`);
    h = mapNodeHash(mapLeafNode(k, hexArg('terminal.valueHash', proof.terminal.valueHash)));
  } else throw new MapProofError('MALFORMED', `unknown map proof terminal ${JSON.stringify((proof.terminal as { type?: unknown }).type)}`);
  for (let d = depth - 1; d >= 0; d--) {
    const s = hexArg(`siblings[${d}]`, proof.siblings[d]!);
    h = mapNodeHash(keyBit(key, d) === 0 ? mapInternalNode(h, s) : mapInternalNode(s, h));
  }
  return h;
}

function hexArg(name: string, v: unknown): Uint8Array {
  if (typeof v !== 'string' || !/^0x[0-9a-f]{64}$/.test(v)) throw new MapProofError('MALFORMED', `${name} must be 32 bytes of 0x-prefixed lowercase hex`);
  return fromHex(v, 32);
}

/**
 * Checks a proof that `subject` maps to `leaf` (presence) or to nothing (leaf null: absence) in the map
 * with root `root`. Throws MapProofError naming what is wrong.
 */
export function verifyMapProof(root: Hex, subject: string, leaf: StateLeaf | null, proof: MapProof): void {
  const key = mapKey(subject);
  if (leaf !== null) {
    if (leaf.subject !== subject) throw new MapProofError('WRONG_KEY', 'the leaf is about another subject than the one proved', { expected: subject, calculated: leaf.subject });
    if (proof.terminal.type !== 'leaf') throw new MapProofError('WRONG_KEY', 'a presence proof must end in the subject\'s leaf, this one ends in an empty subtree');
    if (proof.terminal.key !== toHex(key)) throw new MapProofError('WRONG_KEY', 'the proof ends in the leaf of another key', { expected: toHex(key), calculated: proof.terminal.key });
    const vh = toHex(leafValueHash(leaf));
    if (proof.terminal.valueHash !== vh) throw new MapProofError('ROOT_MISMATCH', 'the leaf is not the one the proof was made for (its value hash differs)', { expected: proof.terminal.valueHash, calculated: vh });
  } else if (proof.terminal.type === 'leaf' && proof.terminal.key === toHex(key)) {
    throw new MapProofError('WRONG_KEY', 'an absence proof ends in the subject\'s own leaf: the subject is present');
  }
  const r = toHex(mapRootFromProof(key, proof));
  if (r !== root) throw new MapProofError('ROOT_MISMATCH', 'the map proof leads to another root than the state root', { expected: root, calculated: r });
}
