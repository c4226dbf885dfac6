/**
 * Property tests (fast-check) of the RFC 9162 tree math against the slow reference tree and the
 * RFC-text oracle: honest proofs verify, the proof planner names exactly the reference proof
 * elements, lengths agree, and any single mutation of a proof or its claim is refused.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  consistencyProofLength,
  consistencyProofRanges,
  foldSubtrees,
  inclusionProofLength,
  inclusionProofRanges,
  perfectSubtrees,
  ProtocolError,
  toHex,
  utf8,
  verifyConsistency,
  verifyInclusion,
  type ProtocolErrorCode,
  type Range,
} from '../../node/protocol';
import { rfcConsistencyRoots, rfcInclusionRoot } from '../../scripts/vectors/rfc9162-oracle';
import { ReferenceTree } from '../support/reference-tree';

const MAX = 300;
const tree = new ReferenceTree();
for (let i = 0; i <= MAX + 1; i++) tree.append(utf8(`property leaf ${i}`));

// Honest roots are needed again and again; the reference recomputes from leaves every time.
const rootCache = new Map<number, Uint8Array>();
function root(n: number): Uint8Array {
  let r = rootCache.get(n);
  if (!r) rootCache.set(n, (r = tree.root(n)));
  return r;
}

/** Planner output folded over the reference tree: the hash a proof element must have. */
function rangeHash(r: Range): Uint8Array {
  return foldSubtrees(perfectSubtrees(r).map((n) => tree.mth(n.index * 2 ** n.level, (n.index + 1) * 2 ** n.level)));
}

function codeOf(f: () => void): ProtocolErrorCode | 'valid' {
  try {
    f();
    return 'valid';
  } catch (e) {
    if (e instanceof ProtocolError) return e.code;
    throw e;
  }
}

const RUNS = { numRuns: 150 };
const sizeAndIndex = fc.integer({ min: 1, max: MAX }).chain((size) => fc.tuple(fc.constant(size), fc.integer({ min: 0, max: size - 1 })));
const sizes12 = fc.integer({ min: 1, max: MAX }).chain((size2) => fc.tuple(fc.integer({ min: 0, max: size2 }), fc.constant(size2)));
const hash32 = fc.uint8Array({ minLength: 32, maxLength: 32 });

type Mutation =
  | { kind: 'flip'; pos: number; byte: number; bit: number }
  | { kind: 'drop'; pos: number }
  | { kind: 'add'; pos: number; h: Uint8Array }
  | { kind: 'index'; to: number }
  | { kind: 'size'; to: number };

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), pos: fc.nat(), byte: fc.integer({ min: 0, max: 31 }), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('drop' as const), pos: fc.nat() }),
  fc.record({ kind: fc.constant('add' as const), pos: fc.nat(), h: hash32 }),
  fc.record({ kind: fc.constant('index' as const), to: fc.integer({ min: 0, max: MAX }) }),
  fc.record({ kind: fc.constant('size' as const), to: fc.integer({ min: 1, max: MAX + 1 }) }),
);

function mutateProof(proof: Uint8Array[], m: Mutation): Uint8Array[] | null {
  const p: Uint8Array[] = proof.map((h) => h.slice());
  if (m.kind === 'flip') {
    if (p.length === 0) return null;
    p[m.pos % p.length]![m.byte]! ^= 1 << m.bit;
  } else if (m.kind === 'drop') {
    if (p.length === 0) return null;
    p.splice(m.pos % p.length, 1);
  } else if (m.kind === 'add') {
    p.splice(m.pos % (p.length + 1), 0, m.h);
  }
  return p;
}

