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
import { chromiumPath } from '../support/system-tools';

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
  beforeAll(async () => {
    site = await startCaptureSite();
    t = await startTestLedger({ TIANFU_CAPTURE_ALLOW_HOSTS: '127.0.0.1', TIANFU_CAPTURE_CA_FILE: site.caFile, TIANFU_CHROMIUM_PATH: chromiumPath() });
    rpc = t.ledger.chain.rpcUrl;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-verify-capture-'));
    const key = await t.createKey('collector');
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
});
