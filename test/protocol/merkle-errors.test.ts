/**
 * Every failure path of node/protocol/merkle.ts throws a ProtocolError with a stable code, and
 * where it compared two values, carries both (transparency-dev's RootMismatchError shape).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  consistencyProofLength,
  consistencyProofRanges,
  EMPTY_ROOT,
  inclusionProofLength,
  inclusionProofRanges,
  perfectSubtrees,
  ProtocolError,
  rootFromInclusionProof,
  rootsFromConsistencyProof,
  toHex,
  utf8,
  verifyConsistency,
  verifyInclusion,
  type ProtocolErrorCode,
} from '../../node/protocol';
import { ReferenceTree } from '../support/reference-tree';

const tree = new ReferenceTree();
for (let i = 0; i < 16; i++) tree.append(utf8(`leaf ${i}`));
const H = (n: number): Uint8Array => tree.root(n);
const leaf = (i: number): Uint8Array => tree.leaves[i]!;
const incl = (i: number, n: number): Uint8Array[] => tree.inclusionProof(i, n);
const cons = (m: number, n: number): Uint8Array[] => tree.consistencyProof(m, n);
const flipped = (h: Uint8Array): Uint8Array => {
  const c = h.slice();
  c[0]! ^= 1;
  return c;
};

function thrown(f: () => unknown): ProtocolError {
  try {
    f();
  } catch (e) {
    expect(e, 'must be a ProtocolError, not a bare Error or TypeError').toBeInstanceOf(ProtocolError);
    return e as ProtocolError;
  }
  throw new Error('expected a ProtocolError, nothing was thrown');
}

function expectCode(f: () => unknown, code: ProtocolErrorCode, compared?: { expected: string; calculated: string }): ProtocolError {
  const e = thrown(f);
  expect(e.code).toBe(code);
  expect(e.name).toBe('ProtocolError');
  if (compared) {
    expect({ expected: e.expected, calculated: e.calculated }).toEqual(compared);
    expect(e.message).toContain(`(expected ${compared.expected}, calculated ${compared.calculated})`);
  } else {
    expect(e.expected).toBeUndefined();
    expect(e.calculated).toBeUndefined();
  }
  return e;
}

describe('merkle.ts throws only ProtocolError', () => {
  it('every throw statement in the source constructs a ProtocolError', () => {
    const src = readFileSync(resolve(__dirname, '../../node/protocol/merkle.ts'), 'utf8');
    const throws = src.match(/throw\s+[^;]*/g) ?? [];
    expect(throws.length).toBeGreaterThan(10);
    expect(throws.filter((t) => !t.startsWith('throw new ProtocolError('))).toEqual([]);
  });
});

describe('inclusion', () => {
  it('ROOT_MISMATCH carries the expected (given) and calculated roots', () => {
    const calculated = toHex(rootFromInclusionProof(3, 8, leaf(3), incl(3, 8)));
    expectCode(() => verifyInclusion(3, 8, leaf(3), incl(3, 8), H(7)), 'ROOT_MISMATCH', { expected: toHex(H(7)), calculated });
    expect(calculated).toBe(toHex(H(8)));
  });
  it('PROOF_SIZE carries the expected and given lengths', () => {
    expectCode(() => verifyInclusion(3, 8, leaf(3), incl(3, 8).slice(1), H(8)), 'PROOF_SIZE', { expected: '3', calculated: '2' });
    expectCode(() => rootFromInclusionProof(0, 1, leaf(0), [H(1)]), 'PROOF_SIZE', { expected: '0', calculated: '1' });
  });
  it('INDEX_OUT_OF_RANGE for index >= size, in verify, length and planner alike', () => {
    expectCode(() => verifyInclusion(8, 8, leaf(0), [], H(8)), 'INDEX_OUT_OF_RANGE');
    expectCode(() => verifyInclusion(0, 0, leaf(0), [], EMPTY_ROOT), 'INDEX_OUT_OF_RANGE');
    expectCode(() => inclusionProofLength(5, 5), 'INDEX_OUT_OF_RANGE');
    expectCode(() => inclusionProofRanges(5, 5), 'INDEX_OUT_OF_RANGE');
  });
  it.each([
    ['negative index', -1, 8],
    ['fractional index', 1.5, 8],
    ['NaN index', NaN, 8],
    ['unsafe size', 0, 2 ** 53],
    ['string size', 0, '8' as unknown as number],
    ['bigint size', 0, 8n as unknown as number],
  ])('INVALID_INPUT for a %s', (_n, index, size) => {
    expectCode(() => verifyInclusion(index, size, leaf(0), incl(0, 8), H(8)), 'INVALID_INPUT');
    expectCode(() => inclusionProofLength(index, size), 'INVALID_INPUT');
    expectCode(() => inclusionProofRanges(index, size), 'INVALID_INPUT');
  });
  it.each([
    ['31-byte leaf', () => verifyInclusion(0, 8, leaf(0).slice(1), incl(0, 8), H(8)), 'leafHash'],
    ['missing leaf', () => verifyInclusion(0, 8, undefined as unknown as Uint8Array, incl(0, 8), H(8)), 'leafHash'],
    ['33-byte root', () => verifyInclusion(0, 8, leaf(0), incl(0, 8), Uint8Array.from([...H(8), 0])), 'root'],
    ['hex-string root', () => verifyInclusion(0, 8, leaf(0), incl(0, 8), toHex(H(8)) as unknown as Uint8Array), 'root'],
    ['empty proof element', () => verifyInclusion(0, 8, leaf(0), [new Uint8Array(0), ...incl(0, 8).slice(1)], H(8)), 'proof[0]'],
    ['null proof element', () => verifyInclusion(0, 8, leaf(0), [incl(0, 8)[0]!, null as unknown as Uint8Array, incl(0, 8)[2]!], H(8)), 'proof[1]'],
    ['proof that is not an array', () => verifyInclusion(0, 8, leaf(0), 'abc' as unknown as Uint8Array[], H(8)), 'proof'],
  ])('INVALID_INPUT for a %s, naming it', (_n, f, what) => {
    expect(expectCode(f, 'INVALID_INPUT').message).toContain(what);
  });
});

