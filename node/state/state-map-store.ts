/**
 * The state map kept in the node's LevelDB. Every group commit updates its leaves; the tree is hashed
 * once per epoch and written in the SAME `sync: true` batch as the records of the group that closes the
 * epoch (the sequencer adds `prepare()`'s operations to its one batch), so the map on disk is always
 * the map of a group boundary, never apart from the log.
 *
 * Keys (under `!smt!`):
 *   `h<position>!<epoch>`   the node written at that position in `epoch` (65 bytes): every version is
 *                           kept, the current node is the newest one, the node as of the end of epoch
 *                           e the newest one not after e
 *   `v<key>`                the subject's current leaf: {epoch, leaf} (JSON)
 *   `w<key>!<epoch>`        the leaf as it was at the end of `epoch`
 *   `r<treeSize>`           a `state.root` entry's commitment: {epoch, root, index}
 *   `meta`                  {epoch, root, size}: the map as of log size `size`
 * An *epoch* is the span between two `state.root` entries: a `state.root` entry closes the current epoch
 * (it commits to the map as of its own index) and later writes belong to the next one. A node is
 * written once per epoch that changes it, under that epoch, and never overwritten by a later epoch:
 * one put per change, where keeping a current node beside copies of its old versions took two. A
 * proof for the state root of epoch e reads, at each position, the newest version not after e: one
 * seek a level, O(depth). Leaves keep a current value and copy-on-write versions (`w`): a leaf is read
 * by key for every change of its subject. Databases of the format before (current nodes under `c`
 * with their epoch, older versions under `h`) are converted once at open (`migrate`).
 *
 * Written once per epoch, not once per group (measured: the per-group writes were most of the map's
 * cost on the write path). A group's leaves go into an in-memory overlay of what changed since the map
 * was last written; `settle` hashes them into the tree (once per epoch, when the sequencer places the
 * `state.root`, whose commitment is that root); the overlay is written in the batch of the group that
 * closes the epoch (the one that places a `state.root`), or earlier when it holds more than
 * MAX_PENDING positions, and when the sequencer closes. Each changed position is then written once per
 * epoch instead of once per group: the top levels of the tree, touched by every group, most of all.
 * What is on disk is always the map as of a group boundary (`meta.size`), written in that group's
 * batch; after a crash the node replays the log from there (`catchUp`, at open), as for a log written
 * without the map. The replay is bounded by MAX_PENDING.
 *
 * Cost per group: one read of the old leaves not in the overlay (getMany; skipped for subjects the
 * sequencer knows are new: a fresh pseudonym). Per epoch: one seek per node on the updated paths below
 * the in-memory cache and not in the overlay, the hashes of the changed nodes, one put per changed node
 * and leaf, and one more for each leaf last written in an earlier epoch.
 */
import { STATE_ROOT_KIND, isMappedKind, parseEntry, leafValueHash, mapKey, nextStateLeaf, toHex, EMPTY_MAP_ROOT, type Hex, type MapProof, type MappedEntry, type StateLeaf } from '../protocol';
import { writeOps, type BatchOp, type Database } from '../store/db';
import { MAX_ENTRIES_PER_READ, type LogStore } from '../store/log-store';
import { applyUpdates, buildProof, normaliseUpdates, prefetch, type MapUpdate } from './smt';

export const SMT_PREFIX = '!smt!';
/** The format before versioned nodes: the current node with its epoch (converted at open). */
const OLD_CUR = SMT_PREFIX + 'c';
const VERSIONS = SMT_PREFIX + 'h';
const LEAF = SMT_PREFIX + 'v';
const LEAF_HIST = SMT_PREFIX + 'w';
const ROOTS = SMT_PREFIX + 'r';
const META = SMT_PREFIX + 'meta';
/**
 * Nodes at depths below this stay in memory once read or written: at most 2^CACHE_DEPTH - 1 of them
 * (~70 bytes and a ~40-character key each, ~40 MB when full), so a map of up to ~2^17 subjects needs no
 * node reads at all and a larger one reads only the levels below.
 */
