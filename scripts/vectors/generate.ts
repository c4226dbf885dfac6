/**
 * Writes the adversarial proof vectors to test/vectors/{inclusion,consistency}/.
 *   npx tsx scripts/vectors/generate.ts
 * The two folders are rewritten from scratch so a removed case does not linger;
 * test/protocol/vectors.test.ts fails if the committed files differ from what this writes.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { buildVectors, serializeVector } from './vectors';

export const VECTORS_DIR = resolve(__dirname, '../../test/vectors');

function main(): void {
  const files = buildVectors();
  for (const sub of ['inclusion', 'consistency']) rmSync(join(VECTORS_DIR, sub), { recursive: true, force: true });
  for (const f of files) {
    const path = join(VECTORS_DIR, f.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, serializeVector(f.vector));
  }
  const valid = files.filter((f) => f.vector.expect === 'valid').length;
  console.log(`wrote ${files.length} vectors (${valid} valid, ${files.length - valid} invalid) under ${VECTORS_DIR}`);
}

main();
