/**
 * RFC 6962 / RFC 9162 Merkle tree math: hashing, proof verification and proof planning.
 * Verification follows RFC 9162 §2.1.3.2 and §2.1.4.2 in the compute-then-compare shape of
 * transparency-dev/merkle: `rootFrom*` computes, `verify*` compares and throws a typed error
 * carrying the expected and calculated values.
 */
import { bytesEqual, concatBytes, scratchBytes, toHex } from './bytes';
import { sha256 } from './hash';
import { ProtocolError } from './errors';

export const HASH_SIZE = 32;
const LEAF_PREFIX = new Uint8Array([0x00]);

/** RFC 9162 §2.1.1: MTH({}) = SHA-256(). */
export const EMPTY_ROOT: Uint8Array = sha256(new Uint8Array(0));

/** RFC 9162 §2.1.1: leaf hash = SHA-256(0x00 || data). */
export function leafHash(entryBytes: Uint8Array): Uint8Array {
  return sha256(concatBytes(LEAF_PREFIX, entryBytes));
}

/** RFC 9162 §2.1.1: interior node hash = SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  const buf = scratchBytes(1 + 2 * HASH_SIZE);
  buf[0] = 0x01;
  buf.set(left, 1);
  buf.set(right, 1 + HASH_SIZE);
  return sha256(buf);
}

/**
 * The hashing a tree uses (transparency-dev/merkle's LogHasher): the proof math below takes one, so
 * a tree over another hash (SM3, say) verifies with the same code. Default: RFC 6962 / 9162 SHA-256.
 */
export interface Hasher {
  /** Bytes of one hash. */
  readonly size: number;
  /** MTH({}). */
  emptyRoot(): Uint8Array;
  /** The leaf hash of an entry's bytes. */
  hashLeaf(data: Uint8Array): Uint8Array;
  /** The hash of an interior node from its children. */
  hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array;
}

/** RFC 9162 §2.1.1 with SHA-256 (the log's hasher, and AnchorRegistry's). */
export const RFC6962_SHA256: Hasher = { size: HASH_SIZE, emptyRoot: () => EMPTY_ROOT, hashLeaf: leafHash, hashChildren: nodeHash };

// ---- integer helpers (tree sizes are safe integers: < 2^53 entries) ----

function assertSize(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new ProtocolError('INVALID_INPUT', `${name} must be a non-negative safe integer, got ${v}`);
}

/** Number of bits needed to represent v (Go's bits.Len64). */
export function bitLength(v: number): number {
  let n = 0;
  while (v > 0) {
    n++;
    v = Math.floor(v / 2);
  }
  return n;
}

function popcount(v: number): number {
  let c = 0;
  while (v > 0) {
    c += v % 2;
    v = Math.floor(v / 2);
  }
  return c;
}

function trailingZeros(v: number): number {
  if (v === 0) return 64;
  let n = 0;
  while (v % 2 === 0) {
    v /= 2;
    n++;
  }
  return n;
}

/** (index >> shift) & 1 for safe integers. */
function bitAt(v: number, shift: number): number {
  return Math.floor(v / 2 ** shift) % 2;
}

function xor(a: number, b: number): number {
  // Safe-integer XOR (numbers may exceed 32 bits).
  const hiA = Math.floor(a / 2 ** 32), loA = a >>> 0;
  const hiB = Math.floor(b / 2 ** 32), loB = b >>> 0;
  return ((hiA ^ hiB) >>> 0) * 2 ** 32 + ((loA ^ loB) >>> 0);
}

/** Largest power of two strictly smaller than n (n > 1): RFC 9162's split point k. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** Inner and border lengths of the inclusion proof for `index` in a tree of `size`. */
export function decomposeInclusion(index: number, size: number): { inner: number; border: number } {
  const inner = bitLength(xor(index, size - 1));
  const border = popcount(Math.floor(index / 2 ** inner));
  return { inner, border };
}