const CACHE_DEPTH = 18;
/**
 * Overlay positions (nodes and leaves) above which the next group writes the overlay out although its
 * epoch is still open (no state root for a long while: anchoring off or slow). Bounds the memory
 * (~150 bytes a position) and the replay after a crash (at most about this many entries' worth).
 */
export const MAX_PENDING = 200_000;
/** The epoch suffix of a current node (`c` value). */
const EPOCH_BYTES = 5;
const NODE_BYTES = 65;
/** The largest epoch a version key can name: `versioned(…, MAX_EPOCH)` is the newest version. */
const MAX_EPOCH = 16 ** 10 - 1;

const decoder = new TextDecoder();
const padEpoch = (e: number): string => e.toString(16).padStart(10, '0');
const padSize = (n: number): string => n.toString(16).padStart(14, '0');

export interface StateRootRecord {
  /** The log size the root describes (= the `state.root` entry's index). */
  treeSize: number;
  root: Hex;
  epoch: number;
}

interface Meta {
  epoch: number;
  root: Hex;
  /** Log size the map describes. */
  size: number;
}

export interface PreparedMapUpdate {
  readonly ops: BatchOp[];
  /** The leaves after the update, by subject. */
  readonly leaves: Map<string, StateLeaf>;
  commit(): void;
}

export interface MapChange extends MappedEntry {
  index: number;
  leafHash: Hex;
  /** The subject certainly has no earlier entry (a pseudonym drawn for this group): its old leaf is not read. */
  fresh?: boolean;
}

/** A `v` value: the leaf with the epoch it was written in; a bare leaf (older format) has its versions in `w`. */
type StoredLeaf = { epoch: number; leaf: StateLeaf } | StateLeaf;
const isWrapped = (v: StoredLeaf): v is { epoch: number; leaf: StateLeaf } => typeof (v as { epoch?: unknown }).epoch === 'number' && 'leaf' in v;
const unwrapLeaf = (v: StoredLeaf): StateLeaf => (isWrapped(v) ? v.leaf : v);

/** The epoch a current node was written in, or null for a bare node (older format: every version is in `h`). */
function epochOfNode(v: Uint8Array): number | null {
  if (v.length !== NODE_BYTES + EPOCH_BYTES) return null;
  let e = 0;
  for (let i = NODE_BYTES; i < NODE_BYTES + EPOCH_BYTES; i++) e = e * 256 + v[i]!;
  return e;
}

interface PendingLeaf {
  leaf: StateLeaf;
  base: StoredLeaf | undefined;
  /** The subject's map key, and its hex (0x…), computed once. */
  key: Uint8Array;
  hex: Hex;
}

export class StateMapStore {
  /** The map in memory (its root is current); `written` is what is on disk. */
  private meta: Meta;
  private written: Meta;
  private readonly cache = new Map<string, Uint8Array>();
  /** Changed since the last write: nodes by position, and leaves by subject. */
  private pendingNodes = new Map<string, Uint8Array>();
  private pendingLeaves = new Map<string, PendingLeaf>();
  /** Subjects whose leaf changed since the last settle (not yet hashed into the tree). */
  private readonly unhashed = new Set<string>();
  readonly stats = { nodeReads: 0, nodeWrites: 0, groups: 0, writes: 0 };

  private constructor(
    readonly db: Database,
    meta: Meta,
    private readonly maxPending: number,
  ) {
    this.meta = meta;
    this.written = meta;
  }

  /** `maxPending` (tests): the overlay's bound, MAX_PENDING by default. */
  static async open(db: Database, opts: { maxPending?: number } = {}): Promise<StateMapStore> {
    await StateMapStore.migrate(db);
    const m = (await db.get(META, { valueEncoding: 'json' })) as Meta | undefined;
    return new StateMapStore(db, m ?? { epoch: 0, root: EMPTY_MAP_ROOT, size: 0 }, opts.maxPending ?? MAX_PENDING);
  }

