/**
 * receipt-fields: the signed receipt is for this entry at this place in this log. For v2 also: the
 * checkpoint is of this log and was signed no earlier than the entry's time (that its tree holds the
 * index is receipt-proof's).
 */
import { RECEIPT_V2_TYPE } from '../../protocol/formats';
import { firstMismatch, type ItemStep } from '../context';

export const receiptFieldsStep: ItemStep = {
  name: 'receipt-fields',
  run(ctx) {
    const { b, it } = ctx;
    const r = it.receipt;
    const checks: [string, unknown, unknown][] = [
      ['receipt.logId (vs bundle log)', b.log.logId, r.logId],
      ['receipt.index (vs item index)', it.index, r.index],
      ['receipt.leafHash (vs the entry\'s leaf hash)', ctx.result.leaf, r.leafHash],
      ['receipt.at (vs entry.at)', it.entry.at, r.at],
    ];
    if (r.type === RECEIPT_V2_TYPE) checks.push(['receipt.checkpoint.logId (vs bundle log)', b.log.logId, r.checkpoint.logId]);
    const m = firstMismatch(checks);
    if (m) return ctx.fail({ name: 'receipt-fields', detail: `${m[0]} differs`, expected: m[1], calculated: m[2] });
    if (r.type === RECEIPT_V2_TYPE) {
      const cpAt = Date.parse(r.checkpoint.at);
      if (!Number.isFinite(cpAt) || cpAt < Date.parse(r.at)) {
        return ctx.fail({ name: 'receipt-fields', detail: 'receipt.checkpoint.at is before the entry was accepted', expected: `≥ ${r.at}`, calculated: r.checkpoint.at });
      }
    }
    ctx.ok({ name: 'receipt-fields', detail: `receipt for log index ${it.index}, accepted at ${r.at}` });
  },
};
