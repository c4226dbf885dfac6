/**
 * The log store against the slow RFC 9162 reference tree, on real LevelDB in a temp dir:
 * roots at every past size, inclusion and consistency proofs, reopening, failed batches,
 * O(log n) node reads, corruption detection and argument errors.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReferenceTree } from '../support/reference-tree';
import { openDatabase, type BatchOp, type Database } from '../../node/store/db';
import { LOG_PREFIX, LogStore, LogStoreError, MAX_ENTRIES_PER_READ } from '../../node/store/log-store';
import { prng } from '../support/prng';
import {
  entryBytes,
  fromHex,
  makeEntry,
  toHex,
  utf8,
  verifyConsistency,
  verifyInclusion,
  type Hex,
} from '../../node/protocol';

const dirs: string[] = [];
const dbs: Database[] = [];

async function freshDb(): Promise<{ dir: string; db: Database }> {
  const dir = mkdtempSync(join(tmpdir(), 'tianfu-log-store-'));
  dirs.push(dir);
  const db = await openDatabase(dir);
  dbs.push(db);
  return { dir, db };
}

async function reopen(dir: string): Promise<Database> {
  const db = await openDatabase(dir);
  dbs.push(db);
  return db;
}

afterEach(async () => {
  for (const db of dbs.splice(0)) if (db.status === 'open') await db.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});


/** A realistic log entry's JCS bytes. */
function entry(i: number): Uint8Array {
  const c = toHex(new Uint8Array(32).map((_, j) => (i * 31 + j * 7) & 0xff));
  return entryBytes(makeEntry('invoice.issued', `subject-${i}`, c, new Date(Date.UTC(2026, 0, 1) + i)));
}

/** Appends n entries in random-sized batches to both the store and the reference. */
async function grow(store: LogStore, ref: ReferenceTree, n: number, rand: () => number, maxBatch = 17): Promise<void> {
  while (ref.size < n) {
    const k = Math.min(n - ref.size, 1 + Math.floor(rand() * maxBatch));
    const batch = Array.from({ length: k }, (_, j) => entry(ref.size + j));
    const firstIndex = ref.size;
    const expectedLeaves = batch.map((b) => toHex(ref.append(b)));
    const res = await store.append(batch);
    expect(res.firstIndex).toBe(firstIndex);
    expect(res.leafHashes).toEqual(expectedLeaves);
    expect(res.newSize).toBe(ref.size);
    expect(res.rootHash).toBe(toHex(ref.root()));
  }
}

const hexes = (a: Uint8Array[]): Hex[] => a.map(toHex);

function expectStoreError(err: unknown, code: string, text?: RegExp): void {
  expect(err).toBeInstanceOf(LogStoreError);
  expect((err as LogStoreError).code).toBe(code);
  if (text) expect((err as Error).message).toMatch(text);
}

async function rejectsWith(p: Promise<unknown>, code: string, text?: RegExp): Promise<void> {
  const err = await p.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  expectStoreError(err, code, text);
}

