/**
 * Builds what the node serves and loads at run time: the contract artifacts (Hardhat compile, solc
 * from npm) and the browser verification page (esbuild). `npm start` and the test set-up run it.
 *
 * The first build on a fresh clone compiles the contracts with solc (~30 s on 2 cores; most of a first
 * start) and bundles the page. Both results are cached between starts: `cache/tianfu-build.json`
 * holds a fingerprint of what each was built from (the Solidity sources, hardhat.config.ts and the
 * versions of hardhat, solc and the imported contract packages; every file esbuild read for the page),
 * and a step whose inputs and outputs are unchanged is skipped without loading Hardhat or esbuild.
 * Each step says on stderr what it does and how long it took. TIANFU_BUILD_FORCE=1 rebuilds both.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.join(__dirname, '..');
const STAMP = path.join(ROOT, 'cache', 'tianfu-build.json');
const STAMP_FORMAT = 'tianfu.build-stamp/v1';

interface Stamp {
  format: typeof STAMP_FORMAT;
  contracts?: { fingerprint: string; outputs: string[] };
  /** output: the page's entry (verify.js); chunks: the files it imports (api/static/chunks/), each with its SHA-256. */
  page?: { inputs: Record<string, string>; output: string; outputSha256: string; chunks?: Record<string, string> };
}

const say = (line: string): void => void process.stderr.write(`build: ${line}\n`);
const sha256 = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');
const rel = (p: string): string => path.relative(ROOT, p).split(path.sep).join('/');

function readStamp(): Stamp {
  try {
    const s = JSON.parse(fs.readFileSync(STAMP, 'utf8')) as Stamp;
    return s.format === STAMP_FORMAT ? s : { format: STAMP_FORMAT };
  } catch {
    return { format: STAMP_FORMAT };
  }
}

function writeStamp(s: Stamp): void {
  fs.mkdirSync(path.dirname(STAMP), { recursive: true });
  const tmp = `${STAMP}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(s, null, 2) + '\n');
  fs.renameSync(tmp, STAMP);
}

function filesUnder(dir: string, ext: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && d.name.endsWith(ext))
    .map((d) => path.join(d.parentPath, d.name))
    .sort();
}

function packageVersion(name: string): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'missing';
  }
}

/** What the artifacts are compiled from: every .sol under contracts/, the config, and the compiler and library versions. */
function contractsFingerprint(): string {
  const h = createHash('sha256');
  for (const f of [...filesUnder(path.join(ROOT, 'contracts'), '.sol'), path.join(ROOT, 'hardhat.config.ts')]) {
    h.update(rel(f)).update('\0').update(fs.readFileSync(f)).update('\0');
  }
  for (const pkg of ['hardhat', 'solc', '@openzeppelin/contracts', '@ethereum-attestation-service/eas-contracts']) h.update(`${pkg}@${packageVersion(pkg)}\0`);
  return h.digest('hex');
}

async function buildContracts(stamp: Stamp, force: boolean): Promise<void> {
  const fingerprint = contractsFingerprint();
  const cached = stamp.contracts;
  if (!force && cached?.fingerprint === fingerprint && cached.outputs.length > 0 && cached.outputs.every((o) => fs.existsSync(path.join(ROOT, o)))) {
    say(`contracts: up to date (${cached.outputs.length} artifacts, cached; sources unchanged)`);
    return;
  }
  const first = !fs.existsSync(path.join(ROOT, 'artifacts'));
  say(`contracts: compiling with solc ${packageVersion('solc')}${first ? ' (first build: about 30 s on 2 cores)' : ''}…`);
  const t0 = Date.now();
  const hre = require('hardhat') as { run(task: string, args?: object): Promise<unknown> };
  await hre.run('compile', { quiet: true });
  const outputs = filesUnder(path.join(ROOT, 'artifacts'), '.json')
    .filter((f) => !f.endsWith('.dbg.json') && !f.includes(`${path.sep}build-info${path.sep}`))
    .map(rel);
  stamp.contracts = { fingerprint, outputs };
  writeStamp(stamp);
  say(`contracts: compiled in ${((Date.now() - t0) / 1000).toFixed(1)} s (${outputs.length} artifacts)`);
}

function pageUpToDate(cached: Stamp['page']): boolean {
  if (!cached) return false;
  const out = path.join(ROOT, cached.output);
  if (!fs.existsSync(out) || sha256(fs.readFileSync(out)) !== cached.outputSha256) return false;
  if (!cached.chunks) return false;
  for (const [f, digest] of [...Object.entries(cached.chunks), ...Object.entries(cached.inputs)]) {
    const p = path.join(ROOT, f);
    if (!fs.existsSync(p) || sha256(fs.readFileSync(p)) !== digest) return false;
  }
  return true;
}

async function buildPageStep(stamp: Stamp, force: boolean): Promise<void> {
  if (!force && pageUpToDate(stamp.page)) {
    say(`page: up to date (${stamp.page!.output}, cached; ${Object.keys(stamp.page!.inputs).length} inputs unchanged)`);
    return;
  }
  say('page: bundling the browser verification page…');
  const t0 = Date.now();
  // Loaded only when needed: esbuild is part of what a cached start skips.
  const { buildPage } = require('./build-page') as typeof import('./build-page');
  const { outfile, outputs, inputs } = await buildPage();
  stamp.page = {
    inputs: Object.fromEntries(inputs.map((f) => [rel(f), sha256(fs.readFileSync(f))])),
    output: rel(outfile),
    outputSha256: sha256(fs.readFileSync(outfile)),
    chunks: Object.fromEntries(outputs.filter((f) => f !== outfile).map((f) => [rel(f), sha256(fs.readFileSync(f))])),
  };
  writeStamp(stamp);
  say(`page: bundled in ${((Date.now() - t0) / 1000).toFixed(1)} s (${fs.statSync(outfile).size} bytes)`);
}

async function main(): Promise<void> {
  const force = process.env.TIANFU_BUILD_FORCE === '1';
  const stamp = readStamp();
  await buildContracts(stamp, force);
  await buildPageStep(stamp, force);
}

main().catch((err: unknown) => {
  process.stderr.write(`build failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
