/**
 * The one renderer of the court report: `tianfu.report/v1` → a self-contained HTML document (inline
 * CSS, the QR code as inline SVG, the report's JSON embedded). The CLI writes it as is or prints it
 * to PDF with Chromium (node/print/pdf.ts), the API returns it, and the browser page offers it for
 * download: the same bytes from the same report, wherever it was made. Pure and browser-safe.
 *
 * Fonts: a CJK font stack led by WenQuanYi Micro Hei (Debian fonts-wqy-microhei, the font the
 * project installs), so Chromium embeds that font's glyphs when it prints the PDF.
 */
import { create as createQr } from 'qrcode/lib/core/qrcode';
import { render as renderQrSvg } from 'qrcode/lib/renderer/svg-tag';
import type { VerificationStep } from '../verifier/types';
import { STATUS_LABEL } from './labels';
import type { CourtReport, ItemStatus, Label, ReportItem, ReportTable } from './types';

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ESC[c]!);
const bi = (x: Label): string => `<span class="zh">${esc(x.zh)}</span> <span class="en">${esc(x.en)}</span>`;

/** The QR code of `text` as an SVG element (error correction M). */
export function qrSvg(text: string, width = 168): string {
  return renderQrSvg(createQr(text, { errorCorrectionLevel: 'M' }), { margin: 2, width, color: { dark: '#000000ff', light: '#ffffffff' } }).trim();
}

const STATUS_CLASS: Record<ItemStatus, string> = { PASS: 'pass', FAIL: 'fail', 'NOT APPLICABLE': 'na', 'NOT PROVIDED': 'np' };
const badge = (s: ItemStatus): string => `<span class="status ${STATUS_CLASS[s]}">${esc(STATUS_LABEL[s].zh)} ${esc(STATUS_LABEL[s].en)}</span>`;

