/**
 * The court report (tianfu.report/v1) end to end on a real node that has everything a court can ask
 * about: a real RFC 3161 TSA (openssl ts -reply), the operator's disclosures (TIANFU_OPERATOR_PROFILE),
 * a deposit signed by its collector with custody events. The same report from `tianfu verify --report`
 * (HTML and PDF, read back with pdftotext / pdftoppm and its QR code decoded), from POST /v1/verify
 * `report: true` and from the browser page's download button; PASS for every applicable item and the
 * values of `tianfu verify --json`; FAIL at the right item for a tampered bundle; NOT PROVIDED, never
 * PASS, for what is missing; a malformed profile stops the node naming the field.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Wallet } from 'ethers';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { chromium } from 'playwright-core';
import { startTestLedger, type TestLedger } from '../support/ledger';
import { startTestTsa, type TestTsa } from '../support/openssl-tsa';
import { chromiumPath, CHROMIUM_ARGS, requireTool } from '../support/system-tools';
import { clone, depositEvidence, type DepositedFile } from '../verify/fixtures';
import { connectChainReader, type RpcChainReader } from '../../node/chain/chain-reader';
import { domainHistoryRules, verifyBundle, type VerificationReport } from '../../node/verifier';
import { buildCourtReport, renderReportHtml, reportFromHtml, type CourtReport, type ItemStatus } from '../../node/report';
import { certificatesFromPem, operatorProfileDigest, operatorProfileMessage, recoverSigner, type Bundle, type BundleOperatorProfile } from '../../node/protocol';
import { verifierCodeSha256, verifierManifest } from '../../node/print/code-digest';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');

function tianfu(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, 'scripts', 'tianfu.js'), ...args], { cwd: ROOT, timeout: 120_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const PROFILE = {
  operatorName: '天府存证科技有限公司 Tianfu Evidence Technology Co., Ltd.',
  uscc: '91110000600037341L',
  cacFilingNumber: '川网信备51010000000000000001号',
  mlpsLevel: 3,
  mlpsReference: 'MLPS assessment report 51010099-2025-0001',
  nodes: [
    { name: 'sequencer-1', operator: 'Tianfu Evidence Technology Co., Ltd.', role: 'sequencer', location: 'Chengdu' },
    { name: 'rpc-1', operator: 'Sichuan Data Center Ltd.', role: 'chain rpc' },
  ],
  keyCustody: 'operator key in an HSM (model X), two-person access',
  clockSource: 'NTP from 国家授时中心 (ntp.ntsc.ac.cn)',
  interestStatement: 'no relationship to any party of the cases it serves',
};

const statuses = (r: CourtReport): ItemStatus[] => r.items.map((i) => i.status);
const ALL_PASS: ItemStatus[] = [...Array(14).fill('PASS'), 'NOT APPLICABLE'];
const valueOf = (r: CourtReport, n: number, en: string): string | undefined => r.items[n - 1]!.values.find((v) => v.en === en)?.value;

describe('the court report (tianfu.report/v1)', () => {
  let tsa: TestTsa;
  let t: TestLedger;
  let reader: RpcChainReader;
  let tmp: string;
  let ev: DepositedFile;
  let bundle: Bundle;
  let files: { bundle: string; ca: string; profile: string };
  let rpc: string;
  let anchors: Uint8Array[];

  const verify = (b: Bundle, file = ev.file): Promise<VerificationReport> => verifyBundle(b, { chain: reader, file, history: domainHistoryRules, tsaTrustAnchors: anchors });
  const report = async (b: Bundle, file = ev.file): Promise<CourtReport> =>
    buildCourtReport(b, await verify(b, file), { verifier: { name: 'tianfu verify', version: 'test', surface: 'test', codeSha256: verifierCodeSha256(), codeOf: 'test' }, command: 'test', verificationPage: t.url + '/' });

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-report-'));
    tsa = await startTestTsa();
    const profile = path.join(tmp, 'operator-profile.json');
    fs.writeFileSync(profile, JSON.stringify(PROFILE, null, 2));
    t = await startTestLedger({ TIANFU_TSA_URLS: tsa.url, TIANFU_TSA_RETRY_MS: '100', TIANFU_OPERATOR_PROFILE: profile });
    rpc = t.ledger.chain.rpcUrl;
    reader = await connectChainReader(rpc);
    ev = await depositEvidence(t.ledger, path.join(tmp, 'capture.bin'), 4096, { signer: Wallet.createRandom() });
    await t.waitAnchored(ev.indexes.at(-1)! + 1);
    const size = t.ledger.anchorer.status().anchored!.treeSize;
    const deadline = Date.now() + 20_000;
    while ((await t.ledger.timestamper!.tokensFor(size)).length === 0) {
      if (Date.now() > deadline) throw new Error('no RFC 3161 token');
      await new Promise((r) => setTimeout(r, 50));
    }
    bundle = await t.ledger.bundle('evidence', ev.evidenceId, { file: ev.file });
    anchors = certificatesFromPem(tsa.pki.caPem);
    files = { bundle: path.join(tmp, 'evidence-bundle.json'), ca: tsa.pki.caPemFile, profile };
    fs.writeFileSync(files.bundle, JSON.stringify(bundle, null, 2));
  });
  afterAll(async () => {
    reader?.close();
    await t?.close();
    await tsa?.close();
    if (tsa) fs.rmSync(tsa.pki.dir, { recursive: true, force: true });
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('GET /v1/operator serves the declaration and the generated technical profile, signed by the operator key; bundles carry both', async () => {
    const got = await t.api('/v1/operator');
    expect(got.status).toBe(200);
    const op = got.body as BundleOperatorProfile;
    expect(op.profile.declared).toEqual(PROFILE);
    expect(op.profile.technical).toMatchObject({ software: { name: 'tianfu-ledger' }, chain: { chainId: t.ledger.chain.chainId.toString(), confirmations: t.ledger.config.confirmations }, anchoring: { mmdMs: t.ledger.config.mmdMs }, timestamping: { tsaUrls: [tsa.url] } });
    expect(operatorProfileDigest(op.profile)).toBe(op.digest);
    expect(recoverSigner(operatorProfileMessage(op.profile), op.profile.signature).toLowerCase()).toBe(t.ledger.operator.address.toLowerCase());
    expect(bundle.operatorProfile).toEqual(op);
  });

  it('the CLI report (HTML): every applicable item PASS, in the checklist order, with the values of tianfu verify --json', async () => {
    const out = path.join(tmp, 'report.html');
    const args = ['verify', files.bundle, '--file', ev.path, '--rpc', rpc, '--tsa-ca', files.ca];
    const [html, json] = await Promise.all([tianfu([...args, '--report', out, '--page-url', t.url + '/']), tianfu([...args, '--json'])]);
    expect(html.code, html.stdout + html.stderr).toBe(0);
    expect(html.stderr).toMatch(/Report \(tianfu\.report\/v1, 14 of 15 items PASS\) written to/);
    expect(json.code, json.stderr).toBe(0);
    const doc = fs.readFileSync(out, 'utf8');
    const r = reportFromHtml(doc)!;
    const v = JSON.parse(json.stdout) as VerificationReport;
    expect(r.type).toBe('tianfu.report/v1');
    expect(r.items.map((i) => i.n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    expect(r.items.map((i) => i.key)).toEqual(['evidence-identity', 'leaf-construction', 'anchor', 'inclusion', 'consistency', 'independent-time', 'depositor', 'pre-chain-provenance', 'custody', 'platform-compliance', 'interest-disclosure', 'technical-profile', 'reproducibility', 'result', 'limitations']);
    expect(statuses(r), JSON.stringify(r.items.filter((i) => i.status !== 'PASS').map((i) => [i.n, i.summary]))).toEqual(ALL_PASS);
    // The same verification as --json: the same steps, and the items show its values.
    expect(r.verification.steps.map((s) => [s.name, s.status])).toEqual(v.steps.map((s) => [s.name, s.status]));
    const cp = v.checkpoints[0]!;
    expect(valueOf(r, 1, 'SHA-256 (recomputed from the file held)')).toBe(v.file!.sha256);
    expect(valueOf(r, 1, 'SM3 (recomputed from the file held)')).toBe(ev.file.sm3);
    expect(valueOf(r, 3, 'block hash')).toBe(cp.blockHash);
    expect(valueOf(r, 3, 'block number')).toBe(cp.blockNumber);
    expect(valueOf(r, 3, 'anchoring transaction')).toBe(cp.txHash);
    expect(valueOf(r, 3, 'block time (UTC)')).toBe(cp.blockTime);
    expect(valueOf(r, 3, 'confirmations at verification')).toMatch(/^\d+ \(1 required\)$/);
    expect(r.items[3]!.tables[0]!.rows.every((row) => row[4] === cp.rootHash)).toBe(true);
    expect(valueOf(r, 6, 'genTime')).toContain(v.time!.tokens[0]!.genTime!);
    expect(valueOf(r, 6, 'do the windows agree')).toBe('yes');
    expect(valueOf(r, 7, 'signing address')).toBe((bundle.items[0]!.record as { collectorSignature: { address: string } }).collectorSignature.address);
    expect(valueOf(r, 8, 'capture method')).toBe('web-page');
    expect(valueOf(r, 8, 'capture environment')).toBe(JSON.stringify({ tool: 'capture', toolVersion: '2.0' }));
    expect(r.items[8]!.tables[0]!.rows.map((row) => row[2])).toEqual(['evidence.deposited', 'transferred', 'annotated']);
    expect(valueOf(r, 10, 'USCC')).toBe(PROFILE.uscc);
    expect(valueOf(r, 10, 'CAC blockchain filing number')).toBe(PROFILE.cacFilingNumber);
    expect(r.items[10]!.tables[0]!.rows.map((row) => row[1])).toEqual(PROFILE.nodes.map((n) => n.operator));
    expect(valueOf(r, 12, 'confirmations')).toBe('1');
    // Reproducibility: the verifier's code digest is the sha256sum manifest's; the command reruns it.
    expect(r.reproducibility.verifier.codeSha256).toBe(verifierCodeSha256());
    expect(r.reproducibility.command).toContain(`verify ${files.bundle} --file ${ev.path} --rpc ${rpc}`);
    expect(r.reproducibility.command).toContain(`--tsa-ca ${files.ca}`);
    expect(r.reproducibility.inputs.map((x) => x.value).join('\n')).toContain(ev.file.sha256);
    expect(r.verdict).toBe('valid');
    // The document itself: bilingual labels, Chinese first, the QR code, the bundle digest.
    expect(doc).toContain('<span class="zh">区块链存证核验报告</span> <span class="en">Blockchain evidence verification report</span>');
    expect(doc).toContain('通过 PASS');
    expect(doc).toContain('<svg xmlns="http://www.w3.org/2000/svg"');
    expect(doc).toContain(r.bundleDigest);
    expect(r.qrText).toBe(`${t.url}/#bundle-sha256=${r.bundleDigest}`);
  });

  it('the code digest is what the command in docs/report.md computes with sha256sum, and its manifest is sha256sum\'s', async () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs/report.md'), 'utf8');
    const cmd = /```text\n(\( find [\s\S]*?xargs sha256sum \| sha256sum)\n```/.exec(doc)![1]!;
    const { stdout: digest } = await run('bash', ['-c', cmd], { cwd: ROOT });
    expect(`0x${digest.split(' ')[0]}`).toBe(verifierCodeSha256());
    const manifest = verifierManifest();
    const files = manifest.trim().split('\n').map((l) => l.slice(66));
    expect(files).toContain('node/verifier/verify.ts');
    expect(files).toContain('node/report/build.ts');
    const { stdout } = await run(requireTool('sha256sum'), files, { cwd: ROOT, maxBuffer: 16 << 20 });
    expect(stdout).toBe(manifest);
  });

  it('the PDF renders the same report: pdftotext finds the Chinese labels and the digests, the CJK font is embedded, page 1 renders and its QR code decodes', async () => {
    const out = path.join(tmp, 'report.pdf');
    const r = await tianfu(['verify', files.bundle, '--file', ev.path, '--rpc', rpc, '--tsa-ca', files.ca, '--report', out, '--page-url', t.url + '/']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const pdf = fs.readFileSync(out);
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const { stdout: text } = await run(requireTool('pdftotext'), ['-enc', 'UTF-8', out, '-'], { maxBuffer: 64 << 20 });
    for (const label of ['区块链存证核验报告', '电子数据标识与摘要', '链上锚定', '独立时间证据', '上链前来源', '保管链', '平台合规', '利益关系披露', '技术概况', '局限性声明', '通过']) expect(text, label).toContain(label);
    expect(text.replace(/\s+/g, ' ')).toContain('区块链存证核验报告 Blockchain evidence verification report');
    // Long hex wraps inside table cells: compare with the whitespace taken out.
    const flat = text.replace(/\s+/g, '');
    expect(flat).toContain(ev.file.sha256);
    expect(flat).toContain(ev.file.sm3);
    expect(flat).toContain(bundle.items[0]!.anchor!.rootHash);
    const { stdout: fonts } = await run(requireTool('pdftotext').replace(/pdftotext$/, 'pdffonts'), [out]);
    expect(fonts).toMatch(/WenQuanYi.*\byes\b/);
    const png = path.join(tmp, 'page');
    await run(requireTool('pdftoppm'), ['-f', '1', '-l', '1', '-r', '150', '-png', '-singlefile', out, png]);
    const img = PNG.sync.read(fs.readFileSync(`${png}.png`));
    expect(img.width).toBeGreaterThan(1000);
    const qr = jsQR(new Uint8ClampedArray(img.data.buffer, img.data.byteOffset, img.data.byteLength), img.width, img.height);
    const html = reportFromHtml(renderReportHtml(await report(bundle)))!;
    expect(qr?.data).toBe(html.qrText);
    expect(qr?.data).toContain(html.bundleDigest);
  });

  it('a tampered bundle fails at the right item: the file, a custody record, the operator profile changed after signing', async () => {
    const changedFile = Buffer.from(ev.bytes);
    changedFile[100] = changedFile[100]! ^ 1;
    const fileReport = await report(bundle, { ...ev.file, sha256: `0x${(await import('node:crypto')).createHash('sha256').update(changedFile).digest('hex')}` });
    expect(fileReport.items[0]!.status).toBe('FAIL');
    expect(fileReport.items[0]!.summary).toMatch(/^file-sha256: /);
    expect(statuses(fileReport).slice(1, 13)).toEqual(Array(12).fill('PASS'));
    expect(fileReport.items[13]!.status).toBe('FAIL');

    const custody = clone(bundle);
    (custody.items[1]!.record as { reason: string }).reason = 'handed to somebody else';
    const c = await report(custody);
    expect(c.items[1]!.status).toBe('FAIL');
    expect(c.items[1]!.summary).toMatch(/^commitment \(item 1\)/);
    expect(c.items[8]!.status).toBe('FAIL');
    expect(c.items[0]!.status).toBe('PASS');

    const profile = clone(bundle);
    profile.operatorProfile!.profile.declared!.mlpsLevel = 4;
    profile.operatorProfile!.digest = operatorProfileDigest(profile.operatorProfile!.profile);
    const p = await report(profile);
    expect(statuses(p).slice(9, 12)).toEqual(['FAIL', 'FAIL', 'FAIL']);
    expect(p.items[9]!.summary).toMatch(/operator-profile: the operator profile is not signed by the log operator/);
    expect(statuses(p).slice(0, 9)).toEqual(Array(9).fill('PASS'));
    expect(p.verdict).toBe('invalid');
    // Changed without fixing the digest: named by the digest.
    const stale = clone(bundle);
    stale.operatorProfile!.profile.declared!.operatorName = 'Somebody Else Ltd.';
    expect((await report(stale)).items[9]!.summary).toMatch(/changed after the bundle was made/);

    // The CLI writes the report of an invalid verification too, and exits 1.
    const tampered = path.join(tmp, 'tampered.json');
    fs.writeFileSync(tampered, JSON.stringify(custody));
    const out = path.join(tmp, 'tampered.html');
    const r = await tianfu(['verify', tampered, '--file', ev.path, '--rpc', rpc, '--report', out]);
    expect(r.code).toBe(1);
    const written = reportFromHtml(fs.readFileSync(out, 'utf8'))!;
    expect(written.items[1]!.status).toBe('FAIL');
    expect(written.items[13]!.status).toBe('FAIL');
    expect(fs.readFileSync(out, 'utf8')).toContain('不通过 FAIL');
    // The PDF of it says so too, in Chinese and English.
    const pdf = path.join(tmp, 'tampered.pdf');
    expect((await tianfu(['verify', tampered, '--file', ev.path, '--rpc', rpc, '--report', pdf])).code).toBe(1);
    const { stdout: text } = await run(requireTool('pdftotext'), ['-enc', 'UTF-8', pdf, '-'], { maxBuffer: 64 << 20 });
    expect(text).toContain('不通过 FAIL');
    expect(text).toContain('无效 INVALID');
  });

  it('--report refuses what it cannot write with exit 2: another extension, a PDF without Chromium', async () => {
    const [ext, noChromium] = await Promise.all([
      tianfu(['verify', files.bundle, '--rpc', rpc, '--report', path.join(tmp, 'report.txt')]),
      new Promise<{ code: number; stderr: string }>((resolve) => {
        execFile(process.execPath, [path.join(ROOT, 'scripts', 'tianfu.js'), 'verify', files.bundle, '--rpc', rpc, '--report', path.join(tmp, 'none.pdf')], { cwd: ROOT, timeout: 120_000, env: { ...process.env, TIANFU_CHROMIUM_PATH: path.join(tmp, 'no-such-chromium') } }, (err, _stdout, stderr) => {
          resolve({ code: err ? Number((err as { code?: unknown }).code) : 0, stderr });
        });
      }),
    ]);
    expect(ext.code).toBe(2);
    expect(ext.stderr).toMatch(/--report .*report\.txt: name an \.html or a \.pdf file/);
    expect(noChromium.code).toBe(2);
    expect(noChromium.stderr).toMatch(/a PDF report needs Chromium/);
    expect(fs.existsSync(path.join(tmp, 'none.pdf'))).toBe(false);
  });

  it('what is missing reads NOT PROVIDED, never PASS: no token, no TSA roots, no profile, no file, an unsigned deposit', async () => {
    const { timestamps: _t, operatorProfile: _p, ...bare } = clone(bundle);
    const r = await report(bare as Bundle);
    expect(r.items[5]!.status).toBe('NOT PROVIDED');
    expect(statuses(r).slice(9, 12)).toEqual(['NOT PROVIDED', 'NOT PROVIDED', 'NOT PROVIDED']);
    expect(r.items[0]!.status).toBe('PASS');
    const untrusted = buildCourtReport(bundle, await verifyBundle(bundle, { chain: reader, history: domainHistoryRules }), { verifier: { name: 'v', version: '0', surface: 's', codeSha256: null, codeOf: '' }, command: 'c' });
    expect(untrusted.items[5]!.status).toBe('NOT PROVIDED');
    expect(untrusted.items[5]!.summary).toMatch(/--tsa-ca/);
    expect(untrusted.items[0]!.status).toBe('NOT PROVIDED');
    expect(untrusted.items[12]!.status).toBe('NOT PROVIDED');
    const unsigned = await depositEvidence(t.ledger, path.join(tmp, 'unsigned.bin'), 512);
    await t.waitAnchored(unsigned.indexes.at(-1)! + 1);
    const u = await report(await t.ledger.bundle('evidence', unsigned.evidenceId, { file: unsigned.file }), unsigned.file);
    expect(u.items[6]!.status).toBe('NOT PROVIDED');
    expect(u.items[6]!.summary).toMatch(/not signed by the collector/);
  });

  it('POST /v1/verify report: true gives the same report as JSON, as HTML and as PDF', async () => {
    const body = { bundle, file: ev.file, tsaCa: tsa.pki.caPem, report: true };
    const json = await t.api('/v1/verify', { body });
    expect(json.status).toBe(200);
    const r = json.body as CourtReport;
    expect(r.type).toBe('tianfu.report/v1');
    expect(statuses(r)).toEqual(ALL_PASS);
    expect(r.reproducibility.verifier).toMatchObject({ name: 'tianfu verify', codeSha256: verifierCodeSha256() });
    expect(r.verificationPage).toBe(`${t.url}/`);
    const html = await fetch(`${t.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/html' }, body: JSON.stringify(body) });
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    const doc = await html.text();
    expect(doc).toContain('区块链存证核验报告');
    expect(statuses(reportFromHtml(doc)!)).toEqual(ALL_PASS);
    const pdf = await fetch(`${t.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/pdf' }, body: JSON.stringify(body) });
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(Buffer.from(await pdf.arrayBuffer()).subarray(0, 5).toString()).toBe('%PDF-');
    // Without report: the verification alone, as before.
    const plain = await t.api('/v1/verify', { body: { bundle, file: ev.file, tsaCa: tsa.pki.caPem } });
    expect(plain.body.type).toBe('tianfu.verification/v1');
  });

  it('the browser page\'s "download report" gives the same report, with the page\'s own script digest', async () => {
    const browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({ acceptDownloads: true });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(t.url + '/');
      await page.setInputFiles('#bundle', files.bundle);
      await page.setInputFiles('#file', ev.path);
      await page.setInputFiles('#tsa-ca', files.ca);
      await page.fill('#rpc', rpc);
      await page.click('#verify');
      await page.waitForSelector('#verdict', { timeout: 30_000 });
      expect(await page.getAttribute('#verdict', 'data-verdict')).toBe('valid');
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-report')]);
      const saved = path.join(tmp, 'page-report.html');
      await download.saveAs(saved);
      const r = reportFromHtml(fs.readFileSync(saved, 'utf8'))!;
      expect(statuses(r)).toEqual(ALL_PASS);
      expect(r.bundleDigest).toBe((await report(bundle)).bundleDigest);
      expect(r.reproducibility.verifier.codeSha256).toBe(verifierCodeSha256());
      const script = fs.readFileSync(path.join(ROOT, 'api/static/verify.js'));
      expect(r.reproducibility.verifier.scriptSha256).toBe(`0x${(await import('node:crypto')).createHash('sha256').update(script).digest('hex')}`);
      expect(r.qrText).toBe(`${t.url}/#bundle-sha256=${r.bundleDigest}`);
      expect(valueOf(r, 3, 'block hash')).toBe(r.verification.checkpoints[0]!.blockHash);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('a malformed operator profile stops the node at start, naming the field', async () => {
    const bad = path.join(tmp, 'bad-profile.json');
    fs.writeFileSync(bad, JSON.stringify({ ...PROFILE, uscc: '91110000600037341X', nodes: [{ name: 'n1', role: 'sequencer' }] }));
    await expect(startTestLedger({ TIANFU_OPERATOR_PROFILE: bad })).rejects.toThrow(/TIANFU_OPERATOR_PROFILE .*bad-profile\.json: uscc: is not a valid 统一社会信用代码.*nodes\[0\]\.operator/);
    fs.writeFileSync(bad, JSON.stringify({ ...PROFILE, mlpsLevel: 7 }));
    await expect(startTestLedger({ TIANFU_OPERATOR_PROFILE: bad })).rejects.toThrow(/mlpsLevel: /);
    fs.writeFileSync(bad, '{ not json');
    await expect(startTestLedger({ TIANFU_OPERATOR_PROFILE: bad })).rejects.toThrow(/TIANFU_OPERATOR_PROFILE .*not JSON/);
    await expect(startTestLedger({ TIANFU_OPERATOR_PROFILE: path.join(tmp, 'missing.json') })).rejects.toThrow(/TIANFU_OPERATOR_PROFILE .*cannot be read: ENOENT/);
  });
});
