/**
 * Bundles the browser verification page (api/page/verify-page.ts → api/static/verify.js) with esbuild.
 * Run by `npm start` and by the test setup; the output is not committed.
 */
import path from 'node:path';
import { buildSync } from 'esbuild';

export function buildPage(): string {
  const root = path.join(__dirname, '..');
  const outfile = path.join(root, 'api/static/verify.js');
  buildSync({
    entryPoints: [path.join(root, 'api/page/verify-page.ts')],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: ['es2022'],
    outfile,
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
  });
  return outfile;
}

if (require.main === module) process.stdout.write(`built ${buildPage()}\n`);
