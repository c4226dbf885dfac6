/**
 * Court report benchmark (issue 13): for a real evidence bundle with 100 custody events (a deposit
 * signed by its collector, anchored by a real node, an RFC 3161 token from OpenSSL's `openssl ts
 * -reply`, the operator's signed disclosures):
 *  - report generation time: the 15 items built from the verification and rendered to HTML
 *    (node/report), and the same HTML printed to PDF by Chromium (node/print/pdf.ts, a browser
 *    launched per PDF, as `tianfu verify --report out.pdf` does);
 *  - the verification the report rests on, with the chain read (for scale);
 *  - RFC 3161 token verifications per second (imprint, CMS signature, certificate, ESSCertIDv2,
 *    chain to the trust anchor, genTime), as every verification of such a bundle runs them.
 *
 * Standalone: `npx tsx scripts/bench/report.ts [seconds]` (default 2 s per rate).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getBytes, Wallet } from 'ethers';
import { loadConfig, Ledger, type Actor } from '../../node';
import { buildCustodyRecord, buildDepositRecord, claimDigest, custodyKind, newEvidenceId, parseEvidenceMetadata } from '../../node/evidence/model';
import { base64ToBytes, certificatesFromPem, verifyTimestampToken, type Bundle, type Hex } from '../../node/protocol';
import { domainHistoryRules, verifyBundle } from '../../node/verifier';
import { recoverEip191Signer } from '../../node/crypto/eip191';
import { connectChainReader } from '../../node/chain/chain-reader';
import { buildCourtReport, renderReportHtml } from '../../node/report';
import { CODE_OF, verifierCodeSha256, verifierVersion } from '../../node/print/code-digest';
import { findChromium, htmlToPdf, PdfPrinter } from '../../node/print/pdf';
import { startTestTsa } from '../../test/support/openssl-tsa';

export interface BenchReportOptions {
  seconds?: number;
  /** Custody events after the deposit (default 100). */
  custodyEvents?: number;
  /** PDFs printed (default 3). */
  pdfRuns?: number;
  log?: (line: string) => void;
}

export interface BenchReportResult {
  htmlReportMs: number;
  pdfReportMs: number | null;
  /** The same PDF through the node's shared printer (POST /v1/verify): no launch per PDF once warm. */
  pdfSharedPrinterMs: number | null;
  tokenVerificationsPerSec: number;
  verificationMs: number;
  items: number;
  htmlBytes: number;
  pdfBytes: number | null;
  htmlRuns: number;
  pdfRuns: number;
  note: string;
}

const collector: Actor = { keyId: 'bench-collector', role: 'collector', name: 'bench platform' };

const PROFILE = {
  operatorName: 'Bench Operator Ltd.', uscc: '91110000600037341L', cacFilingNumber: '川网信备51010000000000000001号', mlpsLevel: 3,
  nodes: [{ name: 'sequencer-1', operator: 'Bench Operator Ltd.', role: 'sequencer' }], keyCustody: 'HSM', clockSource: 'NTP (国家授时中心)',
};

