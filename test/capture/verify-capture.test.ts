/**
 * `tianfu verify <bundle> --file capture.wacz` (the CLI as a child process, the real chain) on a
 * package the node captured and deposited: valid with the capture window, final URL, origin
 * certificate fingerprint and artifact list; and one byte changed in any artifact makes it exit 1
 * with that artifact's capture-artifact row failed.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { unzipSync, zipSync } from 'fflate';
import { startTestLedger, type TestLedger } from '../support/ledger';
import { startCaptureSite, type CaptureSite } from '../support/capture-site';
import { chromiumPath, CHROMIUM_ARGS } from '../support/system-tools';
import { chromium } from 'playwright-core';
import { reportFromHtml } from '../../node/report';

const ROOT = path.resolve(__dirname, '..', '..');

function tianfu(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, 'scripts', 'tianfu.js'), ...args], { cwd: ROOT, timeout: 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The package with one byte of `entry` flipped (the zip rebuilt around it, every other entry as it was). */
function tampered(pkg: Uint8Array, entry: string): Uint8Array {
  const files = unzipSync(pkg);
  const data = new Uint8Array(files[entry]!);
  const at = Math.floor(data.length / 2);
  data[at] = data[at]! ^ 0x01;
  files[entry] = data;
  return zipSync(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, [v, { level: 0 }]])));
}

