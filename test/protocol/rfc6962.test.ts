/**
 * RFC 6962 known answers: the published 8-leaf test tree (see ./rfc6962-known-answers.ts for the
 * source, and scripts/vectors/derive-rfc6962.ts for an openssl-only derivation of every root).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  EMPTY_ROOT,
  foldSubtrees,
  fromHex,
  inclusionProofLength,
  consistencyProofLength,
  consistencyProofRanges,
  inclusionProofRanges,
  leafHash,
  perfectSubtrees,
  ProtocolError,
  rootFromInclusionProof,
  rootsFromConsistencyProof,
  toHex,
  verifyConsistency,
  verifyInclusion,
  type Range,
} from '../../node/protocol';
import { ReferenceTree } from '../support/reference-tree';
import { CONSISTENCY_PROOFS, INCLUSION_PROOFS, LEAF_INPUTS, NODE_HASHES, ROOTS } from './rfc6962-known-answers';

const leafInputs = LEAF_INPUTS.map((h) => fromHex(`0x${h}`));
const tree = new ReferenceTree();
for (const d of leafInputs) tree.append(d);
const leafHashes = leafInputs.map((d) => leafHash(d));

/** Root of the first `size` published leaves, from the planner alone: one range [0, size). */
function plannedRoot(size: number): string {
  const nodes = perfectSubtrees({ start: 0, end: size });
  return toHex(foldSubtrees(nodes.map((n) => fromHex(NODE_HASHES[n.level]![n.index]!))));
}

function rangeHash(r: Range): string {
  return toHex(foldSubtrees(perfectSubtrees(r).map((n) => fromHex(NODE_HASHES[n.level]![n.index]!))));
}

describe('RFC 6962 known answers', () => {
  it('empty root is SHA-256 of nothing', () => {
    expect(toHex(EMPTY_ROOT)).toBe(ROOTS[0]);
    expect(toHex(EMPTY_ROOT)).toBe('0x' + createHash('sha256').update(Buffer.alloc(0)).digest('hex'));
  });

  it('leaf hashes are SHA-256(0x00 || data) and match the published level-0 nodes', () => {
    leafInputs.forEach((d, i) => {
      expect(toHex(leafHashes[i]!)).toBe(NODE_HASHES[0]![i]);
      expect(toHex(leafHashes[i]!)).toBe('0x' + createHash('sha256').update(Buffer.concat([Buffer.from([0]), Buffer.from(d)])).digest('hex'));
    });
  });

  it('every complete subtree hash matches the published node hashes', () => {
    NODE_HASHES.forEach((level, l) =>
      level.forEach((h, i) => {
        expect(toHex(tree.mth(i * 2 ** l, (i + 1) * 2 ** l))).toBe(h);
      }),
    );
  });

  it.each(ROOTS.map((r, n) => [n, r] as const))('root of size %i', (size, root) => {
    expect(toHex(tree.root(size))).toBe(root);
    expect(plannedRoot(size)).toBe(root);
  });

  it('the 8-leaf root is 0x5dc9da79…4328 (the headline constant)', () => {
    expect(ROOTS[8]).toBe('0x5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328');
    expect(ROOTS[1]!.startsWith('0x6e340b9c')).toBe(true);
  });

  describe.each(INCLUSION_PROOFS)('published inclusion proof for leaf $index of $size', ({ index, size, proof }) => {
    const p = proof.map((h) => fromHex(h));
    const root = fromHex(ROOTS[size]!);
    it('is what the reference tree and the planner produce', () => {
      expect(tree.inclusionProof(index, size).map(toHex)).toEqual(proof);
      expect(inclusionProofRanges(index, size).map(rangeHash)).toEqual(proof);
      expect(inclusionProofLength(index, size)).toBe(proof.length);
    });
    it('verifies, and the computed root is the published root', () => {
      expect(toHex(rootFromInclusionProof(index, size, leafHashes[index]!, p))).toBe(ROOTS[size]);
      expect(() => verifyInclusion(index, size, leafHashes[index]!, p, root)).not.toThrow();
    });
    it('fails for every other leaf of the tree', () => {
      for (let j = 0; j < size; j++) {
        if (j === index) continue;
        const e = catchProtocol(() => verifyInclusion(index, size, leafHashes[j]!, p, root));
        expect(e.code).toBe('ROOT_MISMATCH');
        expect(e.expected).toBe(ROOTS[size]);
      }
    });
  });

  describe.each(CONSISTENCY_PROOFS)('published consistency proof $size1 → $size2', ({ size1, size2, proof }) => {
    const p = proof.map((h) => fromHex(h));
    it('is what the reference tree and the planner produce', () => {
      expect(tree.consistencyProof(size1, size2).map(toHex)).toEqual(proof);
      expect(consistencyProofRanges(size1, size2).map(rangeHash)).toEqual(proof);
      expect(consistencyProofLength(size1, size2)).toBe(proof.length);
    });
    it('verifies, and yields both published roots', () => {
      const r = rootsFromConsistencyProof(size1, size2, p, fromHex(ROOTS[size1]!));
      expect([toHex(r.root1), toHex(r.root2)]).toEqual([ROOTS[size1], ROOTS[size2]]);
      expect(() => verifyConsistency(size1, size2, p, fromHex(ROOTS[size1]!), fromHex(ROOTS[size2]!))).not.toThrow();
    });
    it('fails against the root of any other second size', () => {
      for (let other = size1; other <= 8; other++) {
        if (other === size2) continue;
        const e = catchProtocol(() => verifyConsistency(size1, size2, p, fromHex(ROOTS[size1]!), fromHex(ROOTS[other]!)));
        expect(e.code).toBe('SECOND_ROOT_MISMATCH');
      }
    });
  });

  it('every consistency proof between the published trees verifies (all 0 <= m <= n <= 8)', () => {
    for (let n = 0; n <= 8; n++) {
      for (let m = 0; m <= n; m++) {
        const p = tree.consistencyProof(m, n);
        expect(p.length).toBe(consistencyProofLength(m, n));
        verifyConsistency(m, n, p, fromHex(ROOTS[m]!), fromHex(ROOTS[n]!));
      }
    }
  });
});

function catchProtocol(f: () => void): ProtocolError {
  try {
    f();
  } catch (e) {
    if (e instanceof ProtocolError) return e;
    throw e;
  }
  throw new Error('expected a ProtocolError, nothing was thrown');
}
