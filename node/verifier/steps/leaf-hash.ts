/** leaf-hash (RFC 9162 §2.1.1): the entry's leaf hash is the one the operator's receipt names. */
import { entryLeafHash } from '../../protocol/record';
import type { ItemStep } from '../context';

export const leafHashStep: ItemStep = {
  name: 'leaf-hash',
  run(ctx) {
    const { it } = ctx;
    const leaf = entryLeafHash(it.entry);
    ctx.result.leaf = leaf;
    if (leaf === it.receipt.leafHash) ctx.ok({ name: 'leaf-hash', detail: 'SHA-256(0x00 || JCS(entry)) equals the receipt\'s leafHash', expected: it.receipt.leafHash, calculated: leaf });
    else ctx.fail({ name: 'leaf-hash', detail: 'the entry is not the one the receipt was issued for', expected: it.receipt.leafHash, calculated: leaf });
  },
};
