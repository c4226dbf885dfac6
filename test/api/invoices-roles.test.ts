/**
 * Roles and scopes on every invoice route: no key (401), a wrong role (403 ROLE_FORBIDDEN), a wrong
 * tax id (403 SCOPE_FORBIDDEN when registering for a seller the key is not granted; on someone else's
 * invoice or form, the not-found answer), and the log unchanged by every refusal. The public check
 * needs no key. test/api/auth-matrix.test.ts holds every route of the API to the same table.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { TestLedger } from '../support/ledger';
import { blue, formId, logSize, startInvoiceLedger, type Parties } from './invoices-support';

describe('invoice routes: roles and scopes (real node)', () => {
  let t: TestLedger;
  let k: Parties;
  let key: string;
  const FORM = formId(1);
  beforeAll(async () => {
    ({ t, k } = await startInvoiceLedger());
    key = (await t.api('/v1/invoices', { body: blue(1), key: k.issuer })).body.invoiceKey;
    await t.api(`/v1/invoices/${key}/use`, { body: { action: 'confirm-use' }, key: k.buyer });
    const f = await t.api('/v1/red-letter-forms', { body: { invoiceKey: key, formId: FORM, reasonCode: '02', lines: [{ originalLineNo: 1, amountFen: -100000, taxAmountFen: -6000 }] }, key: k.issuer });
    expect(f.body.formStatus).toBe('pending-buyer');
  });
  afterAll(async () => {
    await t?.close();
  });

  interface RouteCase {
    name: string;
    method: 'GET' | 'POST';
    path: () => string;
    body?: () => unknown;
    wrongRoles: (keyof Parties | 'admin')[];
    wrongTaxIds: (keyof Parties)[];
    /** The answer to a key of the wrong tax id (default: the invoice is not found for it). */
    outOfScope?: { status: number; code: string };
  }
  const routes: RouteCase[] = [
    { name: 'POST /v1/invoices', method: 'POST', path: () => '/v1/invoices', body: () => blue(2), wrongRoles: ['buyer', 'court', 'auditor', 'collector', 'admin'], wrongTaxIds: ['otherIssuer'], outOfScope: { status: 403, code: 'SCOPE_FORBIDDEN' } },
    { name: 'GET /v1/invoices/{key}', method: 'GET', path: () => `/v1/invoices/${key}`, wrongRoles: ['collector', 'admin'], wrongTaxIds: ['otherIssuer', 'otherBuyer'] },
    { name: 'GET /v1/invoices/{key}/bundle', method: 'GET', path: () => `/v1/invoices/${key}/bundle`, wrongRoles: ['collector', 'admin'], wrongTaxIds: ['otherIssuer', 'otherBuyer'] },
    { name: 'POST reimbursement', method: 'POST', path: () => `/v1/invoices/${key}/reimbursement`, body: () => ({ action: 'lock' }), wrongRoles: ['issuer', 'court', 'auditor', 'collector', 'admin'], wrongTaxIds: ['otherBuyer'] },
    { name: 'POST use', method: 'POST', path: () => `/v1/invoices/${key}/use`, body: () => ({ action: 'book' }), wrongRoles: ['issuer', 'court', 'auditor', 'collector', 'admin'], wrongTaxIds: ['otherBuyer'] },
    {
      name: 'POST /v1/red-letter-forms',
      method: 'POST',
      path: () => '/v1/red-letter-forms',
      body: () => ({ invoiceKey: key, formId: formId(2), reasonCode: '02', lines: [{ originalLineNo: 1, amountFen: -1000, taxAmountFen: -60 }] }),
      wrongRoles: ['court', 'auditor', 'collector', 'admin'],
      wrongTaxIds: ['otherIssuer', 'otherBuyer'],
    },
    { name: 'POST /v1/red-letter-forms/{id}/confirm', method: 'POST', path: () => `/v1/red-letter-forms/${FORM}/confirm`, wrongRoles: ['court', 'auditor', 'collector', 'admin'], wrongTaxIds: ['otherBuyer', 'otherIssuer'], outOfScope: { status: 404, code: 'RED_FORM_NOT_FOUND' } },
  ];

  const call = (r: RouteCase, as?: string) => t.api(r.path(), { method: r.method, ...(r.body ? { body: r.body() } : {}), ...(as ? { key: as } : {}) });
  const keyOf = (who: keyof Parties | 'admin') => (who === 'admin' ? t.adminKey : k[who]);

  it.each(routes)('$name: no key → 401, wrong role → 403, wrong tax id → 403 or not found, log unchanged', async (r) => {
    const before = await logSize(t);
    const none = await call(r);
    expect(none.status).toBe(401);
    expect(none.body.code).toBe('UNAUTHENTICATED');
    const bogus = await call(r, 'tfk_not-a-real-key-at-all');
    expect(bogus.status).toBe(401);
    for (const who of r.wrongRoles) {
      const res = await call(r, keyOf(who));
      expect(res.status, `${r.name} as ${who}: ${JSON.stringify(res.body)}`).toBe(403);
      expect(res.body.code, who).toBe('ROLE_FORBIDDEN');
    }
    const out = r.outOfScope ?? { status: 404, code: 'INVOICE_NOT_FOUND' };
    for (const who of r.wrongTaxIds) {
      const res = await call(r, keyOf(who));
      expect(res.status, `${r.name} as ${who}: ${JSON.stringify(res.body)}`).toBe(out.status);
      expect(res.body.code, who).toBe(out.code);
    }
    expect(await logSize(t)).toBe(before);
  });

  it('batch: no key 401, wrong role 403; a wrong seller tax id is refused per item (403) while valid items pass', async () => {
    const before = await logSize(t);
    expect((await t.api('/v1/invoices/batch', { body: { invoices: [blue(3)] } })).status).toBe(401);
    for (const who of ['buyer', 'court', 'auditor', 'collector'] as const) {
      expect((await t.api('/v1/invoices/batch', { body: { invoices: [blue(3)] }, key: k[who] })).status).toBe(403);
    }
    expect((await t.api('/v1/invoices/batch', { body: { invoices: [blue(3)] }, key: t.adminKey })).status).toBe(403);
    const wrong = await t.api('/v1/invoices/batch', { body: { invoices: [blue(3)] }, key: k.otherIssuer });
    expect(wrong.status).toBe(200);
    expect(wrong.body.results[0]).toMatchObject({ status: 403, code: 'SCOPE_FORBIDDEN' });
    expect(await logSize(t)).toBe(before);
  });

  it('the allowed callers pass (so the refusals above are about the key, not the request)', async () => {
    expect((await t.api('/v1/invoices', { body: blue(2), key: k.issuer })).status).toBe(201);
    for (const who of ['issuer', 'buyer', 'court', 'auditor'] as const) {
      expect((await t.api(`/v1/invoices/${key}`, { key: k[who] })).status, who).toBe(200);
      expect((await t.api(`/v1/invoices/${key}/bundle`, { key: k[who] })).status, who).toBe(200);
    }
    expect((await t.api(`/v1/invoices/${key}/use`, { body: { action: 'book' }, key: k.buyer })).status).toBe(200);
    const overlap = await t.api('/v1/red-letter-forms', { body: routes[5]!.body!(), key: k.buyer });
    expect(overlap.status).toBe(409);
    expect(overlap.body.code).toBe('RED_FORM_OVERLAP');
    expect((await t.api(`/v1/red-letter-forms/${FORM}/confirm`, { method: 'POST', key: k.buyer })).status).toBe(200);
    expect((await t.api(`/v1/invoices/${key}/reimbursement`, { body: { action: 'lock' }, key: k.buyer })).status).toBe(200);
  });

  it('the public check needs no key; a presented bad key is still 401', async () => {
    const q = `/v1/invoice-status?number=${blue(1).invoiceNumber}&date=2025-03-01&total=106000`;
    const r = await t.api(q);
    expect(r.status).toBe(200);
    expect(r.body.found).toBe(true);
    expect((await t.api(q, { key: 'tfk_not-a-real-key-at-all' })).status).toBe(401);
  });
});