export function inclusionProofLength(index: number, size: number): number {
  assertSize('index', index);
  assertSize('size', size);
  if (index >= size) throw new ProtocolError('INDEX_OUT_OF_RANGE', `leaf index ${index} is not below tree size ${size}`);
  const { inner, border } = decomposeInclusion(index, size);
  return inner + border;
}

export function consistencyProofLength(size1: number, size2: number): number {
  assertSize('size1', size1);
  assertSize('size2', size2);
  if (size2 < size1) throw new ProtocolError('NOT_EXTENSION', `size2 ${size2} is smaller than size1 ${size1}`);
  if (size1 === 0 || size1 === size2) return 0;
  const { inner, border } = decomposeInclusion(size1 - 1, size2);
  const shift = trailingZeros(size1);
  const start = size1 === 2 ** shift ? 0 : 1;
  return start + inner - shift + border;
}

function chainInner(hasher: Hasher, seed: Uint8Array, proof: readonly Uint8Array[], index: number): Uint8Array {
  let h = seed;
  proof.forEach((p, i) => {
    h = bitAt(index, i) === 0 ? hasher.hashChildren(h, p) : hasher.hashChildren(p, h);
  });
  return h;
}

function chainInnerRight(hasher: Hasher, seed: Uint8Array, proof: readonly Uint8Array[], index: number): Uint8Array {
  let h = seed;
  proof.forEach((p, i) => {
    if (bitAt(index, i) === 1) h = hasher.hashChildren(p, h);
  });
  return h;
}

function chainBorderRight(hasher: Hasher, seed: Uint8Array, proof: readonly Uint8Array[]): Uint8Array {
  let h = seed;
  for (const p of proof) h = hasher.hashChildren(p, h);
  return h;
}

function checkHashes(what: string, hashes: readonly Uint8Array[], size = HASH_SIZE): void {
  // Runtime check too: proofs arrive from JSON bundles and HTTP, not only from typed callers.
  if (!Array.isArray(hashes)) throw new ProtocolError('INVALID_INPUT', `${what} must be an array of ${size}-byte hashes`);
  hashes.forEach((h, i) => {
    if (!(h instanceof Uint8Array) || h.length !== size) {
      const got = h instanceof Uint8Array ? `${h.length} bytes` : typeof h;
      throw new ProtocolError('INVALID_INPUT', `${what}[${i}] must be ${size} bytes, got ${got}`);
    }
  });
}

function checkHash(what: string, h: Uint8Array, size = HASH_SIZE): void {
  if (!(h instanceof Uint8Array) || h.length !== size) {
    const got = h instanceof Uint8Array ? `${h.length} bytes` : typeof h;
    throw new ProtocolError('INVALID_INPUT', `${what} must be ${size} bytes, got ${got}`);
  }
}

/** RFC 9162 §2.1.3.2: the root implied by an inclusion proof. Throws on a proof of the wrong length. */
export function rootFromInclusionProof(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[], hasher: Hasher = RFC6962_SHA256): Uint8Array {
  // Check order (fixed, and what the vectors in test/vectors pin): malformed input, range, length, roots.
  assertSize('index', index);
  assertSize('size', size);
  checkHash('leafHash', leaf, hasher.size);
  checkHashes('proof', proof, hasher.size);
  if (index >= size) throw new ProtocolError('INDEX_OUT_OF_RANGE', `leaf index ${index} is not below tree size ${size}`);
  const { inner, border } = decomposeInclusion(index, size);
  if (proof.length !== inner + border) {
    throw new ProtocolError('PROOF_SIZE', `inclusion proof for leaf ${index} of ${size} has the wrong length`, {
      expected: String(inner + border),
      calculated: String(proof.length),
    });
  }
  const h = chainInner(hasher, leaf, proof.slice(0, inner), index);
  return chainBorderRight(hasher, h, proof.slice(inner));
}

