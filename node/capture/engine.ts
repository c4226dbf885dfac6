/**
 * One capture: a fresh Chromium (playwright-core, the system's binary, a new temporary profile: no
 * cookies, cache or extensions) whose only way out is the capture proxy (proxy.ts). It loads the page,
 * scrolls it, and records what docs/capture.md lists: every request and response (for the WARC), the
 * full-page screenshot, the rendered DOM, an MHTML snapshot, the redirect chain and final URL, the
 * main response's status, headers and server address, and a log of JSON events, one per step. The
 * package is built from this result by package.ts.
 */
import { createHash } from 'node:crypto';
import type { Browser, Request as PwRequest, Response as PwResponse } from 'playwright-core';
import { CaptureGuard, CaptureRefusal } from './guard';
import { CaptureProxy, type BrowserCertificate, type ProxyRecord } from './proxy';

export interface CaptureOptions {
  fullPage: boolean;
  viewport: { width: number; height: number };
  waitUntil: 'load' | 'networkidle';
  timeoutMs: number;
  scrollToBottom: boolean;
}

export const DEFAULT_CAPTURE_OPTIONS: CaptureOptions = { fullPage: true, viewport: { width: 1366, height: 768 }, waitUntil: 'networkidle', timeoutMs: 30_000, scrollToBottom: true };

export interface EngineSettings {
  chromiumPath: string;
  allowHosts: readonly string[];
  maxBytes: number;
  maxRequests: number;
  maxHeight: number;
  /** Extra trusted CA certificates (PEM texts). */
  ca?: string[];
  /** Tests: a stubbed resolver. */
  guard?: CaptureGuard;
}

/** Why a capture failed: the `reason` of its `evidence.capture-failed` entry. */
export type FailureReason = 'target-forbidden' | 'dns' | 'tls' | 'connection' | 'timeout' | 'http-status' | 'download' | 'too-large' | 'too-many-requests' | 'browser' | 'interrupted';

export class CaptureFailure extends Error {
  override readonly name = 'CaptureFailure';
  constructor(
    readonly reason: FailureReason,
    message: string,
    readonly details: Record<string, unknown> = {},
    /** The log so far (no page content). */
    readonly log: CaptureEvent[] = [],
  ) {
    super(message);
  }
}

export interface CaptureEvent {
  at: string;
  event: string;
  [k: string]: unknown;
}

export interface RecordedExchange {
  url: string;
  method: string;
  resourceType: string;
  requestHeaders: [string, string][];
  requestBody: Buffer | null;
  startedAt: string;
  status: number;
  statusText: string;
  responseHeaders: [string, string][];
  body: Buffer;
  /** The response is a redirect (no body kept). */
  redirect: boolean;
  endedAt: string;
}

export interface RedirectHop {
  url: string;
  status: number;
  location: string | null;
}

export interface CaptureResult {
  url: string;
  finalUrl: string;
  title: string;
  startedAt: string;
  endedAt: string;
  status: number;
  statusText: string;
  headers: [string, string][];
  serverAddress: string | null;
  redirects: RedirectHop[];
  exchanges: RecordedExchange[];
  failedRequests: { url: string; error: string }[];
  screenshot: Buffer;
  screenshotSize: { width: number; height: number; truncated: boolean };
  dom: string;
  mhtml: string;
  network: ProxyRecord;
  browser: { name: string; version: string; userAgent: string; executablePath: string };
  log: CaptureEvent[];
  timings: Record<string, number>;
}

/** Chromium's arguments: headless, no sandbox (root in containers), no background traffic, no UDP outside the proxy. */
export const CAPTURE_CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-default-apps',
  '--disable-extensions',
  '--disable-sync',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-quic',
  '--dns-prefetch-disable',
  '--force-webrtc-ip-handling-policy=disable_non_proxied_udp',
  '--disable-client-side-phishing-detection',
  '--disable-domain-reliability',
  '--no-pings',
  '--safebrowsing-disable-auto-update',
  '--disable-features=DnsOverHttps,NetworkPrediction,PrivacySandboxSettings4,MediaRouter,OptimizationHints,Translate,AutofillServerCommunication,CertificateTransparencyComponentUpdater',
];

const now = (): string => new Date().toISOString();

