/**
 * An independent oracle for the vector generator and the property tests: RFC 9162 §2.1.3.2 and
 * §2.1.4.2 transcribed step by step (the fn/sn right-shifting loops of the RFC text), not the
 * inner/border decomposition node/protocol/merkle.ts uses. Two different derivations of the
 * same algorithm agreeing is what makes the generated expectations worth checking against.
 *
 * Only the tree hashing primitives (leaf/node hash) are shared with the code under test, and
 * those are pinned separately by the RFC 6962 known answers in test/protocol/rfc6962.test.ts.
 */
import { nodeHash } from '../../node/protocol/merkle';

/** Sizes here stay far below 2^31, so plain bit operators are exact. */
function lsb(v: number): number {
  return v & 1;
}

/**
 * RFC 9162 §2.1.3.2 steps 2–4, returning the computed r, or null where the RFC says
 * "stop the iteration and fail" or sn ends non-zero (a proof of the wrong length).
 * Precondition (step 1): 0 <= index < size.
 */
export function rfcInclusionRoot(index: number, size: number, leaf: Uint8Array, path: readonly Uint8Array[]): Uint8Array | null {
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return null; // 4a
    if (lsb(fn) === 1 || fn === sn) {
      r = nodeHash(p, r); // 4b.1
      if (lsb(fn) === 0) {
        // 4b.2: right-shift until LSB(fn) is set or fn is 0.
        while (!(lsb(fn) === 1 || fn === 0)) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = nodeHash(r, p); // otherwise
    }
    fn >>= 1; // 4c
    sn >>= 1;
  }
  return sn === 0 ? r : null; // 5
}

/**
 * RFC 9162 §2.1.4.2 steps 1–6 for 0 < first < second, returning (fr, sr), or null where the
 * RFC fails the proof for structural reasons (empty path, sn hitting 0 early, sn not 0 at the end).
 */
export function rfcConsistencyRoots(
  first: number,
  second: number,
  path: readonly Uint8Array[],
  firstHash: Uint8Array,
): { fr: Uint8Array; sr: Uint8Array } | null {
  if (path.length === 0) return null; // 1
  const p = (first & (first - 1)) === 0 ? [firstHash, ...path] : [...path]; // 2: first is a power of two
  let fn = first - 1; // 3
  let sn = second - 1;
  while (lsb(fn) === 1) {
    // 4
    fn >>= 1;
    sn >>= 1;
  }
  let fr = p[0]!; // 5
  let sr = p[0]!;
  for (const c of p.slice(1)) {
    if (sn === 0) return null; // 6a
    if (lsb(fn) === 1 || fn === sn) {
      fr = nodeHash(c, fr); // 6b.1
      sr = nodeHash(c, sr); // 6b.2
      if (lsb(fn) === 0) {
        while (!(lsb(fn) === 1 || fn === 0)) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn >>= 1; // 6c
    sn >>= 1;
  }
  return sn === 0 ? { fr, sr } : null; // 7 (the sn part; the caller compares the roots)
}