  /**
   * Converts the format before versioned nodes, once: each current node under `c` (65 bytes and its
   * 5-byte epoch) becomes the version of its epoch under `h`, beside the older versions already there,
   * and its `c` key goes. (A bare 65-byte `c` node, from the first format, has all its versions in `h`
   * already.) In batches, each synced; a crash part way leaves nodes in both forms, which the next
   * open finishes converting before anything reads them. Returns how many nodes were converted.
   */
  static async migrate(db: Database): Promise<number> {
    let converted = 0;
    for (;;) {
      const ops: BatchOp[] = [];
      for await (const [k, v] of db.iterator({ gte: OLD_CUR, lt: OLD_CUR + '~', limit: 10_000 })) {
        const p = k.slice(OLD_CUR.length);
        const e = epochOfNode(v);
        if (e !== null) ops.push({ type: 'put', key: VERSIONS + p + '!' + padEpoch(e), value: v.subarray(0, NODE_BYTES) } as BatchOp);
        ops.push({ type: 'del', key: k } as BatchOp);
        converted++;
      }
      if (ops.length === 0) return converted;
      await writeOps(db, ops, { sync: true });
    }
  }

  /**
   * The root as of the last `settle` (the map's root, once the leaves changed since are hashed in:
   * `currentRoot()`).
   */
  get root(): Hex {
    return this.meta.root;
  }

  /**
   * The map's root over every committed group, without changing anything (the leaves changed since the
   * last settle are hashed into a throwaway copy): for readers outside the sequencer, e.g. tests.
   */
  async currentRoot(): Promise<Hex> {
    if (this.unhashed.size === 0) return this.meta.root;
    const ups = this.unhashedUpdates();
    // A node read from disk during a concurrent write-out equals the overlay's: either is the same node.
    const view = await prefetch(ups, (positions) => this.readNodes(positions, false));
    return toHex(applyUpdates((p) => view.get(p), ups, () => undefined));
  }

  /**
   * Settles and returns the root: what a `state.root` placed now commits to. Only from the sequencer's
   * flush (one group at a time): it changes the overlay.
   */
  async settledRoot(): Promise<Hex> {
    await this.settle();
    return this.meta.root;
  }

  get epoch(): number {
    return this.meta.epoch;
  }

  /** The log size the map describes (in memory; the written map may be behind, see `writtenSize`). */
  get size(): number {
    return this.meta.size;
  }

  /** The log size the map on disk describes: where a replay after a crash starts. */
  get writtenSize(): number {
    return this.written.size;
  }

  /** Positions (nodes and leaves) changed since the map was last written. */
  get pending(): number {
    return this.pendingNodes.size + this.pendingLeaves.size;
  }

  /**
   * Hashes the leaves changed since the last settle into the tree (in the overlay): the tree is
   * computed once per epoch (at its state root), not once per group, so a node that several groups
   * change is hashed once. Works on committed groups only, so it never needs undoing.
   */
  private async settle(): Promise<void> {
    if (this.unhashed.size === 0) return;
    const ups = this.unhashedUpdates();
    const view = await prefetch(ups, (positions) => this.readNodes(positions, true));
    const changed = new Map<string, Uint8Array>();
    const rootBytes = applyUpdates((p) => view.get(p), ups, (p, n) => changed.set(p, n));
    // Merged only once the whole update succeeded: a failure part way leaves the overlay as it was.
    for (const [p, n] of changed) this.pendingNodes.set(p, n);
    this.stats.nodeWrites += changed.size;
    this.unhashed.clear();
    this.meta = { ...this.meta, root: toHex(rootBytes) };
  }

