/**
 * The log store: an RFC 6962 / RFC 9162 §2.1 Merkle tree over LevelDB.
 *
 * What is stored (all under the `!log!` prefix, the same layout as `db.sublevel('log')`, so the
 * log's keys never collide with the sequencer's and `db.sublevel('log')` can list them):
 *   `e<index>`          the entry's bytes (JCS of the log entry), by leaf index;
 *   `n<level><index>`   the hash of every *complete* aligned subtree, once it has formed: node
 *                       (level L, index i) is MTH(D[i·2^L : (i+1)·2^L]); leaf hashes are level 0;
 *   `size`, `root`      the committed tree size (decimal) and its root (32 bytes), written in the
 *                       same batch as the entries, so a crash never separates them;
 *   `version`           the layout version ("1").
 * `<index>` is 14 lowercase hex digits (covers every safe integer), `<level>` two, so keys sort
 * in index order and a range of entries is one contiguous key range.
 *
 * Complete subtrees never change once formed (the tree is append-only), so any MTH(D[0:m]) for a
 * past size m, and every RFC 9162 proof element, is a fold of O(log n) stored nodes
 * (`perfectSubtrees`): proofs cost O(log n) reads and hashes, never O(n) rehashing.
 * In memory the store keeps only the frontier — the perfect subtrees of [0, size), one per set
 * bit of size (a "compact range") — so appending a leaf costs one leaf hash plus, amortised, one
 * node hash.
 *
 * Concurrency: appends are two-phase and strictly one at a time. `prepareAppend` computes the
 * batch without writing; the caller adds its own operations, writes ONE `db.batch(ops, {sync:true})`
 * and then calls `commit()` (or `abort()` if the batch failed). While a prepared append is
 * outstanding, another `prepareAppend` throws `APPEND_PENDING`. Reads may run at any time: they
 * only ever touch nodes of committed sizes, which are immutable.
 */
import {
  EMPTY_ROOT,
  HASH_SIZE,
  consistencyProofRanges,
  foldSubtrees,
  inclusionProofRanges,
  leafHash as hashLeaf,
  nodeHash,
  perfectSubtrees,
  verifyConsistency,
  verifyInclusion,
  splitPoint,
  type Hex,
  type InclusionProof,
  type NodeId,
  scratchBytes,
} from '../protocol';
import type { BatchOp, Database } from './db';

export const LOG_PREFIX = '!log!';
const LAYOUT_VERSION = '1';
const K_VERSION = LOG_PREFIX + 'version';
const K_SIZE = LOG_PREFIX + 'size';
const K_ROOT = LOG_PREFIX + 'root';
const INDEX_DIGITS = 14;

/** Most entries one `entries()` call returns; use `scanEntries` for longer runs. */
export const MAX_ENTRIES_PER_READ = 10_000;

export type LogStoreErrorCode =
  | 'INVALID_ARGUMENT' // caller error: not a non-negative integer, empty batch, not bytes
  | 'OUT_OF_RANGE' // index ≥ size, size beyond the log, m > n
  | 'APPEND_PENDING' // a prepared append is still outstanding
  | 'CORRUPT' // stored data missing or inconsistent
  | 'SELF_CHECK_FAILED'; // a proof we built fails our own verifier: never served