describe('inclusion proofs (RFC 9162 §2.1.3)', () => {
  it('honest proofs verify; length and planner agree with the reference', () => {
    fc.assert(
      fc.property(sizeAndIndex, ([size, index]) => {
        const proof = tree.inclusionProof(index, size);
        verifyInclusion(index, size, tree.leaves[index]!, proof, root(size));
        expect(inclusionProofLength(index, size)).toBe(proof.length);
        expect(inclusionProofRanges(index, size).map((r) => toHex(rangeHash(r)))).toEqual(proof.map(toHex));
      }),
      RUNS,
    );
  });

  it('any single mutation is refused, with the code that names it', () => {
    fc.assert(
      fc.property(sizeAndIndex, mutation, ([size, index], m) => {
        const proof = tree.inclusionProof(index, size);
        let i = index;
        let n = size;
        let r = root(size);
        let p = proof;
        if (m.kind === 'index') {
          fc.pre(m.to !== index);
          i = m.to;
        } else if (m.kind === 'size') {
          fc.pre(m.to !== size);
          n = m.to;
          r = root(n); // the honest root of the claimed size: only the proof/claim is wrong
        } else {
          const q = mutateProof(proof, m);
          fc.pre(q !== null);
          p = q!;
        }
        const code = codeOf(() => verifyInclusion(i, n, tree.leaves[index]!, p, r));
        if (m.kind === 'flip') expect(code).toBe('ROOT_MISMATCH');
        else if (m.kind === 'drop' || m.kind === 'add') expect(code).toBe('PROOF_SIZE');
        else if (i >= n) expect(code).toBe('INDEX_OUT_OF_RANGE');
        else expect(['ROOT_MISMATCH', 'PROOF_SIZE']).toContain(code);
      }),
      { numRuns: 300 },
    );
  });

  it('agrees with the RFC-text oracle on arbitrary proofs built from real tree nodes', () => {
    const piece = fc.tuple(fc.integer({ min: 0, max: MAX - 1 }), fc.integer({ min: 1, max: 64 }));
    fc.assert(
      fc.property(sizeAndIndex, fc.array(piece, { maxLength: 10 }), fc.boolean(), ([size, index], pieces, honest) => {
        const proof = honest
          ? tree.inclusionProof(index, size)
          : pieces.map(([s, len]) => tree.mth(s, Math.min(MAX, s + len)));
        const oracle = rfcInclusionRoot(index, size, tree.leaves[index]!, proof);
        const oracleValid = oracle !== null && toHex(oracle) === toHex(root(size));
        expect(codeOf(() => verifyInclusion(index, size, tree.leaves[index]!, proof, root(size))) === 'valid').toBe(oracleValid);
        if (honest) expect(oracleValid).toBe(true);
      }),
      RUNS,
    );
  });
});