  /**
   * Applies `changes` (the group's entries of mapped kinds, in log order) to the map's leaves, after
   * closing the current epoch with a state root at `stateRootAt` when given (a `state.root` entry placed
   * before the group's other entries, at that index; its commitment is `currentRoot()`, asked for just
   * before). Returns the operations to add to the group's batch: none for most groups, the overlay
   * written out for the one that closes an epoch (or passes the bound). Nothing of the group's own
   * changes is kept until `commit()`, called once the batch is on disk. One prepared update at a time
   * (the sequencer's flush).
   */
  async prepare(changes: readonly MapChange[], newSize: number, stateRootAt?: number): Promise<PreparedMapUpdate> {
    const ops: BatchOp[] = [];
    let epoch = this.meta.epoch;
    const closing = stateRootAt !== undefined;
    const closedEpoch = epoch;
    // What is written in this batch (the committed map, settled: the epoch's close, or the bound
    // passed): the overlay's nodes and the map's meta as of this batch; null when nothing is written.
    let writtenOut: { nodes: Map<string, Uint8Array>; meta: Meta } | null = null;
    if (closing || this.pending > this.maxPending) {
      await this.settle();
      if (closing) {
        const rec: StateRootRecord = { treeSize: stateRootAt, root: this.meta.root, epoch };
        ops.push({ type: 'put', key: ROOTS + padSize(stateRootAt), value: rec, valueEncoding: 'json' } as BatchOp);
      }
      this.writeOut(ops, this.pendingNodes, this.pendingLeaves, epoch);
      writtenOut = { nodes: this.pendingNodes, meta: closing ? { epoch: epoch + 1, root: this.meta.root, size: stateRootAt + 1 } : { ...this.meta } };
      if (closing) epoch++;
    }
    const subjects = [...new Set(changes.map((c) => c.subject))];
    const fresh = new Set(changes.filter((c) => c.fresh === true).map((c) => c.subject));
    const keys = new Map<string, { key: Uint8Array; hex: Hex }>();
    for (const s of subjects) {
      const p = this.pendingLeaves.get(s);
      if (p !== undefined) keys.set(s, p);
      else {
        const key = mapKey(s);
        keys.set(s, { key, hex: toHex(key) });
      }
    }
    const toRead = subjects.filter((s) => !fresh.has(s) && !this.pendingLeaves.has(s));
    const got = toRead.length === 0 ? [] : ((await this.db.getMany(toRead.map((s) => LEAF + keys.get(s)!.hex), { valueEncoding: 'json' })) as (StoredLeaf | undefined)[]);
    const onDisk = new Map<string, StoredLeaf>();
    toRead.forEach((s, j) => {
      const v = got[j];
      if (v) onDisk.set(s, v);
    });
    const leaves = new Map<string, StateLeaf>();
    const groupLeaves = new Map<string, PendingLeaf>();
    for (const s of subjects) {
      const p = this.pendingLeaves.get(s);
      // What will be on disk for this subject once this batch is: the overlay's leaf when it is written out now.
      const base = p !== undefined ? (writtenOut !== null ? { epoch: closedEpoch, leaf: p.leaf } : p.base) : onDisk.get(s);
      if (p !== undefined) leaves.set(s, p.leaf);
      else if (base !== undefined) leaves.set(s, unwrapLeaf(base));
      const k = keys.get(s)!;
      groupLeaves.set(s, { leaf: undefined as unknown as StateLeaf, base, key: k.key, hex: k.hex });
    }
    for (const c of changes) leaves.set(c.subject, nextStateLeaf(leaves.get(c.subject), c, c.index, c.leafHash));
    for (const [s, g] of groupLeaves) g.leaf = leaves.get(s)!;
    if (writtenOut !== null) ops.push({ type: 'put', key: META, value: writtenOut.meta, valueEncoding: 'json' } as BatchOp);
    let done = false;
    return {
      ops,
      leaves,
      commit: () => {
        if (done) return;
        done = true;
        if (writtenOut !== null) {
          // Written: the overlay starts again from this group's leaves (the cache holds what was written).
          this.pendingNodes = new Map();
          this.pendingLeaves = groupLeaves;
          for (const [p, n] of writtenOut.nodes) if (depthOf(p) < CACHE_DEPTH) this.cache.set(p, n);
          this.written = writtenOut.meta;
          this.stats.writes++;
        } else {
          for (const [s, v] of groupLeaves) this.pendingLeaves.set(s, v);
        }
        for (const s of groupLeaves.keys()) this.unhashed.add(s);
        this.meta = { ...this.meta, epoch, size: newSize };
        this.stats.groups++;
      },
    };
  }