export class LogStoreError extends Error {
  override readonly name = 'LogStoreError';
  readonly code: LogStoreErrorCode;
  constructor(code: LogStoreErrorCode, message: string, opts: { cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
  }
}

export interface StoredEntry {
  index: number;
  /** The entry's bytes as appended (JCS of the log entry). */
  bytes: Uint8Array;
  leafHash: Hex;
}

export interface PreparedAppend {
  /** The store's operations: put them (plus your own) in ONE `db.batch(ops, { sync: true })`. */
  readonly ops: BatchOp[];
  /** Index of the first appended entry; entry j of the call gets index firstIndex + j. */
  readonly firstIndex: number;
  readonly leafHashes: Hex[];
  /** Tree size and root once committed. */
  readonly newSize: number;
  readonly rootHash: Hex;
  /**
   * RFC 9162 inclusion proofs of every appended leaf (entry j of the call at index firstIndex + j)
   * in the tree of `newSize`, from memory: every node they need is either on the old frontier or formed
   * by this append, so no read is made. Computed on the first call; the first and last are checked
   * with the protocol verifier (SELF_CHECK_FAILED otherwise).
   */
  inclusionProofs(): Hex[][];
  /** Call only after the batch was written: advances the in-memory tree. */
  commit(): void;
  /** Call when the batch failed (or will not be written): the store stays as it was. */
  abort(): void;
}

/** Counters for tests and benchmarks: how many stored nodes were read from LevelDB. */
export interface LogStoreStats {
  nodeReads: number;
  getManyCalls: number;
  entryReads: number;
}

function hex(bytes: Uint8Array): Hex {
  return ('0x' + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')) as Hex;
}

function pad(index: number): string {
  return index.toString(16).padStart(INDEX_DIGITS, '0');
}

function entryKey(index: number): string {
  return LOG_PREFIX + 'e' + pad(index);
}

function nodeKey(level: number, index: number): string {
  return LOG_PREFIX + 'n' + (level < 16 ? '0' : '') + level.toString(16) + pad(index);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function checkCount(name: string, v: unknown): asserts v is number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new LogStoreError('INVALID_ARGUMENT', `${name} must be a non-negative integer, got ${typeof v === 'number' ? v : JSON.stringify(v) ?? String(v)}`);
  }
}

/** MTH of [0, size) from the frontier: fold the perfect subtrees right to left (lowest level first). */
function rootOfFrontier(frontier: readonly (Uint8Array | undefined)[]): Uint8Array {
  let acc: Uint8Array | undefined;
  for (const h of frontier) {
    if (h === undefined) continue;
    acc = acc === undefined ? h : nodeHash(h, acc);
  }
  return acc ?? EMPTY_ROOT;
}

/**
 * Inclusion proofs of leaves [first, size) in the tree of `size` (RFC 9162 §2.1.3.1 PATH), from the
 * nodes in `known` (level → index → hash). Left siblings on the way down are perfect subtrees: old
 * frontier nodes or nodes formed by the append; right siblings end at `size` and, when not perfect,
 * are folded once and shared by every leaf (memo by start). Hex strings are made once per node.
 */
function groupProofs(known: readonly (Map<number, Uint8Array> | undefined)[], first: number, size: number, root: Uint8Array): Hex[][] {
  const hexOf = new Map<Uint8Array, Hex>();
  const asHex = (h: Uint8Array): Hex => {
    let x = hexOf.get(h);
    if (x === undefined) hexOf.set(h, (x = hex(h)));
    return x;
  };
  const node = (start: number, len: number): Uint8Array => {
    const level = Math.log2(len);
    const h = known[level]?.get(start / len);
    if (h === undefined) throw new LogStoreError('CORRUPT', `tree node (level ${level}, index ${start / len}) is not known to this append`);
    return h;
  };
  const edge = new Map<number, Uint8Array>();
  // MTH(D[start:size]) of a right edge: perfect and aligned, a node; else split at the largest power of two below.
  const right = (start: number): Uint8Array => {
    const len = size - start;
    if ((len & (len - 1)) === 0 && start % len === 0) return node(start, len);
    let h = edge.get(start);
    if (h === undefined) {
      const k = splitPoint(len);
      h = nodeHash(node(start, k), right(start + k));
      edge.set(start, h);
    }
    return h;
  };
  const out: Hex[][] = [];
  for (let i = first; i < size; i++) {
    const path: Hex[] = [];
    let start = 0;
    let n = size;
    let m = i;
    while (n > 1) {
      const k = splitPoint(n);
      if (m < k) {
        path.push(asHex(start + n === size ? right(start + k) : node(start + k, n - k)));
        n = k;
      } else {
        path.push(asHex(node(start, k)));
        start += k;
        m -= k;
        n -= k;
      }
    }
    out.push(path.reverse());
  }
  for (const i of new Set([first, size - 1])) {
    try {
      verifyInclusion(i, size, known[0]!.get(i)!, out[i - first]!.map((x) => Buffer.from(x.slice(2), 'hex')), root);
    } catch (err) {
      throw new LogStoreError('SELF_CHECK_FAILED', `inclusion proof for leaf ${i} of ${size} fails our own verifier: ${(err as Error).message}`, { cause: err });
    }
  }
  return out;
}

export class LogStore {
  readonly db: Database;
  readonly stats: LogStoreStats = { nodeReads: 0, getManyCalls: 0, entryReads: 0 };
  private _size: number;
  /** frontier[L] = hash of the perfect subtree at level L of [0, size) when bit L of size is set. */
  private frontier: (Uint8Array | undefined)[];
  private _root: Uint8Array;
  private pending: object | null = null;