describe('LogStore vs the reference tree', () => {
  it('matches every root, inclusion and consistency proof exhaustively up to 64 entries', async () => {
    const { db } = await freshDb();
    const store = await LogStore.open(db);
    const ref = new ReferenceTree();
    expect(store.size).toBe(0);
    expect(await store.root()).toBe(toHex(ref.root()));
    await grow(store, ref, 64, prng(1), 5);
    for (let n = 0; n <= 64; n++) {
      const root = toHex(ref.root(n));
      expect(await store.root(n)).toBe(root);
      for (let i = 0; i < n; i++) {
        const p = await store.inclusionProof(i, n);
        expect(p).toEqual({ leafIndex: i, treeSize: n, rootHash: root, proof: hexes(ref.inclusionProof(i, n)) });
      }
      for (let m = 0; m <= n; m++) {
        expect(await store.consistencyProof(m, n)).toEqual(hexes(ref.consistencyProof(m, n)));
      }
    }
  });

  it('matches the reference at random sizes up to 1500, for past sizes too', async () => {
    const rand = prng(42);
    const { db } = await freshDb();
    const store = await LogStore.open(db);
    const ref = new ReferenceTree();
    for (const target of [100, 257, 700, 1024, 1500]) {
      await grow(store, ref, target, rand, 40);
      expect(store.rootHash).toBe(toHex(ref.root()));
      for (let t = 0; t < 12; t++) {
        const n = 1 + Math.floor(rand() * ref.size);
        const i = t === 0 ? 0 : t === 1 ? n - 1 : Math.floor(rand() * n);
        const m = Math.floor(rand() * (n + 1));
        const root = ref.root(n);
        expect(await store.root(n)).toBe(toHex(root));
        const incl = await store.inclusionProof(i, n);
        expect(incl.proof).toEqual(hexes(ref.inclusionProof(i, n)));
        // And the served proof verifies independently from hex, as a client would check it.
        verifyInclusion(i, n, ref.leaves[i]!, incl.proof.map((h) => fromHex(h, 32)), root);
        const cons = await store.consistencyProof(m, n);
        expect(cons).toEqual(hexes(ref.consistencyProof(m, n)));
        verifyConsistency(m, n, cons.map((h) => fromHex(h, 32)), ref.root(m), root);
      }
      // Default size is the current one.
      const last = ref.size - 1;
      expect((await store.inclusionProof(last)).proof).toEqual(hexes(ref.inclusionProof(last)));
      expect(await store.consistencyProof(ref.size - 3)).toEqual(hexes(ref.consistencyProof(ref.size - 3)));
    }
  });

  it('returns entries with their leaf hashes, by range and by scan', async () => {
    const { db } = await freshDb();
    const store = await LogStore.open(db);
    const ref = new ReferenceTree();
    await grow(store, ref, 120, prng(7));
    const got = await store.entries(10, 30);
    expect(got.map((e) => e.index)).toEqual(Array.from({ length: 20 }, (_, j) => 10 + j));
    expect(got.map((e) => toHex(e.bytes))).toEqual(got.map((e) => toHex(entry(e.index))));
    expect(got.map((e) => e.leafHash)).toEqual(ref.leaves.slice(10, 30).map(toHex));
    expect(await store.leafHash(77)).toBe(toHex(ref.leaves[77]!));
    expect(await store.entries(5, 5)).toEqual([]);
    const scanned: number[] = [];
    for await (const e of store.scanEntries(100)) {
      expect(e.leafHash).toBe(toHex(ref.leaves[e.index]!));
      scanned.push(e.index);
    }
    expect(scanned).toEqual(Array.from({ length: 20 }, (_, j) => 100 + j));
    // The log's keys live in the 'log' sublevel's keyspace, apart from anyone else's.
    let count = 0;
    for await (const k of db.sublevel('log').keys({ gte: 'e', lt: 'f' })) {
      expect(k).toMatch(/^e[0-9a-f]{14}$/);
      count++;
    }
    expect(count).toBe(120);
  });

  it('appends many entries in one batch', async () => {
    const { db } = await freshDb();
    const store = await LogStore.open(db);
    const ref = new ReferenceTree();
    const batch = Array.from({ length: 5000 }, (_, i) => entry(i));
    for (const b of batch) ref.append(b);
    const res = await store.append(batch);
    expect(res.firstIndex).toBe(0);
    expect(res.leafHashes).toHaveLength(5000);
    expect(store.size).toBe(5000);
    expect(store.rootHash).toBe(toHex(ref.root()));
    expect((await store.inclusionProof(4321)).proof).toEqual(hexes(ref.inclusionProof(4321)));
    expect(await store.consistencyProof(3333)).toEqual(hexes(ref.consistencyProof(3333)));
  });
});

describe('LogStore persistence', () => {
  it('reopens with the same size, root and proofs, and keeps growing correctly', async () => {
    const rand = prng(3);
    const { dir, db } = await freshDb();
    const store = await LogStore.open(db);
    const ref = new ReferenceTree();
    await grow(store, ref, 777, rand, 50);
    const before = {
      root: store.rootHash,
      incl: await store.inclusionProof(500, 700),
      cons: await store.consistencyProof(300, 777),
    };
    await db.close();

    const db2 = await reopen(dir);
    const again = await LogStore.open(db2);
    // Frontier rebuilt from popcount(777) = 4 stored nodes, no rehashing of the log.
    expect(again.stats.nodeReads).toBe(4);
    expect(again.size).toBe(777);
    expect(again.rootHash).toBe(before.root);
    expect(await again.root(777)).toBe(toHex(ref.root()));
    expect(await again.inclusionProof(500, 700)).toEqual(before.incl);
    expect(await again.consistencyProof(300, 777)).toEqual(before.cons);
    await grow(again, ref, 1000, rand, 50);
    expect(again.rootHash).toBe(toHex(ref.root()));
    expect(await again.consistencyProof(777)).toEqual(hexes(ref.consistencyProof(777)));
  });

  it('a batch written but not committed (crash before commit) is there after reopening', async () => {
    const { dir, db } = await freshDb();
    const store = await LogStore.open(db);
    const ref = new ReferenceTree();
    await grow(store, ref, 10, prng(5));
    const batch = [entry(10), entry(11), entry(12)];
    const p = store.prepareAppend(batch);
    await db.batch(p.ops, { sync: true });
    await db.close(); // the process dies here: commit() never ran
    for (const b of batch) ref.append(b);
    const again = await LogStore.open(await reopen(dir));
    expect(again.size).toBe(13);
    expect(again.rootHash).toBe(p.rootHash);
    expect(again.rootHash).toBe(toHex(ref.root()));
  });

  it('writes the caller’s own operations in the same batch', async () => {
    const { db } = await freshDb();
    const store = await LogStore.open(db);
    const records = db.sublevel<string, unknown>('records', { valueEncoding: 'json' });
    const p = store.prepareAppend([entry(0), entry(1)]);
    p.ops.push({ type: 'put', sublevel: records, key: 'r0', value: { index: p.firstIndex, leafHash: p.leafHashes[0] } });
    await db.batch(p.ops, { sync: true });
    p.commit();
    expect(store.size).toBe(2);
    expect(await records.get('r0')).toEqual({ index: 0, leafHash: p.leafHashes[0] });
  });
});

