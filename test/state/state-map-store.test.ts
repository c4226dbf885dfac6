/**
 * The state map on the write path (real LevelDB, the real sequencer): after random sequences of
 * concurrent submissions, the map's root equals the one replayed from the log from scratch; every
 * state.root entry commits to the replayed map as of its own index; proofs at each state root (also
 * after later changes) verify for presence and absence, against that root and no other.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { Wallet } from 'ethers';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../node/store/db';
import { LogStore } from '../../node/store/log-store';
import { Sequencer } from '../../node/sequencer';
import { StateMapStore, StateReplay } from '../../node/state';
import { MapProofError, STATE_ROOT_KIND, logIdFor, parseEntry, verifyMapProof, type Hex } from '../../node/protocol';
import type { DomainRules } from '../../node/domain/types';

/** Accepts anything: the map is a function of the entries, whatever the domain rules said. */
const anyRules: DomainRules<number> = {
  kinds: ['invoice.issued', 'invoice.reimbursement-locked', 'invoice.reimbursement-closed', 'invoice.reversed', 'invoice.red-form-opened', 'evidence.deposited', 'evidence.custody.sealed', 'evidence.custody.accessed'],
  apply: ({ state }) => (state ?? 0) + 1,
};
const KINDS = anyRules.kinds;
const operator = Wallet.createRandom();
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function openAll(dir: string, maxPending?: number, catchUp = true) {
  const db = await openDatabase(dir);
  const log = await LogStore.open(db);
  const stateMap = await StateMapStore.open(db, maxPending === undefined ? {} : { maxPending });
  if (catchUp) await stateMap.catchUp(log); // as the ledger's open does: the replay from the written map after a crash
  const seq = await Sequencer.open({ db, log, logId: logIdFor('map-test'), operatorKey: operator.privateKey as Hex, rules: [anyRules as DomainRules<unknown>], stateMap, signingWorkers: 0 });
  return { db, log, stateMap, seq };
}

async function replayLog(log: LogStore): Promise<{ replay: StateReplay; roots: { index: number; commitment: Hex; replayed: Hex }[] }> {
  const replay = new StateReplay();
  const roots: { index: number; commitment: Hex; replayed: Hex }[] = [];
  for await (const e of log.scanEntries()) {
    const entry = parseEntry(JSON.parse(new TextDecoder().decode(e.bytes)));
    if (entry.kind === STATE_ROOT_KIND) roots.push({ index: e.index, commitment: entry.commitment, replayed: replay.root() });
    else replay.push(e.index, entry, e.leafHash);
  }
  return { replay, roots };
}

describe('state map on the write path', () => {
  it('equals the map replayed from the log after random groups and state roots, across a reopen or a crash', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ subs: fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: KINDS.length - 1 })), { maxLength: 20 }), root: fc.boolean() }), { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        fc.constantFrom(undefined, 8, 40),
        async (rounds, crash, maxPending) => {
          const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-map-'));
          dirs.push(dir);
          let o = await openAll(dir, maxPending);
          for (const [i, r] of rounds.entries()) {
            // Concurrent: one group, or a few, with the state.root (when asked) racing them.
            const subs = r.subs.map(([s, k]) => o.seq.submit({ kind: KINDS[k]!, subject: `${KINDS[k]!.split('.')[0]}-${s}`, record: { s, k }, actor: null }));
            const root = r.root ? o.seq.appendStateRoot() : Promise.resolve(null);
            await Promise.all([...subs, root]);
            expect(o.stateMap.writtenSize).toBeLessThanOrEqual(o.stateMap.size);
            if (maxPending !== undefined) expect(o.stateMap.pending).toBeLessThanOrEqual(maxPending + 2 * 20 * 258);
            if (i === 2) {
              // A crash loses the overlay (what changed since the map's last write): the open replays it.
              if (!crash) await o.seq.close();
              await o.db.close();
              o = await openAll(dir, maxPending);
            }
          }
          const { replay, roots } = await replayLog(o.log);
          expect(await o.stateMap.currentRoot()).toBe(replay.root());
          expect(o.stateMap.size).toBe(o.log.size);
          for (const r of roots) expect(r.commitment, `state.root at ${r.index}`).toBe(r.replayed);
          // Proofs at every state root verify against it (presence and absence), never against another root.
          for (const r of roots) {
            const rec = (await o.stateMap.stateRoot(r.index))!;
            expect(rec.root).toBe(r.commitment);
            for (const subject of ['invoice-3', 'evidence-4', 'nobody']) {
              const { leaf, proof } = await o.stateMap.proofAt(subject, rec.epoch);
              expect(() => verifyMapProof(rec.root, subject, leaf, proof)).not.toThrow();
              const other = roots.find((x) => x.commitment !== rec.root);
              if (other) expect(() => verifyMapProof(other.commitment, subject, leaf, proof)).toThrow(MapProofError);
            }
          }
          await o.seq.close();
          await o.db.close();
        },
      ),
      { numRuns: 16 },
    );
  });

  it('a second state.root with nothing new in between is not appended', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-map-'));
    dirs.push(dir);
    const o = await openAll(dir);
    await o.seq.submit({ kind: 'invoice.issued', subject: 'k', record: {}, actor: null });
    const a = await o.seq.appendStateRoot();
    expect(a?.entry).toMatchObject({ kind: 'state.root', subject: 'state@1', commitment: await o.stateMap.currentRoot() });
    expect(await o.seq.appendStateRoot()).toBeNull();
    expect(o.log.size).toBe(2);
    await o.seq.close();
    await o.db.close();
  });
});

