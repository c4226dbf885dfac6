/**
 * Bundles the browser verification page (api/page/verify-page.ts → api/static/verify.js) with esbuild.
 * Run by `npm start` and by the test setup; the output is not committed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { buildSync } from 'esbuild';

/** Builds the page; returns its path and every file esbuild read for it (absolute paths), for the build cache. */
export function buildPage(): { outfile: string; inputs: string[] } {
  const root = path.join(__dirname, '..');
  const outfile = path.join(root, 'api/static/verify.js');
  const result = buildSync({
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
    metafile: true,
    absWorkingDir: root,
    write: false,
  });
  // Written beside and renamed: a node serving the page meanwhile reads the old file or the new one, never half of one.
  const tmp = `${outfile}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, result.outputFiles[0]!.contents);
  fs.renameSync(tmp, outfile);
  // Metafile input paths are relative to absWorkingDir; some carry a namespace prefix ("ns:path"), which a build from files never has.
  const inputs = Object.keys(result.metafile.inputs).map((p) => path.resolve(root, p));
  return { outfile, inputs };
}

if (require.main === module) process.stdout.write(`built ${buildPage().outfile}\n`);
