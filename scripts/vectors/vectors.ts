/**
 * Adversarial RFC 9162 proof vectors as data, after transparency-dev/merkle's testdata/: one case
 * per file, many more negative cases than positive. Pure (no I/O) so a test can rebuild them in
 * memory and check the committed files are current; scripts/vectors/generate.ts writes them.
 *
 * Expectations never come from the code under test (node/protocol/merkle.ts verify*): proof
 * lengths come from the slow reference tree (RFC 9162 §2.1.3.1/§2.1.4.1 recursions) and roots
 * from the RFC's own verification text (./rfc9162-oracle.ts). The precedence of failures is
 * fixed here and documented in merkle.ts: malformed input (INVALID_INPUT), then range
 * (INDEX_OUT_OF_RANGE / NOT_EXTENSION), then PROOF_SIZE, then the root comparisons.
 */
import { bytesEqual, toHex, utf8, type Hex } from '../../node/protocol/bytes';
import type { ProtocolErrorCode } from '../../node/protocol/errors';
import { sha256 } from '../../node/protocol/hash';
import { EMPTY_ROOT, HASH_SIZE } from '../../node/protocol/merkle';
import { ReferenceTree } from '../../test/support/reference-tree';
import { rfcConsistencyRoots, rfcInclusionRoot } from './rfc9162-oracle';

export const INCLUSION_VECTOR_TYPE = 'tianfu.vector.inclusion/v1' as const;
export const CONSISTENCY_VECTOR_TYPE = 'tianfu.vector.consistency/v1' as const;

/** "valid", or the ProtocolError the verifier must throw; expected/calculated when it compares. */
export type VectorExpectation = 'valid' | { code: ProtocolErrorCode; expected?: string; calculated?: string };

export interface InclusionVector {
  type: typeof INCLUSION_VECTOR_TYPE;
  description: string;
  input: { leafIndex: number; treeSize: number; leafHash: Hex; proof: Hex[]; rootHash: Hex };
  expect: VectorExpectation;
}

export interface ConsistencyVector {
  type: typeof CONSISTENCY_VECTOR_TYPE;
  description: string;
  input: { size1: number; size2: number; root1: Hex; root2: Hex; proof: Hex[] };
  expect: VectorExpectation;
}

export interface VectorFile {
  /** Path relative to test/vectors/, e.g. "inclusion/5-of-8/wrong-leaf.json". */
  path: string;
  vector: InclusionVector | ConsistencyVector;
}

/** The eight RFC 6962 test leaves (transparency-dev/merkle testonly.LeafInputs), then our own. */
const RFC6962_LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'];
const MAX_LEAVES = 600; // covers every mutated size below (largest base 257, doubled)

function leafData(i: number): Uint8Array {
  if (i < RFC6962_LEAVES.length) {
    const hex = RFC6962_LEAVES[i]!;
    const out = new Uint8Array(hex.length / 2);
    for (let j = 0; j < out.length; j++) out[j] = parseInt(hex.slice(2 * j, 2 * j + 2), 16);
    return out;
  }
  return utf8(`tianfu vector leaf ${i}`);
}

export function vectorTree(): ReferenceTree {
  const t = new ReferenceTree();
  for (let i = 0; i < MAX_LEAVES; i++) t.append(leafData(i));
  return t;
}

const SOME_HASH = sha256(utf8('tianfu vector: some other hash'));
const GARBAGE = new Uint8Array(0);

function flip(h: Uint8Array, byte: number, bit: number): Uint8Array {
  const c = h.slice();
  c[byte]! ^= 1 << bit;
  return c;
}

function isSize(v: number): boolean {
  return Number.isSafeInteger(v) && v >= 0;
}

function err(code: ProtocolErrorCode, expected?: string, calculated?: string): VectorExpectation {
  const e: { code: ProtocolErrorCode; expected?: string; calculated?: string } = { code };
  if (expected !== undefined) e.expected = expected;
  if (calculated !== undefined) e.calculated = calculated;
  return e;
}

function expectInclusion(t: ReferenceTree, index: number, size: number, leaf: Uint8Array, proof: Uint8Array[], root: Uint8Array): VectorExpectation {
  if (!isSize(index) || !isSize(size)) return err('INVALID_INPUT');
  if ([leaf, root, ...proof].some((h) => h.length !== HASH_SIZE)) return err('INVALID_INPUT');
  if (index >= size) return err('INDEX_OUT_OF_RANGE');
  const want = t.inclusionProof(index, size).length;
  if (proof.length !== want) return err('PROOF_SIZE', String(want), String(proof.length));
  const r = rfcInclusionRoot(index, size, leaf, proof);
  if (r === null) throw new Error(`oracle refused a proof of the reference length for ${index} of ${size}`);
  return bytesEqual(r, root) ? 'valid' : err('ROOT_MISMATCH', toHex(root), toHex(r));
}

