/** block: the anchoring block exists, its time is the checkpoint's, the transaction named anchored it, and it is deep enough. */
import type { Hex } from '../../protocol/bytes';
import { CHECKPOINT_ANCHORED_TOPIC, type ChainLog } from '../../protocol/chain';
import { eqHex, firstMismatch, isoOf, read, type CheckpointStep } from '../context';

/** Whether `logs` hold the registry's CheckpointAnchored event for (logId, treeSize, rootHash). */
function emitsCheckpoint(logs: readonly ChainLog[], registry: Hex, logId: Hex, treeSize: number, rootHash: Hex): boolean {
  const word = (data: string, i: number): string => data.slice(2 + 64 * i, 2 + 64 * (i + 1)).toLowerCase();
  return logs.some(
    (l) =>
      eqHex(l.address, registry) &&
      l.topics.length === 2 &&
      eqHex(l.topics[0], CHECKPOINT_ANCHORED_TOPIC) &&
      eqHex(l.topics[1], logId) &&
      typeof l.data === 'string' &&
      l.data.length === 2 + 64 * 3 &&
      word(l.data, 0) === treeSize.toString(16).padStart(64, '0') &&
      '0x' + word(l.data, 1) === rootHash.toLowerCase(),
  );
}

export const blockStep: CheckpointStep = {
  name: 'block',
  async run(ctx) {
    const { g, summary, rpcChain, cache, required } = ctx;
    const a = g.anchor;
    const cp = ctx.cp!;
    const blk = await read(`block ${cp.blockNumber}`, () => ctx.chain.getBlock(cp.blockNumber));
    if (blk === null) {
      ctx.add('block', 'failed', `block ${cp.blockNumber} does not exist on chain ${rpcChain}`);
      return ctx.stop();
    }
    cache.head ??= await read('the block number', () => ctx.chain.blockNumber());
    const confirmations = Number(cache.head - cp.blockNumber + 1n);
    summary.blockHash = blk.hash.toLowerCase() as Hex;
    summary.blockTime = isoOf(blk.timestamp);
    summary.confirmations = confirmations;
    if (blk.timestamp !== cp.timestamp) {
      ctx.add('block', 'failed', `block ${cp.blockNumber}'s time differs from the time the registry recorded for the checkpoint`, { expected: cp.timestamp.toString(), calculated: blk.timestamp.toString() });
      return ctx.stop();
    }
    let lastTx: { logs?: readonly ChainLog[] } | null = null;
    if (ctx.chain.transaction) {
      const tx = await read(`transaction ${a.txHash}`, () => ctx.chain.transaction!(a.txHash));
      lastTx = tx;
      const mt = tx === null
        ? ['the bundle\'s txHash is not a mined transaction', a.txHash, 'none']
        : firstMismatch([
          ['the anchoring transaction\'s block', cp.blockNumber.toString(), tx.blockNumber.toString()],
          ['the anchoring transaction\'s block hash', blk.hash, tx.blockHash],
          ['the anchoring transaction\'s target', a.registry, tx.to ?? 'none'],
          ['the anchoring transaction\'s status', 1, tx.status],
        ]);
      if (mt) {
        ctx.add('block', 'failed', `${mt[0]} does not match (anchor.txHash ${a.txHash})`, { expected: String(mt[1]), calculated: String(mt[2]) });
        return ctx.stop();
      }
      // Another successful registry transaction in the same block would pass the checks above: the
      // transaction named must be the one that anchored this very checkpoint.
      if (tx!.logs && !emitsCheckpoint(tx!.logs, a.registry, a.logId, a.treeSize, cp.rootHash)) {
        ctx.add('block', 'failed', `the anchoring transaction ${a.txHash} did not emit CheckpointAnchored for this log, size and root`, {
          expected: `CheckpointAnchored(${a.logId.toLowerCase()}, ${a.treeSize}, ${cp.rootHash.toLowerCase()})`,
          calculated: `${tx!.logs.length} log${tx!.logs.length === 1 ? '' : 's'}, none of them that event`,
        });
        return ctx.stop();
      }
    }
    ctx.blk = blk;
    // A reader without transaction logs (or without transactions at all) cannot show which transaction
    // anchored the checkpoint: say so in the step, rather than let it pass unremarked.
    const unchecked = !ctx.chain.transaction ? '; the anchoring transaction was not checked (this chain reader cannot read transactions)' : undefined;
    const noLogs = unchecked ?? (lastTx !== null && lastTx.logs === undefined ? '; its CheckpointAnchored event was not checked (this chain reader gives no transaction logs)' : '');
    const what = `block ${cp.blockNumber} (hash ${blk.hash.toLowerCase()}) at ${isoOf(blk.timestamp)}, ${confirmations} confirmation${confirmations === 1 ? '' : 's'}${noLogs}`;
    if (confirmations < required) {
      // A chain that makes blocks only when sent a transaction (the embedded one: one block per anchor)
      // may never get there on an idle ledger: say so, rather than leave the reader waiting.
      const why = `${required} required: verify again after ${required - confirmations} more block${required - confirmations === 1 ? '' : 's'}. A chain that makes blocks only when it is sent a transaction (the ledger's embedded chain makes one per anchor) may not reach that while the ledger is idle; the embedded chain has a single node and no reorgs, so 1 confirmation is final there`;
      ctx.add('block', 'pending', `${what}; ${why}`, { expected: String(required), calculated: String(confirmations) });
    }
    else ctx.add('block', 'ok', what, { expected: `>= ${required} confirmations`, calculated: String(confirmations) });
  },
};
