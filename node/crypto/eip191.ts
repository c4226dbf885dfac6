/**
 * Fast EIP-191 signing and recovery for the node and the auditor, with libsecp256k1 (native addon,
 * else WebAssembly: ./secp256k1.ts). Signatures are RFC 6979 deterministic and low-s, byte for byte
 * what ethers' SigningKey produces (tested), at ~3× (WebAssembly) to ~10× (native) the speed of the
 * pure-JS curve: the per-record receipt signature is the sequencer's largest CPU cost. The browser
 * page keeps using ethers (pure JS).
 */
import { secp256k1 as ecc } from './secp256k1';
import { getAddress } from 'ethers';
import { keccak256 } from './keccak';
import { recoverSigner } from '../protocol/signatures';
import { concatBytes, fromHex, toHex, utf8, type Hex } from '../protocol/bytes';

/** keccak256("\x19Ethereum Signed Message:\n" + len(message) + message). */
export function eip191Hash(message: Uint8Array): Uint8Array {
  return keccak256(concatBytes(utf8(`\x19Ethereum Signed Message:\n${message.length}`), message));
}

export class Eip191Signer {
  private readonly d: Uint8Array;

  constructor(privateKey: Hex) {
    this.d = fromHex(privateKey, 32);
    if (!ecc.isPrivate(this.d)) throw new TypeError('not a valid secp256k1 private key');
  }

  /** 65-byte r || s || v (v = 27 + recovery id), as ethers' Signature.serialized. */
  sign(message: Uint8Array): Hex {
    const { signature, recoveryId } = ecc.signRecoverable(eip191Hash(message), this.d);
    const out = new Uint8Array(65);
    out.set(signature, 0);
    out[64] = 27 + recoveryId;
    return toHex(out);
  }
}

// secp256k1 n / 2, big-endian.
const HALF_N = fromHex('0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0', 32);

function isLowS(s: Uint8Array): boolean {
  for (let i = 0; i < 32; i++) {
    if (s[i]! !== HALF_N[i]!) return s[i]! < HALF_N[i]!;
  }
  return true;
}

/**
 * The uncompressed public key (65 bytes, 0x04…) that signed `message`, or null when the signature
 * does not recover (malformed, high-s, bad v).
 */
export function recoverEip191PublicKey(message: Uint8Array, signature: Hex): Uint8Array | null {
  if (!/^0x[0-9a-f]{130}$/.test(signature)) return null;
  const sig = fromHex(signature, 65);
  const v = sig[64]!;
  if (v !== 27 && v !== 28) return null;
  const rs = sig.subarray(0, 64);
  // Low-s only (EIP-2): ethers refuses a non-canonical s, so the fast path must too.
  if (!isLowS(rs.subarray(32, 64))) return null;
  // null for a malformed r or s: the caller reports it through the protocol verifier.
  return ecc.recover(eip191Hash(message), rs, v - 27);
}

/**
 * `recoverSigner` of node/protocol/signatures.ts on libsecp256k1: the checksummed address of the
 * EIP-191 signer, ~20× faster than ethers' pure-JS recovery. Whatever the fast path does not accept
 * goes through `recoverSigner` itself, so acceptance and error messages are exactly the protocol's
 * (tested). Pass it as `VerifyOptions.recoverSigner`.
 */
export function recoverEip191Signer(message: Uint8Array, signature: string): Hex {
  const pub = /^0x[0-9a-f]{130}$/.test(signature) ? recoverEip191PublicKey(message, signature as Hex) : null;
  if (pub === null) return recoverSigner(message, signature);
  return getAddress(toHex(keccak256(pub.subarray(1)).subarray(12))) as Hex;
}
