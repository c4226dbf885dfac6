/**
 * The node's one LevelDB database. Everything the node keeps (log tree, records, indexes, blobs
 * metadata) lives in this one database under distinct key prefixes, so that one `db.batch(ops,
 * { sync: true })` can commit a log append together with the sequencer's own records atomically.
 *
 * Keys are utf8 strings; values default to bytes (`'view'`, i.e. Uint8Array). A batch operation
 * may override either per operation (`valueEncoding: 'json'`) or target a sublevel
 * (`sublevel: db.sublevel('records')`); both are abstract-level features.
 */
import { ClassicLevel } from 'classic-level';
import type { AbstractBatchOperation } from 'abstract-level';

export type Database = ClassicLevel<string, Uint8Array>;

/** A batch operation on the node database (keys and values of any encoding the op declares). */
export type BatchOp = AbstractBatchOperation<Database, unknown, unknown>;

/**
 * LevelDB's write buffer when the caller names none: 64 MiB instead of LevelDB's 4 MiB. The node
 * writes ~3.7 KB per invoice, so at a few thousand records/s a 4 MiB memtable filled several times a
 * second, each time a new level-0 file and soon a compaction; with 64 MiB the node's CPU per record
 * fell by 15-25 % (docs/BENCH.md "LevelDB write buffer"). Memory: up to two buffers (the one being
 * filled and the one being flushed), grown as written. Durability is unchanged: every batch still goes
 * to the write-ahead log, synced when asked; a larger buffer only means a longer log to replay at open.
 */
export const DEFAULT_WRITE_BUFFER_BYTES = 64 * 1024 * 1024;

/** Opens (creating if needed) the node database at `dir` and waits until it is open. */
export async function openDatabase(dir: string, opts: { writeBufferSize?: number } = {}): Promise<Database> {
  const db = new ClassicLevel<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view', writeBufferSize: opts.writeBufferSize ?? DEFAULT_WRITE_BUFFER_BYTES });
  try {
    await db.open();
  } catch (err) {
    throw new Error(`cannot open the node database at ${dir}: ${(err as Error).message}`, { cause: err });
  }
  return db;
}

/**
 * Writes `ops` atomically, like `db.batch(ops, options)`, through a chained batch: each operation
 * goes into LevelDB's WriteBatch as it is added, and the write is one call. For the sequencer's
 * thousands of operations per group this costs a fraction of the array form, whose per-operation
 * clone-and-normalise ran at ~10 µs an operation in the invoice benchmark (measured in
 * scripts/bench/invoices-http.ts profiles: 70 ms per 1000-invoice group → ~15 ms).
 */
export async function writeOps(db: Database, ops: readonly BatchOp[], options: { sync?: boolean } = {}): Promise<void> {
  const batch = db.batch();
  try {
    for (const op of ops) {
      const o = op as { type: 'put' | 'del'; key: unknown; value?: unknown; keyEncoding?: string; valueEncoding?: string; sublevel?: unknown };
      if (o.sublevel !== undefined) throw new TypeError('writeOps does not take sublevel operations');
      const opts = o.keyEncoding === undefined && o.valueEncoding === undefined ? undefined : { keyEncoding: o.keyEncoding, valueEncoding: o.valueEncoding };
      if (o.type === 'put') batch.put(o.key as string, o.value as Uint8Array, opts as never);
      else if (o.type === 'del') batch.del(o.key as string, opts as never);
      else throw new TypeError(`a batch operation must have type 'put' or 'del', got ${JSON.stringify(o.type)}`);
    }
  } catch (err) {
    await batch.close();
    throw err;
  }
  await batch.write(options);
}
