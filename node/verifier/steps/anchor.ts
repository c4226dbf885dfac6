/** anchor: the chain's checkpoint(logId, treeSize) must be the root the proofs lead to. */
import { eqHex, firstMismatch, read, type CheckpointStep } from '../context';

export const anchorStep: CheckpointStep = {
  name: 'anchor',
  async run(ctx) {
    const { b, g, opts, rpcChain } = ctx;
    const a = g.anchor;
    if (a.logId !== b.log.logId) {
      ctx.add('anchor', 'failed', 'the anchor names another log than the bundle\'s', { expected: b.log.logId, calculated: a.logId });
      return ctx.stop('not read: the bundle names two logs');
    }
    if (opts.trust?.logId !== undefined && !eqHex(a.logId, opts.trust.logId)) {
      ctx.add('anchor', 'failed', 'the bundle is about another log than the one trusted (--log-id)', { expected: opts.trust.logId.toLowerCase(), calculated: a.logId });
      return ctx.stop('not read: not the trusted log');
    }
    const cp = await read(`checkpoint(${a.logId}, ${a.treeSize})`, () => ctx.chain.checkpoint(a.registry, a.logId, a.treeSize));
    if (cp === null) {
      ctx.add('anchor', 'failed', `registry ${a.registry.toLowerCase()} on chain ${rpcChain} holds no checkpoint of size ${a.treeSize} for log ${a.logId}: never anchored`, { expected: a.rootHash, calculated: 'none' });
      return ctx.stop('not read: no anchored checkpoint');
    }
    const proofRoot = g.roots[0] ?? a.rootHash;
    const m = firstMismatch([
      ['the root the inclusion proofs lead to', cp.rootHash, proofRoot],
      ...g.roots.slice(1).map((r) => ['the root another item\'s proof leads to', cp.rootHash, r] as [string, unknown, unknown]),
      ['anchor.rootHash', cp.rootHash, a.rootHash],
      ['anchor.blockNumber', cp.blockNumber.toString(), a.blockNumber],
      ['anchor.timestamp', cp.timestamp.toString(), a.timestamp],
    ]);
    if (m) {
      ctx.add('anchor', 'failed', `the chain's checkpoint of size ${a.treeSize} differs from ${m[0]}`, { expected: m[1], calculated: m[2] });
      return ctx.stop('not read: the anchor does not match');
    }
    ctx.cp = cp;
    ctx.add('anchor', 'ok', `checkpoint(${a.logId}, ${a.treeSize}) on chain ${rpcChain} is the root the proofs lead to${g.roots.length === 0 ? ' (no proof of this checkpoint verified)' : ''}`, { expected: cp.rootHash, calculated: proofRoot });
  },
};
