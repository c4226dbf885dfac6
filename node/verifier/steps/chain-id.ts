/** chain-id: the RPC must serve the chain the bundle names, or every later read is about another chain. */
import { read, type CheckpointStep } from '../context';

export const chainIdStep: CheckpointStep = {
  name: 'chain-id',
  async run(ctx) {
    const { b, g, cache } = ctx;
    const a = g.anchor;
    cache.chainId ??= await read('the chain id', () => ctx.chain.chainId());
    const rpcChain = cache.chainId.toString();
    ctx.rpcChain = rpcChain;
    if (a.chainId !== b.log.chainId) {
      ctx.add('chain-id', 'failed', 'the anchor names another chain than the bundle\'s log', { expected: b.log.chainId, calculated: a.chainId });
      return ctx.stop('not read: the bundle names two chains');
    }
    if (rpcChain !== a.chainId) {
      ctx.add('chain-id', 'failed', `the RPC endpoint serves chain ${rpcChain}, the bundle was anchored on chain ${a.chainId}: use an endpoint of that chain`, { expected: a.chainId, calculated: rpcChain });
      return ctx.stop('not read: wrong chain');
    }
    ctx.add('chain-id', 'ok', `the RPC endpoint serves chain ${rpcChain}, the chain the bundle names`, { expected: a.chainId, calculated: rpcChain });
  },
};
