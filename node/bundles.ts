/**
 * Bundle assembly (docs/protocol.md §8): for a subject, every record about it with salt, entry, receipt, an
 * inclusion proof to the latest anchored checkpoint and that checkpoint's anchor. One checkpoint for
 * all items, so a verifier reads the chain once. Records not yet covered by an anchored checkpoint
 * are pending (inclusion and anchor null) and can be refreshed later.
 */
import { BUNDLE_FORMAT, CHECKPOINT_TYPE, RECEIPT_V2_TYPE, subjectLink, type Anchor, type Bundle, type BundleItem, type BundleOperatorProfile, type Hex } from './protocol';
import type { Sequencer } from './sequencer';
import type { LogStore } from './store/log-store';
import type { Anchorer, AnchoredRecord } from './anchorer';
import type { Timestamper } from './tsa/timestamper';

export interface BundleDeps {
  sequencer: Sequencer;
  log: LogStore;
  anchorer: Anchorer;
  logId: Hex;
  operator: Hex;
  chainId: bigint;
  registry: Hex;
  /** RFC 3161 tokens over the checkpoint (TIANFU_TSA_URLS); null when no TSA is configured. */
  timestamper?: Timestamper | null;
  /** The operator's signed disclosures (TIANFU_OPERATOR_PROFILE); null when none are declared. */
  operatorProfile?: BundleOperatorProfile | null;
}

export async function buildBundle(
  d: BundleDeps,
  kind: Bundle['kind'],
  subject: string,
  opts: { indexes?: number[]; file?: Bundle['file'] } = {},
): Promise<Bundle> {
  const indexes = opts.indexes ?? (await d.sequencer.subjectIndexes(subject));
  const cp: AnchoredRecord | null = d.anchorer.status().anchored;
  const items: BundleItem[] = [];
  let link: Bundle['subjectLink'];
  let entrySubject: string | undefined;
  for (const index of indexes) {
    const rec = await d.sequencer.getRecord(index);
    const receipt = await d.sequencer.getReceipt(index);
    if (!rec || !receipt) throw new Error(`record ${index} is missing from the store`);
    // The parties get the link from a pseudonymous subject to the invoice key (the public log never shows it).
    entrySubject ??= rec.entry.subject;
    if (rec.subjectSalt !== undefined) link ??= subjectLink(rec.subject as Hex, rec.subjectSalt);
    let inclusion: BundleItem['inclusion'] = null;
    let anchor: Anchor | null = null;
    if (cp && index < cp.treeSize) {
      inclusion = await d.log.inclusionProof(index, cp.treeSize);
      anchor = {
        chainId: d.chainId.toString(),
        registry: d.registry,
        logId: d.logId,
        treeSize: cp.treeSize,
        rootHash: cp.rootHash,
        txHash: cp.txHash,
        blockNumber: cp.blockNumber,
        timestamp: cp.timestamp,
      };
    }
    // A v2 receipt names the tree after its group; the anchor names a tree of its own size: the
    // consistency proof between them shows they are one history.
    let receiptConsistency: BundleItem['receiptConsistency'];
    if (anchor && receipt.type === RECEIPT_V2_TYPE && receipt.checkpoint.treeSize !== anchor.treeSize) {
      const from = Math.min(receipt.checkpoint.treeSize, anchor.treeSize);
      const to = Math.max(receipt.checkpoint.treeSize, anchor.treeSize);
      if (to <= d.log.size) receiptConsistency = { from, to, proof: await d.log.consistencyProof(from, to) };
    }
    items.push({ record: rec.record, salt: rec.salt, entry: rec.entry, index, receipt, inclusion, anchor, ...(receiptConsistency ? { receiptConsistency } : {}) });
  }
  const anchoredAny = cp !== null && items.some((it) => it.anchor !== null);
  const timestamps = anchoredAny && d.timestamper ? await d.timestamper.tokensFor(cp.treeSize) : [];
  return {
    format: BUNDLE_FORMAT,
    kind,
    subject: entrySubject ?? subject,
    ...(link !== undefined ? { subjectLink: link } : {}),
    log: { logId: d.logId, operator: d.operator, chainId: d.chainId.toString(), registry: d.registry },
    items,
    ...(opts.file !== undefined ? { file: opts.file } : {}),
    // The signed checkpoint the anchors name, and the RFC 3161 tokens over it (none yet: refresh later).
    ...(anchoredAny ? { checkpoint: { type: CHECKPOINT_TYPE, logId: d.logId, treeSize: cp.treeSize, rootHash: cp.rootHash, signature: cp.signature }, timestamps } : {}),
    ...(d.operatorProfile ? { operatorProfile: d.operatorProfile } : {}),
    createdAt: new Date().toISOString(),
  };
}
