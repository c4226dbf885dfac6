/**
 * A synthetic RFC 9162 tree whose leaves are all equal: its roots and consistency proofs for any size
 * (up to 2^53) cost O(log n), so the contract tests and the gas benchmark reach trees no real log
 * could hold. Shared by test/contracts and scripts/bench/gas.ts.
 */
import { consistencyProofRanges, foldSubtrees, leafHash, nodeHash, perfectSubtrees, utf8 } from '../../node/protocol';

export class UniformTree {
  private readonly perfect: Uint8Array[] = [leafHash(utf8('tianfu bench leaf'))];

  private level(l: number): Uint8Array {
    while (this.perfect.length <= l) {
      const below = this.perfect[this.perfect.length - 1]!;
      this.perfect.push(nodeHash(below, below));
    }
    return this.perfect[l]!;
  }

  /** MTH(D[start:end]) for any range RFC 9162's recursion produces. */
  range(start: number, end: number): Uint8Array {
    return foldSubtrees(perfectSubtrees({ start, end }).map((s) => this.level(s.level)));
  }

  root(n: number): Uint8Array {
    return this.range(0, n);
  }

  /** RFC 9162 §2.1.4.1 PROOF(m, D[n]) from the planner's ranges. */
  consistencyProof(m: number, n: number): Uint8Array[] {
    return consistencyProofRanges(m, n).map((r) => this.range(r.start, r.end));
  }
}