function expectConsistency(t: ReferenceTree, size1: number, size2: number, proof: Uint8Array[], root1: Uint8Array, root2: Uint8Array): VectorExpectation {
  if (!isSize(size1) || !isSize(size2)) return err('INVALID_INPUT');
  if ([root1, root2, ...proof].some((h) => h.length !== HASH_SIZE)) return err('INVALID_INPUT');
  if (size2 < size1) return err('NOT_EXTENSION');
  if (size1 === 0 && size2 > 0) return proof.length === 0 ? 'valid' : err('PROOF_SIZE', '0', String(proof.length));
  if (size1 === size2) {
    if (proof.length !== 0) return err('PROOF_SIZE', '0', String(proof.length));
    return bytesEqual(root1, root2) ? 'valid' : err('SECOND_ROOT_MISMATCH', toHex(root2), toHex(root1));
  }
  const want = t.consistencyProof(size1, size2).length;
  if (proof.length !== want) return err('PROOF_SIZE', String(want), String(proof.length));
  const r = rfcConsistencyRoots(size1, size2, proof, root1);
  if (r === null) throw new Error(`oracle refused a proof of the reference length for ${size1} to ${size2}`);
  if (!bytesEqual(r.fr, root1)) return err('FIRST_ROOT_MISMATCH', toHex(root1), toHex(r.fr));
  if (!bytesEqual(r.sr, root2)) return err('SECOND_ROOT_MISMATCH', toHex(root2), toHex(r.sr));
  return 'valid';
}

/** Base cases: edges (1-leaf, power-of-two, one past), the RFC 6962 test-tree cases, larger trees. */
export const INCLUSION_BASES: ReadonlyArray<[number, number]> = [
  [0, 1], [0, 2], [1, 2], [2, 3], [1, 5], [4, 5], [6, 7], [0, 8], [5, 8], [7, 8], [12, 13], [0, 16], [16, 17], [100, 257], [256, 257],
];
export const CONSISTENCY_BASES: ReadonlyArray<[number, number]> = [
  [0, 0], [1, 1], [0, 5], [1, 2], [1, 8], [2, 5], [3, 7], [4, 8], [6, 7], [6, 8], [7, 8], [5, 13], [15, 16], [16, 17], [100, 257],
];

interface Case<I> {
  name: string;
  description: string;
  input: I;
}

/** Why a mutated case can still verify; said in the file so nobody "fixes" the vector. */
function whyStillValid(kind: 'inclusion' | 'consistency', name: string, size1: number): string {
  if (name === 'happy-path' || name.startsWith('interior-node')) return '';
  if (kind === 'consistency' && size1 === 0) return ' — still valid: every log is consistent with the empty tree, so there is nothing to check (RFC 9162 §2.1.4.2 starts at 0 < first)';
  if (name === 'leaf-is-root') return ' — still valid: in a one-leaf tree the root is the leaf hash';
  if (name === 'swapped-roots' || name === 'sizes-swapped') return ' — still valid: both sizes are equal, so both roots are the same';
  return ' — still valid: an RFC 9162 proof does not bind the tree size; only a size and root taken together from a signed or anchored checkpoint do (see the *-with-its-root cases, which fail)';
}

