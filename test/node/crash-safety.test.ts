/**
 * Crash safety (issue 3; docs/architecture.md "The write path": a crash at any point loses no acknowledged record): a node in a
 * child process, with 16 concurrent submitters issuing real invoices, is killed with SIGKILL at a
 * random point, four rounds on the same data directory (node, store and embedded chain die together).
 * Afterwards every acknowledged record is present with an inclusion proof that verifies against an
 * anchored checkpoint read back from the chain, and nothing unacknowledged is half-written: the log
 * size equals the number of records, every entry has its record, index and subject state, and the
 * root recomputed from scratch (reference tree) equals the store's. The state map after restart equals
 * the map replayed from the log, and every state.root entry equals the replayed map at its index.
 */
import { describe, it, expect, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Ledger, loadConfig, commitment, entryLeafHash, fromHex, recordDigest, toHex, verifyInclusion, verifyReceiptSigner, type Hex } from '../../node';
import { ReferenceTree } from '../support/reference-tree';
import { STATE_ROOT_KIND, stateRootSubject } from '../../node/protocol';
import { StateReplay } from '../../node/state';
import { FIXTURES, kill, spawnJson } from './fixtures/processes';

const ROUNDS = 4;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-crash-'));
const env = { TIANFU_DATA_DIR: dir, TIANFU_CHAIN_PORT: '0', TIANFU_CHECKPOINT_INTERVAL_MS: '200' };

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('crash safety under SIGKILL', () => {
  it('keeps every acknowledged record, half-writes nothing, and anchors it all after restart', async () => {
    const acks = new Map<number, { leafHash: Hex; subject: string; n: number }>();
    let anchoredBeforeCrash = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const c = spawnJson(path.join(FIXTURES, 'ledger-child.ts'), ['16', String(round * 1_000_000), '0'], env);
      const ready = await c.waitFor((l) => 'ready' in l || 'error' in l, 60_000);
      expect(ready.error, String(ready.error)).toBeUndefined();
      // Every restart sees at least what was acknowledged before (nothing lost at replay).
      expect(ready.ready.treeSize).toBeGreaterThanOrEqual(acks.size);
      const before = c.lines.length;
      await c.waitFor(() => c.lines.length - before >= 30, 30_000);
      // A random point: somewhere in the next 0–600 ms of acknowledging and anchoring.
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 600)));
      expect(await kill(c, 'SIGKILL')).toBe('SIGKILL');
      for (const l of c.lines) {
        if ('ack' in l) {
          expect(acks.has(l.ack), `index ${l.ack} acknowledged twice`).toBe(false);
          acks.set(l.ack, { leafHash: l.leafHash, subject: l.subject, n: l.n });
        }
        if ('anchored' in l) anchoredBeforeCrash = Math.max(anchoredBeforeCrash, l.anchored);
      }
    }
    expect(acks.size).toBeGreaterThanOrEqual(ROUNDS * 30);

    const ledger = await Ledger.start(loadConfig({ ...env, TIANFU_CHECKPOINT_INTERVAL_MS: '100' }));
    try {
      const { log, sequencer } = ledger;
      const size = log.size;
      expect(size).toBeGreaterThanOrEqual(acks.size);
      expect(size).toBeGreaterThanOrEqual(anchoredBeforeCrash);

      // Nothing half-written: every entry has its record, subject index and state; nothing beyond the size.
      const ref = new ReferenceTree();
      const replay = new StateReplay();
      let stateRoots = 0;
      const subjects = new Set<string>();
      for (let start = 0; start < size; start += 1000) {
        for (const e of await log.entries(start, Math.min(size, start + 1000))) {
          ref.append(e.bytes);
          expect(toHex(ref.leaves[e.index]!)).toBe(e.leafHash);
          const r = await sequencer.getRecord(e.index);
          expect(r, `record ${e.index} missing`).toBeDefined();
          expect(r!.leafHash).toBe(e.leafHash);
          expect(entryLeafHash(r!.entry)).toBe(e.leafHash);
          if (r!.kind === STATE_ROOT_KIND) {
            // No state.root disagrees with the map replayed from the log before it.
            expect(r!.entry.subject).toBe(stateRootSubject(e.index));
            expect(r!.entry.commitment, `state.root at ${e.index}`).toBe(replay.root());
            stateRoots++;
            continue;
          }
          replay.push(e.index, r!.entry, e.leafHash);
          expect(r!.entry.commitment).toBe(commitment(r!.salt!, recordDigest(r!.record)));
          expect(await sequencer.subjectIndexes(r!.subject)).toEqual([e.index]);
          const state = await sequencer.getState<{ contentDigest: Hex }>(r!.subject);
          expect(state?.contentDigest).toBe(recordDigest(r!.record));
          expect(subjects.has(r!.subject), `subject ${r!.subject} twice`).toBe(false);
          subjects.add(r!.subject);
        }
      }
      // Beyond the size at restart: nothing, or the state.root the restarted anchorer appends.
      const after = await sequencer.getRecord(size);
      expect(after === undefined || after.kind === STATE_ROOT_KIND).toBe(true);
      expect(toHex(ref.root())).toBe(await log.root(size));
      // The map after restart is the map replayed from the log (written with the groups, never apart; a crash replays what was not yet written).
      expect(stateRoots).toBeGreaterThan(0);
      expect(await sequencer.stateMap!.currentRoot()).toBe(replay.root());

      // It gets anchored: the restarted anchorer picks up from what the chain says.
      const deadline = Date.now() + 30_000;
      while ((ledger.anchorer.status().anchored?.treeSize ?? 0) < size) {
        if (Date.now() > deadline) throw new Error(`not anchored to ${size}: ${JSON.stringify(ledger.anchorer.status())}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const anchored = ledger.anchorer.status().anchored!;
      const onChain = await ledger.registry.checkpoint(ledger.logId, anchored.treeSize);
      expect(onChain?.rootHash).toBe(anchored.rootHash);
      expect(await log.root(anchored.treeSize)).toBe(anchored.rootHash);

      // Every acknowledged record: present, same leaf, proven against the on-chain root, receipt by the operator.
      for (const [index, a] of acks) {
        const r = await sequencer.getRecord(index);
        expect(r?.leafHash, `acknowledged index ${index}`).toBe(a.leafHash);
        expect(r!.subject).toBe(a.subject);
        expect((r!.record as { invoiceNumber: string }).invoiceNumber).toBe('2551' + a.n.toString().padStart(16, '0'));
        const p = await log.inclusionProof(index, anchored.treeSize);
        expect(() => verifyInclusion(index, anchored.treeSize, fromHex(a.leafHash), p.proof.map((h) => fromHex(h)), fromHex(onChain!.rootHash))).not.toThrow();
        expect(verifyReceiptSigner((await sequencer.getReceipt(index))!, ledger.operator.address)).toBe(ledger.operator.address);
      }
      // The anchors form one append-only chain (each accepted by the contract's consistency check).
      const events = await ledger.registry.queryAnchoredEvents(0, 'latest', ledger.logId);
      const sizes = events.map((e) => Number(e.treeSize));
      expect([...sizes].sort((x, y) => x - y)).toEqual(sizes);
      expect(new Set(sizes).size).toBe(sizes.length);
    } finally {
      await ledger.stop();
    }
    // Four child nodes, each with its own chain, then a restart: ~35 s alone, more beside the rest of the suite.
  }, 150_000);
});