describe('LogStore failed and interleaved appends', () => {
  async function entryKeyCount(db: Database): Promise<number> {
    let n = 0;
    for await (const _k of db.keys({ gte: LOG_PREFIX + 'e', lt: LOG_PREFIX + 'f' })) n++;
    return n;
  }

  it('a failing batch leaves the store unchanged and usable', async () => {
    const { db } = await freshDb();
    const store = await LogStore.open(db);
    const ref = new ReferenceTree();
    await grow(store, ref, 21, prng(9));
    const root = store.rootHash;
    // A caller op that LevelDB refuses: the whole batch, including the log's ops, must not land.
    const bad = { type: 'put', key: null, value: utf8('x') } as unknown as BatchOp;
    const err = await store.append([entry(21), entry(22)], [bad]).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(store.size).toBe(21);
    expect(store.rootHash).toBe(root);
    expect(store.appendPending).toBe(false);
    expect(await entryKeyCount(db)).toBe(21);
    await grow(store, ref, 40, prng(10));
    expect(store.rootHash).toBe(toHex(ref.root()));
    expect(await store.consistencyProof(21)).toEqual(hexes(ref.consistencyProof(21)));
  });

  it('a batch on a closed database fails without moving the store; reopening finds the old state', async () => {
    const { dir, db } = await freshDb();
    const store = await LogStore.open(db);
    const ref = new ReferenceTree();
    await grow(store, ref, 30, prng(11));
    await db.close();
    const err = await store.append([entry(30)]).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(store.size).toBe(30);
    expect(store.appendPending).toBe(false);
    const again = await LogStore.open(await reopen(dir));
    expect(again.size).toBe(30);
    expect(again.rootHash).toBe(toHex(ref.root()));
  });

  it('refuses a second prepareAppend while one is outstanding; abort releases it', async () => {
    const { db } = await freshDb();
    const store = await LogStore.open(db);
    const p = store.prepareAppend([entry(0)]);
    expect(() => store.prepareAppend([entry(1)])).toThrow(/outstanding/);
    p.abort();
    expect(() => p.commit()).toThrow(/already aborted/);
    expect(store.size).toBe(0);
    const q = store.prepareAppend([entry(0), entry(1)]);
    await db.batch(q.ops, { sync: true });
    q.commit();
    expect(() => q.commit()).toThrow(/already committed/);
    expect(store.size).toBe(2);
    const ref = new ReferenceTree();
    ref.append(entry(0));
    ref.append(entry(1));
    expect(store.rootHash).toBe(toHex(ref.root()));
  });

  it('two appends started together: the second is refused, the first lands intact', async () => {
    const { db } = await freshDb();
    const store = await LogStore.open(db);
    const [first, second] = await Promise.allSettled([store.append([entry(0), entry(1)]), store.append([entry(2)])]);
    expect(first.status).toBe('fulfilled');
    expect(second.status).toBe('rejected');
    expectStoreError((second as PromiseRejectedResult).reason, 'APPEND_PENDING');
    const ref = new ReferenceTree();
    ref.append(entry(0));
    ref.append(entry(1));
    expect(store.size).toBe(2);
    expect(store.rootHash).toBe(toHex(ref.root()));
    expect(store.appendPending).toBe(false);
  });
});

