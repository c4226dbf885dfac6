/**
 * Receipt signature checks for the whole log. A v1 receipt is an EIP-191 signature over
 * JCS({logId, index, leafHash, at}), a v2 receipt carries its group's signed checkpoint
 * (node/protocol/signatures.ts receiptSigned: the message and signature either way). The protocol verifier recovers
 * the signer from every signature (≈3 ms each in JS), which would make signatures 95% of an audit.
 * An auditor knows the one key that must have signed: it recovers with libsecp256k1 (WASM, ~10x
 * faster) and compares with that key, accepting exactly what the protocol verifier accepts.
 * Anything the fast path does not accept goes through the protocol verifier, so every failure is
 * reported by the same code (and with the same message) as `tianfu verify`.
 */
import { SigningKey, computeAddress, getAddress } from 'ethers';
import { bytesEqual, fromHex, type Hex } from '../protocol/bytes';
import { receiptSigned, verifyReceiptSigner } from '../protocol/signatures';
import type { Receipt } from '../protocol/formats';
import { eip191Hash, recoverEip191PublicKey } from '../crypto/eip191';

export class ReceiptVerifier {
  private q: Uint8Array | null = null;
  /** How many signatures took the fast path (the rest went through the protocol verifier). */
  fast = 0;
  slow = 0;

  constructor(readonly operator: Hex) {}

  /** The operator's public key (65 bytes), once learned from a receipt it signed. */
  get publicKey(): Uint8Array | null {
    return this.q;
  }

  /** Learns the operator's public key from a receipt it signed; false when that receipt is not the operator's. */
  private learnKey(receipt: Receipt): boolean {
    let pub: string;
    try {
      const { message, signature } = receiptSigned(receipt);
      pub = SigningKey.recoverPublicKey(eip191Hash(message), signature);
    } catch {
      return false; // malformed: the protocol verifier will say why
    }
    if (getAddress(computeAddress(pub)) !== getAddress(this.operator)) return false;
    this.q = fromHex(pub, 65);
    return true;
  }

  /** libsecp256k1 (WASM) recovery, low-s only, compared with the operator's key: the same acceptance as ethers' recovery. */
  private fastCheck(receipt: Receipt): boolean {
    let signed: { message: Uint8Array; signature: Hex };
    try {
      signed = receiptSigned(receipt);
    } catch {
      return false;
    }
    if (typeof signed.signature !== 'string') return false;
    const q = recoverEip191PublicKey(signed.message, signed.signature);
    return q !== null && bytesEqual(q, this.q!);
  }

  /** Throws the protocol verifier's ProtocolError when the receipt is not signed by the operator. */
  verify(receipt: Receipt): void {
    if (this.q === null) this.learnKey(receipt);
    if (this.q !== null && this.fastCheck(receipt)) {
      this.fast++;
      return;
    }
    this.slow++;
    verifyReceiptSigner(receipt, this.operator);
  }
}