describe('state map writes', () => {
  it('are made once per epoch: groups between state roots write nothing of the map; the state root writes it all', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-map-'));
    dirs.push(dir);
    const o = await openAll(dir);
    for (let g = 0; g < 5; g++) await Promise.all(Array.from({ length: 10 }, (_, i) => o.seq.submit({ kind: 'invoice.issued', subject: `g${g}-${i}`, record: {}, actor: null })));
    expect(o.log.size).toBe(50);
    expect(o.stateMap.size).toBe(50);
    expect(o.stateMap.writtenSize).toBe(0);
    expect(o.stateMap.pending).toBe(50); // the 50 leaves; the tree above them is hashed at the state root
    const writes = o.stateMap.stats.writes;
    const root = await o.seq.appendStateRoot();
    expect(root?.index).toBe(50);
    expect(o.stateMap.writtenSize).toBe(51);
    expect(o.stateMap.stats.writes).toBe(writes + 1);
    expect(o.stateMap.pending).toBe(0);
    // What is on disk is that map: a fresh open of the same database, without replay, has its root.
    const again = await StateMapStore.open(o.db);
    expect(again.root).toBe(root!.entry.commitment);
    expect(again.size).toBe(51);
    await o.seq.close();
    await o.db.close();
  });

  it('past the overlay bound, a group writes it out although no state root came (bounded memory and replay)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-map-'));
    dirs.push(dir);
    const o = await openAll(dir, 100);
    let maxPending = 0;
    for (let g = 0; g < 12; g++) {
      await Promise.all(Array.from({ length: 10 }, (_, i) => o.seq.submit({ kind: 'invoice.issued', subject: `b${g}-${i}`, record: {}, actor: null })));
      maxPending = Math.max(maxPending, o.stateMap.pending);
    }
    expect(o.stateMap.writtenSize).toBeGreaterThan(0);
    expect(maxPending).toBeLessThanOrEqual(100 + 10); // checked as a group begins: the bound, plus one group
    expect(o.log.size - o.stateMap.writtenSize).toBeLessThan(120);
    await o.db.close(); // a crash: the overlay is lost
    const p = await openAll(dir, 100);
    const { replay } = await replayLog(p.log);
    expect(await p.stateMap.currentRoot()).toBe(replay.root());
    expect(p.stateMap.writtenSize).toBe(p.log.size);
    await p.seq.close();
    await p.db.close();
  });
});

describe('state map format before versioned nodes (test/fixtures/state-map-v1)', () => {
  it('is converted at open: the same root, proofs at every old state root still verify, and it writes on', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-map-v1-'));
    dirs.push(dir);
    fs.cpSync(path.join(__dirname, '../fixtures/state-map-v1'), dir, { recursive: true });
    // What the fixture holds before: current nodes under `c` beside their older versions under `h`.
    const raw = await openDatabase(dir);
    let oldCurrent = 0;
    for await (const _k of raw.keys({ gte: '!smt!c', lt: '!smt!c~' })) oldCurrent++;
    await raw.close();
    expect(oldCurrent).toBeGreaterThan(50);
    const o = await openAll(dir);
    let left = 0;
    for await (const _k of o.db.keys({ gte: '!smt!c', lt: '!smt!c~' })) left++;
    expect(left).toBe(0);
    const check = async (): Promise<number> => {
      const { replay, roots } = await replayLog(o.log);
      expect(await o.stateMap.currentRoot()).toBe(replay.root());
      for (const r of roots) {
        const rec = (await o.stateMap.stateRoot(r.index))!;
        expect(rec.root, `state.root at ${r.index}`).toBe(r.commitment);
        for (const subject of ['s-3', 's-17', 's-49', 'nobody']) {
          const { leaf, proof } = await o.stateMap.proofAt(subject, rec.epoch);
          expect(() => verifyMapProof(rec.root, subject, leaf, proof), `${subject} at ${r.index}`).not.toThrow();
        }
      }
      return roots.length;
    };
    expect(await check()).toBe(3);
    expect(await StateMapStore.migrate(o.db)).toBe(0); // converted once: nothing left to convert
    for (let i = 0; i < 30; i++) await o.seq.submit({ kind: 'invoice.issued', subject: `s-${i}`, record: { after: i }, actor: null });
    await o.seq.appendStateRoot();
    expect(await check()).toBe(4);
    await o.seq.close();
    await o.db.close();
  });
});

