/**
 * receipt-signature: the receipt's one signature is the log operator's. v1: EIP-191 over
 * JCS{logId,index,leafHash,at}; v2: EIP-191 over the group checkpoint JCS{type,logId,treeSize,rootHash,at}.
 */
import { RECEIPT_TYPE } from '../../protocol/formats';
import { receiptSigned } from '../../protocol/signatures';
import { describeError, eqHex, type ItemStep } from '../context';

export const receiptSignatureStep: ItemStep = {
  name: 'receipt-signature',
  run(ctx) {
    const { b, it } = ctx;
    const what = it.receipt.type === RECEIPT_TYPE ? 'the receipt' : `the receipt's checkpoint (tree size ${it.receipt.checkpoint.treeSize})`;
    try {
      const { message, signature } = receiptSigned(it.receipt);
      const signer = ctx.recover(message, signature);
      if (eqHex(signer, b.log.operator)) ctx.ok({ name: 'receipt-signature', detail: `${what} is signed by the log operator ${b.log.operator.toLowerCase()}`, expected: b.log.operator.toLowerCase(), calculated: signer.toLowerCase() });
      else ctx.fail({ name: 'receipt-signature', detail: `${what} is not signed by the log operator`, expected: b.log.operator.toLowerCase(), calculated: signer.toLowerCase() });
    } catch (err) {
      ctx.fail({ name: 'receipt-signature', ...describeError(err) });
    }
  },
};
