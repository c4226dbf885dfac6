/**
 * Generated input (fast-check) on every JSON route of a real node: arbitrary JSON bodies, and valid
 * bodies with one field (at any depth) replaced by an arbitrary JSON value or an arbitrary string
 * (lone surrogates, controls and all), removed, or joined by an unknown field. Whatever the input:
 * never a 5xx, always a problem+json body when refused, and the log grows only with a 2xx.
 * Run counts are modest (two shared cores); the seed is printed by fast-check on failure.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fc from 'fast-check';
import type { TestLedger } from '../support/ledger';
import { blue, formId, logSize, startInvoiceLedger, type Parties } from './invoices-support';
import { bytesOf, deposit, metadata } from './evidence-support';

type Path = (string | number)[];

interface JsonRoute {
  name: string;
  method: string;
  path: () => string;
  key: () => string | undefined;
  valid: () => unknown;
}

function leafPaths(v: unknown, at: Path = []): Path[] {
  if (Array.isArray(v)) return [at, ...v.flatMap((x, i) => leafPaths(x, [...at, i]))];
  if (v !== null && typeof v === 'object') return [at, ...Object.entries(v).flatMap(([k, x]) => leafPaths(x, [...at, k]))];
  return [at];
}

type Edit = { kind: 'replace'; value: unknown } | { kind: 'delete' } | { kind: 'extra'; key: string; value: unknown };

function applyEdit(body: unknown, path: Path, edit: Edit): unknown {
  if (path.length === 0) return edit.kind === 'replace' ? edit.value : edit.kind === 'extra' && body && typeof body === 'object' ? { ...body, [edit.key]: edit.value } : body;
  const copy = structuredClone(body) as Record<string | number, unknown>;
  let cur = copy;
  for (const k of path.slice(0, -1)) cur = cur[k] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (edit.kind === 'replace') cur[last] = edit.value;
  else if (edit.kind === 'delete') {
    if (Array.isArray(cur)) cur.splice(Number(last), 1);
    else delete cur[last];
  } else if (cur[last] !== null && typeof cur[last] === 'object' && !Array.isArray(cur[last])) (cur[last] as Record<string, unknown>)[edit.key] = edit.value;
  return copy;
}

// Strings of any UTF-16 code units (lone surrogates included), and the characters the rules are about.
const nastyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.constantFrom('\u0000', '\u202e', '\u2066', '\u200b', '\ufeff', '\u2028', '\u0085', '\ud800', '\udc00', 'e\u0301', '\n', '\t', 'a', '张', '*'), maxLength: 12 }),
);
const anyValue = fc.oneof(fc.jsonValue({ maxDepth: 3 }), nastyString, fc.constantFrom(1.06e5, -0, 1e21, Number.MAX_SAFE_INTEGER + 2, 0.5));

describe('generated input on every JSON route (real node)', () => {
  let t: TestLedger;
  let k: Parties;
  let invoiceKey: string;
  let evidenceId: string;
  let eraseId: string;
  let n = 3000;

  beforeAll(async () => {
    ({ t, k } = await startInvoiceLedger());
    invoiceKey = (await t.api('/v1/invoices', { body: blue(1), key: k.issuer })).body.invoiceKey;
    await t.api('/v1/red-letter-forms', { body: { invoiceKey, formId: formId(1), reasonCode: '01', lines: [{ originalLineNo: 1, amountFen: -100000, taxAmountFen: -6000 }] }, key: k.issuer });
    evidenceId = (await deposit(t, k.collector, metadata(), bytesOf(300, 'gen-1'))).body.evidenceId;
    eraseId = (await deposit(t, k.collector, metadata(), bytesOf(300, 'gen-2'))).body.evidenceId;
  });
  afterAll(async () => {
    await t?.close();
  });

  const routes: JsonRoute[] = [
    { name: 'POST /v1/invoices', method: 'POST', path: () => '/v1/invoices', key: () => k.issuer, valid: () => blue(n++, { remarks: '备注' }) },
    { name: 'POST /v1/invoices/batch', method: 'POST', path: () => '/v1/invoices/batch', key: () => k.issuer, valid: () => ({ invoices: [blue(n++), blue(n++)] }) },
    { name: 'POST reimbursement', method: 'POST', path: () => `/v1/invoices/${invoiceKey}/reimbursement`, key: () => k.buyer, valid: () => ({ action: 'lock' }) },
    { name: 'POST use', method: 'POST', path: () => `/v1/invoices/${invoiceKey}/use`, key: () => k.buyer, valid: () => ({ action: 'confirm-use' }) },
    { name: 'POST /v1/red-letter-forms', method: 'POST', path: () => '/v1/red-letter-forms', key: () => k.issuer, valid: () => ({ invoiceKey, formId: formId(n++), reasonCode: '01', lines: [{ originalLineNo: 1, amountFen: -100, taxAmountFen: -6 }] }) },
    { name: 'POST form action', method: 'POST', path: () => `/v1/red-letter-forms/${formId(1)}/withdraw`, key: () => k.issuer, valid: () => ({}) },
    { name: 'POST custody', method: 'POST', path: () => `/v1/evidence/${evidenceId}/custody`, key: () => k.collector, valid: () => ({ event: 'annotated', reason: '核对', note: '一\n二' }) },
    { name: 'DELETE content', method: 'DELETE', path: () => `/v1/evidence/${eraseId}/content`, key: () => t.adminKey, valid: () => ({ reason: '申请删除' }) },
    { name: 'PUT signer', method: 'PUT', path: () => '/v1/evidence/signer', key: () => k.collector, valid: () => ({ address: '0x' + '11'.repeat(20), proof: '0x' + '22'.repeat(65) }) },
    { name: 'POST /v1/keys', method: 'POST', path: () => '/v1/keys', key: () => t.adminKey, valid: () => ({ role: 'court', name: '法院' }) },
    { name: 'POST /v1/verify', method: 'POST', path: () => '/v1/verify', key: () => undefined, valid: () => ({ bundle: { format: 'tianfu.bundle/v1', items: [] }, confirmations: 1 }) },
  ];

  async function check(route: JsonRoute, body: unknown): Promise<void> {
    const before = await logSize(t);
    const r = await t.api(route.path(), { method: route.method, body, ...(route.key() ? { key: route.key()! } : {}) });
    expect(r.status, `${route.name} ${JSON.stringify(body).slice(0, 300)} → ${JSON.stringify(r.body).slice(0, 300)}`).toBeLessThan(500);
    if (r.status >= 400) {
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(r.body.status).toBe(r.status);
      expect(await logSize(t), `${route.name}: refused with ${r.status} but the log grew`).toBe(before);
    } else if (route.name === 'POST /v1/invoices/batch') {
      // 200 with per-item results: the log grew by exactly the items it registered (no conflict entries here).
      const created = r.body.results.filter((x: { status: number }) => x.status === 201).length;
      expect(await logSize(t)).toBe(before + created);
    }
  }

  it('arbitrary JSON bodies', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), fc.jsonValue({ maxDepth: 4 }), async (route, body) => check(route, body)),
      { numRuns: 120 },
    );
  });

  it('valid bodies with one field replaced, removed, or joined by an unknown one', async () => {
    const edit: fc.Arbitrary<Edit> = fc.oneof(
      { weight: 4, arbitrary: anyValue.map((value) => ({ kind: 'replace' as const, value })) },
      { weight: 1, arbitrary: fc.constant({ kind: 'delete' as const }) },
      { weight: 1, arbitrary: fc.tuple(nastyString, anyValue).map(([key, value]) => ({ kind: 'extra' as const, key, value })) },
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), fc.nat(), edit, async (route, pick, e) => {
        const body = route.valid();
        const paths = leafPaths(body);
        await check(route, applyEdit(body, paths[pick % paths.length]!, e));
      }),
      { numRuns: 300 },
    );
  });

  it('the multipart metadata part: arbitrary metadata values never get a 5xx and deposit nothing unless 201', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), anyValue, async (pick, value) => {
        const m = metadata();
        const paths = leafPaths(m);
        const before = await logSize(t);
        const r = await deposit(t, k.collector, applyEdit(m, paths[pick % paths.length]!, { kind: 'replace', value }), bytesOf(50, String(pick)));
        expect(r.status, JSON.stringify(r.body).slice(0, 300)).toBeLessThan(500);
        if (r.status !== 201) expect(await logSize(t)).toBe(before);
      }),
      { numRuns: 60 },
    );
  });
});
