/**
 * Serving `tianfu.status-proof/v1` (node/protocol/status-proof.ts): the subject's leaf and map proof as of
 * the newest state root an anchored checkpoint covers, with the state.root entry's bundle. O(depth) reads
 * for the map proof, O(log n) for the entry's inclusion proof. Checked with the verifier's own map step
 * before it is returned (a proof that fails our own check is never served).
 */
import { STATUS_PROOF_FORMAT, type StatusProof } from '../protocol/status-proof';
import { stateRootSubject, verifyMapProof } from '../protocol/state-map';
import { subjectLink } from '../protocol/subject';
import { DomainError } from '../domain/types';
import type { Bundle, Hex } from '../protocol';
import type { Sequencer } from '../sequencer';
import type { Anchorer } from '../anchorer';

export interface StatusProofDeps {
  sequencer: Sequencer;
  anchorer: Anchorer;
  bundle(kind: Bundle['kind'], subject: string, opts?: { indexes?: number[] }): Promise<Bundle>;
}

/** `subject` is the plain one (invoice key, evidence id); the map is keyed by the entry's subject (a pseudonym for new invoices). */
export async function buildStatusProof(d: StatusProofDeps, domain: 'invoice' | 'evidence', subject: string, clock: () => Date = () => new Date()): Promise<StatusProof> {
  const map = d.sequencer.stateMap;
  if (!map) throw new DomainError('STATE_MAP_DISABLED', 'this node keeps no state map (TIANFU_STATE_MAP=false): no status proofs');
  const anchored = d.anchorer.status().anchored;
  const root = anchored ? await map.latestStateRootBelow(anchored.treeSize) : undefined;
  if (!anchored || !root) throw new DomainError('STATE_ROOT_PENDING', 'no state root is anchored yet; retry after the next checkpoint');
  const salt = await d.sequencer.subjectSalt(subject);
  const entrySubject = await d.sequencer.entrySubject(subject);
  const { leaf, proof } = await map.proofAt(entrySubject, root.epoch);
  verifyMapProof(root.root, entrySubject, leaf, proof);
  const bundle = await d.bundle('record', stateRootSubject(root.treeSize), { indexes: [root.treeSize] });
  return {
    format: STATUS_PROOF_FORMAT,
    domain,
    subject: entrySubject,
    ...(salt !== undefined ? { subjectLink: subjectLink(subject as Hex, salt) } : {}),
    leaf,
    mapProof: proof,
    stateRoot: { treeSize: root.treeSize, root: root.root },
    bundle,
    createdAt: clock().toISOString(),
  };
}
