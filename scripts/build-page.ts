/**
 * Bundles the browser verification page (api/page/verify-page.ts → api/static/verify.js) with esbuild.
 * Run by `npm start` and by the test setup (through scripts/build.ts and its cache); the output is not
 * committed.
 *
 * An ES module with code splitting: what only some verifications need is a chunk of its own under
 * api/static/chunks/ — the RFC 3161 token checks (pkijs and asn1js, ~400 KB), fetched only for a
 * bundle that carries tokens, and the court report (builder, renderer, QR encoder), fetched when
 * "download report" is clicked.
 */
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { VERIFIER_DIRS, VERIFIER_FILES, verifierCodeSha256, verifierVersion } from '../node/print/code-digest';

const ROOT = path.join(__dirname, '..');

/** The verifier's source files (the code digest the page states is theirs), absolute paths. */
function verifierSources(): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) out.push(p);
    }
  };
  for (const d of VERIFIER_DIRS) walk(path.join(ROOT, d));
  for (const f of VERIFIER_FILES) if (fs.existsSync(path.join(ROOT, f))) out.push(path.join(ROOT, f));
  return out;
}

/**
 * Builds the page; returns its entry (`outfile`), every file written (`outputs`: the entry and its
 * chunks) and every file the result depends on (`inputs`: what esbuild read, and the verifier's
 * sources whose digest is written into it), absolute paths, for the build cache.
 */
export async function buildPage(): Promise<{ outfile: string; outputs: string[]; inputs: string[] }> {
  const outdir = path.join(ROOT, 'api/static');
  const result = await build({
    entryPoints: { verify: path.join(ROOT, 'api/page/verify-page.ts') },
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
    write: false,
    metafile: true,
    // The RFC 3161 checks load on demand in the page (api/page/tsa-loader.ts), not with the page.
    plugins: [{
      name: 'tsa-loader',
      setup(b) {
        b.onResolve({ filter: /\/tsa-loader$/ }, (args) => (args.importer.includes(`${path.sep}node${path.sep}verifier${path.sep}`) ? { path: path.join(ROOT, 'api/page/tsa-loader.ts') } : undefined));
      },
    }],
    // The court report states what verified: the release and the SHA-256 of the sources built from.
    define: { __TIANFU_VERSION__: JSON.stringify(verifierVersion()), __TIANFU_VERIFIER_CODE__: JSON.stringify(verifierCodeSha256()) },
  });
  // Chunks first, the entry last, each written beside and renamed: a node serving the page meanwhile
  // reads the old entry (whose chunks are still there) or the new one, never half of a file.
  const files = [...result.outputFiles].sort((a, b) => Number(a.path === path.join(outdir, 'verify.js')) - Number(b.path === path.join(outdir, 'verify.js')));
  for (const f of files) {
    fs.mkdirSync(path.dirname(f.path), { recursive: true });
    const tmp = `${f.path}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, f.contents);
    fs.renameSync(tmp, f.path);
  }
  // Chunks of earlier builds that nothing refers to any more.
  const written = new Set(files.map((f) => f.path));
  const chunkDir = path.join(outdir, 'chunks');
  for (const name of fs.existsSync(chunkDir) ? fs.readdirSync(chunkDir) : []) if (!written.has(path.join(chunkDir, name))) fs.rmSync(path.join(chunkDir, name), { force: true });
  // Metafile input paths are relative to absWorkingDir; some carry a namespace prefix ("ns:path"), which a build from files never has.
  const inputs = [...new Set([...Object.keys(result.metafile.inputs).map((p) => path.resolve(ROOT, p)), ...verifierSources()])];
  return { outfile: path.join(outdir, 'verify.js'), outputs: files.map((f) => f.path), inputs };
}

if (require.main === module) {
  buildPage().then(
    (r) => process.stdout.write(`built ${r.outfile} (${r.outputs.length} files)\n`),
    (err: unknown) => {
      process.stderr.write(`${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