  private constructor(db: Database, size: number, frontier: (Uint8Array | undefined)[]) {
    this.db = db;
    this._size = size;
    this.frontier = frontier;
    this._root = rootOfFrontier(frontier);
  }

  /**
   * Opens the log kept in `db` (an open database, see `openDatabase`). Rebuilds the frontier from
   * the O(log n) stored nodes of [0, size) and checks it against the stored root.
   */
  static async open(db: Database): Promise<LogStore> {
    const [version, sizeRaw, rootRaw] = await db.getMany([K_VERSION, K_SIZE, K_ROOT]);
    if (sizeRaw === undefined) return new LogStore(db, 0, []);
    const v = version === undefined ? undefined : decoder.decode(version);
    if (v !== LAYOUT_VERSION) throw new LogStoreError('CORRUPT', `log layout version ${JSON.stringify(v)} is not supported (expected ${LAYOUT_VERSION})`);
    const sizeText = decoder.decode(sizeRaw);
    const size = Number(sizeText);
    if (!/^(0|[1-9][0-9]*)$/.test(sizeText) || !Number.isSafeInteger(size)) throw new LogStoreError('CORRUPT', `stored log size ${JSON.stringify(sizeText)} is not an integer`);
    const ids = perfectSubtrees({ start: 0, end: size });
    const store = new LogStore(db, 0, []);
    const hashes = await store.fetchNodes(ids, 0, []);
    const frontier: (Uint8Array | undefined)[] = [];
    ids.forEach((id, i) => (frontier[id.level] = hashes[i]));
    const opened = new LogStore(db, size, frontier);
    opened.stats.nodeReads = store.stats.nodeReads;
    opened.stats.getManyCalls = store.stats.getManyCalls;
    if (rootRaw === undefined || hex(rootRaw) !== hex(opened._root)) {
      throw new LogStoreError('CORRUPT', `stored nodes of size ${size} give root ${hex(opened._root)}, stored root is ${rootRaw === undefined ? 'missing' : hex(rootRaw)}`);
    }
    return opened;
  }

  /** Committed tree size. */
  get size(): number {
    return this._size;
  }

  /** Root of the committed tree (no I/O). */
  get rootHash(): Hex {
    return hex(this._root);
  }

  /** True while a prepared append has been neither committed nor aborted. */
  get appendPending(): boolean {
    return this.pending !== null;
  }

  resetStats(): void {
    this.stats.nodeReads = 0;
    this.stats.getManyCalls = 0;
    this.stats.entryReads = 0;
  }

  // ---- appending ----

  /**
   * Computes the batch that appends `entries` (in order) without writing anything. See the file
   * comment for the protocol; exactly one prepared append may be outstanding at a time.
   */
  prepareAppend(entries: readonly Uint8Array[]): PreparedAppend {
    if (this.pending !== null) {
      throw new LogStoreError('APPEND_PENDING', 'a prepared append is still outstanding: commit() or abort() it before preparing another');
    }
    if (!Array.isArray(entries) || entries.length === 0) throw new LogStoreError('INVALID_ARGUMENT', 'entries must be a non-empty array of byte arrays');
    const base = this._size;
    const frontier = this.frontier.slice();
    // Every node this append can need for its proofs: the old frontier and every node it forms.
    const known: Map<number, Uint8Array>[] = [];
    const keep = (level: number, index: number, h: Uint8Array): void => {
      (known[level] ??= new Map()).set(index, h);
    };
    frontier.forEach((h, level) => {
      if (h !== undefined) keep(level, Math.floor(base / 2 ** (level + 1)) * 2, h);
    });
    const ops: BatchOp[] = [];
    const leafHashes: Hex[] = [];
    let size = base;
    for (let j = 0; j < entries.length; j++) {
      const given = entries[j];
      if (!(given instanceof Uint8Array)) throw new LogStoreError('INVALID_ARGUMENT', `entries[${j}] must be a Uint8Array`);
      // Copy: the caller may reuse its buffer before the batch is written, and the stored bytes must be the hashed bytes.
      const bytes = scratchBytes(given.length);
      bytes.set(given);
      const leaf = hashLeaf(bytes);
      ops.push({ type: 'put', key: entryKey(size), value: bytes }, { type: 'put', key: nodeKey(0, size), value: leaf });
      leafHashes.push(hex(leaf));
      keep(0, size, leaf);
      // Merge complete subtrees upward (the binary carry of size + 1): each odd index closes a pair.
      let h = leaf;
      let level = 0;
      let index = size;
      while (index % 2 === 1) {
        h = nodeHash(frontier[level]!, h);
        frontier[level] = undefined;
        level++;
        index = (index - 1) / 2;
        ops.push({ type: 'put', key: nodeKey(level, index), value: h });
        keep(level, index, h);
      }
      frontier[level] = h;
      size++;
    }
    const root = rootOfFrontier(frontier);
    ops.push({ type: 'put', key: K_SIZE, value: encoder.encode(String(size)) }, { type: 'put', key: K_ROOT, value: root });
    if (base === 0) ops.push({ type: 'put', key: K_VERSION, value: encoder.encode(LAYOUT_VERSION) });

    const token = {};
    this.pending = token;
    let state: 'open' | 'committed' | 'aborted' = 'open';
    let proofs: Hex[][] | null = null;
    return {
      ops,
      firstIndex: base,
      leafHashes,
      newSize: size,
      rootHash: hex(root),
      inclusionProofs: () => (proofs ??= groupProofs(known, base, size, root)),
      commit: () => {
        if (state !== 'open' || this.pending !== token) throw new LogStoreError('APPEND_PENDING', `this prepared append was already ${state}`);
        if (this._size !== base) throw new LogStoreError('CORRUPT', `log size moved from ${base} to ${this._size} under a prepared append`);
        this.frontier = frontier;
        this._size = size;
        this._root = root;
        this.pending = null;
        state = 'committed';
      },
      abort: () => {
        if (state !== 'open') throw new LogStoreError('APPEND_PENDING', `this prepared append was already ${state}`);
        if (this.pending === token) this.pending = null;
        state = 'aborted';
      },
    };
  }

