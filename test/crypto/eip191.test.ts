import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { SigningKey, Transaction, Wallet, hashMessage, verifyMessage, Signature, keccak256 as ethersKeccak } from 'ethers';
import { TransactionSigner } from '../../node/crypto/transaction';
import { loadConfig } from '../../node/config';
import { keccak_256 } from '@noble/hashes/sha3';
import { keccak256, keccakReady } from '../../node/crypto/keccak';
import { Eip191Signer, eip191Hash, recoverEip191PublicKey, recoverEip191Signer } from '../../node/crypto/eip191';
import { recoverSigner } from '../../node/protocol/signatures';
import { backends, secp256k1 } from '../../node/crypto/secp256k1';
import { concatBytes, fromHex, toHex, type Hex } from '../../node/protocol';

describe('EIP-191 over libsecp256k1', () => {
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

describe('both libsecp256k1 backends (native addon and WebAssembly)', () => {
  const native = backends.native();

  it('the native addon loads on this platform and is the default', () => {
    // The prebuilds ship for linux-x64 (CI), darwin-arm64 and win32-x64; elsewhere WebAssembly is used.
    if (`${process.platform}-${process.arch}` === 'linux-x64') expect(native).not.toBeNull();
    expect(secp256k1.name).toBe(native && process.env.TIANFU_SECP256K1 !== 'wasm' ? 'native' : 'wasm');
  });

  it('sign and recover byte for byte alike, and as ethers does', () => {
    const impls = [backends.wasm, ...(native ? [native] : [])];
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (d, hash) => {
        let sk: SigningKey;
        try {
          sk = new SigningKey(toHex(d));
        } catch {
          for (const b of impls) expect(b.isPrivate(d)).toBe(false);
          return;
        }
        const want = sk.sign(hash);
        for (const b of impls) {
          expect(b.isPrivate(d)).toBe(true);
          const { signature, recoveryId } = b.signRecoverable(hash, d);
          expect(toHex(signature)).toBe(want.r + want.s.slice(2));
          expect(27 + recoveryId).toBe(want.v);
          expect(toHex(b.recover(hash, signature, recoveryId)!)).toBe(sk.publicKey);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('refuse what does not recover: r or s zero or ≥ n', () => {
    const hash = new Uint8Array(32).fill(7);
    const n = fromHex('0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141', 32);
    const one = new Uint8Array(32);
    one[31] = 1;
    const cases = [concatBytes(new Uint8Array(32), one), concatBytes(one, new Uint8Array(32)), concatBytes(n, one), concatBytes(one, n)];
    for (const b of [backends.wasm, ...(native ? [native] : [])]) {
      for (const sig of cases) expect(b.recover(hash, sig, 0)).toBeNull();
      expect(b.isPrivate(new Uint8Array(32))).toBe(false);
      expect(b.isPrivate(n)).toBe(false);
    }
  });
});

describe('Keccak-256 (WebAssembly, with the JS fallback)', () => {
  it('hashes exactly as @noble/hashes and ethers do, the empty string included', async () => {
    await keccakReady;
    expect(toHex(keccak256(new Uint8Array()))).toBe('0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (m) => {
        expect(toHex(keccak256(m))).toBe(toHex(keccak_256(m)));
        expect(toHex(keccak256(m))).toBe(ethersKeccak(m));
      }),
      { numRuns: 300 },
    );
  });
});

describe('TransactionSigner (native curve) against ethers Wallet.signTransaction', () => {
  it('gives the same signed bytes for EIP-1559 and legacy transactions', async () => {
    const w = Wallet.createRandom();
    const s = new TransactionSigner(w.privateKey);
    const to = Wallet.createRandom().address;
    const cases = await fc.sample(
      fc.record({ nonce: fc.nat({ max: 1_000_000 }), gas: fc.bigInt({ min: 21_000n, max: 30_000_000n }), fee: fc.bigInt({ min: 1n, max: 10n ** 12n }), data: fc.uint8Array({ maxLength: 200 }), legacy: fc.boolean(), chainId: fc.constantFrom(1n, 31337n, 11155111n) }),
      60,
    );
    for (const c of cases) {
      const req = c.legacy
        ? { type: 0, to, nonce: c.nonce, gasLimit: c.gas, gasPrice: c.fee, data: toHex(c.data), chainId: c.chainId }
        : { type: 2, to, nonce: c.nonce, gasLimit: c.gas, maxFeePerGas: c.fee * 2n, maxPriorityFeePerGas: c.fee, data: toHex(c.data), chainId: c.chainId };
      const ours = s.sign(req);
      expect(ours).toBe(await w.signTransaction(req));
      expect(Transaction.from(ours).from).toBe(w.address);
    }
  });
});

describe('TIANFU_SECP256K1', () => {
  it('is validated by the config: auto (default), native or wasm; anything else stops the start with the field named', () => {
    expect(loadConfig({}).secp256k1).toBe('auto');
    expect(loadConfig({ TIANFU_SECP256K1: 'wasm' }).secp256k1).toBe('wasm');
    expect(() => loadConfig({ TIANFU_SECP256K1: 'fast' })).toThrow(/TIANFU_SECP256K1/);
  });
});

describe('recoverEip191Signer (libsecp256k1) against the protocol verifier\'s recoverSigner', () => {
  const outcome = (f: () => string): string => {
    try {
      return 'ok ' + f();
    } catch (err) {
      return 'error ' + (err as Error).message;
    }
  };

  it('recovers the same address, and refuses the same signatures with the same message', () => {
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 0, max: 7 }), (d, message, mutation) => {
        let sig: string;
        try {
          sig = new Eip191Signer(toHex(d)).sign(message);
        } catch {
          return;
        }
        const p = Signature.from(sig);
        const variants = [
          sig,
          sig.slice(0, 130) + (sig.endsWith('1b') ? '1c' : '1b'), // other v
          '0x' + p.r.slice(2) + (n - BigInt(p.s)).toString(16).padStart(64, '0') + (p.v === 27 ? '1c' : '1b'), // high s
          sig.slice(0, 130) + '00', // v 0
          sig.slice(0, 130) + '1d', // v 29
          '0x' + '00'.repeat(64) + '1b',
          sig.toUpperCase().replace('0X', '0x'),
          sig.slice(0, 100),
        ];
        const v = variants[mutation]!;
        expect(outcome(() => recoverEip191Signer(message, v))).toBe(outcome(() => recoverSigner(message, v)));
      }),
      { numRuns: 400 },
    );
  });
});
