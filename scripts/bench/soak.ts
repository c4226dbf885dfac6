/**
 * Soak under bad input (issue 11, defect 9): the node (scripts/bench/soak-server.ts: `npm start`'s
 * server under `node --expose-gc`, embedded chain, temp data dir) gets the same mix of bad requests
 * several times over; after each pass it runs two full GCs and reports its RSS, heap and external
 * memory. Memory must flatten after the first pass (caches and JIT warm up once), not climb.
 *
 * The mix, per pass (~1,400 requests, 8 in flight): every write route with the strict-JSON refusals
 * (duplicate keys, number forms, 5,000-deep nesting, lone surrogates, invalid UTF-8, malformed and
 * wrongly typed JSON, unknown fields, a wrong content type) and the text rule (controls, bidi,
 * zero-width, BOM, separators, non-NFC) in every human-readable field; bad keys (none, malformed,
 * revoked, wrong role, wrong scope); batches of 1,000 mostly bad items; bad multipart deposits
 * (metadata refusals, parts out of order, a missing boundary, a truncated body); bad path and query
 * parameters on every read route; and ten 10 MB bodies (five JSON, five multipart) over the limits.
 * Every answer must be a 4xx (a cut connection after a refused oversized upload counts as refused),
 * never a 5xx, and the log must not grow after the first pass (the valid items of the mixed batch
 * are registered once, then answered as duplicates).
 *
 * The mix holds ~1,300 requests.
 *
 * Standalone: `npx tsx scripts/bench/soak.ts [passes]` (default 6). From `npm run bench`:
 * BENCH_SOAK_PASSES. BENCH_SOAK_DEBUG=1 prints every 2xx answer (to find a mix item that appends).
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BUYER_TAX_ID, OTHER_TAX_ID, SELLER_TAX_ID, sampleInvoice } from '../../test/invoice/fixtures';
import type { SoakMemory } from './soak-server';

export interface BenchSoakOptions {
  passes?: number;
  concurrency?: number;
  log?: (line: string) => void;
}

export interface SoakPass {
  pass: number;
  requests: number;
  seconds: number;
  /** Answers by class: 4xx, 5xx, other 2xx/3xx, connection cut by the server after refusing. */
  status4xx: number;
  status5xx: number;
  status2xx: number;
  cut: number;
  logSize: number;
  rssMiB: number;
  heapUsedMiB: number;
  externalMiB: number;
}

export interface BenchSoakResult {
  passes: SoakPass[];
  requestsPerPass: number;
  /** RSS after GC, last pass minus first. */
  rssGrowthMiB: number;
  /**
   * Trend of RSS after GC from the second pass on (least-squares slope, MiB per pass): what "flattens"
   * means. Single passes move RSS by ±10–20 MiB either way (the allocator keeps or returns the pages
   * of the 10 MB bodies), so one pass against another says little; a leak shows as a steady slope.
   */
  rssSlopeMiBPerPass: number;
  /** The same for the V8 heap after GC (objects kept alive: the leak RSS might hide). */
  heapSlopeMiBPerPass: number;
  total5xx: number;
  /** Whether the log grew after the first pass (it must not). */
  logGrewAfterFirstPass: boolean;
  /** Targets: no 5xx, the log unchanged after pass 1, RSS slope <= FLAT_SLOPE_MIB and heap slope <= 0.5 MiB a pass. */
  flat: boolean;
}

const MiB = 1024 * 1024;
const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;
const ROOT = path.resolve(__dirname, '..', '..');
/** At most this RSS slope (MiB per pass, after pass 1) counts as flat: pass 1 of the original report grew 121 MB. */
export const FLAT_SLOPE_MIB = 2;
export const FLAT_HEAP_SLOPE_MIB = 0.5;

/** Least-squares slope of ys over 0, 1, 2, …; 0 for fewer than two points. */
function slope(ys: number[]): number {
  const n = ys.length;
  if (n < 2) return 0;
  const mx = (n - 1) / 2;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  ys.forEach((y, x) => {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  });
  return num / den;
}

interface Req {
  method: string;
  path: string;
  key?: string;
  body?: string | Buffer;
  type?: string;
}

interface Child {
  proc: ChildProcess;
  url: string;
  adminKey: string;
}