  /** Appends and writes in one batch (with `extraOps`); returns what `prepareAppend` returned, committed. */
  async append(entries: readonly Uint8Array[], extraOps: readonly BatchOp[] = [], opts: { sync?: boolean } = {}): Promise<PreparedAppend> {
    const prepared = this.prepareAppend(entries);
    try {
      await this.db.batch<unknown, unknown>([...prepared.ops, ...extraOps], { sync: opts.sync ?? true });
    } catch (err) {
      prepared.abort();
      throw err;
    }
    prepared.commit();
    return prepared;
  }

  // ---- reading ----

  /** MTH(D[0:size]) for the current or any past size. */
  async root(size: number = this._size): Promise<Hex> {
    checkCount('size', size);
    this.checkWithinLog('size', size);
    return hex(await this.rootBytes(size));
  }

  async leafHash(index: number): Promise<Hex> {
    checkCount('index', index);
    if (index >= this._size) throw new LogStoreError('OUT_OF_RANGE', `leaf index ${index} is not below the log size ${this._size}`);
    const [h] = await this.fetchNodes([{ level: 0, index }], this._size, this.frontier);
    return hex(h!);
  }

  /**
   * RFC 9162 §2.1.3 inclusion proof of leaf `index` in the tree of `size` (default: current size),
   * checked with the protocol verifier before it is returned.
   */
  async inclusionProof(index: number, size: number = this._size): Promise<InclusionProof> {
    checkCount('index', index);
    checkCount('size', size);
    this.checkWithinLog('size', size);
    if (index >= size) throw new LogStoreError('OUT_OF_RANGE', `leaf index ${index} is not below tree size ${size}`);
    const curSize = this._size;
    const curFrontier = this.frontier;
    const curRoot = this._root;

    const ranges = inclusionProofRanges(index, size);
    const groups = ranges.map(perfectSubtrees);
    const rootIds = size === curSize ? [] : perfectSubtrees({ start: 0, end: size });
    const ids: NodeId[] = [{ level: 0, index }, ...rootIds];
    for (const g of groups) ids.push(...g);
    const hashes = await this.fetchNodes(ids, curSize, curFrontier);

    const leaf = hashes[0]!;
    const root = size === curSize ? curRoot : foldSubtrees(hashes.slice(1, 1 + rootIds.length));
    const proof: Uint8Array[] = [];
    let at = 1 + rootIds.length;
    for (const g of groups) {
      proof.push(foldSubtrees(hashes.slice(at, at + g.length)));
      at += g.length;
    }
    try {
      verifyInclusion(index, size, leaf, proof, root);
    } catch (err) {
      throw new LogStoreError('SELF_CHECK_FAILED', `inclusion proof for leaf ${index} of ${size} fails our own verifier: ${(err as Error).message}`, { cause: err });
    }
    return { leafIndex: index, treeSize: size, rootHash: hex(root), proof: proof.map(hex) };
  }