/** Captures `url`. Resolves with everything recorded, or rejects with a CaptureFailure naming the reason. */
export async function capturePage(url: string, options: CaptureOptions, settings: EngineSettings, onProgress: (step: string) => void = () => undefined, signal?: AbortSignal): Promise<CaptureResult> {
  const log: CaptureEvent[] = [];
  const ev = (event: string, extra: Record<string, unknown> = {}): void => {
    log.push({ at: now(), event, ...extra });
  };
  const t0 = performance.now();
  const timings: Record<string, number> = {};
  const mark = (name: string): void => {
    timings[name] = Math.round(performance.now() - t0);
  };
  const guard = settings.guard ?? new CaptureGuard({ allowHosts: settings.allowHosts });
  const fail = (reason: FailureReason, message: string, details: Record<string, unknown> = {}): CaptureFailure => {
    ev('failed', { reason, message });
    return new CaptureFailure(reason, message, details, log);
  };

  ev('start', { url, options });
  // The page's own URL, before anything is started (the API checked it at submission; DNS may have changed since).
  try {
    await guard.check(url);
  } catch (err) {
    if (err instanceof CaptureRefusal) throw fail(err.forbidden ? 'target-forbidden' : 'dns', err.message, err.details);
    throw err;
  }
  let budgetSpent = false;
  const proxy = await CaptureProxy.start({
    guard,
    maxBytes: settings.maxBytes,
    ...(settings.ca ? { ca: settings.ca } : {}),
    onBudgetSpent: () => {
      budgetSpent = true;
      ev('byte-limit', { maxBytes: settings.maxBytes });
    },
  });
  let browser: Browser | null = null;
  const startedAt = now();
  // The node is stopping: close the browser now; the job stays running in the store and is re-run at the next start.
  const onAbort = (): void => void browser?.close().catch(() => undefined);
  signal?.addEventListener('abort', onAbort);
  try {
    if (signal?.aborted) throw fail('interrupted', 'the node stopped before the capture started');
    onProgress('launching');
    // Loaded here, not at import: the node's entry (and every CLI command) imports this module.
    const { chromium } = require('playwright-core') as typeof import('playwright-core');
    const launched = await chromium.launch({
      executablePath: settings.chromiumPath,
      args: CAPTURE_CHROMIUM_ARGS,
      // Everything, loopback included ('<-loopback>' removes Chromium's implicit bypass), goes through the proxy.
      proxy: { server: proxy.url, bypass: '<-loopback>' },
      timeout: 30_000,
    });
    browser = launched;
    if (signal?.aborted) throw fail('interrupted', 'the node stopped during the capture');
    mark('launched');
    ev('browser', { version: browser.version() });
    const context = await browser.newContext({
      viewport: options.viewport,
      // The capture proxy tunnels only to origins whose certificates verified from the capture host
      // (tls-check.ts); Chromium's own trust store is not this machine's and is not what decides.
      ignoreHTTPSErrors: true,
      serviceWorkers: 'block',
      acceptDownloads: false,
      javaScriptEnabled: true,
    });
    const page = await context.newPage();
    // A CDP session of the engine's own, with the network domain on before anything loads: the
    // browser keeps each origin's certificate chain for it (compared with the node's check below).
    const cdp = await context.newCDPSession(page);
    // No bodies kept for this session (Playwright's own session keeps what the WARC needs).
    await cdp.send('Network.enable', { maxTotalBufferSize: 0, maxResourceBufferSize: 0 });

    const exchanges: RecordedExchange[] = [];
    const failedRequests: { url: string; error: string }[] = [];
    const pendingBodies: Promise<void>[] = [];
    let requests = 0;
    let tooMany = false;
    const started = new Map<PwRequest, string>();
    // Hosts the page itself asked for: the proxy also sees the browser's own background requests, which
    // are refused or fail like any other but are not the page's and decide nothing.
    const pageHosts = new Set<string>();
    const pageRefusals = () => proxy.record.refusals.filter((r) => pageHosts.has(r.host));
    page.on('request', (r) => {
      started.set(r, now());
      try {
        pageHosts.add(new URL(r.url()).hostname.replace(/^\[|\]$/g, ''));
      } catch {
        // not a URL with a host (data:, blob:)
      }
      requests++;
      if (requests > settings.maxRequests && !tooMany) {
        tooMany = true;
        ev('request-limit', { maxRequests: settings.maxRequests });
        // Past the limit nothing more goes out (what is in flight is cut): the capture fails, named.
        proxy.stop();
      }
    });
    const keep = (req: PwRequest, res: PwResponse | null): void => {
      if (!res) return;
      pendingBodies.push(
        (async () => {
          const redirect = res.status() >= 300 && res.status() < 400 && res.headers()['location'] !== undefined;
          let body: Buffer = Buffer.alloc(0);
          if (!redirect) body = await res.body().catch(() => Buffer.alloc(0));
          const reqHeaders = await req.headersArray().catch(() => []);
          const resHeaders = await res.headersArray().catch(() => []);
          exchanges.push({
            url: req.url(),
            method: req.method(),
            resourceType: req.resourceType(),
            requestHeaders: reqHeaders.map((h) => [h.name, h.value]),
            requestBody: req.postDataBuffer(),
            startedAt: started.get(req) ?? now(),
            status: res.status(),
            statusText: res.statusText(),
            responseHeaders: resHeaders.map((h) => [h.name, h.value]),
            body,
            redirect,
            endedAt: now(),
          });
        })(),
      );
    };
    page.on('requestfinished', (req) => {
      // A redirect's response is finished when the next hop starts; its own record is made here too.
      void req.response().then((res) => keep(req, res), () => undefined);
    });
    // A URL that answers a file to save (Content-Disposition: attachment, or a type the browser does not
    // show): the browser refuses it (acceptDownloads: false) and the navigation ends without a page.
    let download: { url: string; suggestedFilename: string } | null = null;
    const downloadEvent = new Promise<void>((resolve) =>
      page.on('download', (d) => {
        download = { url: d.url(), suggestedFilename: d.suggestedFilename() };
        ev('download-refused', download);
        resolve();
      }),
    );
    page.on('requestfailed', (req) => {
      failedRequests.push({ url: req.url(), error: req.failure()?.errorText ?? 'failed' });
      ev('request-failed', { url: req.url(), error: req.failure()?.errorText ?? 'failed' });
    });

    onProgress('loading');
    ev('navigate', { url });
    let main: PwResponse | null;
    try {
      main = await page.goto(url, { waitUntil: options.waitUntil, timeout: options.timeoutMs });
    } catch (err) {
      const msg = (err as Error).message.split('\n')[0]!;
      if (budgetSpent) throw fail('too-large', `the page fetched more than ${settings.maxBytes} bytes (TIANFU_CAPTURE_MAX_BYTES)`, { maxBytes: settings.maxBytes });
      const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
      const refused = proxy.refusalFor(host) ?? pageRefusals()[0];
      if (refused) {
        const reason: FailureReason = refused.reason === 'forbidden-address' || refused.reason === 'scheme' || refused.reason === 'credentials' ? 'target-forbidden' : refused.reason === 'dns' ? 'dns' : refused.reason === 'tls' ? 'tls' : 'connection';
        throw fail(reason, refused.message, { url: refused.url, ...(refused.address ? { address: refused.address } : {}) });
      }
      if (/Timeout .*exceeded/i.test(msg)) throw fail('timeout', `the page did not finish loading (${options.waitUntil}) within ${options.timeoutMs} ms`, { timeoutMs: options.timeoutMs });
      if (download !== null || /Download is starting/i.test(msg)) {
        // The navigation's error can come before the browser's download event: wait for it a moment (its file name).
        await Promise.race([downloadEvent, new Promise((r) => setTimeout(r, 1000).unref())]);
        const d = download as { url: string; suggestedFilename: string } | null;
        throw fail('download', `the URL answers a file to download${d?.suggestedFilename ? ` (${JSON.stringify(d.suggestedFilename)})` : ''}, not a page: a capture records a web page as the browser shows it; deposit the file itself as evidence, or capture the page that links to it`, { url: d?.url ?? url, ...(d?.suggestedFilename ? { suggestedFilename: d.suggestedFilename } : {}) });
      }
      throw fail('connection', msg);
    }
    mark('loaded');
    if (!main) throw fail('browser', 'the navigation produced no response');
    if (budgetSpent) throw fail('too-large', `the page fetched more than ${settings.maxBytes} bytes (TIANFU_CAPTURE_MAX_BYTES)`, { maxBytes: settings.maxBytes });
    const status = main.status();
    ev('response', { status, url: main.url() });
    // A redirect to, or a request of, a forbidden address was refused by the proxy: the page is not what
    // the site would have shown, and that is a refusal of its own.
    const forbiddenSub = pageRefusals().find((r) => r.reason === 'forbidden-address' || r.reason === 'scheme');
    if (forbiddenSub) throw fail('target-forbidden', `the page ${forbiddenSub.url === main.url() ? 'redirected' : 'made a request'} to a forbidden target: ${forbiddenSub.message}`, { url: forbiddenSub.url, ...(forbiddenSub.address ? { address: forbiddenSub.address } : {}) });
    if (status >= 400) throw fail('http-status', `the server answered ${status} ${main.statusText()}`.trim(), { status });
    if (tooMany) throw fail('too-many-requests', `the page made more than ${settings.maxRequests} requests (TIANFU_CAPTURE_MAX_REQUESTS)`, { maxRequests: settings.maxRequests });

    if (options.scrollToBottom) {
      onProgress('scrolling');
      await page
        .evaluate(async (maxHeight: number) => {
          const step = Math.max(200, window.innerHeight);
          for (let y = 0, i = 0; y < Math.min(document.documentElement.scrollHeight, maxHeight) && i < 200; y += step, i++) {
            window.scrollTo(0, y);
            await new Promise((r) => setTimeout(r, 50));
          }
          window.scrollTo(0, 0);
        }, settings.maxHeight)
        .catch(() => undefined);
      await page.waitForLoadState('networkidle', { timeout: Math.min(5000, options.timeoutMs) }).catch(() => undefined);
      ev('scrolled');
    }
    if (budgetSpent) throw fail('too-large', `the page fetched more than ${settings.maxBytes} bytes (TIANFU_CAPTURE_MAX_BYTES)`, { maxBytes: settings.maxBytes });
    if (tooMany) throw fail('too-many-requests', `the page made more than ${settings.maxRequests} requests (TIANFU_CAPTURE_MAX_REQUESTS)`, { maxRequests: settings.maxRequests });

    onProgress('recording');
    const height = await page.evaluate(() => Math.max(document.documentElement.scrollHeight, document.body?.scrollHeight ?? 0));
    const truncated = options.fullPage && height > settings.maxHeight;
    const shotHeight = options.fullPage ? Math.min(Math.max(height, options.viewport.height), settings.maxHeight) : options.viewport.height;
    const screenshot = await page.screenshot({ type: 'png', fullPage: options.fullPage, ...(truncated ? { clip: { x: 0, y: 0, width: options.viewport.width, height: settings.maxHeight } } : {}), timeout: options.timeoutMs });
    ev('screenshot', { bytes: screenshot.length, height: shotHeight, truncated });
    const dom = await page.content();
    ev('dom', { bytes: Buffer.byteLength(dom) });
    const { data: mhtml } = (await cdp.send('Page.captureSnapshot', { format: 'mhtml' })) as { data: string };
    ev('mhtml', { bytes: Buffer.byteLength(mhtml) });
    const title = await page.title();
    const userAgent = await page.evaluate(() => navigator.userAgent);
    // The node checked each HTTPS origin's certificate over a connection of its own (tls-check.ts);
    // the browser's tunnel is another connection. What the browser itself received is compared with
    // it: a server that shows the check one certificate and the browser another fails the capture.
    const browserTls: Record<string, BrowserCertificate> = (proxy.record.browserTls = {});
    for (const [origin, check] of Object.entries(proxy.record.tls)) {
      try {
        const { tableNames } = (await cdp.send('Network.getCertificate', { origin })) as { tableNames: string[] };
        browserTls[origin] = { fingerprints256: tableNames.map((b64) => createHash('sha256').update(Buffer.from(b64, 'base64')).digest('hex')) };
      } catch (err) {
        browserTls[origin] = { fingerprints256: [], error: (err as Error).message.split('\n')[0]! };
      }
      const seen = browserTls[origin]!.fingerprints256[0];
      const checked = check.chain[0]?.fingerprint256;
      if (seen !== undefined && checked !== undefined && seen !== checked) {
        throw fail('tls', `the server at ${origin} showed the browser another certificate (SHA-256 ${seen}) than the node's own check of it (SHA-256 ${checked}): what the browser received cannot be vouched for`, { origin, browserFingerprint256: seen, checkedFingerprint256: checked });
      }
    }
    ev('tls-compared', { origins: Object.keys(browserTls).length });
    mark('recorded');

    // The redirect chain, first request first.
    const redirects: RedirectHop[] = [];
    for (let r = main.request().redirectedFrom(); r; r = r.redirectedFrom()) {
      const res = await r.response();
      redirects.unshift({ url: r.url(), status: res?.status() ?? 0, location: res ? ((await res.headerValue('location')) ?? null) : null });
    }
    const headers = (await main.headersArray()).map((h) => [h.name, h.value] as [string, string]);
    const finalHost = new URL(main.url()).hostname.replace(/^\[|\]$/g, '');
    const conn = [...proxy.record.connections].reverse().find((c) => c.host === finalHost);
    const finalUrl = main.url();
    await Promise.allSettled(pendingBodies);
    await context.close();
    const version = browser.version();
    await browser.close();
    browser = null;
    const endedAt = now();
    mark('closed');
    ev('done', { finalUrl, status, requests });
    return {
      url,
      finalUrl,
      title,
      startedAt,
      endedAt,
      status,
      statusText: main.statusText(),
      headers,
      serverAddress: conn?.address ?? null,
      redirects,
      exchanges: exchanges.sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : 0)),
      failedRequests,
      screenshot,
      screenshotSize: { width: options.viewport.width, height: shotHeight, truncated },
      dom,
      mhtml,
      network: proxy.record,
      browser: { name: 'Chromium', version, userAgent, executablePath: settings.chromiumPath },
      log,
      timings,
    };
  } catch (err) {
    if (signal?.aborted) throw err instanceof CaptureFailure && err.reason === 'interrupted' ? err : fail('interrupted', 'the node stopped during the capture');
    if (err instanceof CaptureFailure) throw err;
    throw fail('browser', (err as Error).message.split('\n')[0]!);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await browser?.close().catch(() => undefined);
    await proxy.close();
  }
}
