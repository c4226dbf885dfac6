/**
 * The capture package (docs/capture.md, "Verification"): when the file given is the node's own capture
 * (a WACZ whose deposit record has `capture`), the package is checked link by link:
 *
 *   capture-manifest     tianfu/manifest.json's SHA-256, SM3 and size are the deposit record's
 *                        `capture.manifest`; it is a tianfu.capture/v1 manifest of that capture id
 *   capture-artifact     one row per artifact the manifest lists: present, size, SHA-256 and SM3 equal
 *                        (a failing row names the artifact)
 *   capture-datapackage  WACZ's own hashes: every datapackage.json resource against its file, and
 *                        datapackage-digest.json against datapackage.json
 *   capture-window       (chain) the start block's hash is the chain's at that number; the window is
 *                        [that block's time, the anchoring block's time]
 *
 * The package's files come in through `opts.capture` (indexCapturePackage, digested by the caller's
 * hashers), like the file's digests through `opts.file`.
 */
import { CAPTURE_MANIFEST_FORMAT, CAPTURE_MANIFEST_PATH, type CaptureManifest } from '../../protocol/capture-package';
import { eqHex, isoOf, read as readChain, type BundleContext, type BundleStep } from '../context';
import type { CaptureSummary, StepStatus } from '../types';

function captureRef(ctx: BundleContext): { captureId: string; attempt: number; manifest: { sha256: string; sm3: string; size: number } } | null {
  const rec = ctx.b.items[0]?.record as { capture?: unknown } | null | undefined;
  const c = rec?.capture as { captureId: string; attempt: number; manifest: { sha256: string; sm3: string; size: number } } | undefined;
  return c && typeof c === 'object' && c.manifest ? c : null;
}

function add(ctx: BundleContext, name: 'capture-manifest' | 'capture-artifact' | 'capture-datapackage' | 'capture-window', status: StepStatus, detail: string, ev: { expected?: string; calculated?: string } = {}): void {
  ctx.steps.add({ name, status, detail, ...ev });
  if (ctx.capture) {
    if (status === 'failed') ctx.capture.status = 'failed';
    else if (status === 'pending' && ctx.capture.status === 'ok') ctx.capture.status = 'pending';
  }
}