function inclusionCases(t: ReferenceTree, index: number, size: number): Case<[number, number, Uint8Array, Uint8Array[], Uint8Array]>[] {
  const leaf = t.leaves[index]!;
  const proof = t.inclusionProof(index, size);
  const root = t.root(size);
  const ln = proof.length;
  type I = [number, number, Uint8Array, Uint8Array[], Uint8Array];
  const c: Case<I>[] = [];
  const add = (name: string, description: string, input: I): void => {
    c.push({ name, description, input });
  };
  add('happy-path', `leaf ${index} of a ${size}-leaf tree with its RFC 9162 §2.1.3.1 audit path`, [index, size, leaf, proof, root]);
  add('wrong-leaf', 'the leaf hash of different data', [index, size, t.leaves[size] ?? SOME_HASH, proof, root]);
  add('leaf-is-root', 'the root passed as the leaf hash', [index, size, root, proof, root]);
  add('wrong-index-minus-1', 'leaf index - 1', [index - 1, size, leaf, proof, root]);
  add('wrong-index-plus-1', 'leaf index + 1', [index + 1, size, leaf, proof, root]);
  add('wrong-index-xor-2', 'leaf index ^ 2', [index ^ 2, size, leaf, proof, root]);
  add('wrong-index-xor-1', 'leaf index ^ 1 (the sibling position)', [index ^ 1, size, leaf, proof, root]);
  add('index-out-of-range', 'leaf index equal to the tree size', [size, size, leaf, proof, root]);
  add('index-far-out-of-range', 'leaf index 2^40', [2 ** 40, size, leaf, proof, root]);
  add('index-negative', 'leaf index -1', [-1, size, leaf, proof, root]);
  add('index-fractional', 'leaf index + 0.5', [index + 0.5, size, leaf, proof, root]);
  add('index-unsafe', 'leaf index 2^53 (not a safe integer)', [2 ** 53, size, leaf, proof, root]);
  add('wrong-tree-size-times-2', 'tree size * 2, same root', [index, size * 2, leaf, proof, root]);
  add('wrong-tree-size-div-2', 'tree size / 2 (rounded down), same root', [index, Math.floor(size / 2), leaf, proof, root]);
  add('wrong-tree-size-plus-1', 'tree size + 1, same root', [index, size + 1, leaf, proof, root]);
  add('wrong-tree-size-minus-1', 'tree size - 1, same root', [index, size - 1, leaf, proof, root]);
  add('wrong-tree-size-with-its-root', 'tree size + 1 together with the honest root of that size', [index, size + 1, leaf, proof, t.root(size + 1)]);
  add('tree-size-zero', 'tree size 0', [index, 0, leaf, proof, root]);
  add('tree-size-unsafe', 'tree size 2^53 + 2', [index, 2 ** 53 + 2, leaf, proof, root]);
  add('modified-root', 'one bit of the root flipped', [index, size, leaf, proof, flip(root, 0, 0)]);
  add('empty-root', 'the empty-tree root SHA-256("")', [index, size, leaf, proof, EMPTY_ROOT]);
  add('random-root', 'an unrelated 32-byte root', [index, size, leaf, proof, SOME_HASH]);
  add('short-root', 'a 31-byte root', [index, size, leaf, proof, root.slice(0, 31)]);
  add('short-leaf', 'a 31-byte leaf hash', [index, size, leaf.slice(0, 31), proof, root]);
  add('raw-leaf-data', 'the leaf data (not its hash) as the leaf', [index, size, leafData(index), proof, root]);
  add('extra-element', 'an unrelated hash appended to the proof', [index, size, leaf, [...proof, SOME_HASH], root]);
  add('trailing-root', 'the root appended to the proof', [index, size, leaf, [...proof, root], root]);
  add('preceding-root', 'the root prepended to the proof', [index, size, leaf, [root, ...proof], root]);
  add('trailing-garbage', 'an empty element appended to the proof', [index, size, leaf, [...proof, GARBAGE], root]);
  add('preceding-garbage', 'an empty element prepended to the proof', [index, size, leaf, [GARBAGE, ...proof], root]);
  if (ln > 0) {
    add('empty-proof', 'the proof emptied', [index, size, leaf, [], root]);
    add('truncated-proof', 'the last proof element removed', [index, size, leaf, proof.slice(0, -1), root]);
    add('dropped-first', 'the first proof element removed', [index, size, leaf, proof.slice(1), root]);
    add('short-element', 'proof[0] cut to 31 bytes', [index, size, leaf, [proof[0]!.slice(0, 31), ...proof.slice(1)], root]);
    add('long-element', 'proof[0] with one byte appended', [index, size, leaf, [Uint8Array.from([...proof[0]!, 0]), ...proof.slice(1)], root]);
    add('replaced-last', 'the last proof element replaced by an unrelated hash', [index, size, leaf, [...proof.slice(0, -1), SOME_HASH], root]);
  }
  if (ln > 1) {
    add('inserted-component', 'an unrelated hash inserted after proof[0]', [index, size, leaf, [proof[0]!, SOME_HASH, ...proof.slice(1)], root]);
    add('swapped-elements', 'proof[0] and proof[1] swapped', [index, size, leaf, [proof[1]!, proof[0]!, ...proof.slice(2)], root]);
    add('reversed-proof', 'the proof in root-to-leaf order', [index, size, leaf, [...proof].reverse(), root]);
  }
  proof.forEach((_, i) => {
    for (const byte of [0, HASH_SIZE - 1]) {
      const p = proof.map((h, j) => (j === i ? flip(h, byte, 3) : h));
      add(`bit-flip-${i}-${byte}`, `bit 3 of byte ${byte} of proof[${i}] flipped`, [index, size, leaf, p, root]);
    }
  });
  for (const byte of [0, HASH_SIZE - 1]) add(`leaf-bit-flip-${byte}`, `bit 0 of byte ${byte} of the leaf hash flipped`, [index, size, flip(leaf, byte, 0), proof, root]);
  if (index === 0 && size === 8) {
    // Second-preimage shape (why RFC 6962 prefixes leaves and nodes, and why treeSize must come
    // from the anchored checkpoint): an interior node posing as a leaf.
    const node01 = t.mth(0, 2);
    add('interior-node-as-leaf', 'MTH(D[0:2]) posing as leaf 0 of the 8-leaf tree with the rest of the path', [0, 8, node01, proof.slice(1), root]);
    add(
      'interior-node-as-leaf-claimed-size-4',
      'MTH(D[0:2]) as leaf 0 of a claimed 4-leaf tree against the 8-leaf root: the path math alone accepts it, so a verifier must take treeSize and root together from a checkpoint, never treeSize from the prover',
      [0, 4, node01, proof.slice(1), root],
    );
  }
  return c;
}

