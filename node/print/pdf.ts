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
import type { Browser } from 'playwright-core';

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

const NO_CHROMIUM = 'a PDF report needs Chromium: install it (Debian: apt-get install chromium fonts-wqy-microhei) or set TIANFU_CHROMIUM_PATH; or write --report out.html';

/** The page gets no network and runs no script: the report is self-contained. */
async function printIn(browser: Browser, html: string): Promise<Buffer> {
  const context = await browser.newContext({ javaScriptEnabled: false, offline: true });
  try {
    const page = await context.newPage();
    await page.route('**/*', (route) => (route.request().url().startsWith('data:') ? route.continue() : route.abort()));
    await page.setContent(html, { waitUntil: 'load' });
    return await page.pdf({ format: 'A4', printBackground: true, preferCSSPageSize: true, tagged: true, outline: false });
  } finally {
    await context.close();
  }
}

/** Prints `html` to PDF bytes in a Chromium of its own (the CLI: one report, then exit). */
export async function htmlToPdf(html: string, opts: { executablePath?: string } = {}): Promise<Buffer> {
  const executablePath = opts.executablePath ?? findChromium();
  if (!executablePath) throw new PdfUnavailableError(NO_CHROMIUM);
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath, args: ARGS });
  try {
    return await printIn(browser, html);
  } finally {
    await browser.close();
  }
}

/**
 * The node's printer (POST /v1/verify with Accept: application/pdf): one Chromium, launched at the
 * first PDF and shared by the next ones, each printed in a fresh context of its own (no cookies,
 * cache or storage carried from one report to the next), at most `concurrency` at once (the others
 * wait their turn), and closed after `idleMs` without a PDF or when the node stops. A launch that fails
 * or a browser that goes away is launched again by the next PDF. Launching Chromium was most of a
 * PDF's time (scripts/bench/report.ts), and one per request let any caller start browsers at will.
 */
export class PdfPrinter {
  /** `mostAtOnce`: the most PDFs printing at the same time (never above `concurrency`). */
  readonly stats = { launches: 0, printed: 0, mostAtOnce: 0 };
  private browser: Promise<Browser> | null = null;
  private active = 0;
  private printing = 0;
  private readonly waiting: (() => void)[] = [];
  private idle: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly opts: { executablePath?: string; concurrency?: number; idleMs?: number } = {}) {}

  async print(html: string): Promise<Buffer> {
    if (this.closed) throw new PdfUnavailableError('the node is stopping: no more PDFs');
    await this.acquire();
    this.printing++;
    this.stats.mostAtOnce = Math.max(this.stats.mostAtOnce, this.printing);
    try {
      const browser = await this.launch();
      const pdf = await printIn(browser, html);
      this.stats.printed++;
      return pdf;
    } finally {
      this.printing--;
      this.release();
    }
  }

  /** Closes the browser (if one runs); later prints are refused. */
  async close(): Promise<void> {
    this.closed = true;
    await this.shutdown();
  }

  private launch(): Promise<Browser> {
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    if (this.browser) return this.browser;
    const executablePath = this.opts.executablePath ?? findChromium();
    if (!executablePath) return Promise.reject(new PdfUnavailableError(NO_CHROMIUM));
    const launched = (async () => {
      const { chromium } = await import('playwright-core');
      const b = await chromium.launch({ executablePath, args: ARGS });
      this.stats.launches++;
      b.on('disconnected', () => {
        if (this.browser === launched) this.browser = null;
      });
      return b;
    })();
    this.browser = launched;
    launched.catch(() => {
      if (this.browser === launched) this.browser = null;
    });
    return launched;
  }

  private async shutdown(): Promise<void> {
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    const b = this.browser;
    this.browser = null;
    if (b) await (await b.catch(() => null))?.close();
  }

  private acquire(): Promise<void> {
    if (this.active < (this.opts.concurrency ?? 2)) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) return next(); // the slot passes on
    this.active--;
    if (this.active === 0 && !this.closed) {
      this.idle = setTimeout(() => void this.shutdown(), this.opts.idleMs ?? 60_000);
      this.idle.unref();
    }
  }
}