describe('state map conversion interrupted', () => {
  it('a crash part way through the conversion: the next open finishes it, to the same root and proofs', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-map-v1-'));
    dirs.push(dir);
    fs.cpSync(path.join(__dirname, '../fixtures/state-map-v1'), dir, { recursive: true });
    // The reference: the same fixture converted in one go.
    const whole = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-map-v1-'));
    dirs.push(whole);
    fs.cpSync(path.join(__dirname, '../fixtures/state-map-v1'), whole, { recursive: true });
    const ref = await openAll(whole);
    const refRoot = await ref.stateMap.currentRoot();
    const refRec = (await ref.stateMap.latestStateRootBelow(ref.log.size))!;
    const refProof = await ref.stateMap.proofAt('s-17', refRec.epoch);
    await ref.seq.close();
    await ref.db.close();
    // Half the old current nodes converted as the conversion does it (a version put, the old key deleted), then a "crash".
    const raw = await openDatabase(dir);
    const half: [string, Uint8Array][] = [];
    let i = 0;
    for await (const [k, v] of raw.iterator({ gte: '!smt!c', lt: '!smt!c~' })) if (i++ % 2 === 0) half.push([k, v]);
    expect(half.length).toBeGreaterThan(20);
    const ops = half.flatMap(([k, v]) => {
      let e = 0;
      for (let j = 65; j < 70; j++) e = e * 256 + v[j]!;
      return [
        { type: 'put' as const, key: '!smt!h' + k.slice(6) + '!' + e.toString(16).padStart(10, '0'), value: v.subarray(0, 65) },
        { type: 'del' as const, key: k },
      ];
    });
    await raw.batch(ops as never, { sync: true });
    await raw.close();
    const o = await openAll(dir);
    let left = 0;
    for await (const _k of o.db.keys({ gte: '!smt!c', lt: '!smt!c~' })) left++;
    expect(left).toBe(0);
    expect(await o.stateMap.currentRoot()).toBe(refRoot);
    const rec = (await o.stateMap.latestStateRootBelow(o.log.size))!;
    expect(rec).toEqual(refRec);
    expect(await o.stateMap.proofAt('s-17', rec.epoch)).toEqual(refProof);
    expect(() => verifyMapProof(rec.root, 's-17', refProof.leaf, refProof.proof)).not.toThrow();
    await o.seq.close();
    await o.db.close();
  });
});

describe('state map catch-up', () => {
  it('a log written without the map (an upgraded node) is brought up to date at open, state roots included', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-map-'));
    dirs.push(dir);
    let o = await openAll(dir);
    for (let i = 0; i < 5; i++) await o.seq.submit({ kind: 'invoice.issued', subject: `a${i}`, record: {}, actor: null });
    await o.seq.appendStateRoot();
    await o.seq.close();
    await o.db.close();
    // The same data, written on by a node without the map.
    const db = await openDatabase(dir);
    const log = await LogStore.open(db);
    const plain = await Sequencer.open({ db, log, logId: logIdFor('map-test'), operatorKey: operator.privateKey as Hex, rules: [anyRules as DomainRules<unknown>], signingWorkers: 0 });
    for (let i = 0; i < 7; i++) await plain.submit({ kind: 'evidence.custody.sealed', subject: `a${i % 3}`, record: {}, actor: null });
    await plain.close();
    await db.close();
    o = await openAll(dir, undefined, false);
    expect(o.stateMap.size).toBe(6);
    expect(await o.stateMap.catchUp(o.log)).toBe(7);
    const { replay, roots } = await replayLog(o.log);
    expect(await o.stateMap.currentRoot()).toBe(replay.root());
    expect(o.stateMap.size).toBe(o.log.size);
    expect(roots).toHaveLength(1);
    expect((await o.stateMap.stateRoot(roots[0]!.index))?.root).toBe(roots[0]!.commitment);
    await o.seq.close();
    await o.db.close();
  });
});
