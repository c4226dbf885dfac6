/**
 * Receipts and signed checkpoints (docs/protocol.md §5–6): EIP-191 personal-message signatures by the log
 * operator over the JCS bytes of the payload. Recovery is pure (ethers' secp256k1 is JS), so the
 * browser page checks receipts with the same code as the CLI.
 */
import { verifyMessage, getAddress } from 'ethers';
import { canonicalBytes } from './canonical';
import { ProtocolError } from './errors';
import { isHex, type Hex } from './bytes';
import { CHECKPOINT_TYPE, CHECKPOINT_V2_TYPE, RECEIPT_TYPE, RECEIPT_V2_TYPE, type CheckpointPayload, type CheckpointV2Payload, type Receipt, type ReceiptPayload, type ReceiptV2, type SignedCheckpoint, type SignedCheckpointV2 } from './formats';
import { fromHex, toHex } from './bytes';
import { rootFromInclusionProof } from './merkle';

/** The exact bytes an operator signs for a receipt: JCS({logId, index, leafHash, at}). */
export function receiptMessage(p: ReceiptPayload): Uint8Array {
  return canonicalBytes({ logId: p.logId, index: p.index, leafHash: p.leafHash, at: p.at });
}

export function checkpointMessage(p: CheckpointPayload): Uint8Array {
  return canonicalBytes({ type: CHECKPOINT_TYPE, logId: p.logId, treeSize: p.treeSize, rootHash: p.rootHash });
}

/** The bytes an operator signs once per group commit (receipts v2): JCS({type, logId, treeSize, rootHash, at}). */
export function checkpointV2Message(p: CheckpointV2Payload): Uint8Array {
  return canonicalBytes({ type: CHECKPOINT_V2_TYPE, logId: p.logId, treeSize: p.treeSize, rootHash: p.rootHash, at: p.at });
}

/**
 * What a receipt's one signature is over, and the signature: for v1 the receipt's own message, for v2
 * its group's checkpoint (shared by every receipt of the group).
 */
export function receiptSigned(receipt: Receipt): { message: Uint8Array; signature: Hex } {
  if (receipt.type === RECEIPT_V2_TYPE) return { message: checkpointV2Message(receipt.checkpoint), signature: receipt.checkpoint.signature };
  return { message: receiptMessage(receipt), signature: receipt.signature };
}

/** The root a v2 receipt's proof leads to from its leaf at its index (throws ProtocolError on a malformed proof). */
export function receiptProofRoot(receipt: ReceiptV2): Hex {
  return toHex(rootFromInclusionProof(receipt.index, receipt.checkpoint.treeSize, fromHex(receipt.leafHash, 32), receipt.proof.map((h) => fromHex(h, 32))));
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

/**
 * Checks a receipt was signed by `operator` (v1: the receipt's signature; v2: its group checkpoint's);
 * throws ProtocolError SIGNER_MISMATCH otherwise. For v2 this is the signature only: the proof is
 * checked by verifyReceiptProof.
 */
export function verifyReceiptSigner(receipt: Receipt, operator: string): Hex {
  if (receipt.type !== RECEIPT_TYPE && receipt.type !== RECEIPT_V2_TYPE) {
    throw new ProtocolError('UNKNOWN_FORMAT', `receipt type ${JSON.stringify((receipt as { type: unknown }).type)} is not ${RECEIPT_TYPE} or ${RECEIPT_V2_TYPE}`);
  }
  if (receipt.type === RECEIPT_V2_TYPE && receipt.checkpoint?.type !== CHECKPOINT_V2_TYPE) {
    throw new ProtocolError('UNKNOWN_FORMAT', `receipt checkpoint type ${JSON.stringify(receipt.checkpoint?.type)} is not ${CHECKPOINT_V2_TYPE}`);
  }
  const { message, signature } = receiptSigned(receipt);
  const signer = recoverSigner(message, signature);
  if (getAddress(signer) !== getAddress(operator)) {
    throw new ProtocolError('SIGNER_MISMATCH', receipt.type === RECEIPT_TYPE ? 'receipt is not signed by the log operator' : 'the receipt\'s checkpoint is not signed by the log operator', { expected: getAddress(operator), calculated: signer });
  }
  return signer;
}

/** Checks a v2 receipt's proof leads from its leaf at its index to its checkpoint's root; throws ProtocolError ROOT_MISMATCH otherwise. */
export function verifyReceiptProof(receipt: ReceiptV2): void {
  const root = receiptProofRoot(receipt);
  if (root !== receipt.checkpoint.rootHash) {
    throw new ProtocolError('ROOT_MISMATCH', `the proof for leaf ${receipt.index} of ${receipt.checkpoint.treeSize} leads to another root than the receipt's checkpoint`, { expected: receipt.checkpoint.rootHash, calculated: root });
  }
}

/**
 * A receipt alone, without its entry: v1 — signed by `operator`; v2 — its checkpoint is signed by
 * `operator`, is of the receipt's log and holds its index, and its proof leads from the receipt's leaf
 * at its index to the checkpoint's root. (The entry's own fields, `at` included, are bound by `leafHash`.)
 */
export function verifyReceipt(receipt: Receipt, operator: string): Hex {
  const signer = verifyReceiptSigner(receipt, operator);
  if (receipt.type === RECEIPT_V2_TYPE) {
    if (receipt.checkpoint.logId !== receipt.logId) throw new ProtocolError('MALFORMED', 'the receipt\'s checkpoint is of another log', { expected: receipt.logId, calculated: receipt.checkpoint.logId });
    verifyReceiptProof(receipt);
  }
  return signer;
}

export function verifyCheckpointV2Signer(cp: SignedCheckpointV2, operator: string): Hex {
  if (cp.type !== CHECKPOINT_V2_TYPE) throw new ProtocolError('UNKNOWN_FORMAT', `checkpoint type ${JSON.stringify(cp.type)} is not ${CHECKPOINT_V2_TYPE}`);
  const signer = recoverSigner(checkpointV2Message(cp), cp.signature);
  if (getAddress(signer) !== getAddress(operator)) {
    throw new ProtocolError('SIGNER_MISMATCH', 'checkpoint is not signed by the log operator', { expected: getAddress(operator), calculated: signer });
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
