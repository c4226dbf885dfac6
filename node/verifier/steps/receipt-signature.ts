/** receipt-signature: EIP-191 over JCS{logId,index,leafHash,at}, by the log operator. */
import { receiptMessage } from '../../protocol/signatures';
import { describeError, eqHex, type ItemStep } from '../context';

export const receiptSignatureStep: ItemStep = {
  name: 'receipt-signature',
  run(ctx) {
    const { b, it } = ctx;
    try {
      const signer = ctx.recover(receiptMessage(it.receipt), it.receipt.signature);
      if (eqHex(signer, b.log.operator)) ctx.ok({ name: 'receipt-signature', detail: `signed by the log operator ${b.log.operator.toLowerCase()}`, expected: b.log.operator.toLowerCase(), calculated: signer.toLowerCase() });
      else ctx.fail({ name: 'receipt-signature', detail: 'the receipt is not signed by the log operator', expected: b.log.operator.toLowerCase(), calculated: signer.toLowerCase() });
    } catch (err) {
      ctx.fail({ name: 'receipt-signature', ...describeError(err) });
    }
  },
};
