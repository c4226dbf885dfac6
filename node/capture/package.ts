/**
 * Builds the capture package from a capture's result (engine.ts): a WACZ 1.1.1 zip (the web-archive
 * community's package format, which ReplayWeb.page opens) holding
 *
 *   archive/data.warc.gz      WARC 1.1 (ISO 28500), one gzip member per record, written with warcio:
 *                             warcinfo, then request + response per exchange, and metadata records
 *   indexes/index.cdx         CDXJ index of the WARC (warcio's indexer), sorted
 *   pages/pages.jsonl         the page list (json-pages-1.0)
 *   tianfu/screenshot.png     full-page screenshot
 *   tianfu/dom.html           the rendered DOM
 *   tianfu/page.mhtml         MHTML snapshot (Chromium's Page.captureSnapshot)
 *   tianfu/network.json       redirect chain, DNS answers, connections (server addresses), TLS chains, refusals
 *   tianfu/capture-log.jsonl  one JSON event per step
 *   tianfu/manifest.json      tianfu.capture/v1: request, page, chain blocks, environment, every artifact's digests
 *   datapackage.json          Frictionless data package with every file's SHA-256 and size (WACZ's own check)
 *   datapackage-digest.json   SHA-256 of datapackage.json
 *
 * Every entry is stored (zip method 0), so a replay tool can read the WARC by offset without inflating the zip.
 */
import { createHash } from 'node:crypto';
import { zipSync } from 'fflate';
import canonicalize from 'canonicalize';
import type { WARCRecord as WARCRecordT } from 'warcio';

// warcio is loaded when a package is built or read, not when the node's entry is imported.
const warcio = (): typeof import('warcio') => require('warcio') as typeof import('warcio');
import {
  CAPTURE_MANIFEST_FORMAT,
  CAPTURE_MANIFEST_PATH,
  WACZ_VERSION,
  type CaptureArtifact,
  type CaptureBlockRef,
  type CaptureManifest,
  type CaptureRef,
  type CaptureTlsSummary,
} from '../protocol/capture-package';
import type { Hex } from '../protocol/bytes';
import type { CaptureResult, CaptureOptions } from './engine';

const sha256 = (b: Uint8Array): Hex => ('0x' + createHash('sha256').update(b).digest('hex')) as Hex;
const sm3 = (b: Uint8Array): Hex => ('0x' + createHash('sm3').update(b).digest('hex')) as Hex;
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** WARC-Date: second precision is WARC 1.0's; 1.1 allows more, ISO 8601 UTC. */
const warcDate = (iso: string): string => iso;

// Headers whose meaning the decoded body no longer has: the browser hands over the body decoded and
// de-chunked, so the response record keeps the body as the page used it and drops these two.
const DROPPED_RESPONSE_HEADERS = new Set(['content-encoding', 'transfer-encoding']);

async function serialize(rec: WARCRecordT): Promise<Uint8Array> {
  return warcio().WARCSerializer.serialize(rec, { gzip: true, digest: { algo: 'sha-256', prefix: 'sha256:', base32: false } });
}

