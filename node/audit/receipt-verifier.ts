/**
 * Receipt signature checks for the whole log. A receipt is an EIP-191 signature over
 * JCS({logId, index, leafHash, at}) (node/protocol/signatures.ts). The protocol verifier recovers
 * the signer from every signature (≈3 ms each in JS), which would make signatures 95% of an audit.
 * An auditor knows the one key that must have signed, so it can verify instead of recover, with
 * that key's multiples precomputed once: R = u1·G + u2·Q, accept iff R.x = r and R's y parity is
 * the signature's v. That accepts exactly the signatures from which recovery yields Q (SEC 1 §4.1.6).
 * Anything the fast path does not accept goes through the protocol verifier, so every failure is
 * reported by the same code (and with the same message) as `tianfu verify`.
 */
import { SigningKey, computeAddress, getAddress } from 'ethers';
import { secp256k1 } from '@noble/curves/secp256k1';
import { invert, mod } from '@noble/curves/abstract/modular';
import { keccak_256 } from '@noble/hashes/sha3';
import { concatBytes, toHex, utf8, type Hex } from '../protocol/bytes';
import { receiptMessage, verifyReceiptSigner } from '../protocol/signatures';
import type { Receipt } from '../protocol/formats';

const N = secp256k1.CURVE.n;
const HALF_N = N >> 1n;
type Point = InstanceType<typeof secp256k1.ProjectivePoint>;

/** EIP-191 personal-message hash: keccak256("\x19Ethereum Signed Message:\n" + len + message). */
function eip191Hash(message: Uint8Array): Uint8Array {
  return keccak_256(concatBytes(utf8(`\x19Ethereum Signed Message:\n${message.length}`), message));
}

function hexToBigInt(hex: string, from: number, to: number): bigint {
  return BigInt('0x' + hex.slice(from, to));
}

export class ReceiptVerifier {
  private q: Point | null = null;
  /** How many signatures took the precomputed path (the rest went through the protocol verifier). */
  fast = 0;
  slow = 0;

  constructor(readonly operator: Hex) {}

  /** Precomputes the operator key from a receipt it signed; false when that receipt is not the operator's. */
  private learnKey(receipt: Receipt): boolean {
    const digest = eip191Hash(receiptMessage(receipt));
    let pub: string;
    try {
      pub = SigningKey.recoverPublicKey(digest, receipt.signature);
    } catch {
      return false; // malformed: the protocol verifier will say why
    }
    if (getAddress(computeAddress(pub)) !== getAddress(this.operator)) return false;
    const q = secp256k1.ProjectivePoint.fromHex(pub.slice(2));
    // An 8-bit window: ≈2^8 precomputed multiples per window, worth it over thousands of receipts.
    (q as unknown as { _setWindowSize(w: number): void })._setWindowSize(8);
    this.q = q;
    return true;
  }

  private fastCheck(receipt: Receipt): boolean {
    const sig = receipt.signature;
    if (typeof sig !== 'string' || !/^0x[0-9a-f]{130}$/.test(sig)) return false;
    const r = hexToBigInt(sig, 2, 66);
    const s = hexToBigInt(sig, 66, 130);
    const v = parseInt(sig.slice(130, 132), 16);
    if (r <= 0n || r >= N || s <= 0n || s > HALF_N || (v !== 27 && v !== 28)) return false;
    const z = BigInt(toHex(eip191Hash(receiptMessage(receipt))));
    const sInv = invert(s, N);
    const R = secp256k1.ProjectivePoint.BASE.multiply(mod(z * sInv, N)).add(this.q!.multiply(mod(r * sInv, N)));
    if (R.equals(secp256k1.ProjectivePoint.ZERO)) return false;
    const a = R.toAffine();
    return a.x === r && Number(a.y & 1n) === v - 27;
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
