/** commitment (docs/protocol.md §2): the salted commitment recomputed from record digest and salt is the entry's. */
import { commitment as commitmentOf } from '../../protocol/record';
import { describeError, type ItemStep } from '../context';

export const commitmentStep: ItemStep = {
  name: 'commitment',
  run(ctx) {
    const { it } = ctx;
    if (ctx.missing) {
      // Withheld (no erasure event) fails; erased is reported as skipped.
      if (ctx.missing.erased) ctx.skip('commitment', ctx.missing.why);
      else ctx.fail({ name: 'commitment', detail: ctx.missing.why });
      return;
    }
    const digest = ctx.result.digest;
    if (digest === null || it.salt === null) return ctx.skip('commitment', 'no canonical bytes');
    try {
      const c = commitmentOf(it.salt, digest);
      if (c === it.entry.commitment) ctx.ok({ name: 'commitment', detail: 'SHA-256("tianfu/commitment/v1" 0x00 salt recordDigest) equals the entry\'s commitment', expected: it.entry.commitment, calculated: c });
      else ctx.fail({ name: 'commitment', detail: 'the record or its salt is not what was logged: the commitment recomputed from them differs from the entry\'s', expected: it.entry.commitment, calculated: c });
    } catch (err) {
      ctx.fail({ name: 'commitment', ...describeError(err) });
    }
  },
};
