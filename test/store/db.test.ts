import { describe, it, expect, afterEach } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, writeOps, type BatchOp, type Database } from '../../node/store/db';

describe('writeOps (chained batch)', () => {
  let db: Database | null = null;
  let dir = '';
  afterEach(async () => {
    await db?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const open = async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-db-'));
    db = await openDatabase(dir);
    return db;
  };

  it('writes puts of every encoding and deletes, as one batch', async () => {
    const d = await open();
    await d.put('gone', new Uint8Array([9]));
    const ops = [
      { type: 'put', key: 'a', value: new Uint8Array([1, 2, 3]) },
      { type: 'put', key: 'j', value: { fen: 12345, name: '发票' }, valueEncoding: 'json' },
      { type: 'put', key: 'u', value: '', valueEncoding: 'utf8' },
      { type: 'del', key: 'gone' },
    ] as BatchOp[];
    await writeOps(d, ops, { sync: true });
    expect([...(await d.get('a'))!]).toEqual([1, 2, 3]);
    expect(await d.get('j', { valueEncoding: 'json' })).toEqual({ fen: 12345, name: '发票' });
    expect(await d.get('u', { valueEncoding: 'utf8' })).toBe('');
    expect(await d.get('gone')).toBeUndefined();
  });

  it('refuses a malformed operation and writes nothing of the batch', async () => {
    const d = await open();
    const bad = [{ type: 'put', key: 'x', value: new Uint8Array([1]) }, { type: 'nope', key: 'y' }] as unknown as BatchOp[];
    await expect(writeOps(d, bad)).rejects.toThrow(/type 'put' or 'del'/);
    expect(await d.get('x')).toBeUndefined();
    const sub = [{ type: 'put', key: 'x', value: new Uint8Array([1]), sublevel: d.sublevel('s') }] as unknown as BatchOp[];
    await expect(writeOps(d, sub)).rejects.toThrow(/sublevel/);
    expect(await d.get('x')).toBeUndefined();
  });
});

describe('openDatabase write buffer', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  const tables = (dir: string): string[] => fs.readdirSync(dir).filter((f) => f.endsWith('.ldb'));
  /** 12 MiB of incompressible values in 48 synced batches of 256 KiB. */
  const fill = async (db: Database): Promise<void> => {
    for (let b = 0; b < 48; b++) {
      const ops = Array.from({ length: 64 }, (_, i) => ({ type: 'put', key: `k${String(b * 64 + i).padStart(5, '0')}`, value: crypto.getRandomValues(new Uint8Array(4096)) })) as BatchOp[];
      await writeOps(db, ops, { sync: true });
    }
  };

  it('keeps 12 MiB in memory by default (no table file yet) where a 4 MiB buffer has flushed, and loses nothing across a reopen', async () => {
    const small = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-db-wb-'));
    const large = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-db-wb-'));
    dirs.push(small, large);
    const s = await openDatabase(small, { writeBufferSize: 4 * 1024 * 1024 });
    const l = await openDatabase(large);
    await fill(s);
    await fill(l);
    // The flush of a full buffer runs in LevelDB's background thread: wait for its table file (bounded).
    for (let i = 0; i < 100 && tables(small).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(tables(small).length).toBeGreaterThan(0);
    expect(tables(large)).toEqual([]);
    await s.close();
    await l.close();
    for (const dir of [small, large]) {
      const db = await openDatabase(dir);
      let n = 0;
      for await (const [, v] of db.iterator()) {
        expect(v.length).toBe(4096);
        n++;
      }
      expect(n).toBe(48 * 64);
      await db.close();
    }
  });
});