function startChild(dataDir: string): Promise<Child> {
  const proc = fork(path.join(__dirname, 'soak-server.ts'), [], {
    cwd: ROOT,
    execArgv: ['--expose-gc', '--import', 'tsx'],
    env: {
      ...process.env,
      TIANFU_DATA_DIR: dataDir,
      TIANFU_PORT: '0',
      TIANFU_HOST: '127.0.0.1',
      TIANFU_CHAIN_PORT: '0',
      TIANFU_RATE_LIMIT_PER_MIN: '0',
      TIANFU_LOG_LEVEL: 'silent',
    },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let err = '';
  proc.stderr!.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-4000)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the node did not start within 180 s: ${err}`)), 180_000);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the node exited with ${code} before it was ready: ${err}`));
    });
    proc.on('message', (m: { op: string; url?: string; adminKeyFile?: string }) => {
      if (m.op !== 'ready') return;
      clearTimeout(timer);
      resolve({ proc, url: m.url!, adminKey: fs.readFileSync(m.adminKeyFile!, 'utf8').trim() });
    });
  });
}

function memoryAfterGc(c: Child): Promise<SoakMemory> {
  return new Promise((resolve) => {
    const on = (m: { op: string; memory?: SoakMemory }): void => {
      if (m.op !== 'memory') return;
      c.proc.off('message', on);
      resolve(m.memory!);
    };
    c.proc.on('message', on);
    c.proc.send({ op: 'gc' });
  });
}

async function call(url: string, r: Req): Promise<{ status: number; text: string } | 'cut'> {
  const headers: Record<string, string> = {};
  if (r.key !== undefined) headers.authorization = r.key.startsWith('Bearer') || r.key === '' ? r.key : `Bearer ${r.key}`;
  if (r.body !== undefined) headers['content-type'] = r.type ?? 'application/json';
  try {
    const res = await fetch(url + r.path, { method: r.method, headers, body: r.body === undefined ? undefined : typeof r.body === 'string' ? r.body : new Uint8Array(r.body) });
    return { status: res.status, text: await res.text() };
  } catch {
    // The server cut the connection after answering (a refused oversized upload): refused, not lost.
    return 'cut';
  }
}

async function api(url: string, r: Req): Promise<{ status: number; body: Record<string, unknown> }> {
  const out = await call(url, r);
  if (out === 'cut') throw new Error(`${r.method} ${r.path}: connection cut`);
  return { status: out.status, body: out.text ? (JSON.parse(out.text) as Record<string, unknown>) : {} };
}

const invoiceNumber = (n: number): string => '255120' + String(n).padStart(14, '0');
const formId = (n: number): string => '4403' + String(n).padStart(16, '0');

const BAD_TEXT = ['\u0000', '\u0007', '\u009b', '\u0085', '\u202e', '\u202a', '\u2066', '\u2069', '\u200b', '\u200d', '\ufeff', '\u2028', '\u2029', '\ud800', '\udc00x', 'Cafe\u0301'];
/** Refused in single-line fields only (remarks and notes may hold line breaks and tabs). */
const SINGLE_LINE_ONLY = ['\n', '\t', '\r'];
const MULTI_LINE = new Set(['remarks', 'note']);
const NUMBER_FORMS = ['106000.0000000000000001', '1.06e5', '6.00e2', '1E2', '-0', '100.0', '1e400', '99999999999999999999'];
const MALFORMED = ['{', '{"a":}', '{"a":1,}', '[1,2', '{"a" 1}', "{'a':1}", 'nul', '"\\x"', '{"a":"\\ud800"}', '\ufeff{}'];
const WRONG_TYPES = ['[]', '"text"', '123', 'null', 'true', '[{}]'];

type Json = Record<string | number, unknown>;

function setAt(obj: unknown, at: (string | number)[], value: unknown): unknown {
  const copy = structuredClone(obj) as Json;
  let cur = copy;
  for (const k of at.slice(0, -1)) cur = cur[k] as Json;
  cur[at[at.length - 1]!] = value;
  return copy;
}
function withLiteral(obj: unknown, at: (string | number)[], lit: string): string {
  const marker = '__SOAK_LITERAL__';
  return JSON.stringify(setAt(obj, at, marker)).replace(`"${marker}"`, lit);
}
function withDuplicate(obj: Json, key: string): string {
  return `{${JSON.stringify(key)}:${JSON.stringify(obj[key] ?? 1)},` + JSON.stringify(obj).slice(1);
}
const deep = (n: number): string => `{"deep":${'{"a":'.repeat(n)}1${'}'.repeat(n)}}`;