describe('consistency proofs (RFC 9162 §2.1.4)', () => {
  it('honest proofs verify; length and planner agree with the reference', () => {
    fc.assert(
      fc.property(sizes12, ([size1, size2]) => {
        const proof = tree.consistencyProof(size1, size2);
        verifyConsistency(size1, size2, proof, root(size1), root(size2));
        expect(consistencyProofLength(size1, size2)).toBe(proof.length);
        expect(consistencyProofRanges(size1, size2).map((r) => toHex(rangeHash(r)))).toEqual(proof.map(toHex));
      }),
      RUNS,
    );
  });

  it('any single mutation is refused, with the code that names it', () => {
    fc.assert(
      fc.property(sizes12, mutation, ([size1, size2], m) => {
        // From the empty tree everything is consistent; there is nothing to mutate.
        fc.pre(size1 > 0);
        const proof = tree.consistencyProof(size1, size2);
        let s1 = size1;
        let s2 = size2;
        let r1 = root(size1);
        let r2 = root(size2);
        let p = proof;
        if (m.kind === 'index') {
          // "wrong index" for a consistency proof: a different first size, with its honest root.
          fc.pre(m.to !== size1 && m.to > 0);
          s1 = m.to;
          r1 = root(s1);
        } else if (m.kind === 'size') {
          fc.pre(m.to !== size2);
          s2 = m.to;
          r2 = root(s2);
        } else {
          const q = mutateProof(proof, m);
          fc.pre(q !== null);
          p = q!;
        }
        const code = codeOf(() => verifyConsistency(s1, s2, p, r1, r2));
        if (m.kind === 'flip') expect(['FIRST_ROOT_MISMATCH', 'SECOND_ROOT_MISMATCH']).toContain(code);
        else if (m.kind === 'drop' || m.kind === 'add') expect(code).toBe('PROOF_SIZE');
        else if (s2 < s1) expect(code).toBe('NOT_EXTENSION');
        else expect(['FIRST_ROOT_MISMATCH', 'SECOND_ROOT_MISMATCH', 'PROOF_SIZE']).toContain(code);
      }),
      { numRuns: 300 },
    );
  });

  it('agrees with the RFC-text oracle on arbitrary proofs built from real tree nodes', () => {
    const piece = fc.tuple(fc.integer({ min: 0, max: MAX - 1 }), fc.integer({ min: 1, max: 64 }));
    const strict = fc.integer({ min: 2, max: MAX }).chain((size2) => fc.tuple(fc.integer({ min: 1, max: size2 - 1 }), fc.constant(size2)));
    fc.assert(
      fc.property(strict, fc.array(piece, { maxLength: 10 }), fc.boolean(), ([size1, size2], pieces, honest) => {
        const proof = honest ? tree.consistencyProof(size1, size2) : pieces.map(([s, len]) => tree.mth(s, Math.min(MAX, s + len)));
        const o = rfcConsistencyRoots(size1, size2, proof, root(size1));
        const oracleValid = o !== null && toHex(o.fr) === toHex(root(size1)) && toHex(o.sr) === toHex(root(size2));
        expect(codeOf(() => verifyConsistency(size1, size2, proof, root(size1), root(size2))) === 'valid').toBe(oracleValid);
        if (honest) expect(oracleValid).toBe(true);
      }),
      RUNS,
    );
  });
});

describe('proof lengths far beyond 2^32 leaves', () => {
  // Two derivations that share no code: bit decomposition (merkle.ts lengths) and the RFC's
  // recursion (the planners). Sizes above 2^32 exercise the safe-integer XOR and shifts.
  const big = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });
  it('inclusionProofLength equals the number of planned ranges', () => {
    fc.assert(
      fc.property(big.chain((n) => fc.tuple(fc.integer({ min: 0, max: n - 1 }), fc.constant(n))), ([index, size]) => {
        expect(inclusionProofLength(index, size)).toBe(inclusionProofRanges(index, size).length);
      }),
      { numRuns: 500 },
    );
  });
  it('consistencyProofLength equals the number of planned ranges', () => {
    fc.assert(
      fc.property(big.chain((n) => fc.tuple(fc.integer({ min: 0, max: n }), fc.constant(n))), ([size1, size2]) => {
        expect(consistencyProofLength(size1, size2)).toBe(consistencyProofRanges(size1, size2).length);
      }),
      { numRuns: 500 },
    );
  });
  it('the planned ranges tile correctly: every range is one RFC 9162 subtree (aligned, non-empty)', () => {
    fc.assert(
      fc.property(big.chain((n) => fc.tuple(fc.integer({ min: 0, max: n - 1 }), fc.constant(n))), ([index, size]) => {
        const ranges = inclusionProofRanges(index, size);
        // Non-empty, inside the tree, never containing the leaf itself, and aligned (perfectSubtrees throws otherwise).
        const bad = ranges.filter((r) => !(r.end > r.start && r.end <= size && (r.start > index || r.end <= index)));
        expect(bad).toEqual([]);
        for (const r of ranges) perfectSubtrees(r);
        // Together with the leaf they cover [0, size) exactly once.
        expect(ranges.reduce((a, r) => a + (r.end - r.start), 1)).toBe(size);
      }),
      { numRuns: 200 },
    );
  });
});
