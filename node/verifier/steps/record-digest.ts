/** record-digest (docs/protocol.md §2): SHA-256 of the canonical bytes. */
import { sha256 } from '../../protocol/hash';
import { toHex } from '../../protocol/bytes';
import type { ItemStep } from '../context';

export const recordDigestStep: ItemStep = {
  name: 'record-digest',
  run(ctx) {
    if (ctx.missing) return ctx.skip('record-digest', ctx.missing.why);
    if (ctx.bytes === null) return ctx.skip('record-digest', 'no canonical bytes');
    ctx.result.digest = toHex(sha256(ctx.bytes));
    ctx.ok({ name: 'record-digest', detail: 'SHA-256 of the canonical bytes', calculated: ctx.result.digest });
  },
};
