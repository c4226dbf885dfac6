/**
 * Incremental RFC 9162 tree for the audit replay: a compact range over [0, size) (the "frontier":
 * one perfect subtree hash per set bit of size), so appending n leaves costs O(n) hashing in total
 * and the state is O(log n) hashes. The root at any size is known when the replay passes it.
 *
 * Consistency proofs (RFC 9162 §2.1.4.1) are built from the same replay: every proof element is the
 * MTH of a range, every range decomposes into perfect aligned subtrees (`perfectSubtrees`), and each
 * such subtree is formed exactly once while appending. The auditor registers the subtrees it will
 * need before the replay starts (it knows the checkpoint sizes from the chain) and captures them as
 * they are formed, so nothing is ever read back from the node.
 */
import { EMPTY_ROOT, consistencyProofRanges, foldSubtrees, nodeHash, perfectSubtrees, type NodeId } from '../protocol/merkle';

export class TreeReplay {
  private _size = 0;
  /** frontier[level]: hash of the perfect subtree of 2^level leaves, present iff bit `level` of size is set. */
  private readonly frontier: (Uint8Array | undefined)[] = [];
  /** level → node indexes wanted at that level. */
  private readonly wanted = new Map<number, Set<number>>();
  private readonly captured = new Map<string, Uint8Array>();

  get size(): number {
    return this._size;
  }

  /** Asks the replay to keep the hash of these subtrees when they are formed. Call before appending past them. */
  want(nodes: readonly NodeId[]): void {
    for (const n of nodes) {
      let s = this.wanted.get(n.level);
      if (!s) this.wanted.set(n.level, (s = new Set()));
      s.add(n.index);
    }
  }

  /** Registers the subtrees of the consistency proof from size1 to size2. */
  wantConsistency(size1: number, size2: number): void {
    for (const r of consistencyProofRanges(size1, size2)) this.want(perfectSubtrees(r));
  }

  private capture(level: number, index: number, h: Uint8Array): void {
    const s = this.wanted.get(level);
    if (s !== undefined && s.has(index)) this.captured.set(`${level}:${index}`, h);
  }

  /** Appends one leaf hash (RFC 9162 §2.1.1 leaf hash, already computed). */
  append(leaf: Uint8Array): void {
    let h = leaf;
    let level = 0;
    let index = this._size;
    if (this.wanted.size > 0) this.capture(0, index, h);
    // Merge while the bit at `level` is set: those perfect subtrees now have a right sibling.
    let rest = this._size;
    while (rest % 2 === 1) {
      h = nodeHash(this.frontier[level]!, h);
      this.frontier[level] = undefined;
      level++;
      index = Math.floor(index / 2);
      rest = Math.floor(rest / 2);
      if (this.wanted.size > 0) this.capture(level, index, h);
    }
    this.frontier[level] = h;
    this._size++;
  }

  /** MTH(D[0:size]): the frontier folded right to left (RFC 9162 §2.1.1). */
  root(): Uint8Array {
    let acc: Uint8Array | undefined;
    for (let level = 0; level < this.frontier.length; level++) {
      const f = this.frontier[level];
      if (f === undefined) continue;
      acc = acc === undefined ? f : nodeHash(f, acc);
    }
    return acc ?? EMPTY_ROOT;
  }

  /**
   * The RFC 9162 consistency proof from size1 to size2 (≤ the current size), built from captured
   * subtrees. Throws when a subtree was not registered with `wantConsistency` in time.
   */
  consistencyProof(size1: number, size2: number): Uint8Array[] {
    if (size2 > this._size) throw new Error(`consistency proof to ${size2} asked for at replay size ${this._size}`);
    return consistencyProofRanges(size1, size2).map((r) =>
      foldSubtrees(
        perfectSubtrees(r).map((n) => {
          const h = this.captured.get(`${n.level}:${n.index}`);
          if (h === undefined) throw new Error(`subtree level ${n.level} index ${n.index} was not captured (call wantConsistency(${size1}, ${size2}) before the replay)`);
          return h;
        }),
      ),
    );
  }

  /** Number of captured subtree hashes held (memory bound check for tests). */
  get capturedCount(): number {
    return this.captured.size;
  }
}