describe('LogStore reads are O(log n)', () => {
  it('reads at most 3·log2(n)+2 stored nodes, in one getMany, per proof and per past root', async () => {
    const rand = prng(21);
    const { db } = await freshDb();
    const store = await LogStore.open(db);
    const n = 20_000;
    for (let start = 0; start < n; start += 2500) {
      await store.append(Array.from({ length: 2500 }, (_, j) => utf8(`e${start + j}`)));
    }
    const bound = 3 * Math.ceil(Math.log2(n)) + 2;
    let maxReads = 0;
    for (let t = 0; t < 60; t++) {
      const size = t % 3 === 0 ? n : 1 + Math.floor(rand() * n);
      const i = Math.floor(rand() * size);
      const m = 1 + Math.floor(rand() * size);
      for (const op of [() => store.inclusionProof(i, size), () => store.consistencyProof(m, size), () => store.root(size)]) {
        store.resetStats();
        await op();
        expect(store.stats.getManyCalls).toBeLessThanOrEqual(1);
        expect(store.stats.nodeReads).toBeLessThanOrEqual(bound);
        maxReads = Math.max(maxReads, store.stats.nodeReads);
      }
    }
    expect(maxReads).toBeGreaterThan(0);
  });
});

describe('LogStore integrity and arguments', () => {
  it('never serves a proof or entry that fails its own check when storage is corrupted', async () => {
    const { dir, db } = await freshDb();
    const store = await LogStore.open(db);
    await store.append(Array.from({ length: 8 }, (_, i) => entry(i)));
    // Flip the stored leaf hash of entry 3 (what an inclusion proof for leaf 3 starts from).
    await db.put(LOG_PREFIX + 'n00' + (3).toString(16).padStart(14, '0'), new Uint8Array(32).fill(7));
    await rejectsWith(store.inclusionProof(3, 8), 'SELF_CHECK_FAILED', /leaf 3 of 8/);
    await rejectsWith(store.entries(0, 8), 'CORRUPT', /entry 3 hashes to/);
    // Replace entry 5's bytes: entries() re-hashes and refuses.
    await db.put(LOG_PREFIX + 'e' + (5).toString(16).padStart(14, '0'), utf8('tampered'));
    await rejectsWith(store.entries(4, 6), 'CORRUPT', /entry 5/);
    // A corrupted frontier node is caught when reopening (stored root no longer matches).
    await db.put(LOG_PREFIX + 'n03' + '0'.repeat(14), new Uint8Array(32).fill(9));
    await db.close();
    await expect(LogStore.open(await reopen(dir))).rejects.toThrow(/stored root is/);
  });

  it('refuses bad arguments with clear errors', async () => {
    const { db } = await freshDb();
    const store = await LogStore.open(db);
    await rejectsWith(store.inclusionProof(0), 'OUT_OF_RANGE', /not below tree size 0/);
    await store.append(Array.from({ length: 10 }, (_, i) => entry(i)));
    await rejectsWith(store.inclusionProof(10, 10), 'OUT_OF_RANGE', /leaf index 10 is not below tree size 10/);
    await rejectsWith(store.inclusionProof(3, 11), 'OUT_OF_RANGE', /size 11 is beyond the log size 10/);
    await rejectsWith(store.inclusionProof(-1, 5), 'INVALID_ARGUMENT', /index must be a non-negative integer, got -1/);
    await rejectsWith(store.inclusionProof(1.5, 5), 'INVALID_ARGUMENT', /got 1.5/);
    await rejectsWith(store.inclusionProof(Number.NaN, 5), 'INVALID_ARGUMENT', /got NaN/);
    await rejectsWith(store.inclusionProof('2' as unknown as number, 5), 'INVALID_ARGUMENT', /got "2"/);
    await rejectsWith(store.consistencyProof(6, 5), 'OUT_OF_RANGE', /first size 6 is larger than second size 5/);
    await rejectsWith(store.consistencyProof(2, 12), 'OUT_OF_RANGE', /n 12 is beyond the log size 10/);
    await rejectsWith(store.consistencyProof(-2, 5), 'INVALID_ARGUMENT', /m must be/);
    await rejectsWith(store.root(11), 'OUT_OF_RANGE', /beyond the log size 10/);
    await rejectsWith(store.root(2 ** 53), 'INVALID_ARGUMENT');
    await rejectsWith(store.leafHash(10), 'OUT_OF_RANGE', /not below the log size 10/);
    await rejectsWith(store.entries(5, 4), 'OUT_OF_RANGE', /start 5 is after end 4/);
    await rejectsWith(store.entries(0, 11), 'OUT_OF_RANGE');
    expect(() => store.prepareAppend([])).toThrow(/non-empty array/);
    expect(() => store.prepareAppend(['abc' as unknown as Uint8Array])).toThrow(/entries\[0\] must be a Uint8Array/);
    expect(store.appendPending).toBe(false);
    expect(MAX_ENTRIES_PER_READ).toBeGreaterThan(0);
    // Empty proofs where RFC 9162 says so.
    expect(await store.consistencyProof(0, 10)).toEqual([]);
    expect(await store.consistencyProof(10, 10)).toEqual([]);
    expect(store.size).toBe(10);
  });
});
