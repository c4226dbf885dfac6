/**
 * The capture engine and the package, in real Chromium against the tests' own site on loopback
 * (test/support/capture-site.ts): HTTP and HTTPS pages with CSS, an image and a script that writes
 * after load, a redirect chain, a 404, a page slower than the timeout, a page over the byte limit, a
 * TLS name mismatch, and the SSRF refusals end to end (the decoy on 127.0.0.2 counts every request
 * and must get none). The WARC is read back with warcio's parser, the zip with fflate.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash } from 'node:crypto';
import { unzipSync } from 'fflate';
import { startCaptureSite, SCRIPT_TEXT, type CaptureSite } from '../support/capture-site';
import { chromiumPath } from '../support/system-tools';
import { capturePage, CaptureFailure, DEFAULT_CAPTURE_OPTIONS, type CaptureOptions, type EngineSettings } from '../../node/capture/engine';
import { buildPackage, readWarc } from '../../node/capture/package';
import { environmentRecord } from '../../node/capture/environment';
import { indexCapturePackage } from '../../node/protocol/capture-package';
import { CaptureGuard, type Resolver } from '../../node/capture/guard';

const OPTS: CaptureOptions = { ...DEFAULT_CAPTURE_OPTIONS, timeoutMs: 8000 };
const hex = (alg: string, b: Uint8Array): `0x${string}` => `0x${createHash(alg).update(b).digest('hex')}`;

async function failure(p: Promise<unknown>): Promise<CaptureFailure> {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(CaptureFailure);
  return e as CaptureFailure;
}

describe('capture engine (real Chromium, loopback test site)', () => {
  let site: CaptureSite;
  let settings: EngineSettings;
  beforeAll(async () => {
    site = await startCaptureSite({ hugeBytes: 3 * 1024 * 1024 });
    settings = { chromiumPath: chromiumPath(), allowHosts: ['127.0.0.1'], maxBytes: 1024 * 1024, maxRequests: 200, maxHeight: 2000, ca: [site.caPem] };
  });
  afterAll(async () => {
    await site?.close();
  });

  it('captures an HTTP page through a redirect chain into a WACZ whose WARC holds every request the page made', async () => {
    const r = await capturePage(`${site.http}/redirect/1`, OPTS, settings);
    expect(r.finalUrl).toBe(`${site.http}/page`);
    expect(r.status).toBe(200);
    expect(r.redirects).toEqual([
      { url: `${site.http}/redirect/1`, status: 301, location: '/redirect/2' },
      { url: `${site.http}/redirect/2`, status: 302, location: '/page' },
    ]);
    expect(r.serverAddress).toBe('127.0.0.1');
    expect(r.dom).toContain(SCRIPT_TEXT); // written by the script after load
    expect(r.mhtml).toMatch(/^From: <Saved by Blink>/);
    expect(r.log.map((e) => e.event)).toEqual(expect.arrayContaining(['start', 'navigate', 'response', 'screenshot', 'dom', 'mhtml', 'done']));

    const environment = environmentRecord({ browser: r.browser, viewport: OPTS.viewport, hostsTouched: ['127.0.0.1'], clock: { startedAt: r.startedAt, endedAt: r.endedAt, chainStart: { chainId: '31337', number: '7', hash: '0x' + '11'.repeat(32), timestamp: String(Math.floor(Date.now() / 1000)) }, chainEnd: null } });
    const chainStart = { chainId: '31337', number: '7', hash: ('0x' + '11'.repeat(32)) as `0x${string}`, timestamp: '1' };
    const pkg = await buildPackage({ captureId: 'cap_test', attempt: 1, request: { url: `${site.http}/redirect/1`, options: OPTS }, result: r, chainStart, chainEnd: null, environment });
    const files = unzipSync(pkg.bytes);
    expect(Object.keys(files).sort()).toEqual([
      'archive/data.warc.gz', 'datapackage-digest.json', 'datapackage.json', 'indexes/index.cdx', 'pages/pages.jsonl',
      'tianfu/capture-log.jsonl', 'tianfu/dom.html', 'tianfu/manifest.json', 'tianfu/network.json', 'tianfu/page.mhtml', 'tianfu/screenshot.png',
    ]);
    // The WARC read back: one response and one request record per exchange, every path the site served.
    const records = await readWarc(files['archive/data.warc.gz']!);
    expect(records[0]!.type).toBe('warcinfo');
    const responses = records.filter((x) => x.type === 'response');
    const requests = records.filter((x) => x.type === 'request');
    const served = ['/redirect/1', '/redirect/2', '/page', '/style.css', '/img.png', '/app.js'];
    expect(responses.map((x) => new URL(x.url!).pathname).sort()).toEqual([...served].sort());
    expect(requests.map((x) => new URL(x.url!).pathname).sort()).toEqual([...served].sort());
    expect(records.filter((x) => x.type === 'metadata')).toHaveLength(1);
    for (const x of responses) expect(x.headers['warc-payload-digest'], x.url!).toBe(`sha256:${createHash('sha256').update(x.payload).digest('hex')}`);
    const img = responses.find((x) => x.url!.endsWith('/img.png'))!;
    expect(img.status).toBe(200);
    // The screenshot: a PNG of the viewport's width.
    const png = files['tianfu/screenshot.png']!;
    expect(Buffer.from(png.subarray(1, 4)).toString('latin1')).toBe('PNG');
    expect(Buffer.from(png).readUInt32BE(16)).toBe(OPTS.viewport.width);
    // The manifest names each artifact with the digests of its bytes; datapackage.json too (WACZ).
    const manifest = JSON.parse(Buffer.from(files['tianfu/manifest.json']!).toString('utf8'));
    expect(manifest.format).toBe('tianfu.capture/v1');
    for (const a of manifest.artifacts) {
      const data = files[a.path]!;
      expect({ size: a.size, sha256: a.sha256, sm3: a.sm3 }).toEqual({ size: data.length, sha256: hex('sha256', data), sm3: hex('sm3', data) });
    }
    const dp = JSON.parse(Buffer.from(files['datapackage.json']!).toString('utf8'));
    expect(dp).toMatchObject({ profile: 'data-package', wacz_version: '1.1.1', mainPageUrl: `${site.http}/page` });
    expect(dp.resources.map((x: { path: string }) => x.path).sort()).toEqual(Object.keys(files).filter((f) => !f.startsWith('datapackage')).sort());
    for (const res of dp.resources) expect(res.hash).toBe(`sha256:${createHash('sha256').update(files[res.path]!).digest('hex')}`);
    const digest = JSON.parse(Buffer.from(files['datapackage-digest.json']!).toString('utf8'));
    expect(digest.hash).toBe(`sha256:${createHash('sha256').update(files['datapackage.json']!).digest('hex')}`);
    const cdx = Buffer.from(files['indexes/index.cdx']!).toString('utf8').trim().split('\n');
    // One line per response, and one for the metadata record; sorted (SURT order).
    expect(cdx.length).toBe(served.length + 1);
    // warcio (the library ReplayWeb.page is built on) writes an IP host reversed like a name.
    expect(cdx.every((l) => /^1,0,0,127:\d+\)\/\S* \d{14} \{/.test(l))).toBe(true);
    expect([...cdx].sort()).toEqual(cdx);
    for (const p of served) expect(cdx.some((l) => l.includes(`"url": "${site.http}${p}"`) || l.includes(`"url":"${site.http}${p}"`)), p).toBe(true);
    const pages = Buffer.from(files['pages/pages.jsonl']!).toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(pages[0]).toEqual({ format: 'json-pages-1.0', id: 'pages', title: 'All Pages' });
    expect(pages[1]).toMatchObject({ url: `${site.http}/page`, title: 'Test listing 测试' });
    // The shared reader (the verifier's) sees the same digests.
    const idx = indexCapturePackage(pkg.bytes, { sha256: (b) => hex('sha256', b), sm3: (b) => hex('sm3', b) });
    expect(idx.entries['tianfu/manifest.json']).toEqual(pkg.ref.manifest);
    expect(environment.hostsFile).toMatchObject({ path: '/etc/hosts' });
    expect(site.decoyHits).toEqual([]);
  }, 60_000);

  it('captures an HTTPS page and records the origin certificate chain with the test certificate\'s fingerprint', async () => {
    const r = await capturePage(`${site.https}/page`, OPTS, settings);
    expect(r.status).toBe(200);
    const tls = r.network.tls[site.https]!;
    expect(tls.verified).toBe(true);
    expect(tls.chain[0]!.fingerprint256).toBe(site.certFingerprint);
    expect(tls.chain[0]!.pem).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(tls.address).toBe('127.0.0.1');
    expect(r.dom).toContain(SCRIPT_TEXT);
    // What the browser itself received over its tunnel, compared with the check: the same leaf.
    expect(r.network.browserTls![site.https]!.fingerprints256[0]).toBe(site.certFingerprint);
    expect(r.log.map((e) => e.event)).toContain('tls-compared');
  }, 60_000);

  it('fails tls when the server shows the browser another certificate than the node\'s check (both valid), for the page or a subresource', async () => {
    site.resetTwoFaced();
    const f = await failure(capturePage(`${site.twoFaced}/page`, OPTS, settings));
    expect(f.reason).toBe('tls');
    expect(f.message).toMatch(/showed the browser another certificate/);
    expect(f.details).toMatchObject({ origin: site.twoFaced, checkedFingerprint256: site.certFingerprint, browserFingerprint256: site.cert2Fingerprint });
    expect(site.certFingerprint).not.toBe(site.cert2Fingerprint);
    // An image from the two-faced origin on an honest page: the same.
    site.resetTwoFaced();
    const sub = await failure(capturePage(`${site.https}/sub-https?port=${new URL(site.twoFaced).port}`, OPTS, settings));
    expect(sub.reason).toBe('tls');
    expect(sub.details).toMatchObject({ origin: site.twoFaced, checkedFingerprint256: site.certFingerprint, browserFingerprint256: site.cert2Fingerprint });
    // And with an honest second origin the page is captured, both origins compared.
    const ok = await capturePage(`${site.https}/sub-https?port=${site.sniPort}`, OPTS, settings);
    expect(Object.keys(ok.network.browserTls!).sort()).toEqual([site.https, `https://127.0.0.1:${site.sniPort}`].sort());
    for (const b of Object.values(ok.network.browserTls!)) expect(b.fingerprints256[0]).toBe(site.certFingerprint);
  }, 60_000);

  it.each([
    ['a TLS name mismatch', (s: CaptureSite) => `${s.mismatch}/page`, 'tls', /ERR_TLS_CERT_ALTNAME_INVALID/],
    ['a 404', (s: CaptureSite) => `${s.http}/missing`, 'http-status', /404/],
    ['a page slower than the timeout', (s: CaptureSite) => `${s.http}/slow`, 'timeout', /within 3000 ms/],
    ['a page over the byte limit', (s: CaptureSite) => `${s.http}/huge`, 'too-large', /TIANFU_CAPTURE_MAX_BYTES/],
  ])('fails on %s with the named reason', async (_what, url, reason, message) => {
    const f = await failure(capturePage(url(site), { ...OPTS, timeoutMs: 3000 }, settings));
    expect(f.reason).toBe(reason);
    expect(f.message).toMatch(message);
    expect(f.log.at(-1)).toMatchObject({ event: 'failed', reason });
  }, 60_000);

  it('fails a page that makes more requests than TIANFU_CAPTURE_MAX_REQUESTS, and lets no more through', async () => {
    // /many loads 50 images; with a limit of 20 the proxy refuses past it and the capture fails, named.
    const before = site.hits.filter((h) => h === '/img.png').length;
    const f = await failure(capturePage(`${site.http}/many`, OPTS, { ...settings, maxRequests: 20 }));
    expect(f.reason).toBe('too-many-requests');
    expect(f.message).toMatch(/more than 20 requests \(TIANFU_CAPTURE_MAX_REQUESTS\)/);
    expect(f.log.map((e) => e.event)).toContain('request-limit');
    // Counted as the browser issues them: past the limit the proxy lets nothing more out; only what
    // was already in flight on Chromium's six connections per host can have reached the site.
    expect(site.hits.filter((h) => h === '/img.png').length - before).toBeLessThanOrEqual(20 + 6);
    // Within the limit the same page is captured.
    const ok = await capturePage(`${site.http}/many`, OPTS, { ...settings, maxRequests: 60 });
    expect(ok.status).toBe(200);
  }, 60_000);

  it('SSRF: 127.0.0.1 without the allow list, 127.0.0.2, [::1] and localhost are refused before a browser starts', async () => {
    const strict = { ...settings, allowHosts: [] };
    for (const [url, s] of [[`${site.http}/page`, strict], [`${site.decoy}/page`, settings], [`http://[::1]:${new URL(site.decoy).port}/page`, settings], [`http://localhost:${new URL(site.http).port}/page`, settings]] as const) {
      const before = site.hits.length;
      const f = await failure(capturePage(url, OPTS, s));
      expect(f.reason, url).toBe('target-forbidden');
      expect(f.log.map((e) => e.event)).toEqual(['start', 'failed']);
      expect(site.hits.length).toBe(before);
    }
    expect(site.decoyHits).toEqual([]);
  }, 60_000);

  it('SSRF: an allowed page that redirects to, or loads a subresource from, 127.0.0.2 is refused and the decoy gets nothing', async () => {
    const r1 = await failure(capturePage(`${site.http}/to-decoy`, OPTS, settings));
    expect(r1.reason).toBe('target-forbidden');
    expect(r1.details).toMatchObject({ address: '127.0.0.2' });
    const r2 = await failure(capturePage(`${site.http}/sub-decoy`, OPTS, settings));
    expect(r2.reason).toBe('target-forbidden');
    expect(r2.message).toMatch(/127\.0\.0\.2/);
    expect(site.decoyHits).toEqual([]);
  }, 60_000);

  it('a host name: resolved by the guard, connected to the address it answered, the answers kept; a name that resolves to a forbidden address or not at all is refused', async () => {
    // The tests' own resolver (the guard's injection point): names under .test on loopback addresses only.
    const asked: string[] = [];
    const names: Record<string, string> = { 'shop.test': '127.0.0.1', 'cdn.test': '127.0.0.2' };
    const resolver: Resolver = async (host) => {
      asked.push(host);
      const a = names[host];
      if (a === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
      return [{ address: a, family: 4 }];
    };
    const port = new URL(site.http).port;
    const named = { ...settings, guard: new CaptureGuard({ allowHosts: ['127.0.0.1', 'shop.test'], resolver }) };

    // Allowed by name: the page and its subresources come from the address the name resolved to.
    const before = site.hits.length;
    const r = await capturePage(`http://shop.test:${port}/page`, OPTS, named);
    expect(r.status).toBe(200);
    expect(r.finalUrl).toBe(`http://shop.test:${port}/page`);
    expect(r.serverAddress).toBe('127.0.0.1');
    expect(r.network.dns['shop.test']!.answers).toEqual([{ address: '127.0.0.1', family: 4 }]);
    expect(r.network.connections.length).toBeGreaterThan(0);
    for (const c of r.network.connections) expect(c.address).toBe('127.0.0.1');
    expect(site.hits.slice(before)).toEqual(expect.arrayContaining(['/page', '/style.css', '/img.png', '/app.js']));
    expect(asked).toContain('shop.test');

    // HTTPS by name: the check asks for the name (SNI), so the server shows the certificate for shop.test,
    // which verifies; the browser, through its tunnel to the same address, received the same one.
    const s = await capturePage(`https://shop.test:${site.sniPort}/page`, OPTS, named);
    expect(s.status).toBe(200);
    const tlsCheck = s.network.tls[`https://shop.test:${site.sniPort}`]!;
    expect(tlsCheck).toMatchObject({ verified: true, address: '127.0.0.1', host: 'shop.test' });
    expect(tlsCheck.chain[0]!.fingerprint256).toBe(site.namedCertFingerprint);
    expect(s.network.browserTls![`https://shop.test:${site.sniPort}`]!.fingerprints256[0]).toBe(site.namedCertFingerprint);

    // A subresource by a name that is not on the allow list and resolves to loopback: refused, named, and the decoy gets nothing.
    const f = await failure(capturePage(`${site.http}/sub-name?host=cdn.test`, OPTS, named));
    expect(f.reason).toBe('target-forbidden');
    expect(f.message).toMatch(/127\.0\.0\.2 \(cdn\.test resolves to it\) is a loopback address/);
    expect(site.decoyHits).toEqual([]);

    // A page whose name does not resolve: a failed capture (reason dns), before a browser starts.
    const d = await failure(capturePage(`http://nowhere.test:${port}/page`, OPTS, named));
    expect(d.reason).toBe('dns');
    expect(d.message).toMatch(/nowhere\.test could not be resolved: ENOTFOUND/);
    expect(d.log.map((e) => e.event)).toEqual(['start', 'failed']);
  }, 60_000);

  it('a URL that answers a file to download (not a page) fails `download`, naming the file, fetched once', async () => {
    const before = site.hits.filter((h) => h === '/download').length;
    const f = await failure(capturePage(`${site.http}/download`, OPTS, settings));
    expect(f.reason).toBe('download');
    expect(f.message).toMatch(/answers a file to download \("contract\.bin"\), not a page/);
    expect(f.details).toMatchObject({ url: `${site.http}/download`, suggestedFilename: 'contract.bin' });
    expect(f.log.map((e) => e.event)).toEqual(expect.arrayContaining(['navigate', 'download-refused', 'failed']));
    expect(site.hits.filter((h) => h === '/download').length - before).toBe(1);

    // A page that starts a download by itself is captured; the log says the download was refused.
    const r = await capturePage(`${site.http}/starts-download`, OPTS, settings);
    expect(r.status).toBe(200);
    expect(r.log.find((e) => e.event === 'download-refused')).toMatchObject({ suggestedFilename: 'contract.bin' });
    expect(r.exchanges.some((x) => x.url.endsWith('/download') && x.body.length > 0)).toBe(false);
  }, 60_000);

  it('keeps the screenshot within the height limit and says it was cut', async () => {
    const r = await capturePage(`${site.http}/tall`, { ...OPTS, scrollToBottom: false }, settings);
    expect(r.screenshotSize).toEqual({ width: OPTS.viewport.width, height: settings.maxHeight, truncated: true });
    expect(r.screenshot.readUInt32BE(20)).toBe(settings.maxHeight);
  }, 60_000);
});