function multipart(meta: string | null, file: Buffer | null, opts: { fileFirst?: boolean; boundary?: string; truncate?: boolean; extra?: boolean } = {}): { body: Buffer; type: string } {
  const b = opts.boundary ?? 'soak-boundary-7d3f';
  const metaPart = meta === null ? '' : `--${b}\r\nContent-Disposition: form-data; name="metadata"\r\nContent-Type: application/json\r\n\r\n${meta}\r\n`;
  const filePart = (f: Buffer): Buffer => Buffer.concat([Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="file"; filename="page.mhtml"\r\nContent-Type: application/octet-stream\r\n\r\n`), f, Buffer.from('\r\n')]);
  const parts: Buffer[] = [];
  if (opts.fileFirst && file) parts.push(filePart(file));
  parts.push(Buffer.from(metaPart));
  if (!opts.fileFirst && file) parts.push(filePart(file));
  if (opts.extra) parts.push(Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="other"\r\n\r\nx\r\n`));
  if (!opts.truncate) parts.push(Buffer.from(`--${b}--\r\n`));
  return { body: Buffer.concat(parts), type: `multipart/form-data; boundary=${b}` };
}

interface Keys {
  admin: string;
  issuer: string;
  buyer: string;
  court: string;
  auditor: string;
  collector: string;
  otherIssuer: string;
  otherBuyer: string;
  revoked: string;
}