  /**
   * Inclusion proofs of several leaves in the tree of `size`, with ONE read of every node they need
   * (shared nodes once) — for pages of receipts. Each proof is as `inclusionProof` gives it; the
   * first and the last are checked with the protocol verifier (SELF_CHECK_FAILED otherwise).
   */
  async inclusionProofs(indexes: readonly number[], size: number): Promise<Hex[][]> {
    checkCount('size', size);
    this.checkWithinLog('size', size);
    if (indexes.length === 0) return [];
    const curSize = this.size;
    const curFrontier = this.frontier;
    const rootIds = size === curSize ? [] : perfectSubtrees({ start: 0, end: size });
    const ids: NodeId[] = [...rootIds];
    const plans = indexes.map((index) => {
      checkCount('index', index);
      if (index >= size) throw new LogStoreError('OUT_OF_RANGE', `leaf index ${index} is not below tree size ${size}`);
      const groups = inclusionProofRanges(index, size).map(perfectSubtrees);
      const at = ids.length;
      ids.push({ level: 0, index });
      for (const g of groups) ids.push(...g);
      return { index, at, groups };
    });
    const hashes = await this.fetchNodes(ids, curSize, curFrontier);
    const root = size === curSize ? this._root : foldSubtrees(hashes.slice(0, rootIds.length));
    const out = plans.map((p) => {
      const proof: Uint8Array[] = [];
      let at = p.at + 1;
      for (const g of p.groups) {
        proof.push(g.length === 1 ? hashes[at]! : foldSubtrees(hashes.slice(at, at + g.length)));
        at += g.length;
      }
      return proof;
    });
    for (const k of new Set([0, plans.length - 1])) {
      const p = plans[k]!;
      try {
        verifyInclusion(p.index, size, hashes[p.at]!, out[k]!, root);
      } catch (err) {
        throw new LogStoreError('SELF_CHECK_FAILED', `inclusion proof for leaf ${p.index} of ${size} fails our own verifier: ${(err as Error).message}`, { cause: err });
      }
    }
    return out.map((proof) => proof.map(hex));
  }

  /**
   * RFC 9162 §2.1.4 consistency proof from size m to size n (default: current size), checked with
   * the protocol verifier before it is returned. Empty when m is 0 or m equals n.
   */
  async consistencyProof(m: number, n: number = this._size): Promise<Hex[]> {
    checkCount('m', m);
    checkCount('n', n);
    if (m > n) throw new LogStoreError('OUT_OF_RANGE', `first size ${m} is larger than second size ${n}`);
    this.checkWithinLog('n', n);
    if (m === 0 || m === n) return [];
    const curSize = this._size;
    const curFrontier = this.frontier;
    const curRoot = this._root;

    const groups = consistencyProofRanges(m, n).map(perfectSubtrees);
    const idsM = perfectSubtrees({ start: 0, end: m });
    const idsN = n === curSize ? [] : perfectSubtrees({ start: 0, end: n });
    const ids: NodeId[] = [...idsM, ...idsN];
    for (const g of groups) ids.push(...g);
    const hashes = await this.fetchNodes(ids, curSize, curFrontier);

    const rootM = foldSubtrees(hashes.slice(0, idsM.length));
    const rootN = n === curSize ? curRoot : foldSubtrees(hashes.slice(idsM.length, idsM.length + idsN.length));
    const proof: Uint8Array[] = [];
    let at = idsM.length + idsN.length;
    for (const g of groups) {
      proof.push(foldSubtrees(hashes.slice(at, at + g.length)));
      at += g.length;
    }
    try {
      verifyConsistency(m, n, proof, rootM, rootN);
    } catch (err) {
      throw new LogStoreError('SELF_CHECK_FAILED', `consistency proof from ${m} to ${n} fails our own verifier: ${(err as Error).message}`, { cause: err });
    }
    return proof.map(hex);
  }

