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