  /**
   * Writes the overlay out (the sequencer's close; nothing else may be preparing): afterwards the map on
   * disk is the map in memory, and the next open replays nothing.
   */
  async flush(): Promise<void> {
    await this.settle();
    if (this.pending === 0 && this.written.size === this.meta.size) return;
    const ops: BatchOp[] = [];
    this.writeOut(ops, this.pendingNodes, this.pendingLeaves, this.meta.epoch);
    ops.push({ type: 'put', key: META, value: this.meta, valueEncoding: 'json' } as BatchOp);
    await writeOps(this.db, ops, { sync: true });
    for (const [p, n] of this.pendingNodes) if (depthOf(p) < CACHE_DEPTH) this.cache.set(p, n);
    this.pendingNodes = new Map();
    this.pendingLeaves = new Map();
    this.written = this.meta;
    this.stats.writes++;
  }

  /** The overlay's puts at `epoch`: each node as a version of that epoch; each leaf, with a copy of the one an earlier epoch wrote. */
  private writeOut(ops: BatchOp[], nodes: Map<string, Uint8Array>, leaves: Map<string, PendingLeaf>, epoch: number): void {
    const suffix = '!' + padEpoch(epoch);
    for (const [p, node] of nodes) ops.push({ type: 'put', key: VERSIONS + p + suffix, value: node } as BatchOp);
    for (const { leaf, base, hex: key } of leaves.values()) {
      if (base !== undefined && isWrapped(base) && base.epoch < epoch) ops.push({ type: 'put', key: LEAF_HIST + key + '!' + padEpoch(base.epoch), value: base.leaf, valueEncoding: 'json' } as BatchOp);
      ops.push({ type: 'put', key: LEAF + key, value: { epoch, leaf }, valueEncoding: 'json' } as BatchOp);
    }
  }

  /**
   * Brings the map up to the log's size when the log is ahead (a node upgraded from before the map, or
   * run for a while with TIANFU_STATE_MAP=false): replays the missing entries in batches of at most
   * MAX_ENTRIES_PER_READ, each written with the map's size in one batch. A `state.root` entry met on the
   * way is recorded when it agrees with the map (and closes its epoch); one that does not is left for
   * the audit to flag. Returns how many entries were replayed.
   */
  async catchUp(log: LogStore): Promise<number> {
    let replayed = 0;
    while (this.meta.size < log.size) {
      const start = this.meta.size;
      const end = Math.min(log.size, start + MAX_ENTRIES_PER_READ);
      const rows = await log.entries(start, end);
      const changes: MapChange[] = [];
      let rootAt: number | undefined;
      let stop = end;
      for (const [j, r] of rows.entries()) {
        const e = parseEntry(JSON.parse(decoder.decode(r.bytes)));
        if (e.kind === STATE_ROOT_KIND) {
          // A state root closes the epoch before the entries after it: first in a batch, or it starts the next batch.
          if (j > 0) {
            stop = r.index;
            break;
          }
          if (e.commitment === (await this.settledRoot())) rootAt = r.index;
          continue;
        }
        if (isMappedKind(e.kind)) changes.push({ kind: e.kind, subject: e.subject, at: e.at, index: r.index, leafHash: r.leafHash });
      }
      const u = await this.prepare(changes, stop, rootAt);
      await writeOps(this.db, u.ops, { sync: true });
      u.commit();
      replayed += stop - start;
    }
    await this.flush();
    return replayed;
  }

  private unhashedUpdates(): MapUpdate[] {
    return normaliseUpdates(
      [...this.unhashed].map((s) => {
        const p = this.pendingLeaves.get(s)!;
        return { key: p.key, valueHash: leafValueHash(p.leaf), hex: p.hex.slice(2) };
      }),
    );
  }

