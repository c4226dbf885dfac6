/**
 * Receipts and signed checkpoints (docs/protocol.md §5–6): EIP-191 personal-message signatures by the log
 * operator over the JCS bytes of the payload. Recovery is pure (ethers' secp256k1 is JS), so the
 * browser page checks receipts with the same code as the CLI.
 */
import { verifyMessage, getAddress } from 'ethers';
import { canonicalBytes } from './canonical';
import { ProtocolError } from './errors';
import { isHex, type Hex } from './bytes';
import { CHECKPOINT_TYPE, RECEIPT_TYPE, type CheckpointPayload, type Receipt, type ReceiptPayload, type SignedCheckpoint } from './formats';

/** The exact bytes an operator signs for a receipt: JCS({logId, index, leafHash, at}). */
export function receiptMessage(p: ReceiptPayload): Uint8Array {
  return canonicalBytes({ logId: p.logId, index: p.index, leafHash: p.leafHash, at: p.at });
}

export function checkpointMessage(p: CheckpointPayload): Uint8Array {
  return canonicalBytes({ type: CHECKPOINT_TYPE, logId: p.logId, treeSize: p.treeSize, rootHash: p.rootHash });
}

/** Recovers the EIP-191 signer address (checksummed) of a message; throws ProtocolError on a malformed signature. */
export function recoverSigner(message: Uint8Array, signature: string): Hex {
  if (!isHex(signature, 65)) throw new ProtocolError('MALFORMED', 'signature must be 65 bytes of lowercase 0x-hex');
  try {
    return verifyMessage(message, signature) as Hex;
  } catch (err) {
    throw new ProtocolError('MALFORMED', `signature does not recover: ${(err as Error).message}`, { cause: err });
  }
}

/** Checks a receipt was signed by `operator`; throws ProtocolError SIGNER_MISMATCH otherwise. */
export function verifyReceiptSigner(receipt: Receipt, operator: string): Hex {
  if (receipt.type !== RECEIPT_TYPE) throw new ProtocolError('UNKNOWN_FORMAT', `receipt type ${JSON.stringify(receipt.type)} is not ${RECEIPT_TYPE}`);
  const signer = recoverSigner(receiptMessage(receipt), receipt.signature);
  if (getAddress(signer) !== getAddress(operator)) {
    throw new ProtocolError('SIGNER_MISMATCH', 'receipt is not signed by the log operator', { expected: getAddress(operator), calculated: signer });
  }
  return signer;
}

export function verifyCheckpointSigner(cp: SignedCheckpoint, operator: string): Hex {
  if (cp.type !== CHECKPOINT_TYPE) throw new ProtocolError('UNKNOWN_FORMAT', `checkpoint type ${JSON.stringify(cp.type)} is not ${CHECKPOINT_TYPE}`);
  const signer = recoverSigner(checkpointMessage(cp), cp.signature);
  if (getAddress(signer) !== getAddress(operator)) {
    throw new ProtocolError('SIGNER_MISMATCH', 'checkpoint is not signed by the log operator', { expected: getAddress(operator), calculated: signer });
  }
  return signer;
}