export function verifyInclusion(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array, hasher: Hasher = RFC6962_SHA256): void {
  // A root of the wrong length is malformed input, not a mismatch: say so instead of comparing.
  assertSize('index', index);
  assertSize('size', size);
  checkHash('root', root, hasher.size);
  const calculated = rootFromInclusionProof(index, size, leaf, proof, hasher);
  if (!bytesEqual(calculated, root)) {
    throw new ProtocolError('ROOT_MISMATCH', `inclusion proof for leaf ${index} does not lead to the root of size ${size}`, {
      expected: toHex(root),
      calculated: toHex(calculated),
    });
  }
}

/**
 * RFC 9162 §2.1.4.2: the (first, second) roots implied by a consistency proof from size1 to size2,
 * given the first root (needed as the seed when size1 is a power of two). Mirrors the on-chain verifier.
 */
export function rootsFromConsistencyProof(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  hasher: Hasher = RFC6962_SHA256,
): { root1: Uint8Array; root2: Uint8Array } {
  assertSize('size1', size1);
  assertSize('size2', size2);
  checkHashes('proof', proof, hasher.size);
  checkHash('root1', root1, hasher.size);
  if (size2 < size1) throw new ProtocolError('NOT_EXTENSION', `size2 ${size2} is smaller than size1 ${size1}`);
  const expectedLen = consistencyProofLength(size1, size2);
  if (proof.length !== expectedLen) {
    throw new ProtocolError('PROOF_SIZE', `consistency proof from ${size1} to ${size2} has the wrong length`, {
      expected: String(expectedLen),
      calculated: String(proof.length),
    });
  }
  if (size1 === size2) return { root1, root2: root1 };
  if (size1 === 0) throw new ProtocolError('INVALID_INPUT', 'a consistency proof from the empty tree proves nothing; size1 must be > 0');
  const { inner: fullInner, border } = decomposeInclusion(size1 - 1, size2);
  const shift = trailingZeros(size1);
  const inner = fullInner - shift;
  let seed: Uint8Array;
  let rest: readonly Uint8Array[];
  if (size1 === 2 ** shift) {
    seed = root1;
    rest = proof;
  } else {
    seed = proof[0]!;
    rest = proof.slice(1);
  }
  const mask = Math.floor((size1 - 1) / 2 ** shift);
  const r1 = chainBorderRight(hasher, chainInnerRight(hasher, seed, rest.slice(0, inner), mask), rest.slice(inner));
  const r2 = chainBorderRight(hasher, chainInner(hasher, seed, rest.slice(0, inner), mask), rest.slice(inner));
  void border;
  return { root1: r1, root2: r2 };
}

/**
 * RFC 9162 §2.1.4.2, with the edge cases of transparency-dev/merkle's VerifyConsistency:
 * size1 == size2 needs an empty proof and equal roots; size1 == 0 needs an empty proof and is
 * consistent with anything (root1 is not checked: there is nothing to compare it with).
 * Check order: malformed input, NOT_EXTENSION, proof length, first root, second root.
 */
export function verifyConsistency(size1: number, size2: number, proof: readonly Uint8Array[], root1: Uint8Array, root2: Uint8Array, hasher: Hasher = RFC6962_SHA256): void {
  assertSize('size1', size1);
  assertSize('size2', size2);
  checkHashes('proof', proof, hasher.size);
  checkHash('root1', root1, hasher.size);
  checkHash('root2', root2, hasher.size);
  if (size2 < size1) throw new ProtocolError('NOT_EXTENSION', `size2 ${size2} is smaller than size1 ${size1}`);
  if (size1 === 0 && size2 > 0) {
    if (proof.length !== 0) throw new ProtocolError('PROOF_SIZE', 'consistency proof from size 0 must be empty', { expected: '0', calculated: String(proof.length) });
    return;
  }
  const r = rootsFromConsistencyProof(size1, size2, proof, root1, hasher);
  if (!bytesEqual(r.root1, root1)) {
    throw new ProtocolError('FIRST_ROOT_MISMATCH', `consistency proof does not lead to the root of size ${size1}`, {
      expected: toHex(root1),
      calculated: toHex(r.root1),
    });
  }
  if (!bytesEqual(r.root2, root2)) {
    throw new ProtocolError('SECOND_ROOT_MISMATCH', `consistency proof does not lead to the root of size ${size2}`, {
      expected: toHex(root2),
      calculated: toHex(r.root2),
    });
  }
}