export const capturePackageStep: BundleStep = {
  name: 'capture-manifest',
  run(ctx) {
    const pkg = ctx.opts.capture;
    if (!pkg || ctx.b.kind !== 'evidence') return;
    const ref = captureRef(ctx);
    ctx.capture = { status: 'ok', captureId: ref?.captureId ?? null, finalUrl: null, window: null, originFingerprint256: null, artifacts: [] };
    if (pkg.error) return add(ctx, 'capture-manifest', 'failed', `the file given is not a capture package: ${pkg.error}`);
    if (!ref) return add(ctx, 'capture-manifest', 'failed', 'the deposit record names no capture: this deposit is not a capture made by the node');
    const got = pkg.entries[CAPTURE_MANIFEST_PATH];
    if (!got || pkg.manifestText === null) return add(ctx, 'capture-manifest', 'failed', `the package has no ${CAPTURE_MANIFEST_PATH}`);
    for (const [alg, want, have] of [['SHA-256', ref.manifest.sha256, got.sha256], ['SM3', ref.manifest.sm3, got.sm3]] as const) {
      if (!eqHex(want, have)) return add(ctx, 'capture-manifest', 'failed', `the manifest's ${alg} differs from the one the deposit record commits to: the manifest was changed`, { expected: want, calculated: have });
    }
    if (ref.manifest.size !== got.size) return add(ctx, 'capture-manifest', 'failed', 'the manifest\'s size differs from the deposit record\'s', { expected: String(ref.manifest.size), calculated: String(got.size) });
    let m: CaptureManifest;
    try {
      m = JSON.parse(pkg.manifestText) as CaptureManifest;
    } catch {
      return add(ctx, 'capture-manifest', 'failed', 'the manifest is not JSON');
    }
    if (m.format !== CAPTURE_MANIFEST_FORMAT || m.captureId !== ref.captureId || !Array.isArray(m.artifacts)) {
      return add(ctx, 'capture-manifest', 'failed', `the manifest is not a ${CAPTURE_MANIFEST_FORMAT} manifest of capture ${ref.captureId}`);
    }
    ctx.capture.finalUrl = m.page?.finalUrl ?? null;
    ctx.capture.originFingerprint256 = m.originTls?.fingerprint256 ?? null;
    ctx.capture.manifest = m;
    add(ctx, 'capture-manifest', 'ok', `tianfu/manifest.json is the one the deposit record commits to (capture ${ref.captureId}, attempt ${ref.attempt})`, { expected: ref.manifest.sha256, calculated: got.sha256 });

    for (const a of m.artifacts) {
      const f = pkg.entries[a.path];
      const row = { path: a.path, mediaType: a.mediaType, size: a.size, sha256: a.sha256, sm3: a.sm3, status: 'ok' as StepStatus };
      ctx.capture.artifacts.push(row);
      const bad = (why: string, ev: { expected?: string; calculated?: string } = {}): void => {
        row.status = 'failed';
        add(ctx, 'capture-artifact', 'failed', `${a.path}: ${why}`, ev);
      };
      if (!f) bad('listed in the manifest but missing from the package');
      else if (f.size !== a.size) bad('its size differs from the manifest\'s: the artifact was changed', { expected: String(a.size), calculated: String(f.size) });
      else if (!eqHex(f.sha256, a.sha256)) bad('its SHA-256 differs from the manifest\'s: the artifact was changed', { expected: a.sha256, calculated: f.sha256 });
      else if (!eqHex(f.sm3, a.sm3)) bad('its SM3 differs from the manifest\'s: the artifact was changed', { expected: a.sm3, calculated: f.sm3 });
      else add(ctx, 'capture-artifact', 'ok', `${a.path} (${a.mediaType}, ${a.size} bytes) is the manifest's`, { expected: a.sha256, calculated: f.sha256 });
    }

    // WACZ's own integrity data (what ReplayWeb.page and other WACZ tools check).
    let dp: { resources?: { path: string; hash: string; bytes: number }[] };
    try {
      dp = JSON.parse(pkg.datapackageText ?? 'null') as typeof dp;
    } catch {
      return add(ctx, 'capture-datapackage', 'failed', 'datapackage.json is not JSON');
    }
    if (!dp || !Array.isArray(dp.resources)) return add(ctx, 'capture-datapackage', 'failed', 'the package has no datapackage.json with resources (not a WACZ)');
    for (const r of dp.resources) {
      const f = pkg.entries[r.path];
      const want = `sha256:${(f?.sha256 ?? '').replace(/^0x/, '')}`;
      if (!f || r.hash !== want || r.bytes !== f.size) return add(ctx, 'capture-datapackage', 'failed', `datapackage.json: ${r.path} ${f ? 'differs from its hash or size there' : 'is missing'}`, { expected: r.hash, calculated: f ? want : 'missing' });
    }
    const dpFile = pkg.entries['datapackage.json'];
    try {
      const d = JSON.parse(pkg.datapackageDigestText ?? 'null') as { hash?: string } | null;
      if (d && dpFile && d.hash !== `sha256:${dpFile.sha256.replace(/^0x/, '')}`) return add(ctx, 'capture-datapackage', 'failed', 'datapackage-digest.json does not match datapackage.json', { expected: d.hash, calculated: `sha256:${dpFile.sha256.slice(2)}` });
    } catch {
      return add(ctx, 'capture-datapackage', 'failed', 'datapackage-digest.json is not JSON');
    }
    add(ctx, 'capture-datapackage', 'ok', `every one of the ${dp.resources.length} resources of datapackage.json matches its file`);
  },
};

export const captureWindowStep: BundleStep = {
  name: 'capture-window',
  needsChain: true,
  async run(ctx) {
    const m = ctx.capture?.manifest;
    if (!ctx.capture || !m || !ctx.chain) return;
    const start = m.chainStart;
    let number: bigint;
    try {
      number = BigInt(start.number);
    } catch {
      return add(ctx, 'capture-window', 'failed', `the manifest's start block number ${JSON.stringify(start.number)} is not a number`);
    }
    const blk = await readChain(`block ${start.number}`, () => ctx.chain!.getBlock(number));
    if (!blk) return add(ctx, 'capture-window', 'failed', `the chain has no block ${start.number}: the start block is not this chain's`);
    if (!eqHex(blk.hash, start.hash)) return add(ctx, 'capture-window', 'failed', `the chain's block ${start.number} is not the manifest's start block`, { expected: start.hash, calculated: blk.hash });
    const anchor = ctx.b.items[0]?.anchor;
    const group = ctx.groups.find((g) => g.anchor.treeSize === anchor?.treeSize);
    const from = isoOf(blk.timestamp);
    if (!anchor || !group) {
      ctx.capture.window = { from, to: null, startBlock: start.number, anchorBlock: null };
      return add(ctx, 'capture-window', 'pending', `the capture is not earlier than block ${start.number} (${from}); the deposit is not anchored yet, so the window has no end`);
    }
    const ab = await readChain(`block ${anchor.blockNumber}`, () => ctx.chain!.getBlock(BigInt(anchor.blockNumber)));
    const to = ab ? isoOf(ab.timestamp) : null;
    ctx.capture.window = { from, to, startBlock: start.number, anchorBlock: anchor.blockNumber };
    add(ctx, 'capture-window', 'ok', `the capture happened in [${from}, ${to}]: after block ${start.number} (its hash is the chain's) and before the deposit's anchoring block ${anchor.blockNumber}`, { expected: start.hash, calculated: blk.hash });
  },
};

export type { CaptureSummary };
