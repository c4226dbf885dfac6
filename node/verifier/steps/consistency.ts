/**
 * consistency: the bundle's checkpoint is still part of the log's history as the chain has it now.
 * The registry's newest checkpoint of the log is read; AnchorRegistry.anchor accepts a checkpoint only
 * with an RFC 9162 consistency proof from the one anchored before it, so every later checkpoint the
 * registry holds extends this one (the proofs were checked on chain, by the contract, when each was
 * anchored). The contract is the one at the registry address: pin it (--registry) to know whose code.
 */
import type { Hex } from '../../protocol/bytes';
import { isoOf, read, type CheckpointStep } from '../context';

export const consistencyStep: CheckpointStep = {
  name: 'consistency',
  async run(ctx) {
    const { g, summary } = ctx;
    const a = g.anchor;
    if (!ctx.chain.latest) return ctx.add('consistency', 'skipped', 'this chain reader cannot read the registry\'s latest checkpoint');
    const latest = await read(`latest(${a.logId})`, () => ctx.chain.latest!(a.registry, a.logId));
    if (latest === null) return ctx.add('consistency', 'failed', `registry ${a.registry.toLowerCase()} knows no log ${a.logId}`, { expected: a.logId, calculated: 'none' });
    const blk = latest.blockNumber === ctx.cp?.blockNumber && ctx.blk ? ctx.blk : latest.treeSize > 0 ? await read(`block ${latest.blockNumber}`, () => ctx.chain.getBlock(latest.blockNumber)) : null;
    summary.latest = { treeSize: latest.treeSize, rootHash: latest.rootHash.toLowerCase() as Hex, blockNumber: latest.blockNumber.toString(), blockTime: blk ? isoOf(blk.timestamp) : null };
    const now = `the registry's latest checkpoint of the log is size ${latest.treeSize}, root ${latest.rootHash.toLowerCase()} (block ${latest.blockNumber})`;
    if (latest.treeSize < a.treeSize) {
      ctx.add('consistency', 'failed', `${now}: smaller than this checkpoint's ${a.treeSize}, which a registry that only grows cannot hold`, { expected: `>= ${a.treeSize}`, calculated: String(latest.treeSize) });
    } else if (latest.treeSize === a.treeSize) {
      ctx.add('consistency', 'ok', `${now}: this checkpoint is the latest`, { expected: a.rootHash, calculated: latest.rootHash.toLowerCase() });
    } else {
      ctx.add('consistency', 'ok', `${now}; the registry accepted every checkpoint after size ${a.treeSize} only with an RFC 9162 consistency proof from the one before it, so the log as anchored now extends this checkpoint`, { expected: `>= ${a.treeSize}`, calculated: String(latest.treeSize) });
    }
  },
};