  /**
   * Entries [start, end) with their leaf hashes (at most MAX_ENTRIES_PER_READ). Each entry's bytes
   * are re-hashed and compared with the stored leaf hash, so corrupted storage is reported, not served.
   */
  async entries(start: number, end: number): Promise<StoredEntry[]> {
    checkCount('start', start);
    checkCount('end', end);
    if (start > end) throw new LogStoreError('OUT_OF_RANGE', `start ${start} is after end ${end}`);
    this.checkWithinLog('end', end);
    if (end - start > MAX_ENTRIES_PER_READ) throw new LogStoreError('OUT_OF_RANGE', `at most ${MAX_ENTRIES_PER_READ} entries per read, asked for ${end - start}`);
    const n = end - start;
    if (n === 0) return [];
    const keys: string[] = [];
    for (let i = start; i < end; i++) keys.push(entryKey(i));
    for (let i = start; i < end; i++) keys.push(nodeKey(0, i));
    this.stats.getManyCalls++;
    this.stats.entryReads += n;
    this.stats.nodeReads += n;
    const values = await this.db.getMany(keys);
    const out: StoredEntry[] = [];
    for (let j = 0; j < n; j++) {
      const bytes = values[j];
      const stored = values[n + j];
      const index = start + j;
      if (bytes === undefined || stored === undefined) throw new LogStoreError('CORRUPT', `entry ${index} or its leaf hash is missing from the store`);
      const leaf = hex(hashLeaf(bytes));
      if (leaf !== hex(stored)) throw new LogStoreError('CORRUPT', `entry ${index} hashes to ${leaf} but the stored leaf hash is ${hex(stored)}`);
      out.push({ index, bytes, leafHash: leaf });
    }
    return out;
  }

  /** Streams entries [start, end) (default: the whole committed log) in index order, for export and audit. */
  async *scanEntries(start = 0, end: number = this._size): AsyncGenerator<StoredEntry> {
    checkCount('start', start);
    checkCount('end', end);
    if (start > end) throw new LogStoreError('OUT_OF_RANGE', `start ${start} is after end ${end}`);
    this.checkWithinLog('end', end);
    let expected = start;
    for await (const [key, bytes] of this.db.iterator({ gte: entryKey(start), lt: entryKey(end) })) {
      const index = parseInt(key.slice(LOG_PREFIX.length + 1), 16);
      if (index !== expected) throw new LogStoreError('CORRUPT', `entry ${expected} is missing from the store (next stored entry is ${index})`);
      this.stats.entryReads++;
      yield { index, bytes, leafHash: hex(hashLeaf(bytes)) };
      expected++;
    }
    if (expected !== end) throw new LogStoreError('CORRUPT', `entries ${expected}..${end - 1} are missing from the store`);
  }

  // ---- internals ----

  private checkWithinLog(name: string, size: number): void {
    if (size > this._size) throw new LogStoreError('OUT_OF_RANGE', `${name} ${size} is beyond the log size ${this._size}`);
  }

  private async rootBytes(size: number): Promise<Uint8Array> {
    if (size === this._size) return this._root;
    if (size === 0) return EMPTY_ROOT;
    return foldSubtrees(await this.fetchNodes(perfectSubtrees({ start: 0, end: size }), this._size, this.frontier));
  }

  /**
   * Hashes of the given complete subtrees, in order: frontier nodes from memory, all others with
   * ONE `getMany` (deduplicated). Throws CORRUPT if a node that must exist is missing.
   */
  private async fetchNodes(ids: readonly NodeId[], size: number, frontier: readonly (Uint8Array | undefined)[]): Promise<Uint8Array[]> {
    const out: (Uint8Array | undefined)[] = new Array(ids.length);
    const want = new Map<string, number[]>();
    ids.forEach((id, i) => {
      const f = frontier[id.level];
      // Frontier node at level L of [0, size) has index floor(size / 2^(L+1)) · 2.
      if (f !== undefined && id.index === Math.floor(size / 2 ** (id.level + 1)) * 2) {
        out[i] = f;
        return;
      }
      const key = nodeKey(id.level, id.index);
      const at = want.get(key);
      if (at === undefined) want.set(key, [i]);
      else at.push(i);
    });
    if (want.size > 0) {
      const keys = [...want.keys()];
      this.stats.getManyCalls++;
      this.stats.nodeReads += keys.length;
      const values = await this.db.getMany(keys);
      keys.forEach((key, k) => {
        const v = values[k];
        if (v === undefined || v.length !== HASH_SIZE) {
          throw new LogStoreError('CORRUPT', `tree node ${key.slice(LOG_PREFIX.length)} is ${v === undefined ? 'missing' : `${v.length} bytes`}`);
        }
        for (const i of want.get(key)!) out[i] = v;
      });
    }
    return out as Uint8Array[];
  }
}
