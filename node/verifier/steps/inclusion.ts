/** inclusion (RFC 9162 §2.1.3.2): the root the proof leads to must be the anchored root the bundle names. */
import { fromHex, toHex } from '../../protocol/bytes';
import { rootFromInclusionProof } from '../../protocol/merkle';
import { describeError, firstMismatch, type ItemStep } from '../context';

export const inclusionStep: ItemStep = {
  name: 'inclusion',
  run(ctx) {
    const { it } = ctx;
    const leaf = ctx.result.leaf;
    if (it.inclusion === null || it.anchor === null) {
      ctx.result.pending = true;
      ctx.pending('inclusion', `log index ${it.index} is not yet covered by an anchored checkpoint in this bundle; the receipt is checked below (refresh with tianfu verify --refresh URL)`);
      return;
    }
    const inc = it.inclusion;
    const m = firstMismatch([
      ['inclusion.leafIndex (vs item index)', it.index, inc.leafIndex],
      ['inclusion.treeSize (vs anchor.treeSize)', it.anchor.treeSize, inc.treeSize],
    ]);
    if (m) return ctx.fail({ name: 'inclusion', detail: `${m[0]} differs`, expected: m[1], calculated: m[2] });
    try {
      const r = toHex(rootFromInclusionProof(it.index, inc.treeSize, fromHex(leaf, 32), inc.proof.map((h) => fromHex(h, 32))));
      const m2 = firstMismatch([
        ['inclusion.rootHash', inc.rootHash, r],
        ['anchor.rootHash', it.anchor.rootHash, r],
      ]);
      if (m2) ctx.fail({ name: 'inclusion', detail: `the proof for leaf ${it.index} of ${inc.treeSize} leads to another root than ${m2[0]}`, expected: m2[1], calculated: m2[2] });
      else {
        ctx.result.root = r;
        ctx.ok({ name: 'inclusion', detail: `leaf ${it.index} is in the tree of size ${inc.treeSize} (${inc.proof.length} proof hashes)`, expected: inc.rootHash, calculated: r });
      }
    } catch (err) {
      ctx.fail({ name: 'inclusion', ...describeError(err) });
    }
  },
};
