/**
 * `verifyInclusion` (RFC 9162 §2.1.3.2 on chain, against the anchored checkpoint) agrees with the
 * TypeScript verifier (node/protocol) both ways on random trees: valid proofs true in both, every
 * mutation false on chain and a typed error off chain.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { toHex, verifyInclusion, inclusionProofLength, type Hex } from '../../node/protocol';
import { deployFixture, expectRevert, flipBit, freshLog, hexes, makeTree, prng, type Fixture } from './support/fixtures';
import type { ReferenceTree } from '../support/reference-tree';
import { UniformTree } from '../support/uniform-tree';
import { inclusionProofRanges, leafHash, utf8 } from '../../node/protocol';

let f: Fixture;
beforeAll(async () => {
  f = await deployFixture();
});

function tsAccepts(index: number, size: number, leaf: Uint8Array, proof: Uint8Array[], root: Uint8Array): boolean {
  try {
    verifyInclusion(index, size, leaf, proof, root);
    return true;
  } catch (err) {
    expect((err as { name?: string }).name).toBe('ProtocolError'); // a typed rejection, never a crash
    return false;
  }
}

async function chainAccepts(logId: Hex, size: number, index: number, leaf: Uint8Array, proof: Uint8Array[]): Promise<boolean> {
  return f.registry.verifyInclusion({ logId, treeSize: size, leafIndex: index, leafHash: toHex(leaf), proof: hexes(proof) });
}

describe('verifyInclusion agrees with the TypeScript verifier', () => {
  const sizes = [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33, 64, 100, 129, 250];
  let tree: ReferenceTree;
  let logId: Hex;

  beforeAll(async () => {
    tree = makeTree(250, 'incl');
    logId = await freshLog(f, 'incl');
    let prev = 0;
    for (const size of sizes) {
      await f.asOperator.anchor({ logId, treeSize: size, rootHash: toHex(tree.root(size)), consistencyProof: hexes(prev === 0 ? [] : tree.consistencyProof(prev, size)) });
      prev = size;
    }
  });

  it('accepts every valid proof in small trees and random leaves of larger ones', async () => {
    const rand = prng(0x1c1);
    let checked = 0;
    for (const size of sizes) {
      const root = tree.root(size);
      const indexes = size <= 9 ? [...Array(size).keys()] : [0, size - 1, ...Array.from({ length: 8 }, () => Math.floor(rand() * size))];
      for (const index of indexes) {
        const proof = tree.inclusionProof(index, size);
        const leaf = tree.leaves[index]!;
        expect(tsAccepts(index, size, leaf, proof, root)).toBe(true);
        expect(await chainAccepts(logId, size, index, leaf, proof)).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('rejects mutated proofs, leaves, indexes and sizes, exactly where the TS verifier does', async () => {
    const rand = prng(0x1c2);
    let rejected = 0;
    for (const size of sizes) {
      const root = tree.root(size);
      for (let k = 0; k < 4; k++) {
        const index = Math.floor(rand() * size);
        const proof = tree.inclusionProof(index, size);
        const leaf = tree.leaves[index]!;
        const mutants: Array<{ what: string; index: number; leaf: Uint8Array; proof: Uint8Array[] }> = [
          { what: 'wrong leaf', index, leaf: flipBit(leaf, Math.floor(rand() * 256)), proof },
          { what: 'extra element', index, leaf, proof: [...proof, root] },
          { what: 'index past the end', index: size, leaf, proof },
          { what: 'index far past the end', index: size + 1000, leaf, proof },
        ];
        if (size > 1) {
          mutants.push(
            { what: 'wrong index', index: (index + 1) % size, leaf, proof },
            { what: 'another leaf', index, leaf: tree.leaves[(index + 1) % size]!, proof },
          );
        }
        if (proof.length > 0) {
          const i = Math.floor(rand() * proof.length);
          mutants.push(
            { what: 'bit flipped in proof', index, leaf, proof: proof.map((p, j) => (j === i ? flipBit(p, Math.floor(rand() * 256)) : p)) },
            { what: 'truncated proof', index, leaf, proof: proof.slice(0, -1) },
            { what: 'empty proof', index, leaf, proof: [] },
            { what: 'leaf hash as the proof', index, leaf: proof[0]!, proof: [leaf, ...proof.slice(1)] },
          );
          if (proof.length > 1) mutants.push({ what: 'swapped elements', index, leaf, proof: [proof[1]!, proof[0]!, ...proof.slice(2)] });
        }
        for (const m of mutants) {
          const ts = tsAccepts(m.index, size, m.leaf, m.proof, root);
          const chain = await chainAccepts(logId, size, m.index, m.leaf, m.proof);
          expect({ what: m.what, size, index: m.index, chain }).toEqual({ what: m.what, size, index: m.index, chain: ts });
          // Swapping two equal siblings could in principle still verify; none of these mutants may.
          expect({ what: m.what, ts }).toEqual({ what: m.what, ts: false });
          rejected++;
        }
      }
    }
    expect(rejected).toBeGreaterThan(400);
  });

  it('checks against the checkpoint of the named size: a proof for one anchored size fails at another', async () => {
    const index = 3;
    const proof = tree.inclusionProof(index, 129);
    expect(await chainAccepts(logId, 129, index, tree.leaves[index]!, proof)).toBe(true);
    expect(inclusionProofLength(index, 250)).toBe(proof.length); // same length: only the root tells them apart
    expect(await chainAccepts(logId, 250, index, tree.leaves[index]!, proof)).toBe(false);
    expect(tsAccepts(index, 250, tree.leaves[index]!, proof, tree.root(250))).toBe(false);
  });

  it('agrees on trees beyond 32 bits (all-equal leaves, sizes up to 2^53 - 1)', async () => {
    const uniform = new UniformTree();
    const leaf = leafHash(utf8('tianfu bench leaf'));
    for (const size of [2 ** 32 + 1, 2 ** 40 + 5, 2 ** 53 - 1]) {
      const big = await freshLog(f, `incl-huge-${size}`);
      const root = uniform.root(size);
      await f.asOperator.anchor({ logId: big, treeSize: size, rootHash: toHex(root), consistencyProof: [] });
      for (const index of [0, 12345, size - 2, size - 1]) {
        const proof = inclusionProofRanges(index, size).map((r) => uniform.range(r.start, r.end));
        expect(tsAccepts(index, size, leaf, proof, root)).toBe(true);
        expect(await chainAccepts(big, size, index, leaf, proof)).toBe(true);
        const bad = proof.map((p, j) => (j === proof.length - 1 ? flipBit(p, 7) : p));
        expect(tsAccepts(index, size, leaf, bad, root)).toBe(false);
        expect(await chainAccepts(big, size, index, leaf, bad)).toBe(false);
      }
    }
  });

  it('reverts for a size that was never anchored (not anchored is not the same answer as a bad proof)', async () => {
    const proof = tree.inclusionProof(0, 10);
    await expectRevert(
      () => f.registry.verifyInclusion({ logId, treeSize: 10, leafIndex: 0, leafHash: toHex(tree.leaves[0]!), proof: hexes(proof) }),
      'AnchorRegistryUnknownCheckpoint',
      [logId, 10n],
    );
  });
});