describe('consistency', () => {
  it('FIRST_ROOT_MISMATCH carries the given and calculated first roots', () => {
    const r = rootsFromConsistencyProof(6, 8, cons(6, 8), flipped(H(6)));
    expectCode(() => verifyConsistency(6, 8, cons(6, 8), flipped(H(6)), H(8)), 'FIRST_ROOT_MISMATCH', { expected: toHex(flipped(H(6))), calculated: toHex(r.root1) });
  });
  it('SECOND_ROOT_MISMATCH carries the given and calculated second roots', () => {
    expectCode(() => verifyConsistency(6, 8, cons(6, 8), H(6), H(7)), 'SECOND_ROOT_MISMATCH', { expected: toHex(H(7)), calculated: toHex(H(8)) });
  });
  it('equal sizes need equal roots (SECOND_ROOT_MISMATCH), also at size 0', () => {
    expectCode(() => verifyConsistency(5, 5, [], H(5), H(6)), 'SECOND_ROOT_MISMATCH', { expected: toHex(H(6)), calculated: toHex(H(5)) });
    expectCode(() => verifyConsistency(0, 0, [], EMPTY_ROOT, H(1)), 'SECOND_ROOT_MISMATCH', { expected: toHex(H(1)), calculated: toHex(EMPTY_ROOT) });
    verifyConsistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT);
  });
  it('PROOF_SIZE carries the expected and given lengths, including the size-0 and equal-size cases', () => {
    expectCode(() => verifyConsistency(6, 8, cons(6, 8).slice(1), H(6), H(8)), 'PROOF_SIZE', { expected: '3', calculated: '2' });
    expectCode(() => verifyConsistency(0, 8, [H(8)], EMPTY_ROOT, H(8)), 'PROOF_SIZE', { expected: '0', calculated: '1' });
    expectCode(() => verifyConsistency(4, 4, [H(4)], H(4), H(4)), 'PROOF_SIZE', { expected: '0', calculated: '1' });
    expectCode(() => verifyConsistency(3, 8, [], H(3), H(8)), 'PROOF_SIZE', { expected: String(cons(3, 8).length), calculated: '0' });
  });
  it('NOT_EXTENSION when the second tree is smaller, in verify, length and planner alike', () => {
    expectCode(() => verifyConsistency(8, 6, cons(6, 8), H(8), H(6)), 'NOT_EXTENSION');
    expectCode(() => rootsFromConsistencyProof(8, 6, [], H(8)), 'NOT_EXTENSION');
    expectCode(() => consistencyProofLength(8, 6), 'NOT_EXTENSION');
    expectCode(() => consistencyProofRanges(8, 6), 'NOT_EXTENSION');
  });
  it('a consistency proof from the empty tree proves nothing: accepted by verify, refused by the root computation', () => {
    verifyConsistency(0, 8, [], H(3), H(8)); // root1 is not compared: there is nothing to compare with
    expect(expectCode(() => rootsFromConsistencyProof(0, 8, [], EMPTY_ROOT), 'INVALID_INPUT').message).toContain('size1 must be > 0');
  });
  it.each([
    ['negative size1', -1, 8],
    ['fractional size2', 2, 8.5],
    ['unsafe size2', 2, 2 ** 53],
    ['Infinity size2', 2, Infinity],
  ])('INVALID_INPUT for a %s', (_n, s1, s2) => {
    expectCode(() => verifyConsistency(s1, s2, cons(2, 8), H(2), H(8)), 'INVALID_INPUT');
    expectCode(() => consistencyProofLength(s1, s2), 'INVALID_INPUT');
    expectCode(() => consistencyProofRanges(s1, s2), 'INVALID_INPUT');
  });
  it.each([
    ['short root1', () => verifyConsistency(6, 8, cons(6, 8), H(6).slice(1), H(8)), 'root1'],
    ['short root2', () => verifyConsistency(6, 8, cons(6, 8), H(6), H(8).slice(1)), 'root2'],
    ['short root2 even from size 0', () => verifyConsistency(0, 8, [], EMPTY_ROOT, H(8).slice(1)), 'root2'],
    ['bad proof element', () => verifyConsistency(6, 8, [...cons(6, 8).slice(0, 2), new Uint8Array(31)], H(6), H(8)), 'proof[2]'],
  ])('INVALID_INPUT for a %s, naming it', (_n, f, what) => {
    expect(expectCode(f, 'INVALID_INPUT').message).toContain(what);
  });
});

describe('perfectSubtrees', () => {
  it('refuses ranges no RFC 9162 recursion produces instead of returning fractional node indexes', () => {
    expectCode(() => perfectSubtrees({ start: 2, end: 6 }), 'INVALID_INPUT');
    expectCode(() => perfectSubtrees({ start: 6, end: 2 }), 'INVALID_INPUT');
    expectCode(() => perfectSubtrees({ start: -4, end: 0 }), 'INVALID_INPUT');
    expect(perfectSubtrees({ start: 4, end: 7 })).toEqual([
      { level: 1, index: 2 },
      { level: 0, index: 6 },
    ]);
    expect(perfectSubtrees({ start: 3, end: 3 })).toEqual([]);
  });
});