async function until(what: string, f: () => Promise<boolean> | boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > deadline) throw new Error(`bench report: ${what} within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function benchReport(opts: BenchReportOptions = {}): Promise<BenchReportResult> {
  const seconds = opts.seconds ?? 2;
  const events = opts.custodyEvents ?? 100;
  const pdfRuns = opts.pdfRuns ?? 3;
  const log = opts.log ?? (() => undefined);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-bench-report-'));
  const tsa = await startTestTsa();
  const profileFile = path.join(dir, 'operator-profile.json');
  fs.writeFileSync(profileFile, JSON.stringify(PROFILE));
  const ledger = await Ledger.start(loadConfig({ TIANFU_DATA_DIR: path.join(dir, 'data'), TIANFU_PORT: '0', TIANFU_CHAIN_PORT: '0', TIANFU_LOG_LEVEL: 'silent', TIANFU_CHECKPOINT_INTERVAL_MS: '100', TIANFU_TSA_URLS: tsa.url, TIANFU_TSA_RETRY_MS: '100', TIANFU_OPERATOR_PROFILE: profileFile }));
  try {
    const id = newEvidenceId();
    const bytes = Buffer.from('<html><body>bench capture</body></html>');
    const { createHash } = await import('node:crypto');
    const file = { sha256: `0x${createHash('sha256').update(bytes).digest('hex')}` as Hex, sm3: `0x${createHash('sm3').update(bytes).digest('hex')}` as Hex, size: bytes.length };
    const signer = Wallet.createRandom();
    const claim = { title: 'bench capture', mediaType: 'text/html', fileName: 'page.html', method: 'web-page', source: { url: 'https://shop.example.com/item/42' }, capturedAt: new Date().toISOString(), environment: { tool: 'bench', toolVersion: '1' }, sha256: file.sha256, sm3: file.sm3 };
    const metadata = parseEvidenceMetadata({ ...claim, signature: await signer.signMessage(getBytes(claimDigest(parseEvidenceMetadata(claim)))) });
    await ledger.sequencer.submit({ kind: 'evidence.deposited', subject: id, actor: collector, record: buildDepositRecord({ evidenceId: id, metadata, file, collector, signerAddress: signer.address }) as unknown as Record<string, unknown> });
    for (let i = 0; i < events; i++) {
      await ledger.sequencer.submit({ kind: custodyKind('annotated'), subject: id, actor: collector, record: buildCustodyRecord(id, { event: 'annotated', reason: `review note ${i}` }, collector) as unknown as Record<string, unknown> });
    }
    await until('the records anchored', () => (ledger.anchorer.status().anchored?.treeSize ?? 0) >= ledger.log.size);
    const size = ledger.anchorer.status().anchored!.treeSize;
    await until('the RFC 3161 token', async () => (await ledger.timestamper!.tokensFor(size)).length > 0);
    const bundle: Bundle = await ledger.bundle('evidence', id, { file });
    const anchors = certificatesFromPem(tsa.pki.caPem);
    const reader = await connectChainReader(ledger.chain.rpcUrl);
    try {
      const t0 = performance.now();
      const verification = await verifyBundle(bundle, { chain: reader, file, history: domainHistoryRules, recoverSigner: recoverEip191Signer, tsaTrustAnchors: anchors });
      const verificationMs = performance.now() - t0;
      if (verification.verdict !== 'valid') throw new Error(`bench report: the bundle is ${verification.verdict} at ${verification.firstFailure?.name}`);
      const inputs = { verifier: { name: 'tianfu verify', version: verifierVersion(), surface: 'benchmark', codeSha256: verifierCodeSha256(), codeOf: CODE_OF }, command: 'npx tsx scripts/bench/report.ts', verificationPage: 'http://127.0.0.1:8080/' };
      const makeHtml = (): string => renderReportHtml(buildCourtReport(bundle, verification, inputs));
      const court = buildCourtReport(bundle, verification, inputs);
      const passes = court.items.filter((i) => i.status === 'PASS').length;
      if (passes !== 14) throw new Error(`bench report: ${passes} of 15 items PASS, 14 expected`);
      log(`report: HTML for ${bundle.items.length} items (${seconds} s)`);
      for (let i = 0; i < 3; i++) makeHtml();
      let htmlRuns = 0;
      let html = '';
      const h0 = performance.now();
      while (performance.now() - h0 < seconds * 1000) {
        html = makeHtml();
        htmlRuns++;
      }
      const htmlReportMs = (performance.now() - h0) / htmlRuns;
      let pdfReportMs: number | null = null;
      let pdfBytes: number | null = null;
      let pdfSharedPrinterMs: number | null = null;
      if (findChromium()) {
        log(`report: ${pdfRuns} PDFs through Chromium`);
        await htmlToPdf(makeHtml()); // warm-up: the disk cache of Chromium and the font
        const p0 = performance.now();
        for (let i = 0; i < pdfRuns; i++) pdfBytes = (await htmlToPdf(makeHtml())).length;
        pdfReportMs = (performance.now() - p0) / pdfRuns;
        const printer = new PdfPrinter();
        try {
          await printer.print(makeHtml()); // the launch, once
          const s0 = performance.now();
          for (let i = 0; i < pdfRuns; i++) await printer.print(makeHtml());
          pdfSharedPrinterMs = (performance.now() - s0) / pdfRuns;
        } finally {
          await printer.close();
        }
      } else log('report: no Chromium, the PDF is not measured');
      log(`report: RFC 3161 token verifications (${seconds} s)`);
      const der = base64ToBytes(bundle.timestamps![0]!.token);
      const notBefore = new Date(bundle.items.at(-1)!.entry.at);
      const check = async (): Promise<void> => {
        const r = await verifyTimestampToken(der, { checkpoint: bundle.checkpoint!, trustAnchors: anchors, notBefore });
        if (r.status !== 'ok') throw new Error(`bench report: the token did not verify: ${r.steps.find((s) => s.status !== 'ok')?.detail}`);
      };
      for (let i = 0; i < 5; i++) await check();
      let tokens = 0;
      const k0 = performance.now();
      while (performance.now() - k0 < seconds * 1000) {
        await check();
        tokens++;
      }
      const tokenVerificationsPerSec = tokens / ((performance.now() - k0) / 1000);
      return {
        htmlReportMs: Number(htmlReportMs.toFixed(2)),
        pdfReportMs: pdfReportMs === null ? null : Math.round(pdfReportMs),
        pdfSharedPrinterMs: pdfSharedPrinterMs === null ? null : Math.round(pdfSharedPrinterMs),
        tokenVerificationsPerSec: Math.round(tokenVerificationsPerSec),
        verificationMs: Math.round(verificationMs),
        items: bundle.items.length,
        htmlBytes: Buffer.byteLength(html),
        pdfBytes,
        htmlRuns,
        pdfRuns: pdfReportMs === null ? 0 : pdfRuns,
        note: 'HTML: build the 15 items from a finished verification and render (no I/O); PDF: that plus a Chromium launch, page.pdf and close (the CLI); shared printer: page.pdf in a fresh context of a running Chromium (the node); tokens: verifyTimestampToken with the trust anchor (pkijs over WebCrypto)',
      };
    } finally {
      reader.close();
    }
  } finally {
    await ledger.stop();
    await tsa.close();
    fs.rmSync(tsa.pki.dir, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  benchReport({ seconds: Number(process.argv[2] ?? 2), log: (l) => process.stderr.write(l + '\n') }).then(
    (r) => process.stdout.write(JSON.stringify(r, null, 2) + '\n'),
    (err: unknown) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
