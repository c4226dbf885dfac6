/**
 * The PDF of a report: the same HTML the report renderer makes (node/report/html.ts), printed by
 * Chromium (playwright-core's page.pdf, A4, backgrounds). Chromium embeds the glyphs of the fonts the
 * page uses; the report's font stack is led by WenQuanYi Micro Hei (Debian: fonts-wqy-microhei), so
 * the Chinese labels are real text in the PDF (pdftotext reads them back), not images or boxes.
 *
 * Chromium is the system's: TIANFU_CHROMIUM_PATH, else `chromium`, `chromium-browser`,
 * `google-chrome` on PATH (Debian: chromium). Nothing is downloaded.
 */
import fs from 'node:fs';
import path from 'node:path';

export class PdfUnavailableError extends Error {
  override readonly name = 'PdfUnavailableError';
}

const NAMES = ['chromium', 'chromium-browser', 'google-chrome'];

function executable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Chromium's executable, or null. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.TIANFU_CHROMIUM_PATH) return executable(env.TIANFU_CHROMIUM_PATH) ? env.TIANFU_CHROMIUM_PATH : null;
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    for (const n of NAMES) if (dir && executable(path.join(dir, n))) return path.join(dir, n);
  }
  return null;
}

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'];

/** Prints `html` to PDF bytes. The page gets no network: the report is self-contained. */
export async function htmlToPdf(html: string, opts: { executablePath?: string } = {}): Promise<Buffer> {
  const executablePath = opts.executablePath ?? findChromium();
  if (!executablePath) throw new PdfUnavailableError('a PDF report needs Chromium: install it (Debian: apt-get install chromium fonts-wqy-microhei) or set TIANFU_CHROMIUM_PATH; or write --report out.html');
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath, args: ARGS });
  try {
    const context = await browser.newContext({ javaScriptEnabled: false, offline: true });
    const page = await context.newPage();
    await page.route('**/*', (route) => (route.request().url().startsWith('data:') ? route.continue() : route.abort()));
    await page.setContent(html, { waitUntil: 'load' });
    return await page.pdf({ format: 'A4', printBackground: true, preferCSSPageSize: true, tagged: true, outline: false });
  } finally {
    await browser.close();
  }
}
