/**
 * The part of a bundle's time evidence that needs no ASN.1 (checklist items 4 and 6): the signed
 * checkpoint the bundle carries, and the answer for a bundle without RFC 3161 tokens. Kept apart from
 * timestamp-evidence.ts so that a verifier (the browser page) loads the CMS code (pkijs) only for a
 * bundle that has tokens.
 *
 *   checkpoint-signature  bundle.checkpoint is the checkpoint the items' anchor names (log, size, root)
 *                         and the log operator signed it (EIP-191 over JCS{type, logId, treeSize, rootHash}): the bundle's
 *                         operator, or the registry's operator at the anchoring block
 */
import { checkpointMessage, recoverSigner } from './signatures';
import type { TimestampStep, TokenInfo } from './timestamp';
import type { Bundle } from './formats';
import type { Hex } from './bytes';

export interface TimeEvidenceStep extends Omit<TimestampStep, 'name'> {
  name: TimestampStep['name'] | 'checkpoint-signature';
  checkpoint?: number;
  /** Position in bundle.timestamps. */
  token?: number;
}

export interface TokenSummary {
  token: number;
  tsa: string;
  status: 'ok' | 'failed' | 'skipped';
  info: TokenInfo | null;
  /** genTime + accuracy: the TSA says the checkpoint existed no later than this. */
  notAfter: string | null;
}

export interface TimeEvidence {
  /** 'not-provided': no token in the bundle (no TSA configured, or not yet obtained: refresh). */
  status: 'ok' | 'failed' | 'skipped' | 'not-provided';
  checkpoint: number | null;
  /** The newest acceptance time among the items the checkpoint covers: it cannot have existed earlier. */
  notBefore: string | null;
  tokens: TokenSummary[];
  steps: TimeEvidenceStep[];
}

/**
 * checkpoint-signature: the bundle's signed checkpoint is the one its items' anchor names, signed by the
 * log operator. `anchoredBy`: the log's operator by the registry at the anchoring block, when the verifier read it.
 * A checkpoint keeps the signature it was anchored (and time-stamped) with: after a key rotation the
 * bundle's operator is the new key, and the checkpoint's signer is the key that was operator then.
 */
export function checkCheckpointSignature(b: Bundle, recover: (message: Uint8Array, signature: string) => Hex = recoverSigner, anchoredBy: Hex | null = null): TimeEvidenceStep | null {
  const cp = b.checkpoint;
  const anchored = b.items.filter((it) => it.anchor !== null);
  // A pending bundle's items name no checkpoint: a checkpoint beside them stamps nothing of theirs.
  if (!cp || anchored.length === 0) return null;
  const where = { checkpoint: cp.treeSize };
  const anchor = anchored.find((it) => it.anchor!.treeSize === cp.treeSize)?.anchor ?? null;
  if (cp.logId !== b.log.logId) return { ...where, name: 'checkpoint-signature', status: 'failed', detail: 'the signed checkpoint is for another log than the bundle\'s', expected: b.log.logId, calculated: cp.logId };
  if (!anchor) return { ...where, name: 'checkpoint-signature', status: 'failed', detail: `no item of the bundle is anchored at the signed checkpoint's tree size ${cp.treeSize}`, expected: anchored.map((it) => it.anchor!.treeSize).join(','), calculated: String(cp.treeSize) };
  if (anchor.rootHash !== cp.rootHash) return { ...where, name: 'checkpoint-signature', status: 'failed', detail: 'the signed checkpoint\'s root is not the anchored root', expected: anchor.rootHash, calculated: cp.rootHash };
  try {
    const signer = recover(checkpointMessage(cp), cp.signature);
    if (anchoredBy !== null && signer.toLowerCase() === anchoredBy.toLowerCase() && signer.toLowerCase() !== b.log.operator.toLowerCase()) {
      return { ...where, name: 'checkpoint-signature', status: 'ok', detail: `checkpoint (size ${cp.treeSize}, root ${cp.rootHash}) is the anchored one, signed by ${signer.toLowerCase()}, the log's operator by the registry at the anchoring block (the key was rotated since)`, expected: anchoredBy.toLowerCase(), calculated: signer.toLowerCase() };
    }
    if (signer.toLowerCase() !== b.log.operator.toLowerCase()) return { ...where, name: 'checkpoint-signature', status: 'failed', detail: 'the checkpoint is not signed by the log operator', expected: b.log.operator.toLowerCase(), calculated: signer.toLowerCase() };
    return { ...where, name: 'checkpoint-signature', status: 'ok', detail: `checkpoint (size ${cp.treeSize}, root ${cp.rootHash}) is the anchored one, signed by the log operator ${b.log.operator.toLowerCase()}`, expected: b.log.operator.toLowerCase(), calculated: signer.toLowerCase() };
  } catch (err) {
    return { ...where, name: 'checkpoint-signature', status: 'failed', detail: `the checkpoint signature does not recover: ${(err as Error).message}` };
  }
}

/** The time evidence of a bundle without tokens: its checkpoint's signature, and item 6 not provided. */
export function noTokenEvidence(b: Bundle, recover?: (message: Uint8Array, signature: string) => Hex, anchoredBy: Hex | null = null): TimeEvidence {
  const steps: TimeEvidenceStep[] = [];
  const cpStep = checkCheckpointSignature(b, recover, anchoredBy);
  if (cpStep) steps.push(cpStep);
  const anchored = b.items.some((it) => it.anchor !== null);
  steps.push({ name: 'tsa-token', status: 'skipped', detail: !anchored ? 'the bundle is pending: no anchored checkpoint to time-stamp yet' : 'no RFC 3161 token in this bundle: the node has no TSA configured (TIANFU_TSA_URLS), or the token was not obtained yet (refresh the bundle)' });
  return { status: 'not-provided', checkpoint: b.checkpoint?.treeSize ?? null, notBefore: null, tokens: [], steps };
}
