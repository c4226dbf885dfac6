/**
 * The Hasher seam of node/protocol/merkle.ts (as transparency-dev/merkle's LogHasher): the same proof
 * code verifies a tree built over another hash — here SM3 (GB/T 32905, from sm-crypto, which we did
 * not write) with RFC 9162's 0x00 / 0x01 domain separation — and the default stays RFC 9162 SHA-256.
 */
import { describe, expect, it } from 'vitest';
import {
  ProtocolError, RFC6962_SHA256, concatBytes, foldSubtrees, fromHex, leafHash, nodeHash, rootFromInclusionProof, utf8, verifyConsistency, verifyInclusion, type Hasher,
} from '../../node/protocol';
import { ReferenceTree } from '../support/reference-tree';

const { sm3 } = require('sm-crypto') as { sm3: (input: string | Uint8Array | number[]) => string };
const sm3Bytes = (b: Uint8Array): Uint8Array => fromHex('0x' + sm3(Array.from(b)));
const SM3: Hasher = {
  size: 32,
  emptyRoot: () => sm3Bytes(new Uint8Array(0)),
  hashLeaf: (data) => sm3Bytes(concatBytes(new Uint8Array([0x00]), data)),
  hashChildren: (l, r) => sm3Bytes(concatBytes(new Uint8Array([0x01]), l, r)),
};

describe('Hasher', () => {
  it('the default is RFC 9162 SHA-256', () => {
    const a = utf8('a');
    expect(RFC6962_SHA256.hashLeaf(a)).toEqual(leafHash(a));
    expect(RFC6962_SHA256.hashChildren(leafHash(a), leafHash(a))).toEqual(nodeHash(leafHash(a), leafHash(a)));
    expect(foldSubtrees([])).toEqual(RFC6962_SHA256.emptyRoot());
  });

  it('an SM3 tree verifies with the SM3 hasher, every leaf and every consistency step, and not with SHA-256', () => {
    const tree = new ReferenceTree(SM3);
    for (let i = 0; i < 21; i++) tree.append(utf8(`sm3 entry ${i}`));
    expect(foldSubtrees([], SM3)).toEqual(sm3Bytes(new Uint8Array(0)));
    for (const size of [1, 2, 3, 8, 13, 21]) {
      const root = tree.root(size);
      for (let i = 0; i < size; i++) {
        const proof = tree.inclusionProof(i, size);
        expect(rootFromInclusionProof(i, size, tree.leaves[i]!, proof, SM3)).toEqual(root);
        verifyInclusion(i, size, tree.leaves[i]!, proof, root, SM3);
        if (size > 1) expect(() => verifyInclusion(i, size, tree.leaves[i]!, proof, root)).toThrow(ProtocolError);
      }
      for (const m of [1, 2, 5, 8].filter((m) => m < size)) verifyConsistency(m, size, tree.consistencyProof(m, size), tree.root(m), root, SM3);
    }
    const bad = tree.inclusionProof(4, 21).map((h, j) => (j === 0 ? sm3Bytes(h) : h));
    expect(() => verifyInclusion(4, 21, tree.leaves[4]!, bad, tree.root(21), SM3)).toThrow(/does not lead to the root/);
  });
});
