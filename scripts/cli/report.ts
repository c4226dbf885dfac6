/**
 * `tianfu verify … --report out.html|out.pdf`: the court report (`tianfu.report/v1`, node/report)
 * of the verification just made, written as HTML, or printed from that same HTML to PDF by Chromium
 * (node/print/pdf.ts). Also the reproducibility pack's inputs: the digests of the files read.
 */
import { createHash } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Bundle } from '../../node/protocol';
import type { VerificationReport } from '../../node/verifier';
import { buildCourtReport, renderReportHtml, type CourtReport, type ReportValue } from '../../node/report';
import { CODE_OF, verifierCodeSha256, verifierVersion } from '../../node/print/code-digest';
import { findChromium, htmlToPdf, PdfUnavailableError } from '../../node/print/pdf';
import { UsageError } from './common';

export type ReportFormat = 'html' | 'pdf';

/** html or pdf, by the file's extension; anything else is a usage error (exit 2). */
export function reportFormat(file: string): ReportFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.html' || ext === '.htm') return 'html';
  if (ext === '.pdf') return 'pdf';
  throw new UsageError(`--report ${file}: name an .html or a .pdf file`, 'BAD_ARGUMENTS');
}

/** Before verifying: a PDF needs Chromium, so say so at once (exit 2) rather than after the work. */
export function checkReportTarget(file: string): void {
  if (reportFormat(file) === 'pdf' && !findChromium()) throw new UsageError('a PDF report needs Chromium: install it (Debian: apt-get install chromium fonts-wqy-microhei) or set TIANFU_CHROMIUM_PATH; or write --report out.html', 'PDF_UNAVAILABLE');
}

const sha256Of = async (file: string): Promise<string> => `0x${createHash('sha256').update(await readFile(file)).digest('hex')}`;
const q = (s: string): string => (/^[A-Za-z0-9_./:@=+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export interface CliReportInput {
  bundle: Bundle;
  verification: VerificationReport;
  bundleFile: string;
  rpc: string;
  file?: string;
  fileDigests?: { sha256: string; sm3?: string; size?: number };
  tsaCa?: string;
  confirmations: number;
  registry?: string;
  logId?: string;
  pageUrl?: string | null;
}

/** The report of a CLI verification, with the command that reruns it and the inputs' digests. */
export async function cliCourtReport(x: CliReportInput): Promise<CourtReport> {
  const args = ['npx', 'tianfu', 'verify', x.bundleFile, ...(x.file ? ['--file', x.file] : []), '--rpc', x.rpc, '--confirmations', String(x.confirmations), ...(x.registry ? ['--registry', x.registry] : []), ...(x.logId ? ['--log-id', x.logId] : []), ...(x.tsaCa ? ['--tsa-ca', x.tsaCa] : []), '--json'];
  const inputs: ReportValue[] = [
    { zh: '证据包文件 SHA-256', en: 'bundle file SHA-256', value: `${await sha256Of(x.bundleFile)} (${path.basename(x.bundleFile)})` },
    ...(x.file && x.fileDigests ? [{ zh: '证据文件 SHA-256 / SM3', en: 'evidence file SHA-256 / SM3', value: `${x.fileDigests.sha256} / ${x.fileDigests.sm3 ?? '—'} (${path.basename(x.file)}, ${x.fileDigests.size ?? '?'} bytes)` }] : []),
    ...(x.tsaCa ? [{ zh: '时间戳根证书文件 SHA-256', en: 'TSA trust anchors file SHA-256', value: `${await sha256Of(x.tsaCa)} (${path.basename(x.tsaCa)})` }] : []),
    { zh: '链 RPC', en: 'chain RPC', value: x.rpc },
    { zh: '信任的登记合约 / 日志', en: 'registry / log trusted', value: x.registry || x.logId ? `${x.registry ?? 'the bundle\'s'} / ${x.logId ?? 'the bundle\'s'}` : 'the bundle\'s own (not pinned)' },
  ];
  return buildCourtReport(x.bundle, x.verification, {
    verifier: { name: 'tianfu verify', version: verifierVersion(), surface: 'command line', codeSha256: verifierCodeSha256(), codeOf: CODE_OF },
    command: args.map(q).join(' '),
    inputs,
    verificationPage: x.pageUrl ?? null,
  });
}

/** Writes the report (atomically); PDF through Chromium. Returns the bytes written. */
export async function writeCourtReport(file: string, report: CourtReport): Promise<number> {
  const format = reportFormat(file);
  const html = renderReportHtml(report);
  let bytes: Buffer;
  if (format === 'html') bytes = Buffer.from(html, 'utf8');
  else {
    try {
      bytes = await htmlToPdf(html);
    } catch (err) {
      if (err instanceof PdfUnavailableError) throw new UsageError(err.message, 'PDF_UNAVAILABLE');
      throw err;
    }
  }
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, file);
  } catch (err) {
    throw new UsageError(`--report ${file} cannot be written: ${(err as Error).message}`, 'REPORT_UNWRITABLE');
  }
  return bytes.length;
}
