/**
 * operator, for a bundle with no anchored item: it has no checkpoint step, so nothing would compare
 * the operator whose key signed its receipts with the registry's: anyone could sign a "pending" bundle
 * with a key of their own. Read operatorOf at the chain head instead (chain and registry checked first).
 */
import { eqHex, read, type BundleStep } from '../context';

export const pendingOperatorStep: BundleStep = {
  name: 'operator',
  needsChain: true,
  async run(ctx) {
    const { b, opts, steps, cache } = ctx;
    const chain = ctx.chain;
    if (chain === null || ctx.groups.length > 0) return;
    cache.chainId ??= await read('the chain id', () => chain.chainId());
    const rpcChain = cache.chainId.toString();
    if (rpcChain !== b.log.chainId) {
      steps.add({ name: 'chain-id', status: 'failed', detail: `the RPC endpoint serves chain ${rpcChain}, the bundle's log is on chain ${b.log.chainId}`, expected: b.log.chainId, calculated: rpcChain });
      return;
    }
    if (opts.trust?.registry !== undefined && !eqHex(b.log.registry, opts.trust.registry)) {
      steps.add({ name: 'registry-code', status: 'failed', detail: 'the bundle names another registry than the one trusted (--registry)', expected: opts.trust.registry.toLowerCase(), calculated: b.log.registry.toLowerCase() });
      return;
    }
    if (opts.trust?.logId !== undefined && !eqHex(b.log.logId, opts.trust.logId)) {
      steps.add({ name: 'operator', status: 'failed', detail: 'the bundle is about another log than the one trusted (--log-id)', expected: opts.trust.logId.toLowerCase(), calculated: b.log.logId });
      return;
    }
    if (!chain.operatorOf) {
      steps.add({ name: 'operator', status: 'skipped', detail: 'this chain reader cannot read operatorOf; the operator of the pending receipts is as the bundle states' });
      return;
    }
    const head = await read('the block number', () => chain.blockNumber());
    const op = await read(`operatorOf(${b.log.logId})`, () => chain.operatorOf!(b.log.registry, b.log.logId, head));
    if (op !== null && eqHex(op, b.log.operator)) steps.add({ name: 'operator', status: 'ok', detail: `the registry names ${op.toLowerCase()} as the log's operator at block ${head} (no anchored item: read at the head)`, expected: op.toLowerCase(), calculated: b.log.operator.toLowerCase() });
    else steps.add({ name: 'operator', status: 'failed', detail: 'the receipts are signed by a key the registry does not name as the log\'s operator', expected: op === null ? 'none' : op.toLowerCase(), calculated: b.log.operator.toLowerCase() });
  },
};