/** The pass: built once, sent `passes` times. Every request is one the node must refuse, except the mixed batch's valid items. */
function buildMix(k: Keys, invoiceKey: string, openForm: string, evidenceId: string): Req[] {
  const mix: Req[] = [];
  let n = 10_000;
  const invoice = (): Json => sampleInvoice({ invoiceNumber: invoiceNumber(n++), remarks: '备注' }) as unknown as Json;
  const evMeta = (): Json => ({
    title: 'Listing page (soak)',
    mediaType: 'multipart/related',
    fileName: 'listing.mhtml',
    method: 'web-page',
    source: { url: 'https://shop.example.com/item/1' },
    capturedAt: '2025-03-01T02:00:00.000Z',
    environment: { tool: 'tianfu-capture', toolVersion: '1.4.2' },
  });
  const routes: { method: string; path: string; key: string; valid: () => Json; text: (string | number)[][]; ints: (string | number)[][] }[] = [
    { method: 'POST', path: '/v1/invoices', key: k.issuer, valid: invoice, text: [['drawer'], ['seller', 'name'], ['buyer', 'name'], ['lines', 0, 'itemName'], ['remarks']], ints: [['totalWithTaxFen'], ['lines', 0, 'amountFen'], ['lines', 0, 'taxRateBps'], ['lines', 0, 'lineNo']] },
    { method: 'POST', path: `/v1/invoices/${invoiceKey}/reimbursement`, key: k.buyer, valid: () => ({ action: 'lock' }), text: [], ints: [] },
    { method: 'POST', path: `/v1/invoices/${invoiceKey}/use`, key: k.buyer, valid: () => ({ action: 'confirm-use' }), text: [], ints: [] },
    { method: 'POST', path: '/v1/red-letter-forms', key: k.issuer, valid: () => ({ invoiceKey, formId: formId(n++), reasonCode: '01', lines: [{ originalLineNo: 1, amountFen: -100000, taxAmountFen: -6000 }] }), text: [], ints: [['lines', 0, 'amountFen'], ['lines', 0, 'taxAmountFen'], ['lines', 0, 'originalLineNo']] },
    { method: 'POST', path: `/v1/red-letter-forms/${openForm}/confirm`, key: k.buyer, valid: () => ({}), text: [], ints: [] },
    { method: 'POST', path: `/v1/evidence/${evidenceId}/custody`, key: k.collector, valid: () => ({ event: 'annotated', reason: '庭前核对', note: '第一行' }), text: [['reason'], ['note']], ints: [] },
    { method: 'DELETE', path: `/v1/evidence/${evidenceId}/content`, key: k.admin, valid: () => ({ reason: '当事人申请删除', note: '依法' }), text: [['reason'], ['note']], ints: [] },
    { method: 'PUT', path: '/v1/evidence/signer', key: k.collector, valid: () => ({ address: '0x' + '11'.repeat(20), proof: '0x' + '22'.repeat(65) }), text: [], ints: [] },
    { method: 'POST', path: '/v1/keys', key: k.admin, valid: () => ({ role: 'court', name: '某某法院' }), text: [['name']], ints: [] },
    { method: 'POST', path: '/v1/verify', key: k.court, valid: () => ({ bundle: { format: 'tianfu.bundle/v1' }, confirmations: 1 }), text: [], ints: [['confirmations']] },
  ];
  for (const r of routes) {
    const add = (body: string | Buffer, type?: string): void => void mix.push({ method: r.method, path: r.path, key: r.key, body, ...(type ? { type } : {}) });
    const v = r.valid();
    for (const key of Object.keys(v).length ? Object.keys(v) : ['x']) add(withDuplicate(v, key));
    for (const d of [100, 1000, 5000, 20_000]) add(deep(d));
    add(`[${'['.repeat(3000)}${']'.repeat(3000)}]`);
    add(JSON.stringify({ ...v, '\ud800': 1 }));
    add(Buffer.concat([Buffer.from('{"drawer":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]));
    for (const m of MALFORMED) add(m);
    for (const w of WRONG_TYPES) add(w);
    add(JSON.stringify({ ...v, unknownField: 1 }));
    add('');
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'multipart/form-data; boundary=x']) add(JSON.stringify(v), type);
    for (const f of r.ints) for (const lit of NUMBER_FORMS) add(withLiteral(r.valid(), f, lit));
    for (const f of r.text) {
      const chars = MULTI_LINE.has(String(f[f.length - 1])) ? BAD_TEXT : [...BAD_TEXT, ...SINGLE_LINE_ONLY];
      // At the start, inside and at the end of the value.
      for (const ch of chars) for (const text of [`${ch}一二`, `一${ch}二`, `一二${ch}`]) add(JSON.stringify(setAt(r.valid(), f, text)));
    }
    // Keys: none, malformed, revoked, each wrong role, wrong scope.
    // (A court may annotate custody, so it is not a wrong role there.)
    for (const key of ['', 'Bearer', 'Bearer not-a-key', 'Bearer tfk_' + 'x'.repeat(60), k.revoked, k.auditor, k.court, k.collector, k.otherIssuer, k.otherBuyer]) {
      if (key === r.key || (key === k.court && r.path.endsWith('/custody'))) continue;
      mix.push({ method: r.method, path: r.path, key, body: JSON.stringify(r.valid()) });
    }
  }
  // Batches: 1,000 items, all bad but a few (registered once, then duplicates), and lone surrogates.
  const batchItems = Array.from({ length: 1000 }, (_, i) => (i % 250 === 0 ? sampleInvoice({ invoiceNumber: invoiceNumber(900_000 + i) }) : setAt(invoice(), ['drawer'], i % 2 ? '\ud800' : `x${BAD_TEXT[i % BAD_TEXT.length]}`)));
  for (let i = 0; i < 4; i++) mix.push({ method: 'POST', path: '/v1/invoices/batch', key: k.issuer, body: JSON.stringify({ invoices: batchItems }) });
  mix.push({ method: 'POST', path: '/v1/invoices/batch', key: k.issuer, body: JSON.stringify({ invoices: [] }) });
  mix.push({ method: 'POST', path: '/v1/invoices/batch', key: k.issuer, body: `{"invoices":[${JSON.stringify(invoice())}],"invoices":[]}` });
  mix.push({ method: 'POST', path: '/v1/invoices/batch', key: k.issuer, body: JSON.stringify({ invoices: Array.from({ length: 1001 }, () => ({})) }) });
  mix.push({ method: 'POST', path: '/v1/invoices/batch', key: k.issuer, body: JSON.stringify({ documents: [{ xml: '!!not base64!!' }, { xml: Buffer.from('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>').toString('base64') }] }) });
  mix.push({ method: 'POST', path: '/v1/invoices', key: k.issuer, body: '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', type: 'application/xml' });
  mix.push({ method: 'POST', path: '/v1/invoices', key: k.issuer, body: '<a><b></a>', type: 'application/xml' });
  // Multipart deposits that must be refused.
  const small = Buffer.alloc(2048, 7);
  const metas: string[] = [
    withDuplicate(evMeta(), 'title'),
    JSON.stringify(evMeta()).replace('"environment":{', `"environment":{"deep":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)},`),
    JSON.stringify({ ...evMeta(), fileName: 'x\u202etxt.exe' }),
    JSON.stringify({ ...evMeta(), title: '\ud800' }),
    JSON.stringify({ ...evMeta(), title: 'a\u0000b' }),
    '{"title":',
    '[]',
    JSON.stringify({ ...evMeta(), mediaType: 'not a type' }),
    JSON.stringify({ ...evMeta(), capturedAt: 'yesterday' }),
  ];
  for (const ch of [...BAD_TEXT, ...SINGLE_LINE_ONLY]) for (const field of ['title', 'fileName']) metas.push(JSON.stringify({ ...evMeta(), [field]: `证据${ch}.mhtml` }));
  for (const m of metas) {
    const mp = multipart(m, small);
    mix.push({ method: 'POST', path: '/v1/evidence', key: k.collector, body: mp.body, type: mp.type });
  }
  for (const shape of [{ fileFirst: true }, { truncate: true }, { extra: true }] as const) {
    const mp = multipart(JSON.stringify(evMeta()), small, shape);
    // Valid metadata in a malformed body: refused before anything is kept (a truncated body never completes).
    mix.push({ method: 'POST', path: '/v1/evidence', key: k.collector, body: mp.body, type: mp.type });
  }
  mix.push({ method: 'POST', path: '/v1/evidence', key: k.collector, body: multipart(JSON.stringify(evMeta()), null).body, type: 'multipart/form-data; boundary=soak-boundary-7d3f' });
  mix.push({ method: 'POST', path: '/v1/evidence', key: k.collector, body: small, type: 'multipart/form-data' });
  mix.push({ method: 'POST', path: '/v1/evidence', key: k.issuer, body: multipart(JSON.stringify(evMeta()), small).body, type: 'multipart/form-data; boundary=soak-boundary-7d3f' });
  // Read routes with bad parameters.
  const hex = (s: string): string => '0x' + s;
  const reads: [string, string | undefined][] = [
    ['/v1/log/entries?start=-1&end=5', undefined],
    ['/v1/log/entries?start=abc', undefined],
    ['/v1/log/entries?start=0&end=99999999999', undefined],
    ['/v1/log/receipts?start=5&end=1', undefined],
    ['/v1/log/records?start=0&end=1', k.issuer],
    ['/v1/log/proof/inclusion?index=-1&treeSize=1', undefined],
    ['/v1/log/proof/inclusion?index=999999&treeSize=1', undefined],
    ['/v1/log/proof/consistency?first=5&second=2', undefined],
    ['/v1/log/checkpoints/abc/timestamps', undefined],
    ['/v1/log/checkpoints/99999999/timestamps', undefined],
    [`/v1/invoices/${hex('zz'.repeat(32))}`, k.issuer],
    [`/v1/invoices/${hex('00'.repeat(32))}`, k.issuer],
    [`/v1/invoices/${invoiceKey}`, k.otherIssuer],
    [`/v1/invoices/${invoiceKey}/bundle?xml=2`, k.court],
    [`/v1/invoices/${invoiceKey}/xml`, k.issuer],
    [`/v1/invoices/${invoiceKey}/status-proof`, k.otherBuyer],
    ['/v1/invoice-status?number=1&date=2025-13-01&total=abc', undefined],
    ['/v1/invoice-status?number=' + '9'.repeat(500), undefined],
    ['/v1/invoice-status/proof?number=25512000000000000001&date=2025-03-01&total=1', undefined],
    ['/v1/evidence/ev_bad', k.collector],
    [`/v1/evidence/ev_${'0'.repeat(32)}`, k.collector],
    [`/v1/evidence/${evidenceId}`, k.issuer],
    [`/v1/evidence/${evidenceId}/content`, k.auditor],
    [`/v1/evidence/${evidenceId}/bundle`, k.buyer],
    [`/v1/evidence/${evidenceId}/status-proof`, k.otherIssuer],
    ['/v1/keys', k.issuer],
    ['/v1/no-such-route', undefined],
    ['/v1/log/entries?start=0&start=1', undefined],
  ];
  for (const [p, key] of reads) mix.push({ method: 'GET', path: p, ...(key ? { key } : {}) });
  mix.push({ method: 'DELETE', path: '/v1/keys/no-such-key', key: k.admin });
  mix.push({ method: 'POST', path: '/v1/red-letter-forms/' + formId(77) + '/confirm', key: k.buyer, body: '{}' });
  mix.push({ method: 'POST', path: `/v1/red-letter-forms/${openForm}/confirm`, key: k.otherBuyer, body: '{}' });
  mix.push({ method: 'POST', path: `/v1/red-letter-forms/${openForm}/explode`, key: k.buyer, body: '{}' });
  // Ten 10 MB bodies: five JSON (over the 8 MiB body limit), five deposits with refused metadata.
  const tenMB = 10 * 1000 * 1000;
  const bigJson = '{"pad":"' + 'a'.repeat(tenMB - 10) + '"}';
  const bigDeposit = multipart(JSON.stringify({ ...evMeta(), fileName: 'x\u202etxt.exe' }), Buffer.alloc(tenMB, 3));
  for (let i = 0; i < 5; i++) {
    mix.push({ method: 'POST', path: '/v1/invoices', key: k.issuer, body: bigJson });
    mix.push({ method: 'POST', path: '/v1/evidence', key: k.collector, body: bigDeposit.body, type: bigDeposit.type });
  }
  return mix;
}

export async function benchSoak(opts: BenchSoakOptions = {}): Promise<BenchSoakResult> {
  const passes = opts.passes ?? Number(process.env.BENCH_SOAK_PASSES ?? 6);
  const concurrency = opts.concurrency ?? 8;
  const log = opts.log ?? ((line: string) => console.log(line));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-bench-soak-'));
  let child: Child | undefined;
  try {
    child = await startChild(dataDir);
    const c = child;
    let lastId = '';
    const createKey = async (role: string, taxId?: string): Promise<string> => {
      const r = await api(c.url, { method: 'POST', path: '/v1/keys', key: c.adminKey, body: JSON.stringify({ role, name: `soak ${role}`, ...(taxId ? { taxId } : {}) }) });
      if (r.status !== 201) throw new Error(`cannot create a ${role} key: ${r.status} ${JSON.stringify(r.body)}`);
      lastId = r.body.id as string;
      return r.body.key as string;
    };
    const keys: Keys = {
      admin: c.adminKey,
      issuer: await createKey('issuer', SELLER_TAX_ID),
      buyer: await createKey('buyer', BUYER_TAX_ID),
      court: await createKey('court'),
      auditor: await createKey('auditor'),
      collector: await createKey('collector'),
      otherIssuer: await createKey('issuer', OTHER_TAX_ID),
      otherBuyer: await createKey('buyer', OTHER_TAX_ID),
      revoked: await createKey('court'),
    };
    const revoked = await api(c.url, { method: 'DELETE', path: `/v1/keys/${lastId}`, key: c.adminKey });
    if (revoked.status >= 300) throw new Error(`cannot revoke a key: ${revoked.status} ${JSON.stringify(revoked.body)}`);
    // The objects the bad requests aim at: an invoice, an open red-letter form, a deposit.
    const issued = await api(c.url, { method: 'POST', path: '/v1/invoices', key: keys.issuer, body: JSON.stringify(sampleInvoice({ invoiceNumber: invoiceNumber(1) })) });
    if (issued.status !== 201) throw new Error(`cannot issue: ${issued.status} ${JSON.stringify(issued.body)}`);
    const invoiceKey = issued.body.invoiceKey as string;
    const openForm = formId(1);
    const opened = await api(c.url, { method: 'POST', path: '/v1/red-letter-forms', key: keys.issuer, body: JSON.stringify({ invoiceKey, formId: openForm, reasonCode: '01', lines: [{ originalLineNo: 1, amountFen: -100000, taxAmountFen: -6000 }] }) });
    if (opened.status !== 201) throw new Error(`cannot open a form: ${opened.status} ${JSON.stringify(opened.body)}`);
    const mp = multipart(JSON.stringify({ title: 'soak target', mediaType: 'application/octet-stream', fileName: 'a.bin', method: 'file', source: { description: 'soak' }, capturedAt: new Date(Date.now() - 60_000).toISOString(), environment: { tool: 'soak', toolVersion: '1' } }), Buffer.alloc(1000, 1));
    const dep = await api(c.url, { method: 'POST', path: '/v1/evidence', key: keys.collector, body: mp.body, type: mp.type });
    if (dep.status !== 201) throw new Error(`cannot deposit: ${dep.status} ${JSON.stringify(dep.body)}`);
    const mix = buildMix(keys, invoiceKey, openForm, dep.body.evidenceId as string);

    const out: SoakPass[] = [];
    for (let pass = 1; pass <= passes; pass++) {
      const counts = { status4xx: 0, status5xx: 0, status2xx: 0, cut: 0 };
      const fiveXx: string[] = [];
      const t0 = performance.now();
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < mix.length) {
          const r = mix[next++]!;
          const res = await call(c.url, r);
          if (res === 'cut') counts.cut++;
          else if (res.status >= 500) {
            counts.status5xx++;
            if (fiveXx.length < 5) fiveXx.push(`${r.method} ${r.path}: ${res.status} ${res.text.slice(0, 200)}`);
          } else if (res.status >= 400) counts.status4xx++;
          else {
            counts.status2xx++;
            if (process.env.BENCH_SOAK_DEBUG) log(`  2xx: ${r.method} ${r.path} ${res.status} key=${Object.entries(keys).find(([, v]) => v === r.key)?.[0]} type=${r.type} ${String(r.body).slice(-120)}`);
          }
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
      const seconds = (performance.now() - t0) / 1000;
      const logSize = (await api(c.url, { method: 'GET', path: '/v1/log' })).body.treeSize as number;
      const mem = await memoryAfterGc(c);
      const p: SoakPass = { pass, requests: mix.length, seconds: round(seconds), ...counts, logSize, rssMiB: round(mem.rss / MiB), heapUsedMiB: round(mem.heapUsed / MiB), externalMiB: round(mem.external / MiB) };
      out.push(p);
      log(`soak pass ${pass}/${passes}: ${mix.length} requests in ${p.seconds} s (4xx ${p.status4xx}, 5xx ${p.status5xx}, 2xx ${p.status2xx}, cut ${p.cut}); log ${logSize}; after GC RSS ${p.rssMiB} MiB, heap ${p.heapUsedMiB} MiB, external ${p.externalMiB} MiB`);
      for (const f of fiveXx) log(`  5xx: ${f}`);
      if (process.env.BENCH_SOAK_DEBUG) log(`  heap spaces (KiB): ${Object.entries(mem.spaces).map(([k, v]) => `${k} ${Math.round(v / 1024)}`).join(', ')}`);
    }
    const last = out[out.length - 1]!;
    const steady = out.slice(1);
    const total5xx = out.reduce((s, p) => s + p.status5xx, 0);
    const logGrewAfterFirstPass = out.some((p) => p.logSize !== out[0]!.logSize);
    const rssSlopeMiBPerPass = round(slope(steady.map((p) => p.rssMiB)), 2);
    const heapSlopeMiBPerPass = round(slope(steady.map((p) => p.heapUsedMiB)), 2);
    const result: BenchSoakResult = {
      passes: out,
      requestsPerPass: mix.length,
      rssGrowthMiB: round(last.rssMiB - out[0]!.rssMiB),
      rssSlopeMiBPerPass,
      heapSlopeMiBPerPass,
      total5xx,
      logGrewAfterFirstPass,
      flat: total5xx === 0 && !logGrewAfterFirstPass && rssSlopeMiBPerPass <= FLAT_SLOPE_MIB && heapSlopeMiBPerPass <= FLAT_HEAP_SLOPE_MIB,
    };
    log(`soak: RSS after GC per pass ${out.map((p) => p.rssMiB).join(' / ')} MiB (heap ${out.map((p) => p.heapUsedMiB).join(' / ')}); from pass 2 RSS ${rssSlopeMiBPerPass} MiB/pass (target <= ${FLAT_SLOPE_MIB}), heap ${heapSlopeMiBPerPass} MiB/pass (target <= ${FLAT_HEAP_SLOPE_MIB}); 5xx ${total5xx}; log ${logGrewAfterFirstPass ? 'GREW' : 'unchanged'} after pass 1: ${result.flat ? 'met' : 'MISSED'}`);
    return result;
  } finally {
    if (child) {
      const { proc } = child;
      await new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.send({ op: 'stop' });
        setTimeout(() => proc.kill('SIGKILL'), 20_000).unref();
      });
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  benchSoak(process.argv[2] !== undefined ? { passes: Number(process.argv[2]) } : {})
    .then((r) => console.log(JSON.stringify({ ...r, passes: undefined, rssPerPassMiB: r.passes.map((p) => p.rssMiB) })))
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