  /** The nodes at `positions`: the overlay's, else the cache's, else from disk (kept in the cache when `cache`). */
  private async readNodes(positions: string[], cache: boolean): Promise<(Uint8Array | undefined)[]> {
    const out: (Uint8Array | undefined)[] = new Array(positions.length);
    const want: number[] = [];
    positions.forEach((p, i) => {
      const c = this.pendingNodes.get(p) ?? this.cache.get(p);
      if (c !== undefined) out[i] = c;
      else want.push(i);
    });
    if (want.length > 0) {
      this.stats.nodeReads += want.length;
      const got = await Promise.all(want.map((i) => this.versioned(VERSIONS + positions[i]! + '!', MAX_EPOCH, 'view') as Promise<Uint8Array | undefined>));
      want.forEach((i, j) => {
        const n = got[j];
        out[i] = n;
        if (cache && n !== undefined && depthOf(positions[i]!) < CACHE_DEPTH) this.cache.set(positions[i]!, n);
      });
    }
    return out;
  }

  /** The subject's current leaf (undefined when the subject has no entry). */
  async leaf(subject: string): Promise<StateLeaf | undefined> {
    const p = this.pendingLeaves.get(subject);
    if (p !== undefined) return p.leaf;
    const v = (await this.db.get(LEAF + toHex(mapKey(subject)), { valueEncoding: 'json' })) as StoredLeaf | undefined;
    return v === undefined ? undefined : unwrapLeaf(v);
  }

  /** The `state.root` commitment recorded for the entry at `treeSize`. */
  async stateRoot(treeSize: number): Promise<StateRootRecord | undefined> {
    return (await this.db.get(ROOTS + padSize(treeSize), { valueEncoding: 'json' })) as StateRootRecord | undefined;
  }

  /** The newest `state.root` record whose entry index is below `size` (the one an anchored checkpoint of that size covers). */
  async latestStateRootBelow(size: number): Promise<StateRootRecord | undefined> {
    if (size <= 0) return undefined;
    for await (const v of this.db.values({ lt: ROOTS + padSize(size), gte: ROOTS, reverse: true, limit: 1, valueEncoding: 'json' })) return v as unknown as StateRootRecord;
    return undefined;
  }

  /** The subject's leaf and map proof as of a state root's epoch: O(depth) reads. */
  async proofAt(subject: string, epoch: number): Promise<{ leaf: StateLeaf | null; proof: MapProof }> {
    const key = mapKey(subject);
    const k = toHex(key);
    const proof = await buildProof(key, (p) => this.nodeAt(p, epoch));
    const leaf = await this.leafAt(k, epoch);
    const present = proof.terminal.type === 'leaf' && proof.terminal.key === k;
    if (present !== (leaf !== undefined)) throw new Error(`state map for ${subject} at epoch ${epoch}: the ${present ? 'leaf is missing' : 'proof does not reach the stored leaf'}`);
    return { leaf: leaf ?? null, proof };
  }

  /** The node at `position` as of the end of `epoch`: the current one if written by then, else its saved version. */
  private async nodeAt(position: string, epoch: number): Promise<Uint8Array | undefined> {
    return (await this.versioned(VERSIONS + position + '!', epoch, 'view')) as Uint8Array | undefined;
  }

  private async leafAt(key: Hex, epoch: number): Promise<StateLeaf | undefined> {
    const cur = (await this.db.get(LEAF + key, { valueEncoding: 'json' })) as StoredLeaf | undefined;
    if (cur === undefined) return undefined;
    if (isWrapped(cur) && cur.epoch <= epoch) return cur.leaf;
    return (await this.versioned(LEAF_HIST + key + '!', epoch, 'json')) as StateLeaf | undefined;
  }

  private async versioned(prefix: string, epoch: number, valueEncoding: 'view' | 'json'): Promise<unknown> {
    this.stats.nodeReads++;
    for await (const v of this.db.values({ gte: prefix, lte: prefix + padEpoch(epoch), reverse: true, limit: 1, valueEncoding } as never)) return v;
    return undefined;
  }
}

function depthOf(position: string): number {
  return parseInt(position.slice(0, 3), 16);
}

