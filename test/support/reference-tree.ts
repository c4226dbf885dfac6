/**
 * A slow, obviously-correct RFC 9162 §2.1 reference tree, used only in tests to cross-check the
 * fast store, the planner and the on-chain verifier. Straight from the RFC's recursive definitions.
 */
import { RFC6962_SHA256, splitPoint, type Hasher } from '../../node/protocol';

export class ReferenceTree {
  readonly leaves: Uint8Array[] = [];

  /** `hasher`: RFC 9162's SHA-256 unless a test builds a tree over another hash. */
  constructor(readonly hasher: Hasher = RFC6962_SHA256) {}

  /** Appends raw leaf data (entry bytes); returns the leaf hash. */
  append(data: Uint8Array): Uint8Array {
    const h = this.hasher.hashLeaf(data);
    this.leaves.push(h);
    return h;
  }

  appendLeafHash(h: Uint8Array): void {
    this.leaves.push(h);
  }

  get size(): number {
    return this.leaves.length;
  }

  /** MTH(D[start:end]). */
  mth(start: number, end: number): Uint8Array {
    const n = end - start;
    if (n === 0) return this.hasher.emptyRoot();
    if (n === 1) return this.leaves[start]!;
    const k = splitPoint(n);
    return this.hasher.hashChildren(this.mth(start, start + k), this.mth(start + k, end));
  }

  root(size = this.size): Uint8Array {
    return this.mth(0, size);
  }

  /** RFC 9162 §2.1.3.1 PATH(m, D[0:size]). */
  inclusionProof(m: number, size = this.size): Uint8Array[] {
    const path = (m: number, start: number, end: number): Uint8Array[] => {
      const n = end - start;
      if (n <= 1) return [];
      const k = splitPoint(n);
      return m < k
        ? [...path(m, start, start + k), this.mth(start + k, end)]
        : [...path(m - k, start + k, end), this.mth(start, start + k)];
    };
    return path(m, 0, size);
  }

  /** RFC 9162 §2.1.4.1 PROOF(m, D[0:n]). */
  consistencyProof(m: number, n = this.size): Uint8Array[] {
    if (m === 0 || m === n) return [];
    const sub = (m: number, start: number, end: number, b: boolean): Uint8Array[] => {
      const n = end - start;
      if (m === n) return b ? [] : [this.mth(start, end)];
      const k = splitPoint(n);
      return m <= k
        ? [...sub(m, start, start + k, b), this.mth(start + k, end)]
        : [...sub(m - k, start + k, end, false), this.mth(start, start + k)];
    };
    return sub(m, 0, n, true);
  }
}
