/**
 * Independent time evidence of a bundle (checklist item 6): the operator-signed checkpoint the bundle
 * carries, and every RFC 3161 token over it. Pure; the verifier wires these steps in after the chain
 * steps and states the two time windows — the chain's (the anchoring block) and each TSA's — side by side.
 *
 *   checkpoint-signature  bundle.checkpoint is the checkpoint the items' anchor names (log, size, root)
 *                         and the log operator signed it (EIP-191 over JCS{type, logId, treeSize, rootHash})
 *   tsa-* (per token)     see timestamp.ts
 */
import { base64ToBytes, verifyTimestampToken } from './timestamp';
import { checkCheckpointSignature, noTokenEvidence, type TimeEvidence, type TimeEvidenceStep, type TokenSummary } from './checkpoint-evidence';
import type { Bundle } from './formats';
import type { Hex } from './bytes';

export { checkCheckpointSignature, noTokenEvidence, type TimeEvidence, type TimeEvidenceStep, type TokenSummary } from './checkpoint-evidence';

export interface TimeEvidenceOptions {
  /** DER TSA root certificates the verifier trusts (--tsa-ca); undefined: the chain step is skipped. */
  tsaTrustAnchors?: readonly Uint8Array[];
  now?: Date;
  recover?: (message: Uint8Array, signature: string) => Hex;
  /** The log's operator by the registry at the anchoring block (see checkCheckpointSignature). */
  anchoredBy?: Hex | null;
}

export async function checkTimeEvidence(b: Bundle, o: TimeEvidenceOptions = {}): Promise<TimeEvidence> {
  const steps: TimeEvidenceStep[] = [];
  const tokens = b.timestamps ?? [];
  const cp = b.checkpoint;
  if (tokens.length === 0) return noTokenEvidence(b, o.recover, o.anchoredBy ?? null);
  // The stamped bytes must be the checkpoint the chain anchors, signed by the operator.
  const cpStep = checkCheckpointSignature(b, o.recover, o.anchoredBy ?? null);
  if (cpStep) steps.push(cpStep);
  else if (cp) steps.push({ checkpoint: cp.treeSize, name: 'checkpoint-signature', status: 'failed', detail: 'the bundle carries RFC 3161 tokens over a checkpoint, but none of its items is anchored' });
  if (!cp) {
    steps.push({ name: 'checkpoint-signature', status: 'failed', detail: 'the bundle carries RFC 3161 tokens but not the signed checkpoint they stamp' });
    return { status: 'failed', checkpoint: null, notBefore: null, tokens: [], steps };
  }
  const where = { checkpoint: cp.treeSize };
  const cpOk = cpStep?.status === 'ok';
  const covered = b.items.filter((it) => it.index < cp.treeSize).map((it) => it.entry.at).sort();
  const notBefore = covered.length ? covered[covered.length - 1]! : null;
  const out: TokenSummary[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    let der: Uint8Array;
    try {
      der = base64ToBytes(t.token);
    } catch {
      steps.push({ ...where, token: i, name: 'tsa-token', status: 'failed', detail: 'the token is not base64' });
      out.push({ token: i, tsa: t.tsa, status: 'failed', info: null, notAfter: null });
      continue;
    }
    const r = await verifyTimestampToken(der, { checkpoint: cp, ...(o.tsaTrustAnchors !== undefined ? { trustAnchors: o.tsaTrustAnchors } : {}), ...(notBefore ? { notBefore: new Date(notBefore) } : {}), ...(o.now ? { now: o.now } : {}) });
    for (const s of r.steps) steps.push({ ...s, ...where, token: i, detail: `token ${i} (${r.info?.signer ?? t.tsa}): ${s.detail}` });
    const notAfter = r.info ? new Date(Date.parse(r.info.genTime) + (r.info.accuracyMs ?? 0)).toISOString() : null;
    out.push({ token: i, tsa: r.info?.signer ?? t.tsa, status: r.status, info: r.info, notAfter });
  }
  const failed = !cpOk || out.some((t) => t.status === 'failed');
  const status = failed ? 'failed' : out.every((t) => t.status === 'ok') ? 'ok' : 'skipped';
  return { status, checkpoint: cp.treeSize, notBefore, tokens: out, steps };
}
