/**
 * Sparse Merkle tree updates (the construction is in node/protocol/state-map.ts). Pure and synchronous
 * over a node lookup: the LevelDB map (state-map-store.ts) prefetches the nodes an update will visit
 * and runs it here; the audit keeps its whole replayed map in memory (MemoryMap below).
 *
 * A node is kept at its *position*: the depth and the key bits above it. Nodes are 65-byte encodings
 * (tag 0x00 + key + valueHash for a leaf, 0x01 + left + right for an internal node) whose SHA-256 is the
 * node's hash, so an internal node holds its children's hashes and an update never needs to read a
 * sibling. Keys only ever gain leaves (a subject's leaf is replaced, never removed), so positions are
 * only ever overwritten, never deleted.
 */
import {
  EMPTY_SUBTREE,
  byteHex,
  bytesEqual,
  keyBit,
  mapInternalNode,
  mapLeafNode,
  mapNodeHash,
  toHex,
  type Hex,
  type MapProof,
} from '../protocol';

export interface MapUpdate {
  key: Uint8Array;
  valueHash: Uint8Array;
  /** The key's 64 hex digits without 0x, when the caller has them (else computed). */
  hex?: string;
}

const DEPTH_HEX: readonly string[] = Array.from({ length: 257 }, (_, d) => d.toString(16).padStart(3, '0'));

/** A key's 64 hex digits (no 0x): positions on its path are prefixes of it. */
function keyHex(key: Uint8Array): string {
  return toHex(key).slice(2);
}

/** Position of the node at `depth` on `key`'s path: 3 hex digits of depth, then the key's first `depth` bits (rest zeroed), as hex. */
export function positionOf(key: Uint8Array, depth: number): string {
  return positionIn(key, keyHex(key), depth);
}

/** positionOf with the key's hex already at hand (the updates carry it). */
function positionIn(key: Uint8Array, hex: string, depth: number): string {
  const full = depth >> 3;
  const rem = depth & 7;
  const s = DEPTH_HEX[depth]! + hex.slice(0, 2 * full);
  return rem === 0 ? s : s + byteHex(key[full]! & (0xff << (8 - rem)));
}

export const isLeafNode = (n: Uint8Array): boolean => n[0] === 0;