function consistencyCases(t: ReferenceTree, size1: number, size2: number): Case<[number, number, Uint8Array[], Uint8Array, Uint8Array]>[] {
  const proof = t.consistencyProof(size1, size2);
  const root1 = t.root(size1);
  const root2 = t.root(size2);
  const ln = proof.length;
  type I = [number, number, Uint8Array[], Uint8Array, Uint8Array];
  const c: Case<I>[] = [];
  const add = (name: string, description: string, input: I): void => {
    c.push({ name, description, input });
  };
  add('happy-path', `from ${size1} to ${size2} leaves with the RFC 9162 §2.1.4.1 proof`, [size1, size2, proof, root1, root2]);
  add('size1-minus-1', 'size1 - 1', [size1 - 1, size2, proof, root1, root2]);
  add('size1-plus-1', 'size1 + 1', [size1 + 1, size2, proof, root1, root2]);
  add('size1-xor-2', 'size1 ^ 2', [size1 ^ 2, size2, proof, root1, root2]);
  add('size2-times-2', 'size2 * 2', [size1, size2 * 2, proof, root1, root2]);
  add('size2-div-2', 'size2 / 2 (rounded down)', [size1, Math.floor(size2 / 2), proof, root1, root2]);
  add('size2-plus-1', 'size2 + 1', [size1, size2 + 1, proof, root1, root2]);
  add('size2-minus-1', 'size2 - 1', [size1, size2 - 1, proof, root1, root2]);
  if (size2 > 0) add('size2-minus-1-with-its-root', 'size2 - 1 together with the honest root of that size', [size1, size2 - 1, proof, root1, t.root(size2 - 1)]);
  add('size2-plus-1-with-its-root', 'size2 + 1 together with the honest root of that size', [size1, size2 + 1, proof, root1, t.root(size2 + 1)]);
  if (size1 + 1 <= size2) add('size1-plus-1-with-its-root', 'size1 + 1 together with the honest root of that size', [size1 + 1, size2, proof, t.root(size1 + 1), root2]);
  add('sizes-swapped', 'size1 and size2 swapped (a shrinking log)', [size2, size1, proof, root1, root2]);
  add('size1-negative', 'size1 -1', [-1, size2, proof, root1, root2]);
  add('size2-unsafe', 'size2 2^53', [size1, 2 ** 53, proof, root1, root2]);
  add('size2-fractional', 'size2 + 0.5', [size1, size2 + 0.5, proof, root1, root2]);
  add('modified-root1', 'one bit of root1 flipped', [size1, size2, proof, flip(root1, 0, 0), root2]);
  add('modified-root2', 'one bit of root2 flipped', [size1, size2, proof, root1, flip(root2, 0, 0)]);
  add('wrong-root1', 'an unrelated root1', [size1, size2, proof, SOME_HASH, root2]);
  add('wrong-root2', 'an unrelated root2', [size1, size2, proof, root1, SOME_HASH]);
  add('swapped-roots', 'root1 and root2 swapped', [size1, size2, proof, root2, root1]);
  add('short-root1', 'a 31-byte root1', [size1, size2, proof, root1.slice(0, 31), root2]);
  add('short-root2', 'a 31-byte root2', [size1, size2, proof, root1, root2.slice(0, 31)]);
  add('extra-element', 'an unrelated hash appended to the proof', [size1, size2, [...proof, SOME_HASH], root1, root2]);
  add('trailing-root1', 'root1 appended to the proof', [size1, size2, [...proof, root1], root1, root2]);
  add('trailing-root2', 'root2 appended to the proof', [size1, size2, [...proof, root2], root1, root2]);
  add('preceding-root1', 'root1 prepended to the proof', [size1, size2, [root1, ...proof], root1, root2]);
  add('preceding-root2', 'root2 prepended to the proof', [size1, size2, [root2, ...proof], root1, root2]);
  add('trailing-garbage', 'an empty element appended to the proof', [size1, size2, [...proof, GARBAGE], root1, root2]);
  add('preceding-garbage', 'an empty element prepended to the proof', [size1, size2, [GARBAGE, ...proof], root1, root2]);
  if (ln > 0) {
    add('empty-proof', 'the proof emptied', [size1, size2, [], root1, root2]);
    add('truncated-proof', 'the last proof element removed', [size1, size2, proof.slice(0, -1), root1, root2]);
    add('dropped-first', 'the first proof element removed', [size1, size2, proof.slice(1), root1, root2]);
    add('preceding-proof-0', 'proof[0] repeated in front', [size1, size2, [proof[0]!, ...proof], root1, root2]);
    add('short-element', 'proof[0] cut to 31 bytes', [size1, size2, [proof[0]!.slice(0, 31), ...proof.slice(1)], root1, root2]);
    add('replaced-last', 'the last proof element replaced by an unrelated hash', [size1, size2, [...proof.slice(0, -1), SOME_HASH], root1, root2]);
  }
  if (ln > 1) {
    add('swapped-elements', 'proof[0] and proof[1] swapped', [size1, size2, [proof[1]!, proof[0]!, ...proof.slice(2)], root1, root2]);
    add('reversed-proof', 'the proof reversed', [size1, size2, [...proof].reverse(), root1, root2]);
  }
  proof.forEach((_, i) => {
    for (const byte of [0, HASH_SIZE - 1]) {
      const p = proof.map((h, j) => (j === i ? flip(h, byte, 4) : h));
      add(`bit-flip-${i}-${byte}`, `bit 4 of byte ${byte} of proof[${i}] flipped`, [size1, size2, p, root1, root2]);
    }
  });
  return c;
}