// ---- proof planning: which subtree hashes a proof consists of (RFC 9162 §2.1.3.1, §2.1.4.1) ----

/** A half-open leaf range [start, end) whose MTH is one proof element. */
export interface Range {
  start: number;
  end: number;
}

/** RFC 9162 §2.1.3.1 PATH(m, D[n]) as ranges, leaf-to-root order. */
export function inclusionProofRanges(index: number, size: number): Range[] {
  assertSize('index', index);
  assertSize('size', size);
  if (index >= size) throw new ProtocolError('INDEX_OUT_OF_RANGE', `leaf index ${index} is not below tree size ${size}`);
  const out: Range[] = [];
  const path = (m: number, start: number, n: number): void => {
    if (n <= 1) return;
    const k = splitPoint(n);
    if (m < k) {
      path(m, start, k);
      out.push({ start: start + k, end: start + n });
    } else {
      path(m - k, start + k, n - k);
      out.push({ start, end: start + k });
    }
  };
  path(index, 0, size);
  return out;
}

/** RFC 9162 §2.1.4.1 PROOF(m, D[n]) as ranges. */
export function consistencyProofRanges(size1: number, size2: number): Range[] {
  assertSize('size1', size1);
  assertSize('size2', size2);
  if (size1 > size2) throw new ProtocolError('NOT_EXTENSION', `size1 ${size1} is larger than size2 ${size2}`);
  if (size1 === 0 || size1 === size2) return [];
  const out: Range[] = [];
  const sub = (m: number, start: number, n: number, b: boolean): void => {
    if (m === n) {
      if (!b) out.push({ start, end: start + n });
      return;
    }
    const k = splitPoint(n);
    if (m <= k) {
      sub(m, start, k, b);
      out.push({ start: start + k, end: start + n });
    } else {
      sub(m - k, start + k, n - k, false);
      out.push({ start, end: start + k });
    }
  };
  sub(size1, 0, size2, true);
  return out;
}

/** A perfect, aligned subtree: level L, index i covers leaves [i·2^L, (i+1)·2^L). */
export interface NodeId {
  level: number;
  index: number;
}

/**
 * Decomposes [start, end) into perfect aligned subtrees, left to right, such that folding them
 * right-to-left with nodeHash gives MTH(D[start:end]) — valid for every range RFC 9162's
 * recursion produces (start is a multiple of the largest power of two ≤ end - start).
 */
export function perfectSubtrees(range: Range): NodeId[] {
  assertSize('range.start', range.start);
  assertSize('range.end', range.end);
  if (range.end < range.start) throw new ProtocolError('INVALID_INPUT', `range [${range.start}, ${range.end}) is reversed`);
  const out: NodeId[] = [];
  let start = range.start;
  let n = range.end - range.start;
  while (n > 0) {
    let p = 1;
    let level = 0;
    while (p * 2 <= n) {
      p *= 2;
      level++;
    }
    // An unaligned range would yield a fractional node index and silently fold the wrong hashes.
    if (start % p !== 0) {
      throw new ProtocolError('INVALID_INPUT', `range [${range.start}, ${range.end}) is not one RFC 9162 recursion produces: ${start} is not a multiple of ${p}`);
    }
    out.push({ level, index: start / p });
    start += p;
    n -= p;
  }
  return out;
}

/** Folds the perfect-subtree hashes of a range right to left into its MTH. */
export function foldSubtrees(hashes: readonly Uint8Array[], hasher: Hasher = RFC6962_SHA256): Uint8Array {
  if (hashes.length === 0) return hasher.emptyRoot();
  let acc = hashes[hashes.length - 1]!;
  for (let i = hashes.length - 2; i >= 0; i--) acc = hasher.hashChildren(hashes[i]!, acc);
  return acc;
}
