/**
 * Online capture (docs/capture.md): wall time of a capture of a simple page and of a page with 50
 * subresources (p50, from the job's submission to its deposit), beside a bare Playwright screenshot
 * of the same page in the same run (launch, load, full-page screenshot, close: what a collector would
 * script by hand); the time from a capture's end (its deposit) to anchored; and the node process's
 * RSS growth while captures run, 1 and 2 at once (Chromium is its own process and not counted).
 * Targets: capture ≤ 1.5 × the bare screenshot for the simple page; RSS growth < 128 MiB per
 * concurrent capture. Run alone: `npx tsx scripts/bench/capture.ts [runs]` (BENCH_CAPTURE_RUNS, default 5).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import { Ledger, loadConfig, type Actor } from '../../node';
import type { CaptureJob } from '../../node/capture/service';

const PIXEL = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAMAAAACCAIAAAASFvFNAAAAEklEQVR4nGP4z8DAwMDAwMAAABfwAv+OGk7rAAAAAElFTkSuQmCC', 'base64');

function site(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname === '/img.png') {
      res.writeHead(200, { 'content-type': 'image/png' });
      return void res.end(PIXEL);
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    if (u.pathname === '/many') return void res.end(`<!doctype html><title>Many</title><body>${Array.from({ length: 50 }, (_, i) => `<img src="/img.png?n=${i}" width="3" height="2">`).join('')}</body>`);
    res.end('<!doctype html><title>Simple</title><body><h1>Item 42</h1><p>199.00 CNY</p></body>');
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((r) => server.close(() => r())) })),
  );
}

const p50 = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.floor((s.length - 1) / 2)]!);
};
const MiB = 1024 * 1024;

export interface CaptureBench {
  runs: number;
  simple: { captureP50Ms: number; bareScreenshotP50Ms: number; ratio: number; target: string };
  many: { captureP50Ms: number; bareScreenshotP50Ms: number; ratio: number };
  endToAnchoredP50Ms: number;
  rss: { baselineMiB: number; peakGrowthMiB1: number; peakGrowthMiB2: number; perConcurrentMiB: number; target: string };
}

export async function benchCapture(opts: { runs?: number; log?: (s: string) => void } = {}): Promise<CaptureBench> {
  const runs = opts.runs ?? Number(process.env.BENCH_CAPTURE_RUNS ?? 5);
  const log = opts.log ?? ((s: string) => void process.stderr.write(s + '\n'));
  const chromiumPath = process.env.TIANFU_CHROMIUM_PATH || '/usr/bin/chromium';
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-bench-capture-'));
  const web = await site();
  const ledger = await Ledger.start(
    loadConfig({ TIANFU_DATA_DIR: dataDir, TIANFU_PORT: '0', TIANFU_CHAIN_PORT: '0', TIANFU_CHECKPOINT_INTERVAL_MS: '200', TIANFU_STATE_MAP: 'false', TIANFU_CAPTURE_ALLOW_HOSTS: '127.0.0.1', TIANFU_CAPTURE_CONCURRENCY: '2', TIANFU_CHROMIUM_PATH: chromiumPath, TIANFU_LOG_LEVEL: 'silent' }),
  );
  const actor: Actor = { keyId: 'bench-collector', role: 'collector' };
  const settledJobs = new Map<string, (j: CaptureJob) => void>();
  ledger.captures.onSettled = (j) => settledJobs.get(j.captureId)?.(j);
  const capture = async (url: string): Promise<{ ms: number; job: CaptureJob; doneAt: number }> => {
    const t0 = performance.now();
    const job = await ledger.captures.submit(actor, { url, options: { waitUntil: 'networkidle' } });
    const done = await new Promise<CaptureJob>((resolve) => settledJobs.set(job.captureId, resolve));
    if (done.status !== 'done') throw new Error(`capture of ${url} failed: ${JSON.stringify(done.error)}`);
    return { ms: performance.now() - t0, job: done, doneAt: performance.now() };
  };
  const bare = async (url: string): Promise<number> => {
    const t0 = performance.now();
    const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    await page.goto(url, { waitUntil: 'networkidle' });
    await page.screenshot({ fullPage: true });
    await browser.close();
    return performance.now() - t0;
  };
  const anchoredAfter = async (index: number, since: number): Promise<number> => {
    while ((ledger.anchorer.status().anchored?.treeSize ?? 0) <= index) await new Promise((r) => setTimeout(r, 10));
    return performance.now() - since;
  };
  let peak = 0;
  let sampling = false;
  const sampler = setInterval(() => {
    if (sampling) peak = Math.max(peak, process.memoryUsage().rss);
  }, 25);
  try {
    await capture(`${web.url}/simple`); // warm-up (first launch, code paths, the chain)
    await bare(`${web.url}/simple`);
    global.gc?.();
    const baseline = process.memoryUsage().rss;
    const out: Record<string, { cap: number[]; bare: number[] }> = { simple: { cap: [], bare: [] }, many: { cap: [], bare: [] } };
    const toAnchor: number[] = [];
    sampling = true;
    peak = baseline;
    for (let i = 0; i < runs; i++) {
      for (const name of ['simple', 'many'] as const) {
        const c = await capture(`${web.url}/${name}`);
        out[name]!.cap.push(c.ms);
        const ev = await ledger.evidence.get(actor, c.job.evidenceId!);
        toAnchor.push(await anchoredAfter(ev.deposit.index, c.doneAt));
        out[name]!.bare.push(await bare(`${web.url}/${name}`));
      }
      log(`  capture run ${i + 1}/${runs}: simple ${Math.round(out.simple!.cap.at(-1)!)} ms (bare ${Math.round(out.simple!.bare.at(-1)!)} ms), 50 subresources ${Math.round(out.many!.cap.at(-1)!)} ms (bare ${Math.round(out.many!.bare.at(-1)!)} ms)`);
    }
    const peak1 = peak;
    peak = process.memoryUsage().rss;
    const base2 = peak;
    await Promise.all([capture(`${web.url}/many`), capture(`${web.url}/many`)]);
    const peak2 = peak;
    sampling = false;
    const s = { captureP50Ms: p50(out.simple!.cap), bareScreenshotP50Ms: p50(out.simple!.bare) };
    const m = { captureP50Ms: p50(out.many!.cap), bareScreenshotP50Ms: p50(out.many!.bare) };
    const g1 = (peak1 - baseline) / MiB;
    const g2 = (peak2 - Math.min(base2, baseline)) / MiB;
    const result: CaptureBench = {
      runs,
      simple: { ...s, ratio: Math.round((100 * s.captureP50Ms) / s.bareScreenshotP50Ms) / 100, target: '≤ 1.5' },
      many: { ...m, ratio: Math.round((100 * m.captureP50Ms) / m.bareScreenshotP50Ms) / 100 },
      endToAnchoredP50Ms: p50(toAnchor),
      rss: { baselineMiB: Math.round(baseline / MiB), peakGrowthMiB1: Math.round(g1), peakGrowthMiB2: Math.round(g2), perConcurrentMiB: Math.round(Math.max(g1, g2 / 2)), target: '< 128 per concurrent capture' },
    };
    log(`  capture: ${JSON.stringify(result)}`);
    return result;
  } finally {
    clearInterval(sampler);
    await ledger.stop();
    await web.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  benchCapture({ runs: process.argv[2] ? Number(process.argv[2]) : undefined })
    .then((r) => console.log(JSON.stringify(r, null, 2)))
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
}
