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
}

/** Position of the node at `depth` on `key`'s path: 3 hex digits of depth, then the key's first `depth` bits (rest zeroed), as hex. */
export function positionOf(key: Uint8Array, depth: number): string {
  const bytes = Math.ceil(depth / 8);
  let s = depth.toString(16).padStart(3, '0');
  for (let i = 0; i < bytes; i++) {
    let b = key[i]!;
    if (i === bytes - 1 && depth % 8 !== 0) b &= 0xff << (8 - (depth % 8));
    s += (b < 16 ? '0' : '') + b.toString(16);
  }
  return s;
}

export const isLeafNode = (n: Uint8Array): boolean => n[0] === 0;

function compareKeys(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < 32; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** Sorts updates by key and keeps the last update of each key. */
export function normaliseUpdates(updates: readonly MapUpdate[]): MapUpdate[] {
  const byKey = new Map<string, MapUpdate>();
  for (const u of updates) byKey.set(toHex(u.key), u);
  return [...byKey.values()].sort((a, b) => compareKeys(a.key, b.key));
}

/**
 * Positions an update will read, level by level: call `visit` with the positions of one depth and the
 * nodes found there; it returns the next depth's positions. Used to prefetch with one read per depth.
 */
export async function prefetch(updates: readonly MapUpdate[], read: (positions: string[]) => Promise<(Uint8Array | undefined)[]>): Promise<Map<string, Uint8Array>> {
  const found = new Map<string, Uint8Array>();
  let level: { depth: number; ups: readonly MapUpdate[] }[] = updates.length > 0 ? [{ depth: 0, ups: updates }] : [];
  while (level.length > 0) {
    const positions = level.map((l) => positionOf(l.ups[0]!.key, l.depth));
    const nodes = await read(positions);
    const next: typeof level = [];
    level.forEach((l, i) => {
      const n = nodes[i];
      if (n === undefined) return;
      found.set(positions[i]!, n);
      if (isLeafNode(n)) return;
      const [left, right] = split(l.ups, l.depth);
      // An empty child (zero hash) has nothing stored below it.
      if (left.length > 0 && !bytesEqual(n.subarray(1, 33), EMPTY_SUBTREE)) next.push({ depth: l.depth + 1, ups: left });
      if (right.length > 0 && !bytesEqual(n.subarray(33, 65), EMPTY_SUBTREE)) next.push({ depth: l.depth + 1, ups: right });
    });
    level = next;
  }
  return found;
}

function split(ups: readonly MapUpdate[], depth: number): [readonly MapUpdate[], readonly MapUpdate[]] {
  // Sorted by key: the ones with bit `depth` = 0 come first.
  let i = 0;
  while (i < ups.length && keyBit(ups[i]!.key, depth) === 0) i++;
  return [ups.slice(0, i), ups.slice(i)];
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
  return build(0, updates, get(positionOf(updates[0]!.key, 0)));

  function build(depth: number, ups: readonly MapUpdate[], existing: Uint8Array | undefined): Uint8Array {
    const pos = positionOf(ups[0]!.key, depth);
    if (existing !== undefined && isLeafNode(existing)) {
      const ek = existing.subarray(1, 33);
      if (!ups.some((u) => bytesEqual(u.key, ek))) {
        // The leaf that sat here moves down beside the new keys.
        const moved: MapUpdate = { key: ek, valueHash: existing.subarray(33, 65) };
        ups = normaliseUpdates([...ups, moved]);
      }
      existing = undefined;
    }
    let node: Uint8Array;
    if (existing === undefined) {
      if (ups.length === 1) node = mapLeafNode(ups[0]!.key, ups[0]!.valueHash);
      else {
        const [l, r] = split(ups, depth);
        node = mapInternalNode(l.length > 0 ? build(depth + 1, l, undefined) : EMPTY_SUBTREE, r.length > 0 ? build(depth + 1, r, undefined) : EMPTY_SUBTREE);
      }
    } else {
      const [l, r] = split(ups, depth);
      const lh = l.length > 0 ? build(depth + 1, l, childOf(existing, 0, l, depth)) : existing.subarray(1, 33);
      const rh = r.length > 0 ? build(depth + 1, r, childOf(existing, 1, r, depth)) : existing.subarray(33, 65);
      node = mapInternalNode(lh, rh);
    }
    put(pos, node);
    return mapNodeHash(node);
  }

  function childOf(parent: Uint8Array, side: 0 | 1, ups: readonly MapUpdate[], depth: number): Uint8Array | undefined {
    const h = side === 0 ? parent.subarray(1, 33) : parent.subarray(33, 65);
    if (bytesEqual(h, EMPTY_SUBTREE)) return undefined;
    const child = get(positionOf(ups[0]!.key, depth + 1));
    if (child === undefined) throw new Error(`state map node at depth ${depth + 1} is missing (its parent holds hash ${toHex(h)})`);
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
