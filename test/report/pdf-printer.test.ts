/**
 * The node's PDF printer (node/print/pdf.ts) with the real Chromium: one browser shared by the PDFs,
 * each in a context of its own, at most `concurrency` at once; closed when idle and relaunched by the
 * next PDF; a failed launch is retried by the next PDF; nothing printed after close.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { PdfPrinter, PdfUnavailableError } from '../../node/print/pdf';
import { chromiumPath, requireTool } from '../support/system-tools';

const page = (n: number): string => `<!doctype html><meta charset="utf-8"><title>r${n}</title><p>报告 ${n}</p>`;
const isPdf = (b: Buffer): boolean => b.subarray(0, 5).toString() === '%PDF-';
const text = (pdf: Buffer): string => execFileSync(requireTool('pdftotext'), ['-enc', 'UTF-8', '-', '-'], { input: pdf }).toString();

describe('PdfPrinter', () => {
  it('shares one Chromium among PDFs, at most `concurrency` at once, each the PDF of its own page', async () => {
    const printer = new PdfPrinter({ executablePath: chromiumPath(), concurrency: 2 });
    try {
      // Five asked at once: two print, the rest wait their turn; then one more on the same browser.
      const pdfs = await Promise.all([1, 2, 3, 4, 5].map((n) => printer.print(page(n))));
      pdfs.push(await printer.print(page(6)));
      expect(pdfs.every(isPdf)).toBe(true);
      pdfs.forEach((pdf, i) => expect(text(pdf)).toContain(`报告 ${i + 1}`));
      expect(printer.stats).toEqual({ launches: 1, printed: 6, mostAtOnce: 2 });
    } finally {
      await printer.close();
    }
    await expect(printer.print(page(7))).rejects.toThrow(PdfUnavailableError);
  }, 120_000);

  it('closes the browser when idle and launches it again for the next PDF', async () => {
    const printer = new PdfPrinter({ executablePath: chromiumPath(), idleMs: 50 });
    try {
      expect(isPdf(await printer.print(page(1)))).toBe(true);
      await new Promise((r) => setTimeout(r, 1500));
      expect(isPdf(await printer.print(page(2)))).toBe(true);
      expect(printer.stats).toMatchObject({ launches: 2, printed: 2 });
    } finally {
      await printer.close();
    }
  }, 120_000);

  it('a launch that fails fails that PDF, and the next one tries again', async () => {
    const printer = new PdfPrinter({ executablePath: '/nonexistent/chromium' });
    await expect(printer.print(page(1))).rejects.toThrow();
    await expect(printer.print(page(2))).rejects.toThrow();
    expect(printer.stats).toMatchObject({ launches: 0, printed: 0 });
    await printer.close();
  });
});