function compareKeys(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < 32; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** An update with its key's hex (positions are built from it). */
interface Up extends MapUpdate {
  hex: string;
}

const withHex = (u: MapUpdate): Up => (u.hex !== undefined ? (u as Up) : { key: u.key, valueHash: u.valueHash, hex: keyHex(u.key) });

/** Sorts updates by key and keeps the last update of each key. */
export function normaliseUpdates(updates: readonly MapUpdate[]): MapUpdate[] {
  const byKey = new Map<string, Up>();
  for (const u of updates) {
    const w = withHex(u);
    byKey.set(w.hex, w);
  }
  return [...byKey.values()].sort((a, b) => (a.hex < b.hex ? -1 : a.hex > b.hex ? 1 : 0));
}

/** In a[lo, hi) (sorted, sharing the first `depth` bits): the first index whose bit `depth` is 1. */
function splitAt(a: readonly Up[], lo: number, hi: number, depth: number): number {
  const byte = depth >> 3;
  const mask = 0x80 >> (depth & 7);
  let l = lo;
  let h = hi;
  while (l < h) {
    const m = (l + h) >> 1;
    if ((a[m]!.key[byte]! & mask) === 0) l = m + 1;
    else h = m;
  }
  return l;
}

/**
 * Positions an update will read, level by level: call `visit` with the positions of one depth and the
 * nodes found there; it returns the next depth's positions. Used to prefetch with one read per depth.
 */
export async function prefetch(updates: readonly MapUpdate[], read: (positions: string[]) => Promise<(Uint8Array | undefined)[]>): Promise<Map<string, Uint8Array>> {
  const found = new Map<string, Uint8Array>();
  const a = updates.map(withHex);
  // Each range [lo, hi) of `a` shares its first `depth` bits: one node to read.
  let depth = 0;
  let ranges: number[] = a.length > 0 ? [0, a.length] : [];
  while (ranges.length > 0) {
    const positions: string[] = [];
    for (let r = 0; r < ranges.length; r += 2) {
      const u = a[ranges[r]!]!;
      positions.push(positionIn(u.key, u.hex, depth));
    }
    const nodes = await read(positions);
    const next: number[] = [];
    for (let r = 0, i = 0; r < ranges.length; r += 2, i++) {
      const n = nodes[i];
      if (n === undefined) continue;
      found.set(positions[i]!, n);
      if (isLeafNode(n)) continue;
      const lo = ranges[r]!;
      const hi = ranges[r + 1]!;
      const mid = splitAt(a, lo, hi, depth);
      // An empty child (zero hash) has nothing stored below it.
      if (mid > lo && !isZero(n, 1)) next.push(lo, mid);
      if (hi > mid && !isZero(n, 33)) next.push(mid, hi);
    }
    ranges = next;
    depth++;
  }
  return found;
}

/** Whether the 32 bytes of `n` from `at` are all zero (the empty subtree's hash). */
function isZero(n: Uint8Array, at: number): boolean {
  for (let i = at; i < at + 32; i++) if (n[i] !== 0) return false;
  return true;
}

/**
 * Applies sorted, unique updates (normaliseUpdates) to the tree whose nodes `get` returns (undefined =
 * empty) and reports every node written with `put`. Returns the new root hash.
 */
export function applyUpdates(get: (position: string) => Uint8Array | undefined, updates: readonly MapUpdate[], put: (position: string, node: Uint8Array) => void): Uint8Array {
  if (updates.length === 0) {
    const root = get(positionOf(EMPTY_SUBTREE, 0));
    return root === undefined ? EMPTY_SUBTREE : mapNodeHash(root.subarray(0, 65));
  }
  const all = updates.map(withHex);
  return build(0, all, 0, all.length, get(positionIn(all[0]!.key, all[0]!.hex, 0)));

  // The subtree at `depth` over the updates a[lo, hi) (sorted, sharing their first `depth` bits).
  function build(depth: number, a: readonly Up[], lo: number, hi: number, existing: Uint8Array | undefined): Uint8Array {
    const pos = positionIn(a[lo]!.key, a[lo]!.hex, depth);
    if (existing !== undefined && isLeafNode(existing)) {
      const ek = existing.subarray(1, 33);
      let present = false;
      for (let i = lo; i < hi && !present; i++) present = bytesEqual(a[i]!.key, ek);
      if (!present) {
        // The leaf that sat here moves down beside the new keys.
        const moved: Up = { key: ek, valueHash: existing.subarray(33, 65), hex: keyHex(ek) };
        const b = a.slice(lo, hi);
        let at = 0;
        while (at < b.length && compareKeys(b[at]!.key, ek) < 0) at++;
        b.splice(at, 0, moved);
        a = b;
        lo = 0;
        hi = b.length;
      }
      existing = undefined;
    }
    let node: Uint8Array;
    if (existing === undefined) {
      if (hi - lo === 1) node = mapLeafNode(a[lo]!.key, a[lo]!.valueHash);
      else {
        const mid = splitAt(a, lo, hi, depth);
        node = mapInternalNode(mid > lo ? build(depth + 1, a, lo, mid, undefined) : EMPTY_SUBTREE, hi > mid ? build(depth + 1, a, mid, hi, undefined) : EMPTY_SUBTREE);
      }
    } else {
      const mid = splitAt(a, lo, hi, depth);
      const lh = mid > lo ? build(depth + 1, a, lo, mid, childOf(existing, 1, a[lo]!, depth)) : existing.subarray(1, 33);
      const rh = hi > mid ? build(depth + 1, a, mid, hi, childOf(existing, 33, a[mid]!, depth)) : existing.subarray(33, 65);
      node = mapInternalNode(lh, rh);
    }
    put(pos, node);
    return mapNodeHash(node);
  }

  function childOf(parent: Uint8Array, at: 1 | 33, u: Up, depth: number): Uint8Array | undefined {
    if (isZero(parent, at)) return undefined;
    const child = get(positionIn(u.key, u.hex, depth + 1));
    if (child === undefined) throw new Error(`state map node at depth ${depth + 1} is missing (its parent holds hash ${toHex(parent.subarray(at, at + 32))})`);
    return child;
  }
}

/** Walks `key`'s path and returns its proof; `get` reads one node (async for LevelDB). O(depth) reads. */
export async function buildProof(key: Uint8Array, get: (position: string) => Promise<Uint8Array | undefined> | Uint8Array | undefined): Promise<MapProof> {
  const siblings: Hex[] = [];
  let depth = 0;
  for (;;) {
    const n = await get(positionOf(key, depth));
    if (n === undefined) return { siblings, terminal: { type: 'empty' } };
    if (isLeafNode(n)) return { siblings, terminal: { type: 'leaf', key: toHex(n.subarray(1, 33)), valueHash: toHex(n.subarray(33, 65)) } };
    const bit = keyBit(key, depth);
    const child = bit === 0 ? n.subarray(1, 33) : n.subarray(33, 65);
    siblings.push(toHex(bit === 0 ? n.subarray(33, 65) : n.subarray(1, 33)));
    depth++;
    if (bytesEqual(child, EMPTY_SUBTREE)) return { siblings, terminal: { type: 'empty' } };
  }
}

/** The whole map in memory (the audit's replay, tests, benchmarks). */
export class MemoryMap {
  private readonly nodes = new Map<string, Uint8Array>();
  private rootHash: Uint8Array = EMPTY_SUBTREE;

  get root(): Hex {
    return toHex(this.rootHash);
  }

  get nodeCount(): number {
    return this.nodes.size;
  }

  update(updates: readonly MapUpdate[]): Hex {
    const ups = normaliseUpdates(updates);
    if (ups.length === 0) return this.root;
    this.rootHash = applyUpdates((p) => this.nodes.get(p), ups, (p, n) => this.nodes.set(p, n));
    return this.root;
  }

  proof(key: Uint8Array): Promise<MapProof> {
    return buildProof(key, (p) => this.nodes.get(p));
  }
}
