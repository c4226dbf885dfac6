/**
 * `tianfu.status-proof/v1` (docs/status-proofs.md): what one subject's state was as of a state root
 * anchored through the log. It carries the subject's state leaf (or null: absent), the leaf's sparse
 * Merkle proof to the map root, and the `state.root` entry committing to that root as a one-item
 * `tianfu.bundle/v1` (receipt, inclusion proof to an anchored checkpoint, anchor). Pure: shape only.
 */
import type { Bundle } from './formats';
import type { MapProof, StateLeaf } from './state-map';
import type { SubjectLink } from './subject';
import type { Hex } from './bytes';
import { loadBundle } from './bundle-schema';

export const STATUS_PROOF_FORMAT = 'tianfu.status-proof/v1' as const;

export interface StatusProof {
  format: typeof STATUS_PROOF_FORMAT;
  domain: 'invoice' | 'evidence';
  /** The subject exactly as the log's entries write it (an invoice's pseudonym, an evidence id). */
  subject: string;
  /** For a pseudonymous invoice: the key and salt that open `subject` (what the holder asked about). */
  subjectLink?: SubjectLink;
  /** The state leaf as of the state root; null proves absence. */
  leaf: StateLeaf | null;
  mapProof: MapProof;
  /** The state root the proof is against: the state.root entry at index treeSize commits to `root`. */
  stateRoot: { treeSize: number; root: Hex };
  /** The state.root entry with its receipt, inclusion proof and anchor. */
  bundle: Bundle;
  createdAt: string;
}

export class StatusProofFormatError extends Error {
  override readonly name = 'StatusProofFormatError';
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const HEX32 = /^0x[0-9a-f]{64}$/;

/** True when `v` claims to be a status proof (format field), so callers can route it. */
export function isStatusProof(v: unknown): boolean {
  return isObj(v) && v.format === STATUS_PROOF_FORMAT;
}

/** Checks the shape (not the cryptography: verifyStatusProof does that); throws StatusProofFormatError naming the field. */
export function loadStatusProof(v: unknown): StatusProof {
  const bad = (field: string, why: string): never => {
    throw new StatusProofFormatError(`status proof: ${field} ${why}`);
  };
  if (!isObj(v)) bad('document', 'must be a JSON object');
  const o = v as Record<string, unknown>;
  if (o.format !== STATUS_PROOF_FORMAT) bad('format', `must be ${STATUS_PROOF_FORMAT}, got ${JSON.stringify(o.format)}`);
  if (o.domain !== 'invoice' && o.domain !== 'evidence') bad('domain', 'must be invoice or evidence');
  if (typeof o.subject !== 'string' || o.subject.length === 0 || o.subject.length > 256) bad('subject', 'must be a non-empty string of at most 256 characters');
  if (o.subjectLink !== undefined) {
    const l = o.subjectLink;
    if (!isObj(l) || typeof l.scheme !== 'string' || typeof l.key !== 'string' || !HEX32.test(l.key) || typeof l.salt !== 'string' || !HEX32.test(l.salt)) bad('subjectLink', 'must be {scheme, key, salt} with 32-byte hex key and salt');
  }
  if (o.leaf !== null && !isObj(o.leaf)) bad('leaf', 'must be an object or null');
  const mp = o.mapProof;
  if (!isObj(mp) || !Array.isArray(mp.siblings) || mp.siblings.length > 256 || !mp.siblings.every((s) => typeof s === 'string' && HEX32.test(s))) bad('mapProof.siblings', 'must be at most 256 32-byte hex hashes');
  const t = (mp as Record<string, unknown>).terminal;
  if (!isObj(t) || (t.type !== 'empty' && !(t.type === 'leaf' && typeof t.key === 'string' && HEX32.test(t.key) && typeof t.valueHash === 'string' && HEX32.test(t.valueHash)))) bad('mapProof.terminal', 'must be {type: "empty"} or {type: "leaf", key, valueHash}');
  const sr = o.stateRoot;
  if (!isObj(sr) || typeof sr.treeSize !== 'number' || !Number.isSafeInteger(sr.treeSize) || sr.treeSize < 0 || typeof sr.root !== 'string' || !HEX32.test(sr.root)) bad('stateRoot', 'must be {treeSize, root}');
  let bundle: Bundle;
  try {
    bundle = loadBundle(o.bundle);
  } catch (err) {
    return bad('bundle', `is not a tianfu.bundle/v1: ${(err as Error).message}`);
  }
  if (bundle.items.length !== 1) bad('bundle.items', 'must hold exactly the state.root entry');
  if (typeof o.createdAt !== 'string') bad('createdAt', 'must be a string');
  return { ...(o as unknown as StatusProof), bundle };
}