export function buildVectors(t: ReferenceTree = vectorTree()): VectorFile[] {
  const out: VectorFile[] = [];
  for (const [index, size] of INCLUSION_BASES) {
    for (const k of inclusionCases(t, index, size)) {
      const [i, n, leaf, proof, root] = k.input;
      const expect = expectInclusion(t, i, n, leaf, proof, root);
      out.push({
        path: `inclusion/${index}-of-${size}/${k.name}.json`,
        vector: {
          type: INCLUSION_VECTOR_TYPE,
          description: `leaf ${index} of ${size}: ${k.description}${expect === 'valid' ? whyStillValid('inclusion', k.name, 0) : ''}`,
          input: { leafIndex: i, treeSize: n, leafHash: toHex(leaf), proof: proof.map(toHex), rootHash: toHex(root) },
          expect,
        },
      });
    }
  }
  for (const [size1, size2] of CONSISTENCY_BASES) {
    for (const k of consistencyCases(t, size1, size2)) {
      const [s1, s2, proof, root1, root2] = k.input;
      const expect = expectConsistency(t, s1, s2, proof, root1, root2);
      out.push({
        path: `consistency/${size1}-to-${size2}/${k.name}.json`,
        vector: {
          type: CONSISTENCY_VECTOR_TYPE,
          description: `${size1} to ${size2}: ${k.description}${expect === 'valid' ? whyStillValid('consistency', k.name, s1) : ''}`,
          input: { size1: s1, size2: s2, root1: toHex(root1), root2: toHex(root2), proof: proof.map(toHex) },
          expect,
        },
      });
    }
  }
  return out;
}

/** The exact text each file holds. */
export function serializeVector(v: InclusionVector | ConsistencyVector): string {
  return JSON.stringify(v, null, 2) + '\n';
}
