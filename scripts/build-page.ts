/**
 * Bundles the browser verification page (api/page/verify-page.ts → api/static/verify.js) with esbuild.
 * Run by `npm start` and by the test setup; the output is not committed.
 *
 * An ES module with code splitting: what only some bundles need (the RFC 3161 token checks, pkijs
 * and asn1js, ~400 KB) is a chunk of its own under api/static/chunks/, fetched by the page only for
 * a bundle that carries tokens.
 */
import fs from 'node:fs';
import path from 'node:path';
import { buildSync } from 'esbuild';

export function buildPage(): string {
  const root = path.join(__dirname, '..');
  const outdir = path.join(root, 'api/static');
  fs.rmSync(path.join(outdir, 'chunks'), { recursive: true, force: true });
  buildSync({
    entryPoints: { verify: path.join(root, 'api/page/verify-page.ts') },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    splitting: true,
    outdir,
    chunkNames: 'chunks/[name]-[hash]',
    target: ['es2022'],
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
  });
  return path.join(outdir, 'verify.js');
}

if (require.main === module) process.stdout.write(`built ${buildPage()}\n`);
