/**
 * Signs EVM transactions (the anchorer's) with the node's libsecp256k1 instead of ethers' pure-JS
 * curve: on this 2-core machine ethers spent ~5 ms of the request thread per signature. The bytes are
 * exactly what `Wallet.signTransaction` gives (RFC 6979, low-s; tested), so nothing downstream can
 * tell the difference.
 */
import { Signature, Transaction, type TransactionLike } from 'ethers';
import { fromHex, toHex, type Hex } from '../protocol/bytes';
import { secp256k1 } from './secp256k1';

export class TransactionSigner {
  private readonly d: Uint8Array;

  constructor(privateKey: Hex | string) {
    this.d = fromHex(privateKey as Hex, 32);
    if (!secp256k1.isPrivate(this.d)) throw new TypeError('not a valid secp256k1 private key');
  }

  /** The signed, serialized transaction (0x-hex), as ethers' Wallet.signTransaction returns it. */
  sign(request: TransactionLike<string>): Hex {
    const tx = Transaction.from(request);
    const { signature, recoveryId } = secp256k1.signRecoverable(fromHex(tx.unsignedHash as Hex, 32), this.d);
    tx.signature = Signature.from({ r: toHex(signature.subarray(0, 32)), s: toHex(signature.subarray(32, 64)), v: 27 + recoveryId });
    return tx.serialized as Hex;
  }
}
