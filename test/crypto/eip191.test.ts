import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { SigningKey, Wallet, hashMessage, verifyMessage, Signature } from 'ethers';
import { Eip191Signer, eip191Hash, recoverEip191PublicKey } from '../../node/crypto/eip191';
import { toHex, type Hex } from '../../node/protocol';

describe('EIP-191 over libsecp256k1 (WASM)', () => {
  it('produces exactly the signature ethers produces, and ethers recovers the signer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 300 }), (keyBytes, message) => {
        const key = toHex(keyBytes);
        let sk: SigningKey;
        try {
          sk = new SigningKey(key);
        } catch {
          return; // zero or ≥ n: not a key
        }
        const ours = new Eip191Signer(key).sign(message);
        expect(ours).toBe(sk.sign(hashMessage(message)).serialized);
        expect(verifyMessage(message, ours)).toBe(new Wallet(key).address);
        expect(toHex(eip191Hash(message))).toBe(hashMessage(message));
      }),
      { numRuns: 200 },
    );
  });

  it('recovers the public key, and refuses high-s, bad v and malformed signatures', () => {
    const w = Wallet.createRandom();
    const msg = new TextEncoder().encode('{"index":1}');
    const sig = new Eip191Signer(w.privateKey as Hex).sign(msg);
    expect(toHex(recoverEip191PublicKey(msg, sig)!)).toBe(w.signingKey.publicKey);
    const parsed = Signature.from(sig);
    // The same signature with s' = n - s and the other v recovers the same key in plain ECDSA: refused (EIP-2).
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const highS = ('0x' + parsed.r.slice(2) + (n - BigInt(parsed.s)).toString(16).padStart(64, '0') + (parsed.v === 27 ? '1c' : '1b')) as Hex;
    expect(recoverEip191PublicKey(msg, highS)).toBeNull();
    expect(recoverEip191PublicKey(msg, (sig.slice(0, 130) + '1d') as Hex)).toBeNull();
    expect(recoverEip191PublicKey(msg, '0x1234' as Hex)).toBeNull();
    expect(recoverEip191PublicKey(msg, ('0x' + '00'.repeat(64) + '1b') as Hex)).toBeNull();
    // A different message recovers a different key.
    expect(toHex(recoverEip191PublicKey(new TextEncoder().encode('{"index":2}'), sig) ?? new Uint8Array())).not.toBe(w.signingKey.publicKey);
  });
});