export async function buildWarc(r: CaptureResult, captureId: string, manifestUrl: string): Promise<Uint8Array> {
  const { WARCRecord } = warcio();
  const parts: Uint8Array[] = [];
  const info = WARCRecord.createWARCInfo(
    { filename: 'data.warc.gz', warcVersion: 'WARC/1.1', date: warcDate(r.startedAt) },
    {
      software: `tianfu-ledger capture (warcio.js), ${r.browser.name} ${r.browser.version}`,
      format: 'WARC File Format 1.1',
      conformsTo: 'https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/',
      isPartOf: captureId,
      description: `capture of ${r.url}`,
      'http-header-user-agent': r.browser.userAgent,
    },
  );
  parts.push(await serialize(info));
  for (const x of r.exchanges) {
    const u = new URL(x.url);
    const reqHeaders = x.requestHeaders.filter(([k]) => !k.startsWith(':'));
    if (!reqHeaders.some(([k]) => k.toLowerCase() === 'host')) reqHeaders.unshift(['Host', u.host]);
    const req = WARCRecord.create(
      { url: x.url, date: warcDate(x.startedAt), type: 'request', warcVersion: 'WARC/1.1', statusline: `${x.method} ${u.pathname}${u.search} HTTP/1.1`, httpHeaders: reqHeaders, keepHeadersCase: true },
      (async function* () {
        if (x.requestBody && x.requestBody.length) yield new Uint8Array(x.requestBody);
      })(),
    );
    const resHeaders: [string, string][] = x.responseHeaders.filter(([k]) => !DROPPED_RESPONSE_HEADERS.has(k.toLowerCase()) && k.toLowerCase() !== 'content-length');
    resHeaders.push(['Content-Length', String(x.body.length)]);
    const res = WARCRecord.create(
      { url: x.url, date: warcDate(x.startedAt), type: 'response', warcVersion: 'WARC/1.1', statusline: `HTTP/1.1 ${x.status} ${x.statusText}`.trimEnd(), httpHeaders: resHeaders, keepHeadersCase: true },
      (async function* () {
        if (x.body.length) yield new Uint8Array(x.body);
      })(),
    );
    const resBytes = await serialize(res);
    const resId = res.warcHeaders.headers.get('WARC-Record-ID');
    if (resId) req.warcHeaders.headers.set('WARC-Concurrent-To', resId);
    parts.push(resBytes, await serialize(req));
  }
  // The capture's own facts about the page, beside the exchanges (server address, redirect chain, TLS).
  const meta = WARCRecord.create(
    { url: r.finalUrl, date: warcDate(r.endedAt), type: 'metadata', warcVersion: 'WARC/1.1', warcHeaders: { 'Content-Type': 'application/json' } },
    [utf8(JSON.stringify({ captureId, requestedUrl: r.url, finalUrl: r.finalUrl, status: r.status, serverAddress: r.serverAddress, redirects: r.redirects, manifest: manifestUrl, failedRequests: r.failedRequests }))],
  );
  parts.push(await serialize(meta));
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** CDXJ lines for the WARC (warcio's CDXIndexer), sorted as the spec requires. */
export async function cdxjIndex(warc: Uint8Array, filename: string): Promise<string> {
  const indexer = new (warcio().CDXIndexer)({ format: 'cdxj' } as never);
  const lines: string[] = [];
  async function* src(): AsyncGenerator<Uint8Array> {
    yield warc;
  }
  for await (const cdx of indexer.iterIndex([{ filename, reader: src() }] as never)) lines.push(indexer.serializeCDXJ(cdx).trimEnd());
  return lines.sort().join('\n') + (lines.length ? '\n' : '');
}

/** Every record of a WARC read back (tests, the CLI's summary). */
export async function readWarc(warc: Uint8Array): Promise<{ type: string; url: string | null; headers: Record<string, string>; status: number | null; payload: Uint8Array }[]> {
  async function* src(): AsyncGenerator<Uint8Array> {
    yield warc;
  }
  const parser = new (warcio().WARCParser)(src());
  const out: { type: string; url: string | null; headers: Record<string, string>; status: number | null; payload: Uint8Array }[] = [];
  for await (const record of parser) {
    const payload = await record.readFully(true);
    const headers: Record<string, string> = {};
    (record.warcHeaders.headers as Headers).forEach((v, k) => (headers[k.toLowerCase()] = v));
    out.push({ type: record.warcType ?? '', url: record.warcTargetURI ?? null, headers, status: record.httpHeaders ? Number(record.httpHeaders.statusCode) : null, payload });
  }
  return out;
}

export interface PackageInput {
  captureId: string;
  attempt: number;
  request: { url: string; title?: string; caseRef?: string; options: CaptureOptions };
  result: CaptureResult;
  chainStart: CaptureBlockRef;
  chainEnd: CaptureBlockRef | null;
  environment: Record<string, unknown>;
}

export interface BuiltPackage {
  bytes: Uint8Array;
  manifest: CaptureManifest;
  manifestBytes: Uint8Array;
  ref: CaptureRef;
  sha256: Hex;
  sm3: Hex;
}

const jsonl = (rows: unknown[]): string => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

export async function buildPackage(input: PackageInput): Promise<BuiltPackage> {
  const r = input.result;
  const files = new Map<string, { data: Uint8Array; mediaType: string }>();
  const warc = await buildWarc(r, input.captureId, CAPTURE_MANIFEST_PATH);
  files.set('archive/data.warc.gz', { data: warc, mediaType: 'application/warc' });
  files.set('indexes/index.cdx', { data: utf8(await cdxjIndex(warc, 'data.warc.gz')), mediaType: 'application/cdxj' });
  files.set('pages/pages.jsonl', {
    data: utf8(jsonl([{ format: 'json-pages-1.0', id: 'pages', title: 'All Pages' }, { id: input.captureId, url: r.finalUrl, ts: r.startedAt, title: r.title }])),
    mediaType: 'application/jsonl',
  });
  files.set('tianfu/screenshot.png', { data: new Uint8Array(r.screenshot), mediaType: 'image/png' });
  files.set('tianfu/dom.html', { data: utf8(r.dom), mediaType: 'text/html' });
  files.set('tianfu/page.mhtml', { data: utf8(r.mhtml), mediaType: 'multipart/related' });
  files.set('tianfu/network.json', {
    data: utf8(JSON.stringify({ redirects: r.redirects, finalUrl: r.finalUrl, serverAddress: r.serverAddress, ...r.network, failedRequests: r.failedRequests, timings: r.timings }, null, 1)),
    mediaType: 'application/json',
  });
  files.set('tianfu/capture-log.jsonl', { data: utf8(jsonl(r.log)), mediaType: 'application/jsonl' });

  const artifacts: CaptureArtifact[] = [...files].map(([path, f]) => ({ path, mediaType: f.mediaType, size: f.data.length, sha256: sha256(f.data), sm3: sm3(f.data) }));
  const finalOrigin = new URL(r.finalUrl).origin;
  const tls = r.network.tls[finalOrigin];
  const leaf = tls?.chain[0];
  const originTls: CaptureTlsSummary | null = tls && leaf ? { origin: finalOrigin, verified: tls.verified, fingerprint256: leaf.fingerprint256, subject: leaf.subject, issuer: leaf.issuer, validFrom: leaf.validFrom, validTo: leaf.validTo } : null;
  const request: CaptureManifest['request'] = { url: input.request.url, options: { ...input.request.options } };
  if (input.request.title !== undefined) request.title = input.request.title;
  if (input.request.caseRef !== undefined) request.caseRef = input.request.caseRef;
  const manifest: CaptureManifest = {
    format: CAPTURE_MANIFEST_FORMAT,
    captureId: input.captureId,
    attempt: input.attempt,
    request,
    page: { finalUrl: r.finalUrl, title: r.title, status: r.status, statusText: r.statusText, headers: r.headers, serverAddress: r.serverAddress, redirects: r.redirects, requests: r.exchanges.length },
    startedAt: r.startedAt,
    endedAt: r.endedAt,
    chainStart: input.chainStart,
    chainEnd: input.chainEnd,
    originTls,
    environment: input.environment,
    artifacts,
  };
  const manifestBytes = utf8(canonicalize(manifest) as string);
  files.set(CAPTURE_MANIFEST_PATH, { data: manifestBytes, mediaType: 'application/json' });

  const resources = [...files].map(([path, f]) => ({ name: path.split('/').pop()!, path, hash: `sha256:${sha256(f.data).slice(2)}`, bytes: f.data.length }));
  const datapackage = {
    profile: 'data-package',
    wacz_version: WACZ_VERSION,
    title: input.request.title ?? r.title,
    ...(input.request.caseRef ? { description: `case ${input.request.caseRef}` } : {}),
    created: r.endedAt,
    modified: r.endedAt,
    mainPageUrl: r.finalUrl,
    mainPageDate: r.startedAt,
    software: `tianfu-ledger capture ${String((input.environment.tool as { version?: string } | undefined)?.version ?? '')}`.trim(),
    resources,
  };
  const dpBytes = utf8(JSON.stringify(datapackage, null, 2));
  const dpDigest = utf8(JSON.stringify({ path: 'datapackage.json', hash: `sha256:${sha256(dpBytes).slice(2)}` }, null, 2));
  const mtime = new Date(r.endedAt);
  const zipInput: Record<string, [Uint8Array, { level: 0; mtime: Date }]> = {};
  for (const [path, f] of files) zipInput[path] = [f.data, { level: 0, mtime }];
  zipInput['datapackage.json'] = [dpBytes, { level: 0, mtime }];
  zipInput['datapackage-digest.json'] = [dpDigest, { level: 0, mtime }];
  const bytes = zipSync(zipInput);
  return {
    bytes,
    manifest,
    manifestBytes,
    ref: { captureId: input.captureId, attempt: input.attempt, manifest: { sha256: sha256(manifestBytes), sm3: sm3(manifestBytes), size: manifestBytes.length } },
    sha256: sha256(bytes),
    sm3: sm3(bytes),
  };
}
