/**
 * receipt-proof (receipts v2): the receipt's RFC 9162 inclusion proof leads from this item's leaf, at
 * the receipt's index, to the root of the receipt's signed checkpoint. So a proof made for another
 * index, or for another tree than the checkpoint's, is refused here. When the checkpoint is of the
 * very size the item is anchored at, its root must be the anchored one too (the operator cannot have
 * signed two trees of one size). v1 receipts carry no proof: their signature is per record.
 */
import { RECEIPT_TYPE } from '../../protocol/formats';
import { receiptProofRoot } from '../../protocol/signatures';
import { describeError, type ItemStep } from '../context';

export const receiptProofStep: ItemStep = {
  name: 'receipt-proof',
  run(ctx) {
    const { it } = ctx;
    const r = it.receipt;
    if (r.type === RECEIPT_TYPE) return ctx.skip('receipt-proof', 'a tianfu.receipt/v1 is signed per record and carries no proof');
    const cp = r.checkpoint;
    if (r.index >= cp.treeSize) return ctx.fail({ name: 'receipt-proof', detail: `receipt index ${r.index} is not in the checkpoint's tree of size ${cp.treeSize}`, expected: `< ${cp.treeSize}`, calculated: String(r.index) });
    let root;
    try {
      root = receiptProofRoot({ ...r, leafHash: ctx.result.leaf });
    } catch (err) {
      return ctx.fail({ name: 'receipt-proof', ...describeError(err) });
    }
    if (root !== cp.rootHash) return ctx.fail({ name: 'receipt-proof', detail: `the receipt's proof for leaf ${r.index} leads to another root than its checkpoint (tree size ${cp.treeSize})`, expected: cp.rootHash, calculated: root });
    if (it.anchor && it.anchor.treeSize === cp.treeSize && it.anchor.rootHash !== cp.rootHash) {
      return ctx.fail({ name: 'receipt-proof', detail: `the receipt's checkpoint and the anchored checkpoint are both of size ${cp.treeSize} but have different roots`, expected: it.anchor.rootHash, calculated: cp.rootHash });
    }
    ctx.ok({ name: 'receipt-proof', detail: `leaf ${r.index} is in the operator-signed tree of size ${cp.treeSize} of ${cp.at} (${r.proof.length} proof hashes)`, expected: cp.rootHash, calculated: root });
  },
};
