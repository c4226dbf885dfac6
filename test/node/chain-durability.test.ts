/**
 * Embedded chain durability through the node (issue 3): a node on its embedded chain anchors, is
 * killed with SIGKILL, starts again (twice): the same chain id and registry address, every old
 * checkpoint still readable on chain with its root and its transaction, and new anchors continue
 * from the old ones (the contract checks each consistency proof; we re-check them here).
 */
import { describe, it, expect, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Ledger, loadConfig, fromHex, verifyConsistency, type Hex } from '../../node';
import { readAddressBook } from '../../node/chain/address-book';
import { issueRequest } from './fixtures/invoices';
import { FIXTURES, kill, spawnJson } from './fixtures/processes';
import { EXACT_LOG_SIZES } from '../support/ledger';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-chaindur-'));
const env = { TIANFU_DATA_DIR: dir, TIANFU_CHAIN_PORT: '0', TIANFU_CHECKPOINT_INTERVAL_MS: '150', ...EXACT_LOG_SIZES };

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('embedded chain durability through the node', () => {
  it('keeps every checkpoint on the same registry across kill -9 and anchors on consistently', async () => {
    const anchoredRoots = new Map<number, Hex>();
    let registry: string | undefined;
    for (let round = 0; round < 2; round++) {
      const c = spawnJson(path.join(FIXTURES, 'ledger-child.ts'), ['4', String(round * 1_000_000), '24'], env);
      const ready = await c.waitFor((l) => 'ready' in l || 'error' in l, 60_000);
      expect(ready.error, String(ready.error)).toBeUndefined();
      if (registry === undefined) registry = ready.ready.registry as string;
      expect(ready.ready.registry).toBe(registry);
      const done = await c.waitFor((l) => 'done' in l || 'error' in l);
      expect(done.done).toBe(24 * (round + 1));
      await c.waitFor((l) => 'anchored' in l && l.anchored === done.done);
      for (const l of c.lines) if ('anchored' in l) anchoredRoots.set(l.anchored, l.rootHash);
      expect(await kill(c, 'SIGKILL')).toBe('SIGKILL');
    }
    expect(anchoredRoots.size).toBeGreaterThanOrEqual(2);
    const book = await readAddressBook(path.join(dir, 'address-book.json'));
    expect(book.registry).toBe(registry);

    const ledger = await Ledger.start(loadConfig({ ...env, TIANFU_CHECKPOINT_INTERVAL_MS: '100' }));
    try {
      expect(ledger.chain.registry).toBe(registry);
      expect(ledger.chain.chainId.toString()).toBe(book.chainId);
      const recorded = await ledger.anchorer.checkpoints();
      for (const [size, root] of anchoredRoots) {
        const cp = await ledger.registry.checkpoint(ledger.logId, size);
        expect(cp?.rootHash, `checkpoint ${size} on chain`).toBe(root);
        const rec = recorded.find((r) => r.treeSize === size);
        expect(rec?.rootHash).toBe(root);
        const receipt = await ledger.provider.getTransactionReceipt(rec!.txHash);
        expect(receipt?.blockHash.toLowerCase()).toBe(rec!.blockHash);
        expect(receipt?.status).toBe(1);
      }

      // New anchors continue from the old ones.
      await Promise.all(Array.from({ length: 10 }, (_, i) => ledger.sequencer.submit(issueRequest(5_000_000 + i))));
      const size = ledger.log.size;
      expect(size).toBe(58);
      const deadline = Date.now() + 20_000;
      while ((ledger.anchorer.status().anchored?.treeSize ?? 0) < size) {
        if (Date.now() > deadline) throw new Error(`not anchored: ${JSON.stringify(ledger.anchorer.status())}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const latest = await ledger.registry.latest(ledger.logId);
      expect(Number(latest.treeSize)).toBe(size);
      for (const [old, root] of anchoredRoots) {
        const proof = await ledger.log.consistencyProof(old, size);
        expect(() => verifyConsistency(old, size, proof.map((h) => fromHex(h)), fromHex(root), fromHex(latest.rootHash))).not.toThrow();
      }
      // On chain, each anchor extended the one before it (previousTreeSize links them without a gap).
      const events = await ledger.registry.queryAnchoredEvents(0, 'latest', ledger.logId);
      events.forEach((e, i) => expect(Number(e.previousTreeSize)).toBe(i === 0 ? 0 : Number(events[i - 1]!.treeSize)));
      expect(Number(events.at(-1)!.treeSize)).toBe(size);
    } finally {
      await ledger.stop();
    }
  });
});
