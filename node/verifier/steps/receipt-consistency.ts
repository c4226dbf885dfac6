/**
 * receipt-consistency (receipts v2): the tree the operator signed in the receipt and the tree the
 * item is anchored in are one history. A v2 receipt's checkpoint is the tree after the record's group;
 * the anchor is a checkpoint of its own size. With the bundle's RFC 9162 consistency proof between
 * them (smaller to larger), the receipt's signed root is shown to be a state of the anchored log
 * (or the anchored tree a state of the one the receipt signed): an operator who signed receipts over a
 * tree of another history cannot give one. Equal sizes need no proof (receipt-proof compares the
 * roots). Bundles made before the proof existed carry none: skipped, and said so.
 */
import { verifyConsistency } from '../../protocol/merkle';
import { fromHex } from '../../protocol/bytes';
import { RECEIPT_TYPE } from '../../protocol/formats';
import { describeError, type ItemStep } from '../context';

export const receiptConsistencyStep: ItemStep = {
  name: 'receipt-consistency',
  run(ctx) {
    const { it } = ctx;
    const r = it.receipt;
    if (r.type === RECEIPT_TYPE) return ctx.skip('receipt-consistency', 'a tianfu.receipt/v1 names no tree');
    if (!it.anchor) return ctx.skip('receipt-consistency', 'the item is not anchored yet');
    const a = it.anchor;
    const cp = r.checkpoint;
    if (cp.treeSize === a.treeSize) return ctx.skip('receipt-consistency', `the receipt's tree is the anchored one (size ${a.treeSize}): receipt-proof compares their roots`);
    const c = it.receiptConsistency;
    if (!c) return ctx.skip('receipt-consistency', `the bundle carries no consistency proof between the receipt's tree (size ${cp.treeSize}) and the anchored one (size ${a.treeSize}); a bundle made by this version carries one`);
    const [small, large] = cp.treeSize < a.treeSize ? [cp, a] : [a, cp];
    const what = `the receipt's signed tree (size ${cp.treeSize}) and the anchored tree (size ${a.treeSize})`;
    if (c.from !== small.treeSize || c.to !== large.treeSize) {
      return ctx.fail({ name: 'receipt-consistency', detail: `the consistency proof is for sizes ${c.from} → ${c.to}, not for ${what}`, expected: `${small.treeSize} → ${large.treeSize}`, calculated: `${c.from} → ${c.to}` });
    }
    try {
      verifyConsistency(small.treeSize, large.treeSize, c.proof.map((h) => fromHex(h, 32)), fromHex(small.rootHash, 32), fromHex(large.rootHash, 32));
    } catch (err) {
      const e = describeError(err);
      return ctx.fail({ name: 'receipt-consistency', ...e, detail: `${what} are not one history: ${e.detail}` });
    }
    ctx.ok({ name: 'receipt-consistency', detail: `${what} are one history (RFC 9162 consistency proof, ${c.proof.length} hashes)`, expected: large.rootHash, calculated: large.rootHash });
  },
};
