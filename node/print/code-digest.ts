/**
 * The SHA-256 of the verifier's own code (checklist item 13): the digest of a `sha256sum` manifest
 * of its source files, so that an expert can recompute it with standard tools from the same
 * release (docs/report.md gives the command):
 *
 *   ( find node/protocol node/verifier node/report node/print -name '*.ts'; ls VERIFIER_FILES… ) \
 *     | LC_ALL=C sort | xargs sha256sum | sha256sum
 *
 * The page is built from the same files; scripts/build-page.ts puts this digest into it.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

/** Folders whose every .ts file is the verifier's, and the single files beside them. */
export const VERIFIER_DIRS = ['node/protocol', 'node/verifier', 'node/report', 'node/print'] as const;
export const VERIFIER_FILES = [
  'node/invoice/history.ts',
  'node/evidence/history.ts',
  'node/chain/chain-reader.ts',
  'node/chain/fetch-reader.ts',
  'node/crypto/eip191.ts',
  'node/crypto/secp256k1.ts',
  'scripts/cli/verify.ts',
  'scripts/cli/report.ts',
  'api/page/verify-page.ts',
  'api/page/tsa-loader.ts',
] as const;

/** What the digest is of, in words for the report. */
export const CODE_OF = `sha256sum manifest of ${VERIFIER_DIRS.join('/ ')}/ (*.ts) and ${VERIFIER_FILES.length} more files (docs/report.md)`;

function walk(dir: string, out: string[]): void {
  for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) walk(rel, out);
    else if (e.isFile() && e.name.endsWith('.ts')) out.push(rel);
  }
}

/** The manifest: one `<sha256>  <path>` line per file, paths in byte order (LC_ALL=C sort). */
export function verifierManifest(root = ROOT): string {
  const files: string[] = [];
  for (const d of VERIFIER_DIRS) walk(d, files);
  for (const f of VERIFIER_FILES) if (fs.existsSync(path.join(root, f))) files.push(f);
  files.sort((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b))));
  return files.map((f) => `${createHash('sha256').update(fs.readFileSync(path.join(root, f))).digest('hex')}  ${f}\n`).join('');
}

let cached: `0x${string}` | null = null;

/** SHA-256 of the manifest, 0x-hex (computed once per process). */
export function verifierCodeSha256(): `0x${string}` {
  cached ??= `0x${createHash('sha256').update(verifierManifest()).digest('hex')}`;
  return cached;
}

/** The release the code is: package.json's name and version. */
export function verifierVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}
