import { describe, it, expect, afterAll } from 'vitest';
import fc from 'fast-check';
import { SigningKey, Wallet, hashMessage } from 'ethers';
import { SigningPool, signingWorkersFromEnv } from '../../node/crypto/signing-pool';
import { Eip191Signer } from '../../node/crypto/eip191';
import { toHex, type Hex } from '../../node/protocol';

describe('SigningPool (EIP-191 on worker threads)', () => {
  const pools: SigningPool[] = [];
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.close()));
  });

  it('signs exactly what the inline signer and ethers sign, for random keys and batches, on 1 and 3 workers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.array(fc.uint8Array({ maxLength: 200 }), { minLength: 1, maxLength: 40 }),
        fc.constantFrom(1, 3),
        async (keyBytes, messages, workers) => {
          const key = toHex(keyBytes);
          try {
            new SigningKey(key);
          } catch {
            return; // zero or ≥ n: not a key
          }
          const pool = new SigningPool(key, workers);
          pools.push(pool);
          const sigs = await pool.signMany(messages);
          const sk = new SigningKey(key);
          const inline = new Eip191Signer(key);
          expect(sigs).toHaveLength(messages.length);
          messages.forEach((m, i) => {
            expect(sigs[i]).toBe(inline.sign(m));
            expect(sigs[i]).toBe(sk.sign(hashMessage(m)).serialized);
          });
          await pool.close();
        },
      ),
      { numRuns: 12 },
    );
  });

  it('keeps order across workers and concurrent batches', async () => {
    const w = Wallet.createRandom();
    const pool = new SigningPool(w.privateKey as Hex, 2);
    pools.push(pool);
    const inline = new Eip191Signer(w.privateKey as Hex);
    const batches = Array.from({ length: 5 }, (_, b) => Array.from({ length: 37 + b }, (_, i) => new TextEncoder().encode(`{"b":${b},"i":${i}}`)));
    const results = await Promise.all(batches.map((msgs) => pool.signMany(msgs)));
    results.forEach((sigs, b) => expect(sigs).toEqual(batches[b]!.map((m) => inline.sign(m))));
  });

  it('rejects pending work when a worker dies, then serves again on a fresh worker', async () => {
    const w = Wallet.createRandom();
    const pool = new SigningPool(w.privateKey as Hex, 1);
    pools.push(pool);
    const msgs = Array.from({ length: 300 }, (_, i) => new TextEncoder().encode(String(i)));
    const pending = pool.signMany(msgs);
    expect(pool.pending).toBe(1);
    void pool.crashWorker(0);
    await expect(pending).rejects.toThrow(/signing worker exited/);
    expect(pool.pending).toBe(0);
    const again = await pool.signMany(msgs.slice(0, 3));
    expect(again).toEqual(msgs.slice(0, 3).map((m) => new Eip191Signer(w.privateKey as Hex).sign(m)));
    await pool.close();
    await expect(pool.signMany(msgs)).rejects.toThrow(/closed/);
  });

  it('closes mid-job without ending the thread inside the native call (that would abort the process)', async () => {
    const w = Wallet.createRandom();
    const pool = new SigningPool(w.privateKey as Hex, 1);
    pools.push(pool);
    const msgs = Array.from({ length: 3000 }, (_, i) => new TextEncoder().encode(`m${i}`));
    await pool.signMany(msgs.slice(0, 1)); // the worker is up and signing natively
    const pending = pool.signMany(msgs);
    await new Promise((r) => setTimeout(r, 5)); // in the middle of the 3000
    await pool.close();
    await expect(pending).rejects.toThrow(/signing worker exited with code 0/);
    // Still here: this process did not abort.
    expect(new Eip191Signer(w.privateKey as Hex).sign(msgs[0]!)).toMatch(/^0x[0-9a-f]{130}$/);
  });

  it('reads its size from TIANFU_SIGNING_WORKERS and refuses nonsense', () => {
    expect(signingWorkersFromEnv({})).toBe(1);
    expect(signingWorkersFromEnv({ TIANFU_SIGNING_WORKERS: '0' })).toBe(0);
    expect(signingWorkersFromEnv({ TIANFU_SIGNING_WORKERS: '3' })).toBe(3);
    expect(() => signingWorkersFromEnv({ TIANFU_SIGNING_WORKERS: 'two' })).toThrow(/TIANFU_SIGNING_WORKERS.*"two"/);
    expect(() => signingWorkersFromEnv({ TIANFU_SIGNING_WORKERS: '-1' })).toThrow(/0\.\.64/);
    expect(() => new SigningPool(Wallet.createRandom().privateKey as Hex, 0)).toThrow(/at least one worker/);
  });
});
