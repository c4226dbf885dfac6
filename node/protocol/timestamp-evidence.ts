/**
 * Independent time evidence of a bundle (checklist item 6): the operator-signed checkpoint the bundle
 * carries, and every RFC 3161 token over it. Pure; the verifier wires these steps in after the chain
 * steps and states the two time windows — the chain's (the anchoring block) and each TSA's — side by side.
 *
 *   checkpoint-signature  bundle.checkpoint is the checkpoint the items' anchor names (log, size, root)
 *                         and the log operator signed it (EIP-191 over JCS{type, logId, treeSize, rootHash})
 *   tsa-* (per token)     see timestamp.ts
 */
import { checkpointMessage, recoverSigner } from './signatures';
import { base64ToBytes, verifyTimestampToken, type TimestampStep, type TokenInfo } from './timestamp';
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

export interface TimeEvidenceOptions {
  /** DER TSA root certificates the verifier trusts (--tsa-ca); undefined: the chain step is skipped. */
  tsaTrustAnchors?: readonly Uint8Array[];
  now?: Date;
  recover?: (message: Uint8Array, signature: string) => Hex;
}

export async function checkTimeEvidence(b: Bundle, o: TimeEvidenceOptions = {}): Promise<TimeEvidence> {
  const steps: TimeEvidenceStep[] = [];
  const tokens = b.timestamps ?? [];
  const cp = b.checkpoint;
  const anchored = b.items.filter((it) => it.anchor !== null);
  if (tokens.length === 0) {
    steps.push({ name: 'tsa-token', status: 'skipped', detail: anchored.length === 0 ? 'the bundle is pending: no anchored checkpoint to time-stamp yet' : 'no RFC 3161 token in this bundle: the node has no TSA configured (TIANFU_TSA_URLS), or the token was not obtained yet (refresh the bundle)' });
    return { status: 'not-provided', checkpoint: cp?.treeSize ?? null, notBefore: null, tokens: [], steps };
  }
  if (!cp) {
    steps.push({ name: 'checkpoint-signature', status: 'failed', detail: 'the bundle carries RFC 3161 tokens but not the signed checkpoint they stamp' });
    return { status: 'failed', checkpoint: null, notBefore: null, tokens: [], steps };
  }
  const where = { checkpoint: cp.treeSize };
  // checkpoint-signature: the stamped bytes must be the checkpoint the chain anchors, signed by the operator.
  const anchor = anchored.find((it) => it.anchor!.treeSize === cp.treeSize)?.anchor ?? null;
  let cpOk = false;
  if (cp.logId !== b.log.logId) steps.push({ ...where, name: 'checkpoint-signature', status: 'failed', detail: 'the signed checkpoint is for another log than the bundle\'s', expected: b.log.logId, calculated: cp.logId });
  else if (!anchor) steps.push({ ...where, name: 'checkpoint-signature', status: 'failed', detail: `no item of the bundle is anchored at the signed checkpoint's tree size ${cp.treeSize}`, expected: anchored.map((it) => it.anchor!.treeSize).join(','), calculated: String(cp.treeSize) });
  else if (anchor.rootHash !== cp.rootHash) steps.push({ ...where, name: 'checkpoint-signature', status: 'failed', detail: 'the signed checkpoint\'s root is not the anchored root', expected: anchor.rootHash, calculated: cp.rootHash });
  else {
    try {
      const signer = (o.recover ?? recoverSigner)(checkpointMessage(cp), cp.signature);
      if (signer.toLowerCase() !== b.log.operator.toLowerCase()) steps.push({ ...where, name: 'checkpoint-signature', status: 'failed', detail: 'the checkpoint is not signed by the log operator', expected: b.log.operator.toLowerCase(), calculated: signer.toLowerCase() });
      else {
        cpOk = true;
        steps.push({ ...where, name: 'checkpoint-signature', status: 'ok', detail: `checkpoint (size ${cp.treeSize}, root ${cp.rootHash}) is the anchored one, signed by the log operator ${b.log.operator.toLowerCase()}` });
      }
    } catch (err) {
      steps.push({ ...where, name: 'checkpoint-signature', status: 'failed', detail: `the checkpoint signature does not recover: ${(err as Error).message}` });
    }
  }
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
