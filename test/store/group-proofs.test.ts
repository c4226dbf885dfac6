/**
 * PreparedAppend.inclusionProofs (receipts v2): the proofs of a group's leaves to the tree after the
 * group, built from memory during the append, are exactly the proofs the log store serves from disk
 * afterwards, for any size before the group and any group size.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { openDatabase, type Database } from '../../node/store/db';
import { LogStore } from '../../node/store/log-store';
import { fromHex, verifyInclusion } from '../../node/protocol';

const entry = (i: number): Uint8Array => new TextEncoder().encode(`{"i":${i}}`);

describe('group inclusion proofs from memory', () => {
  let dir: string;
  let db: Database;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-group-proofs-'));
  });
  afterAll(async () => {
    await db?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('equal the stored proofs and verify, for random sequences of group sizes', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 70 }), { minLength: 1, maxLength: 8 }), async (groups) => {
        await db?.close();
        db = await openDatabase(path.join(dir, `db${run++}`));
        const log = await LogStore.open(db);
        let n = 0;
        for (const g of groups) {
          const prepared = log.prepareAppend(Array.from({ length: g }, (_, j) => entry(n + j)));
          const proofs = prepared.inclusionProofs();
          await db.batch(prepared.ops as never, { sync: false });
          prepared.commit();
          expect(proofs).toHaveLength(g);
          for (let j = 0; j < g; j++) {
            const served = await log.inclusionProof(n + j, prepared.newSize);
            expect(proofs[j]).toEqual(served.proof);
            verifyInclusion(n + j, prepared.newSize, fromHex(prepared.leafHashes[j]!, 32), proofs[j]!.map((h) => fromHex(h, 32)), fromHex(prepared.rootHash, 32));
          }
          n += g;
        }
      }),
      { numRuns: 40 },
    );
  });

  it('inclusionProofs (pages of receipts) equal inclusionProof one by one, at the current and at past sizes', async () => {
    await db?.close();
    db = await openDatabase(path.join(dir, 'pages'));
    const log = await LogStore.open(db);
    await log.append(Array.from({ length: 777 }, (_, i) => entry(i)));
    for (const size of [777, 500, 129, 1]) {
      const indexes = [0, 1, 2, size - 1, Math.floor(size / 2), Math.floor(size / 3)].filter((i, k, a) => i < size && a.indexOf(i) === k);
      const many = await log.inclusionProofs(indexes, size);
      for (let k = 0; k < indexes.length; k++) expect(many[k]).toEqual((await log.inclusionProof(indexes[k]!, size)).proof);
    }
    await expect(log.inclusionProofs([777], 777)).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
  });

  it('a single leaf appended to the empty log has the empty proof', async () => {
    await db?.close();
    db = await openDatabase(path.join(dir, 'single'));
    const log = await LogStore.open(db);
    const p = log.prepareAppend([entry(0)]);
    expect(p.inclusionProofs()).toEqual([[]]);
    p.abort();
  });
});
