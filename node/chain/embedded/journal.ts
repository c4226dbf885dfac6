/**
 * The embedded chain's block journal: every mined block (number, timestamp, hash, the raw signed
 * transactions in order) in LevelDB under `<dataDir>/chain`. Hardhat's network keeps its state in
 * memory only; the journal is what makes the chain survive a stop. Every write is `sync: true`
 * (fsync before the promise resolves), because the embedded chain acknowledges a transaction only
 * after its block is on disk.
 *
 * Layout (keys are UTF-8 strings, values JSON):
 *   `meta`            → JournalMeta (written once, with the first start)
 *   `b/<16 digits>`   → JournalBlock, the zero-padded decimal block number keeps keys in chain order
 */
import { ClassicLevel } from 'classic-level';
import type { Hex } from '../../protocol/bytes';
import { isHex } from '../../protocol/bytes';
import { EmbeddedChainError } from './errors';

export const JOURNAL_FORMAT = 'tianfu.chain-journal/v1';

export interface JournalMeta {
  format: typeof JOURNAL_FORMAT;
  chainId: number;
  hardfork: string;
  genesisHash: Hex;
  createdAt: string;
}

export interface JournalBlock {
  number: number;
  /** Block timestamp in seconds since the epoch. */
  timestamp: number;
  hash: Hex;
  /** Raw signed transactions (EIP-2718 envelopes), in block order. */
  txs: Hex[];
}

const BLOCK_PREFIX = 'b/';
const BLOCK_END = 'b0'; // '0' sorts right after '/'
const blockKey = (n: number): string => BLOCK_PREFIX + String(n).padStart(16, '0');

export class BlockJournal {
  private constructor(private readonly db: ClassicLevel<string, string>) {}

  static async open(location: string): Promise<BlockJournal> {
    const db = new ClassicLevel<string, string>(location, { valueEncoding: 'utf8' });
    try {
      await db.open();
    } catch (cause) {
      throw new EmbeddedChainError('JOURNAL_UNREADABLE', `cannot open the chain journal at ${location} (is another process using it?)`, { cause });
    }
    return new BlockJournal(db);
  }

  async readMeta(): Promise<JournalMeta | undefined> {
    const raw = await this.db.get('meta');
    if (raw === undefined) return undefined;
    const meta = parseJson(raw, 'meta') as JournalMeta;
    if (meta.format !== JOURNAL_FORMAT) {
      throw new EmbeddedChainError('JOURNAL_UNREADABLE', `chain journal format is ${JSON.stringify(meta.format)}, this node reads ${JOURNAL_FORMAT}`);
    }
    return meta;
  }

  async writeMeta(meta: JournalMeta): Promise<void> {
    await this.db.put('meta', JSON.stringify(meta), { sync: true });
  }

  /** Appends blocks in one synced batch: either all of them are durable or none. */
  async append(blocks: readonly JournalBlock[]): Promise<void> {
    if (blocks.length === 0) return;
    await this.db.batch(
      blocks.map((b) => ({ type: 'put' as const, key: blockKey(b.number), value: JSON.stringify(b) })),
      { sync: true },
    );
  }

  /** Drops every block above `number` (a dev-mode `evm_revert`). */
  async truncateAbove(number: number): Promise<number> {
    const keys: string[] = [];
    for await (const key of this.db.keys({ gt: blockKey(number), lt: BLOCK_END })) keys.push(key);
    if (keys.length > 0) await this.db.batch(keys.map((key) => ({ type: 'del' as const, key })), { sync: true });
    return keys.length;
  }

  async get(number: number): Promise<JournalBlock | undefined> {
    const raw = await this.db.get(blockKey(number));
    return raw === undefined ? undefined : parseBlock(raw, number);
  }

  async head(): Promise<JournalBlock | undefined> {
    for await (const [key, raw] of this.db.iterator({ gte: BLOCK_PREFIX, lt: BLOCK_END, reverse: true, limit: 1 })) {
      return parseBlock(raw, Number(key.slice(BLOCK_PREFIX.length)));
    }
    return undefined;
  }

  /** Every journaled block in chain order; checks that numbers are contiguous from 1. */
  async *blocks(): AsyncGenerator<JournalBlock> {
    let expected = 1;
    for await (const [key, raw] of this.db.iterator({ gte: BLOCK_PREFIX, lt: BLOCK_END })) {
      const number = Number(key.slice(BLOCK_PREFIX.length));
      if (number !== expected) {
        throw new EmbeddedChainError('JOURNAL_MISMATCH', `chain journal has a gap: expected block ${expected}, found block ${number}`);
      }
      yield parseBlock(raw, number);
      expected++;
    }
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

function parseJson(raw: string, what: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (cause) {
    throw new EmbeddedChainError('JOURNAL_MISMATCH', `chain journal entry ${what} is not JSON`, { cause });
  }
}

function parseBlock(raw: string, number: number): JournalBlock {
  const b = parseJson(raw, `block ${number}`) as Partial<JournalBlock>;
  const ok =
    b.number === number &&
    Number.isSafeInteger(b.timestamp) &&
    isHex(b.hash, 32) &&
    Array.isArray(b.txs) &&
    b.txs.every((tx) => isHex(tx) && tx.length > 2);
  if (!ok) throw new EmbeddedChainError('JOURNAL_MISMATCH', `chain journal entry for block ${number} is malformed: ${raw.slice(0, 200)}`);
  return b as JournalBlock;
}
