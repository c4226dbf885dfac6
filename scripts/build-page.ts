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
import { build } from 'esbuild';
import { verifierCodeSha256, verifierVersion } from '../node/print/code-digest';

export async function buildPage(): Promise<string> {
  const root = path.join(__dirname, '..');
  const outdir = path.join(root, 'api/static');
  fs.rmSync(path.join(outdir, 'chunks'), { recursive: true, force: true });
  await build({
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
    // The court report states what verified: the release and the SHA-256 of the sources built from.
    // The RFC 3161 checks load on demand in the page (api/page/tsa-loader.ts), not with the page.
    plugins: [{
      name: 'tsa-loader',
      setup(b) {
        b.onResolve({ filter: /\/tsa-loader$/ }, (args) => (args.importer.includes(`${path.sep}node${path.sep}verifier${path.sep}`) ? { path: path.join(root, 'api/page/tsa-loader.ts') } : undefined));
      },
    }],
    define: { __TIANFU_VERSION__: JSON.stringify(verifierVersion()), __TIANFU_VERIFIER_CODE__: JSON.stringify(verifierCodeSha256()) },
    logLevel: 'warning',
  });
  return path.join(outdir, 'verify.js');
}

if (require.main === module) {
  buildPage().then(
    (out) => process.stdout.write(`built ${out}\n`),
    (err: unknown) => {
      process.stderr.write(`${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
