/** registry-code: the trusted registry, the bundle's, and a contract: an address without code would answer every call with nothing. */
import { eqHex, read, type CheckpointStep } from '../context';

export const registryCodeStep: CheckpointStep = {
  name: 'registry-code',
  async run(ctx) {
    const { b, g, opts, rpcChain } = ctx;
    const a = g.anchor;
    if (opts.trust?.registry !== undefined && !eqHex(a.registry, opts.trust.registry)) {
      ctx.add('registry-code', 'failed', 'the bundle was anchored in another registry than the one trusted (--registry): anyone can deploy a registry of their own', { expected: opts.trust.registry.toLowerCase(), calculated: a.registry.toLowerCase() });
      return ctx.stop('not read: not the trusted registry');
    }
    if (!eqHex(a.registry, b.log.registry)) {
      ctx.add('registry-code', 'failed', 'the anchor names another registry than the bundle\'s log', { expected: b.log.registry.toLowerCase(), calculated: a.registry.toLowerCase() });
      return ctx.stop('not read: the bundle names two registries');
    }
    const code = await read(`the code at ${a.registry}`, () => ctx.chain.getCode(a.registry));
    if (typeof code !== 'string' || code === '0x' || code.length <= 2) {
      ctx.add('registry-code', 'failed', `there is no contract at ${a.registry.toLowerCase()} on chain ${rpcChain}: not the registry the bundle was anchored in`);
      return ctx.stop('not read: no registry');
    }
    ctx.add('registry-code', 'ok', `contract code at ${a.registry.toLowerCase()} (${(code.length - 2) / 2} bytes)`);
  },
};