function table(t: ReportTable): string {
  if (t.rows.length === 0) return `<p class="caption">${bi(t.caption)}: —</p>`;
  const head = t.columns.map((c) => `<th>${esc(c.zh)}<br><span class="en">${esc(c.en)}</span></th>`).join('');
  const body = t.rows.map((r) => `<tr>${r.map((c) => `<td class="mono">${esc(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table class="data"><caption>${bi(t.caption)}</caption><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

const where = (s: VerificationStep): string => (s.token !== undefined ? `token ${s.token}` : s.item !== undefined ? `item ${s.item}` : s.checkpoint !== undefined ? `checkpoint ${s.checkpoint}` : '');

/** Rows shown one by one; beyond this, passed rows are shown one per step name (all are in the embedded JSON). */
const STEP_ROWS = 12;

function steps(all: readonly VerificationStep[]): string {
  if (all.length === 0) return '';
  let ss: readonly VerificationStep[] = all;
  let grouped = '';
  if (all.length > STEP_ROWS) {
    ss = all.filter((s) => s.status !== 'ok');
    const byName = new Map<string, VerificationStep[]>();
    for (const s of all) if (s.status === 'ok') byName.set(s.name, [...(byName.get(s.name) ?? []), s]);
    grouped = [...byName.entries()]
      .map(([name, rows]) => `<tr class="ok"><td class="mono step">${esc(name)}</td><td>${rows.length} × ${esc(rows.length === 1 ? where(rows[0]!) : `${where(rows[0]!)} … ${where(rows.at(-1)!)}`)}</td><td>ok</td><td>${esc(rows[0]!.detail)}${rows.length > 1 ? ` <span class="en">(and ${rows.length - 1} more, each in the embedded report)</span>` : ''}</td></tr>`)
      .join('\n');
  }
  const rows = ss
    .map((s) => `<tr class="${s.status}"><td class="mono step">${esc(s.name)}</td><td>${esc(where(s))}</td><td>${esc(s.status)}</td><td>${esc(s.detail)}${s.expected !== undefined || s.calculated !== undefined ? `<div class="mono ev">expected ${esc(s.expected ?? '—')}<br>calculated ${esc(s.calculated ?? '—')}</div>` : ''}</td></tr>`)
    .join('\n');
  return `<table class="steps"><caption>${bi({ zh: '所依据的核验步骤', en: 'verification steps it rests on' })}</caption><thead><tr><th>step</th><th>where</th><th>status</th><th>detail</th></tr></thead><tbody>\n${grouped}${grouped && rows ? '\n' : ''}${rows}\n</tbody></table>`;
}

function section(it: ReportItem): string {
  const values = it.values.map((x) => `<tr><th>${esc(x.zh)}<br><span class="en">${esc(x.en)}</span></th><td class="mono">${esc(x.value)}</td></tr>`).join('\n');
  return `<section class="item" id="item-${it.n}" data-item="${it.n}" data-key="${esc(it.key)}" data-status="${esc(it.status)}">
<h2><span class="n">${it.n}.</span> ${bi(it.title)} ${badge(it.status)}</h2>
<p class="checks">${bi(it.checks)}</p>
<p class="summary">${esc(it.summary)}</p>
${values ? `<table class="values"><tbody>\n${values}\n</tbody></table>` : ''}
${it.tables.map(table).join('\n')}
${steps(it.steps)}
</section>`;
}

const CSS = `
@page { size: A4; margin: 14mm 12mm; }
* { box-sizing: border-box; }
body { font-family: "WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif; font-size: 10pt; color: #111; margin: 0 auto; max-width: 60rem; padding: 1rem; line-height: 1.4; }
h1 { font-size: 17pt; margin: 0 0 .3rem; } h2 { font-size: 12pt; margin: 1.1rem 0 .3rem; border-bottom: 1px solid #999; padding-bottom: .15rem; }
.en { color: #444; font-size: .92em; } h1 .en, h2 .en { font-weight: normal; }
header { display: flex; gap: 1rem; justify-content: space-between; align-items: flex-start; border-bottom: 2px solid #111; padding-bottom: .6rem; }
.qr { text-align: center; font-size: 7.5pt; width: 12rem; word-break: break-all; }
.mono { font-family: "WenQuanYi Micro Hei Mono", "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 8.5pt; word-break: break-all; }
table { border-collapse: collapse; width: 100%; margin: .3rem 0; page-break-inside: auto; } tr { page-break-inside: avoid; }
th, td { border: 1px solid #bbb; padding: .18rem .35rem; text-align: left; vertical-align: top; }
table.values th { width: 30%; font-weight: normal; background: #f4f4f4; }
caption { text-align: left; font-weight: bold; padding: .2rem 0; }
.status { display: inline-block; padding: 0 .4rem; border-radius: .2rem; font-size: 9pt; font-weight: bold; margin-left: .4rem; }
.status.pass { background: #d9f2d9; color: #0f4d0f; } .status.fail { background: #f7d4d4; color: #7a0d0d; }
.status.np { background: #fff0c2; color: #5e4500; } .status.na { background: #e6e6e6; color: #333; }
.verdict { font-size: 14pt; font-weight: bold; margin: .4rem 0; }
.verdict.valid { color: #0f4d0f; } .verdict.invalid { color: #7a0d0d; } .verdict.pending { color: #5e4500; }
table.steps { font-size: 8pt; } td.step { white-space: nowrap; word-break: normal; } table.steps tr.failed td { background: #f7d4d4; } table.steps tr.skipped td { color: #777; }
.ev { margin-top: .15rem; color: #333; }
.checks { color: #333; margin: .1rem 0; } .summary { margin: .2rem 0 .3rem; }
footer { margin-top: 1.2rem; border-top: 2px solid #111; padding-top: .4rem; font-size: 9pt; }
`;

/** The report as one HTML document. */
export function renderReportHtml(r: CourtReport): string {
  const summary = r.items.map((it) => `<tr data-item="${it.n}"><td>${it.n}</td><td>${bi(it.title)}</td><td>${badge(it.status)}</td></tr>`).join('\n');
  const verdict = { valid: { zh: '有效', en: 'VALID' }, invalid: { zh: '无效', en: 'INVALID' }, pending: { zh: '待定（尚未锚定）', en: 'PENDING (not yet anchored)' } }[r.verdict];
  // The machine-readable report travels inside the document; '<' escaped so it cannot close the script.
  const json = JSON.stringify(r).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="generator" content="${esc(`${r.reproducibility.verifier.name} ${r.reproducibility.verifier.version}`)}">
<title>${esc(r.title.zh)} ${esc(r.title.en)} — ${esc(r.bundleDigest)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<div>
<h1>${bi(r.title)}</h1>
<p class="verdict ${r.verdict}" id="verdict" data-verdict="${r.verdict}">${esc(verdict.zh)} ${esc(verdict.en)}</p>
<p>${bi({ zh: '核验时间（UTC）', en: 'verified at (UTC)' })}: <span class="mono">${esc(r.verifiedAt)}</span></p>
<p>${bi({ zh: '证据包摘要 SHA-256(JCS)', en: 'bundle digest SHA-256(JCS)' })}: <span class="mono" id="bundle-digest">${esc(r.bundleDigest)}</span></p>
<p>${bi({ zh: '主体', en: 'subject' })}: <span class="mono">${esc(`${r.verification.bundle.kind} ${r.verification.bundle.subjectKey ?? r.verification.bundle.subject}`)}</span></p>
<p>${bi({ zh: '核验页面', en: 'verification page' })}: <span class="mono">${esc(r.verificationPage ?? '—')}</span></p>
</div>
<div class="qr">${qrSvg(r.qrText)}<div class="mono">${esc(r.qrText)}</div></div>
</header>
<table class="summary"><caption>${bi({ zh: '核验清单（十五项）', en: 'verification checklist (15 items)' })}</caption><tbody>
${summary}
</tbody></table>
${r.items.map(section).join('\n')}
<footer>
<h2>${bi({ zh: '局限性声明', en: 'Limitations statement' })}</h2>
<ol>${r.limitations.map((x) => `<li><span class="zh">${esc(x.zh)}</span><br><span class="en">${esc(x.en)}</span></li>`).join('')}</ol>
</footer>
<script type="application/json" id="tianfu-report">${json}</script>
</body>
</html>
`;
}

/** The report a rendered document carries (its embedded JSON), or null. */
export function reportFromHtml(html: string): CourtReport | null {
  const m = /<script type="application\/json" id="tianfu-report">([\s\S]*?)<\/script>/.exec(html);
  return m ? (JSON.parse(m[1]!) as CourtReport) : null;
}
