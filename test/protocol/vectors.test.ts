/**
 * Runs every committed adversarial vector (test/vectors/, written by scripts/vectors/generate.ts)
 * through the fast verifier and checks the exact outcome: valid, or a ProtocolError with the
 * expected code — and, where the error compares, the expected and calculated values.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromHex, ProtocolError, verifyConsistency, verifyInclusion } from '../../node/protocol';
import {
  buildVectors,
  CONSISTENCY_VECTOR_TYPE,
  INCLUSION_VECTOR_TYPE,
  serializeVector,
  type ConsistencyVector,
  type InclusionVector,
  type VectorExpectation,
} from '../../scripts/vectors/vectors';

const DIR = resolve(__dirname, '../vectors');

function listJson(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? listJson(join(dir, d.name)) : d.name.endsWith('.json') ? [join(dir, d.name)] : [],
  );
}

const files = [...listJson(join(DIR, 'inclusion')), ...listJson(join(DIR, 'consistency'))]
  .map((abs) => ({ path: relative(DIR, abs).split('\\').join('/'), text: readFileSync(abs, 'utf8') }))
  .sort((a, b) => (a.path < b.path ? -1 : 1));

function outcome(run: () => void): VectorExpectation {
  try {
    run();
    return 'valid';
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e; // anything else is a bug, not an outcome
    const o: { code: typeof e.code; expected?: string; calculated?: string } = { code: e.code };
    if (e.expected !== undefined) o.expected = e.expected;
    if (e.calculated !== undefined) o.calculated = e.calculated;
    return o;
  }
}

function run(v: InclusionVector | ConsistencyVector): VectorExpectation {
  if (v.type === INCLUSION_VECTOR_TYPE) {
    const i = v.input;
    return outcome(() => verifyInclusion(i.leafIndex, i.treeSize, fromHex(i.leafHash), i.proof.map((h) => fromHex(h)), fromHex(i.rootHash)));
  }
  const c = v.input;
  return outcome(() => verifyConsistency(c.size1, c.size2, c.proof.map((h) => fromHex(h)), fromHex(c.root1), fromHex(c.root2)));
}

describe('adversarial proof vectors', () => {
  it('are committed in quantity, with far more negative than positive cases', () => {
    const vs = files.map((f) => JSON.parse(f.text) as InclusionVector | ConsistencyVector);
    const valid = vs.filter((v) => v.expect === 'valid').length;
    expect(files.length).toBeGreaterThan(1000);
    expect(valid).toBeGreaterThanOrEqual(30); // every happy path at least
    expect(vs.length - valid).toBeGreaterThan(10 * valid);
    for (const v of vs) expect([INCLUSION_VECTOR_TYPE, CONSISTENCY_VECTOR_TYPE]).toContain(v.type);
    // Every error code the verifiers can raise is exercised by some file.
    const codes = new Set(vs.flatMap((v) => (v.expect === 'valid' ? [] : [v.expect.code])));
    expect([...codes].sort()).toEqual(
      ['FIRST_ROOT_MISMATCH', 'INDEX_OUT_OF_RANGE', 'INVALID_INPUT', 'NOT_EXTENSION', 'PROOF_SIZE', 'ROOT_MISMATCH', 'SECOND_ROOT_MISMATCH'],
    );
  });

  it('each gives exactly its expected result', () => {
    const wrong: string[] = [];
    for (const f of files) {
      const v = JSON.parse(f.text) as InclusionVector | ConsistencyVector;
      const got = run(v);
      // Collect rather than stop at the first, so one run lists every broken case.
      if (JSON.stringify(got) !== JSON.stringify(v.expect)) wrong.push(`${f.path}: expected ${JSON.stringify(v.expect)}, got ${JSON.stringify(got)}`);
    }
    expect(wrong).toEqual([]);
  });

  it('files are exactly what scripts/vectors/generate.ts writes now', () => {
    const fresh = buildVectors().map((f) => ({ path: f.path, text: serializeVector(f.vector) }));
    fresh.sort((a, b) => (a.path < b.path ? -1 : 1));
    expect(files.map((f) => f.path)).toEqual(fresh.map((f) => f.path));
    const stale = fresh.filter((f, i) => files[i]!.text !== f.text).map((f) => f.path);
    expect(stale, 'run `npx tsx scripts/vectors/generate.ts` and commit test/vectors').toEqual([]);
  });
});
