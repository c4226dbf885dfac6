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

/** Opens (creating if needed) the node database at `dir` and waits until it is open. */
export async function openDatabase(dir: string): Promise<Database> {
  const db = new ClassicLevel<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' });
  try {
    await db.open();
  } catch (err) {
    throw new Error(`cannot open the node database at ${dir}: ${(err as Error).message}`, { cause: err });
  }
  return db;
}
