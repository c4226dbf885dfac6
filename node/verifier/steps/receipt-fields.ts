/** receipt-fields: the signed receipt is for this entry at this place in this log. */
import { firstMismatch, type ItemStep } from '../context';

export const receiptFieldsStep: ItemStep = {
  name: 'receipt-fields',
  run(ctx) {
    const { b, it } = ctx;
    const m = firstMismatch([
      ['receipt.logId (vs bundle log)', b.log.logId, it.receipt.logId],
      ['receipt.index (vs item index)', it.index, it.receipt.index],
      ['receipt.leafHash (vs the entry\'s leaf hash)', ctx.result.leaf, it.receipt.leafHash],
      ['receipt.at (vs entry.at)', it.entry.at, it.receipt.at],
    ]);
    if (m) ctx.fail({ name: 'receipt-fields', detail: `${m[0]} differs`, expected: m[1], calculated: m[2] });
    else ctx.ok({ name: 'receipt-fields', detail: `receipt for log index ${it.index}, accepted at ${it.receipt.at}` });
  },
};
