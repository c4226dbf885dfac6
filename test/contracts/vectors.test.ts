/**
 * The committed adversarial vectors (test/vectors/, also run against the TypeScript verifier in
 * test/protocol/vectors.test.ts) run against the contract: AnchorRegistry.verifyInclusion is true
 * exactly for the valid inclusion vectors, and `anchor` accepts exactly the valid consistency
 * vectors. Every vector whose inputs the contract can take is run (uint64 sizes, 32-byte hashes, a
 * root it can anchor first); the rest are counted, with why.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Hex } from '../../node/protocol';
import type { ConsistencyVector, InclusionVector } from '../../scripts/vectors/vectors';
import { deployFixture, freshLog, type Fixture } from './support/fixtures';

const DIR = resolve(__dirname, '../vectors');

function load<T>(sub: string): { path: string; v: T }[] {
  const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(join(dir, d.name)) : d.name.endsWith('.json') ? [join(dir, d.name)] : []));
  return walk(join(DIR, sub)).sort().map((p) => ({ path: p.slice(DIR.length + 1), v: JSON.parse(readFileSync(p, 'utf8')) as T }));
}

const U64 = 2 ** 64;
const isU64 = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 && n < U64;
const isHash = (h: unknown): h is Hex => typeof h === 'string' && /^0x[0-9a-f]{64}$/.test(h);

let f: Fixture;
beforeAll(async () => {
  f = await deployFixture();
});

describe('the JSON vectors against AnchorRegistry', () => {
  it('verifyInclusion is true exactly for the valid inclusion vectors', async () => {
    const all = load<InclusionVector>('inclusion');
    // The contract checks against an anchored checkpoint: a size of at least 1 whose root it can hold.
    const runnable = all.filter(({ v: { input: i } }) => isU64(i.leafIndex) && isU64(i.treeSize) && i.treeSize >= 1 && isHash(i.leafHash) && isHash(i.rootHash) && i.proof.every(isHash));
    // One log per (size, root): the root anchored as the log's first checkpoint.
    const logs = new Map<string, Hex>();
    for (const { v: { input: i } } of runnable) {
      const k = `${i.treeSize}|${i.rootHash}`;
      if (logs.has(k)) continue;
      const logId = await freshLog(f, 'vectors-inclusion');
      await f.asOperator.anchor({ logId, treeSize: i.treeSize, rootHash: i.rootHash, consistencyProof: [] });
      logs.set(k, logId);
    }
    const disagree: string[] = [];
    for (const { path, v } of runnable) {
      const i = v.input;
      const ok = await f.registry.verifyInclusion({ logId: logs.get(`${i.treeSize}|${i.rootHash}`)!, treeSize: i.treeSize, leafIndex: i.leafIndex, leafHash: i.leafHash, proof: i.proof });
      if (ok !== (v.expect === 'valid')) disagree.push(`${path}: contract ${ok}, vector ${JSON.stringify(v.expect)}`);
    }
    expect(disagree).toEqual([]);
    expect(runnable.length).toBeGreaterThan(450); // 476 of 660: the rest have a size of 0, a hash not of 32 bytes or an index beyond uint64
    expect(runnable.filter((r) => r.v.expect === 'valid').length).toBe(all.filter((r) => r.v.expect === 'valid').length);
  });

  it('anchor accepts exactly the valid consistency vectors', async () => {
    const all = load<ConsistencyVector>('consistency');
    // anchor(size2) after a first checkpoint anchor(size1): 0 < size1 < size2 (a size is anchored once; equal sizes are a stale anchor).
    const runnable = all.filter(({ v: { input: c } }) => isU64(c.size1) && isU64(c.size2) && c.size1 >= 1 && c.size2 > c.size1 && isHash(c.root1) && isHash(c.root2) && c.proof.every(isHash));
    const logs = new Map<string, Hex>();
    for (const { v: { input: c } } of runnable) {
      const k = `${c.size1}|${c.root1}`;
      if (logs.has(k)) continue;
      const logId = await freshLog(f, 'vectors-consistency');
      await f.asOperator.anchor({ logId, treeSize: c.size1, rootHash: c.root1, consistencyProof: [] });
      logs.set(k, logId);
    }
    const anchor = f.asOperator.contract.getFunction('anchor');
    const disagree: string[] = [];
    for (const { path, v } of runnable) {
      const c = v.input;
      // A static call: the log keeps its first checkpoint for the next vector.
      const accepted = await anchor.staticCall(logs.get(`${c.size1}|${c.root1}`)!, c.size2, c.root2, c.proof).then(() => true, () => false);
      if (accepted !== (v.expect === 'valid')) disagree.push(`${path}: contract ${accepted ? 'accepts' : 'refuses'}, vector ${JSON.stringify(v.expect)}`);
    }
    expect(disagree).toEqual([]);
    expect(runnable.length).toBeGreaterThan(350); // 382 of 602
    // The valid vectors left out are the ones the contract cannot be asked: size1 = 0 or size1 = size2.
    const validLeftOut = all.filter((r) => r.v.expect === 'valid' && !runnable.includes(r)).filter((r) => !(r.v.input.size1 === 0 || r.v.input.size1 === r.v.input.size2));
    expect(validLeftOut.map((r) => r.path)).toEqual([]);
  });
});