describe('tianfu verify --file capture.wacz', () => {
  let site: CaptureSite;
  let t: TestLedger;
  let dir: string;
  let bundleFile: string;
  let pkg: Uint8Array;
  let rpc: string;
  let collectorKey: string;
  beforeAll(async () => {
    site = await startCaptureSite();
    t = await startTestLedger({ TIANFU_CAPTURE_ALLOW_HOSTS: '127.0.0.1', TIANFU_CAPTURE_CA_FILE: site.caFile, TIANFU_CHROMIUM_PATH: chromiumPath() });
    rpc = t.ledger.chain.rpcUrl;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-verify-capture-'));
    const key = await t.createKey('collector');
    collectorKey = key;
    const posted = await t.api('/v1/captures', { key, body: { url: `${site.https}/redirect/1`, options: { timeoutMs: 20_000 } } });
    expect(posted.status).toBe(202);
    let job: { status: string; evidenceId?: string } = { status: 'queued' };
    const deadline = Date.now() + 60_000;
    while (job.status !== 'done' && job.status !== 'failed' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      job = (await t.api(`/v1/captures/${posted.body.captureId}`, { key })).body;
    }
    expect(job.status).toBe('done');
    await t.waitAnchored();
    const bundle = await t.api(`/v1/evidence/${job.evidenceId}/bundle`, { key });
    bundleFile = path.join(dir, 'bundle.json');
    fs.writeFileSync(bundleFile, JSON.stringify(bundle.body));
    pkg = new Uint8Array(await (await fetch(`${t.url}/v1/evidence/${job.evidenceId}/content`, { headers: { authorization: `Bearer ${key}` } })).arrayBuffer());
    fs.writeFileSync(path.join(dir, 'capture.wacz'), pkg);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await site?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is valid, and reports the window, the final URL, the origin certificate and the artifacts', async () => {
    const r = await tianfu(['verify', bundleFile, '--file', path.join(dir, 'capture.wacz'), '--rpc', rpc, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.verdict).toBe('valid');
    expect(report.capture).toMatchObject({ status: 'ok', finalUrl: `${site.https}/page`, originFingerprint256: site.certFingerprint });
    const names = report.steps.map((s: { name: string }) => s.name);
    expect(names).toEqual(expect.arrayContaining(['file-sha256', 'capture-manifest', 'capture-artifact', 'capture-datapackage', 'capture-window']));
    const { from, to } = report.capture.window;
    expect(Date.parse(from)).toBeLessThanOrEqual(Date.parse(to));
    expect(Date.parse(to)).toBeLessThanOrEqual(Date.parse(report.checkpoints[0].blockTime));
    expect(report.capture.artifacts.map((a: { path: string }) => a.path)).toEqual(expect.arrayContaining(['archive/data.warc.gz', 'tianfu/screenshot.png', 'tianfu/dom.html', 'tianfu/page.mhtml']));
    const text = await tianfu(['verify', bundleFile, '--file', path.join(dir, 'capture.wacz'), '--rpc', rpc]);
    expect(text.stdout).toContain(`origin certificate SHA-256 ${site.certFingerprint}`);
    expect(text.stdout).toMatch(/window \[\S+, \S+\]/);
  }, 60_000);

  it('the court report (--report) shows the capture in item 8, pre-chain provenance: its window on chain and final URL; a changed artifact fails the item, naming it', async () => {
    const out = path.join(dir, 'report.html');
    const r = await tianfu(['verify', bundleFile, '--file', path.join(dir, 'capture.wacz'), '--rpc', rpc, '--report', out]);
    expect(r.code, r.stderr).toBe(0);
    const court = reportFromHtml(fs.readFileSync(out, 'utf8'))!;
    const item8 = court.items[7]!;
    expect(item8.key).toBe('pre-chain-provenance');
    expect(item8.status).toBe('PASS');
    const value = (en: string) => item8.values.find((v) => v.en === en)?.value;
    expect(value('final URL')).toBe(`${site.https}/page`);
    expect(value('origin certificate SHA-256 fingerprint')).toBe(site.certFingerprint);
    const w = court.verification.capture!.window!;
    expect(value('window on chain (start block to anchoring block)')).toBe(`${w.from} – ${w.to} (block ${w.startBlock} to ${w.anchorBlock})`);
    expect(item8.steps.map((s) => s.name)).toEqual(expect.arrayContaining(['capture-manifest', 'capture-artifact', 'capture-window']));
    expect(court.items[0]!.status).toBe('PASS');
    const bad = path.join(dir, 't-report.wacz');
    fs.writeFileSync(bad, tampered(pkg, 'tianfu/screenshot.png'));
    const badOut = path.join(dir, 'report-bad.html');
    expect((await tianfu(['verify', bundleFile, '--file', bad, '--rpc', rpc, '--report', badOut])).code).toBe(1);
    const refused = reportFromHtml(fs.readFileSync(badOut, 'utf8'))!;
    expect(refused.items[7]!.status).toBe('FAIL');
    expect(refused.items[7]!.summary).toMatch(/^capture-artifact: tianfu\/screenshot\.png: /);
    expect(refused.items[0]!.status).toBe('FAIL');
  }, 120_000);

  it.each(['archive/data.warc.gz', 'indexes/index.cdx', 'pages/pages.jsonl', 'tianfu/screenshot.png', 'tianfu/dom.html', 'tianfu/page.mhtml', 'tianfu/network.json', 'tianfu/capture-log.jsonl'])('one byte changed in %s: exit 1, naming it', async (entry) => {
    const file = path.join(dir, `t-${entry.replace(/\W/g, '_')}.wacz`);
    fs.writeFileSync(file, tampered(pkg, entry));
    const r = await tianfu(['verify', bundleFile, '--file', file, '--rpc', rpc, '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.verdict).toBe('invalid');
    const failed = report.steps.filter((s: { status: string }) => s.status === 'failed');
    expect(failed.map((s: { name: string }) => s.name)).toEqual(['file-sha256', 'file-sm3', 'capture-artifact', 'capture-datapackage']);
    expect(failed[2].detail).toMatch(new RegExp(`^${entry.replace(/[./]/g, '\\$&')}: `));
    expect(report.capture.artifacts.filter((a: { status: string }) => a.status === 'failed').map((a: { path: string }) => a.path)).toEqual([entry]);
  }, 60_000);

  it('a changed manifest fails capture-manifest', async () => {
    const file = path.join(dir, 't-manifest.wacz');
    fs.writeFileSync(file, tampered(pkg, 'tianfu/manifest.json'));
    const r = await tianfu(['verify', bundleFile, '--file', file, '--rpc', rpc, '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.steps.find((s: { name: string; status: string }) => s.name === 'capture-manifest').status).toBe('failed');
  }, 60_000);

  it('the browser page agrees: valid with the capture shown, and a changed screenshot refused naming it', async () => {
    const browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
    try {
      const inPage = async (file: string): Promise<{ verdict: string | null; fingerprint: string | null; artifacts: Record<string, string> }> => {
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        await page.goto(t.url + '/');
        await page.setInputFiles('#bundle', bundleFile);
        await page.setInputFiles('#file', file);
        await page.fill('#rpc', rpc);
        await page.click('#verify');
        await page.waitForFunction(() => document.getElementById('verdict') !== null || document.getElementById('status')?.dataset.error === 'true', undefined, { timeout: 30_000 });
        const verdict = await page.locator('#verdict').getAttribute('data-verdict');
        const fingerprint = (await page.locator('#capture-fingerprint').count()) ? await page.locator('#capture-fingerprint').getAttribute('data-fingerprint') : null;
        const rows = await page.locator('#capture-artifacts li').evaluateAll((lis) => lis.map((li) => [(li as HTMLElement).dataset.path ?? '', (li as HTMLElement).dataset.status ?? '']));
        await page.close();
        expect(errors).toEqual([]);
        return { verdict, fingerprint, artifacts: Object.fromEntries(rows) };
      };
      const ok = await inPage(path.join(dir, 'capture.wacz'));
      expect(ok.verdict).toBe('valid');
      expect(ok.fingerprint).toBe(site.certFingerprint);
      expect(Object.values(ok.artifacts).every((st) => st === 'ok')).toBe(true);
      expect(Object.keys(ok.artifacts)).toContain('tianfu/screenshot.png');
      const bad = path.join(dir, 'page-tampered.wacz');
      fs.writeFileSync(bad, tampered(pkg, 'tianfu/screenshot.png'));
      const no = await inPage(bad);
      expect(no.verdict).toBe('invalid');
      expect(Object.entries(no.artifacts).filter(([, st]) => st === 'failed').map(([p]) => p)).toEqual(['tianfu/screenshot.png']);
    } finally {
      await browser.close();
    }
  }, 90_000);

  it('tianfu capture: starts the job, waits, downloads the package and the bundle, verifies them (exit 0); a failed capture exits 1, a refused target 2', async () => {
    const out = path.join(dir, 'cli-out');
    const r = await tianfu(['capture', `${site.http}/page`, '--api', t.url, '--key', collectorKey, '--case-ref', 'CASE-9', '--out', out, '--rpc', rpc, '--json']);
    expect(r.stderr).toBe('');
    const j = JSON.parse(r.stdout);
    expect(j.verification?.firstFailure ?? null).toBeNull();
    expect(r.code).toBe(0);
    expect(j.capture).toMatchObject({ status: 'done', evidenceId: expect.stringMatching(/^ev_/) });
    expect(j.verification.verdict).toBe('valid');
    expect(j.verification.capture.status).toBe('ok');
    expect(fs.existsSync(j.files.package) && fs.existsSync(j.files.bundle)).toBe(true);
    expect(path.dirname(j.files.package)).toBe(out);
    const text = await tianfu(['capture', `${site.http}/missing`, '--api', t.url, '--key', collectorKey, '--out', out, '--rpc', rpc]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/FAILED: http-status/);
    const refused = await tianfu(['capture', `${site.decoy}/page`, '--api', t.url, '--key', collectorKey, '--out', out, '--json']);
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stdout)).toMatchObject({ verdict: 'unusable', error: { code: 'CAPTURE_TARGET_FORBIDDEN' } });
    expect(site.decoyHits).toEqual([]);
  }, 120_000);
});
