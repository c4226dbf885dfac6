import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Wallet } from 'ethers';
import { openDatabase, type Database } from '../../node/store/db';
import { LogStore } from '../../node/store/log-store';
import { Sequencer } from '../../node/sequencer';
import { DomainError, type DomainRules } from '../../node/domain/types';
import { commitment, entryLeafHash, logIdFor, recordDigest, verifyInclusion, fromHex, verifyReceipt, verifyReceiptSigner, type Hex, type ReceiptV2 } from '../../node/protocol';

/** A test-only domain: a subject may be locked once; 'test.note' is always allowed. */
const lockRules: DomainRules<{ locked: boolean; notes: number }> = {
  kinds: ['test.locked', 'test.note'],
  apply({ kind, state }) {
    const s = state ?? { locked: false, notes: 0 };
    if (kind === 'test.locked') {
      if (s.locked) throw new DomainError('ALREADY_LOCKED', 'already locked');
      return { ...s, locked: true };
    }
    return { ...s, notes: s.notes + 1 };
  },
};

describe('Sequencer', () => {
  let dir: string;
  let db: Database;
  let seq: Sequencer;
  const operator = Wallet.createRandom();
  const logId = logIdFor('test');

  async function open(): Promise<void> {
    db = await openDatabase(dir);
    const log = await LogStore.open(db);
    seq = await Sequencer.open({ db, log, logId, operatorKey: operator.privateKey as Hex, rules: [lockRules as DomainRules<unknown>] });
  }

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-seq-'));
    await open();
  });
  afterEach(async () => {
    await seq.close();
    await db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('acknowledges with a receipt signed by the operator whose leaf and commitment re-derive from the record', async () => {
    const record = { hello: 'world', fen: 12345 };
    const a = await seq.submit({ kind: 'test.note', subject: 's1', record, actor: null });
    expect(a.index).toBe(0);
    expect(verifyReceiptSigner(a.receipt, operator.address)).toBe(operator.address);
    expect(a.entry.commitment).toBe(commitment(a.salt!, recordDigest(record)));
    expect(entryLeafHash(a.entry)).toBe(a.leafHash);
    expect(a.receipt).toMatchObject({ type: 'tianfu.receipt/v2', logId, index: 0, leafHash: a.leafHash, at: a.entry.at, checkpoint: { logId, treeSize: 1, rootHash: a.leafHash, at: a.entry.at }, proof: [] });
    expect(verifyReceipt(a.receipt, operator.address)).toBe(operator.address);
    // A receipt with any field changed no longer verifies against the operator (v2: its `at` is the
    // entry's, bound by the leaf hash; the signed time is the checkpoint's).
    const r = a.receipt as ReceiptV2;
    for (const bad of [{ ...r, index: 1 }, { ...r, checkpoint: { ...r.checkpoint, at: '2020-01-01T00:00:00.000Z' } }, { ...r, leafHash: ('0x' + '00'.repeat(32)) as Hex }, { ...r, logId: logIdFor('other') }, { ...r, checkpoint: { ...r.checkpoint, treeSize: 2 } }]) {
      expect(() => verifyReceipt(bad, operator.address)).toThrow(/not signed by the log operator|another root|another log|not below tree size/);
    }
  });

  it('of 50 racing locks on one subject exactly one wins; groups share writes', async () => {
    const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => seq.submit({ kind: 'test.locked', subject: 'inv', record: { i }, actor: null })));
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(ok).toHaveLength(1);
    expect(refused).toHaveLength(49);
    for (const r of refused) expect((r.reason as DomainError).code).toBe('ALREADY_LOCKED');
    expect(await seq.subjectIndexes('inv')).toEqual([0]);
    expect(seq.stats.groups).toBeLessThan(50);
  });

  it('keeps every acknowledged record across a reopen, with inclusion proofs that verify', async () => {
    const acks = await Promise.all(Array.from({ length: 40 }, (_, i) => seq.submit({ kind: 'test.note', subject: `s${i % 7}`, record: { i }, actor: null })));
    await seq.close();
    await db.close();
    await open();
    const log = await LogStore.open(db);
    expect(log.size).toBe(40);
    for (const a of acks) {
      const r = await seq.getRecord(a.index);
      expect(r?.record).toEqual(a.record);
      const p = await log.inclusionProof(a.index, log.size);
      expect(() => verifyInclusion(a.index, log.size, fromHex(a.leafHash), p.proof.map((h) => fromHex(h)), fromHex(p.rootHash))).not.toThrow();
      expect(await seq.getReceipt(a.index)).toEqual(a.receipt);
    }
    expect(await seq.getState('s0')).toEqual({ locked: false, notes: 6 });
  });

  it('refuses unknown kinds and never lets acceptance time run backwards', async () => {
    await expect(seq.submit({ kind: 'test.unknown', subject: 'x', record: {}, actor: null })).rejects.toMatchObject({ code: 'UNKNOWN_KIND' });
    const a = await seq.submit({ kind: 'test.note', subject: 'x', record: {}, actor: null });
    const b = await seq.submit({ kind: 'test.note', subject: 'x', record: {}, actor: null });
    expect(Date.parse(b.entry.at)).toBeGreaterThanOrEqual(Date.parse(a.entry.at));
  });
});

describe('Sequencer.submitAll', () => {
  it('appends linked records all-or-nothing', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-seq-'));
    const db = await openDatabase(dir);
    const log = await LogStore.open(db);
    const seq = await Sequencer.open({ db, log, logId: logIdFor('t'), operatorKey: Wallet.createRandom().privateKey as Hex, rules: [lockRules as DomainRules<unknown>] });
    await seq.submit({ kind: 'test.locked', subject: 'b', record: {}, actor: null });
    // The second record is refused (b is locked), so the first (a note on a) must not be appended either.
    await expect(
      seq.submitAll([
        { kind: 'test.note', subject: 'a', record: {}, actor: null },
        { kind: 'test.locked', subject: 'b', record: {}, actor: null },
      ]),
    ).rejects.toMatchObject({ code: 'ALREADY_LOCKED' });
    expect(log.size).toBe(1);
    expect(await seq.getState('a')).toBeUndefined();
    const both = await seq.submitAll([
      { kind: 'test.note', subject: 'a', record: { n: 1 }, actor: null },
      { kind: 'test.locked', subject: 'c', record: {}, actor: null },
    ]);
    expect(both.map((x) => x.index)).toEqual([1, 2]);
    expect(log.size).toBe(3);
    await seq.close();
    await db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('ApiKeys (cached authentication)', () => {
  it('a revoked key stops working at once, including a key that was cached, and lookups racing a revocation', async () => {
    const { ApiKeys } = await import('../../node/auth/api-keys');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-keys-'));
    const db = await openDatabase(dir);
    const keys = new ApiKeys(db);
    const a = await keys.create({ role: 'court' });
    expect((await keys.authenticate(a.key))?.keyId).toBe(a.id);
    expect((await keys.authenticate(a.key))?.keyId).toBe(a.id); // served from the cache
    await keys.revoke(a.id);
    expect(await keys.authenticate(a.key)).toBeUndefined();
    // Lookups started while the revocation is in flight must not leave a live entry behind.
    const b = await keys.create({ role: 'auditor' });
    const racing = Array.from({ length: 20 }, () => keys.authenticate(b.key));
    await keys.revoke(b.id);
    await Promise.all(racing);
    expect(await keys.authenticate(b.key)).toBeUndefined();
    expect(await keys.authenticate('tfk_unknown-unknown')).toBeUndefined();
    await db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
