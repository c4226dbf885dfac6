/**
 * Invoice routes against a real node: issuing (idempotency, conflicts kept as audit entries), the
 * table of bad inputs (4xx with the field path, log unchanged), batch, reads, bundles, the public
 * check, OpenAPI, and the worked example's vectors (docs/invoice.md "Background") reproduced through the API.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import {
  canonicalJson, commitment, entryLeafHash, fromHex, parseEntry, recordDigest, subjectPseudonym, verifyInclusion, verifyReceiptSigner,
} from '../../node';
import { sampleLine } from '../invoice/fixtures';
import { B4_CANONICAL_JSON, B4_INVOICE_KEY, B4_SHA256, sampleInvoice, sampleInvoiceWithLines } from '../invoice/fixtures';
import type { TestLedger } from '../support/ledger';
import { BUYER_TAX_ID, SELLER_TAX_ID, blue, invoiceNumber, logSize, startInvoiceLedger, type Parties } from './invoices-support';

describe('invoice routes (real node)', () => {
  let t: TestLedger;
  let k: Parties;
  beforeAll(async () => {
    ({ t, k } = await startInvoiceLedger());
  });
  afterAll(async () => {
    await t?.close();
  });

  it('reproduces the worked example: it registers under its key and its record hashes to the published hash', async () => {
    const r = await t.api('/v1/invoices', { body: sampleInvoice(), key: k.issuer });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.invoiceKey).toBe(B4_INVOICE_KEY);
    expect(r.body.status).toBe('issued');
    const got = await t.api(`/v1/invoices/${B4_INVOICE_KEY}`, { key: k.court });
    expect(got.status).toBe(200);
    expect(canonicalJson(got.body.invoice)).toBe(B4_CANONICAL_JSON);
    // The log entry commits to exactly that hash.
    const rec = await t.ledger.sequencer.getRecord(r.body.index);
    expect(rec!.recordDigest).toBe(B4_SHA256);
    expect(rec!.entry.commitment).toBe(commitment(rec!.salt!, B4_SHA256));
    // The entry's subject is the invoice's pseudonym, not its (publicly computable) key.
    expect(rec!.subject).toBe(B4_INVOICE_KEY);
    expect(rec!.subjectSalt).toMatch(/^0x[0-9a-f]{64}$/);
    expect(rec!.entry.subject).toBe(subjectPseudonym(rec!.subjectSalt!, B4_INVOICE_KEY));
    expect(rec!.entry.subject).not.toBe(B4_INVOICE_KEY);
  });

  it('identical re-submission answers 200 with the same receipt; the derived 大写 may be sent and is dropped', async () => {
    const body = blue(10);
    const first = await t.api('/v1/invoices', { body, key: k.issuer });
    expect(first.status).toBe(201);
    const before = await logSize(t);
    const again = await t.api('/v1/invoices', { body: { ...body, totalWithTaxUpper: '壹仟零陆拾圆整' }, key: k.issuer });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ outcome: 'duplicate', invoiceKey: first.body.invoiceKey, index: first.body.index, receipt: first.body.receipt });
    expect(await logSize(t)).toBe(before);
    expect(verifyReceiptSigner(again.body.receipt, t.ledger.operator.address)).toBe(t.ledger.operator.address);
  });

  it('same key with different content: 409, and an invoice.conflict-refused audit entry is appended', async () => {
    const body = blue(11);
    const first = await t.api('/v1/invoices', { body, key: k.issuer });
    expect(first.status).toBe(201);
    const before = await logSize(t);
    const other = await t.api('/v1/invoices', { body: { ...body, drawer: '李四' }, key: k.issuer });
    expect(other.status).toBe(409);
    expect(other.body.code).toBe('INVOICE_KEY_CONFLICT');
    expect(other.body.existingDigest).toBe(recordDigest(body));
    expect(other.body.attemptedDigest).toBe(recordDigest({ ...body, drawer: '李四' }));
    expect(await logSize(t)).toBe(before + 1);
    const view = await t.api(`/v1/invoices/${first.body.invoiceKey}`, { key: k.issuer });
    expect(view.body.events.map((e: { kind: string }) => e.kind)).toEqual(['invoice.issued', 'invoice.conflict-refused']);
    expect(view.body.events[1].index).toBe(other.body.auditIndex);
    expect(view.body.state.conflictsRefused).toBe(1);
    expect(view.body.invoice.drawer).toBe('张三'); // the registered content is unchanged
  });

  describe('bad inputs: 4xx with the field path, log size unchanged', () => {
    const withTotals = (n: number, line: ReturnType<typeof sampleLine>) => blue(n, { lines: [line], totalAmountFen: line.amountFen, totalTaxFen: line.taxAmountFen, totalWithTaxFen: line.amountFen + line.taxAmountFen });
    const { drawer: _d, ...missingDrawer } = blue(102);
    const cases: { name: string; body?: unknown; rawBody?: string; status: number; path: (string | number)[]; code?: string }[] = [
      { name: 'malformed JSON', rawBody: '{"schemaVersion": "cn-einv/0.1",', status: 400, path: ['body'], code: 'MALFORMED_JSON' },
      { name: 'not an object', body: [1, 2], status: 422, path: ['body'] },
      { name: 'wrong type (amount as string)', body: { ...blue(101), totalAmountFen: '100000' }, status: 422, path: ['body', 'totalAmountFen'], code: 'invalid_type' },
      { name: 'wrong type (fractional fen)', body: { ...blue(101), totalTaxFen: 6000.5 }, status: 422, path: ['body', 'totalTaxFen'] },
      { name: 'missing field', body: missingDrawer, status: 422, path: ['body', 'drawer'], code: 'required' },
      { name: 'unknown field', body: { ...blue(103), discountCode: 'X' }, status: 422, path: ['body', 'discountCode'], code: 'unknown_field' },
      { name: 'unknown nested field', body: blue(104, { seller: { name: '示例销售方有限公司', taxId: SELLER_TAX_ID, taxIdScheme: 'USCC', email: 'a@b' } as never }), status: 422, path: ['body', 'seller', 'email'], code: 'unknown_field' },
      { name: 'bad check character', body: blue(105, { buyer: { name: '买方', taxId: '9144030071526726XA', taxIdScheme: 'USCC' } }), status: 422, path: ['body', 'buyer', 'taxId'], code: 'check_character' },
      { name: 'number not of the issue year', body: blue(106, { invoiceNumber: '24512000000000000106' }), status: 422, path: ['body', 'invoiceNumber'], code: 'number_year' },
      { name: 'number with no province', body: blue(106, { invoiceNumber: '25992000000000000106' }), status: 422, path: ['body', 'invoiceNumber'], code: 'number_province' },
      { name: 'lines not adding up by one fen', body: blue(107, { totalAmountFen: 100001, totalWithTaxFen: 106001 }), status: 422, path: ['body', 'totalAmountFen'], code: 'sum_mismatch' },
      { name: 'tax off by one fen', body: withTotals(108, sampleLine({ taxAmountFen: 6001 })), status: 422, path: ['body', 'lines', 0, 'taxAmountFen'], code: 'tax_mismatch' },
      { name: 'unsupported rate', body: withTotals(109, sampleLine({ taxRateBps: 1700 })), status: 422, path: ['body', 'lines', 0, 'taxRateBps'], code: 'unsupported_rate' },
      { name: 'too many lines', body: sampleInvoiceWithLines(2001, { invoiceNumber: invoiceNumber(110) }), status: 422, path: ['body', 'lines'], code: 'too_big' },
      { name: 'issue time in the future', body: blue(111, { invoiceNumber: '27512000000000000111', issueDateTime: '2027-12-31T10:00:00+08:00' }), status: 422, path: ['body', 'issueDateTime'], code: 'issue_time_future' },
      { name: 'wrong 大写', body: { ...blue(112), totalWithTaxUpper: '壹仟圆整' }, status: 422, path: ['body', 'totalWithTaxUpper'], code: 'upper_mismatch' },
      { name: 'body over the limit', rawBody: JSON.stringify({ ...blue(113), remarks: 'x'.repeat(1_100_000) }), status: 413, path: ['body'], code: 'BODY_TOO_LARGE' },
    ];
    it.each(cases)('$name → $status at $path', async (c) => {
      const before = await logSize(t);
      const r = await t.api('/v1/invoices', { key: k.issuer, ...(c.rawBody !== undefined ? { rawBody: c.rawBody, headers: { 'content-type': 'application/json' } } : { body: c.body }) });
      expect(r.status, JSON.stringify(r.body).slice(0, 500)).toBe(c.status);
      expect(r.headers.get('content-type')).toMatch(/application\/problem\+json/);
      const paths = (r.body.errors as { path: unknown[]; code?: string }[]).map((e) => JSON.stringify(e.path));
      expect(paths).toContain(JSON.stringify(c.path));
      if (c.code) expect(r.body.errors.find((e: { path: unknown[] }) => JSON.stringify(e.path) === JSON.stringify(c.path)).code).toBe(c.code);
      expect(await logSize(t)).toBe(before);
    });
  });

  it('batch: per-item results in order; valid items not held back; duplicates and conflicts within a batch', async () => {
    const a = blue(200);
    const bad = blue(201, { totalAmountFen: 99999, totalWithTaxFen: 105999 });
    const c = blue(202);
    const before = await logSize(t);
    const r = await t.api('/v1/invoices/batch', { body: { invoices: [a, bad, c, a, { ...a, drawer: '王五' }, blue(203, { seller: { name: 'x', taxId: BUYER_TAX_ID, taxIdScheme: 'USCC' } })] }, key: k.issuer });
    expect(r.status).toBe(200);
    const res = r.body.results;
    expect(res.map((x: { status: number }) => x.status)).toEqual([201, 422, 201, 200, 409, 403]);
    expect(res[1].errors.map((e: { path: unknown[] }) => e.path)).toContainEqual(['body', 'invoices', 1, 'totalAmountFen']);
    expect(res[3]).toMatchObject({ outcome: 'duplicate', invoiceKey: res[0].invoiceKey, index: res[0].index, receipt: res[0].receipt });
    expect(res[4].code).toBe('INVOICE_KEY_CONFLICT');
    expect(res[5].code).toBe('SCOPE_FORBIDDEN');
    expect(r.body).toMatchObject({ created: 2, duplicates: 1, refused: 3 });
    expect(await logSize(t)).toBe(before + 3); // two invoices, one conflict audit entry
  });

  it('batch of 1000 registers every invoice; over 1000 is refused whole', async () => {
    const invoices = Array.from({ length: 1000 }, (_, i) => blue(10_000 + i));
    const before = await logSize(t);
    const r = await t.api('/v1/invoices/batch', { body: { invoices }, key: k.issuer });
    expect(r.status).toBe(200);
    expect(r.body.created).toBe(1000);
    expect(new Set(r.body.results.map((x: { index: number }) => x.index)).size).toBe(1000);
    expect(await logSize(t)).toBe(before + 1000);
    const over = await t.api('/v1/invoices/batch', { body: { invoices: [...invoices, blue(11_000)] }, key: k.issuer });
    expect(over.status).toBe(422);
    expect(over.body.errors[0].path).toEqual(['body', 'invoices']);
    expect(await logSize(t)).toBe(before + 1000);
  });

  it('GET shows invoice, status and events with anchoring state; the bundle verifies item by item', async () => {
    const body = blue(300);
    const issued = await t.api('/v1/invoices', { body, key: k.issuer });
    const key = issued.body.invoiceKey;
    expect((await t.api(`/v1/invoices/${key}/use`, { body: { action: 'confirm-use' }, key: k.buyer })).status).toBe(200);
    for (const reader of [k.issuer, k.buyer, k.court, k.auditor]) {
      const v = await t.api(`/v1/invoices/${key}`, { key: reader });
      expect(v.status).toBe(200);
      expect(v.body.status).toBe('issued');
      expect(v.body.state.use).toBe('use-confirmed');
      expect(v.body.events.map((e: { kind: string }) => e.kind)).toEqual(['invoice.issued', 'invoice.use-confirmed']);
    }
    await t.waitAnchored();
    const v = await t.api(`/v1/invoices/${key}`, { key: k.court });
    for (const e of v.body.events) {
      expect(e.anchoring.state).toBe('anchored');
      expect(e.anchoring.checkpoint.treeSize).toBeGreaterThan(e.index);
    }
    const b = await t.api(`/v1/invoices/${key}/bundle`, { key: k.auditor });
    expect(b.status).toBe(200);
    expect(b.body).toMatchObject({ format: 'tianfu.bundle/v1', kind: 'invoice', subjectLink: { scheme: 'tianfu/subject/v1', key } });
    expect(b.body.subject).toBe(subjectPseudonym(b.body.subjectLink.salt, key));
    expect(b.body.items).toHaveLength(2);
    expect(b.body.items[0].record).toEqual(body);
    for (const item of b.body.items) {
      const entry = parseEntry(item.entry);
      expect(entry.commitment).toBe(commitment(item.salt, recordDigest(item.record)));
      expect(item.anchor.treeSize).toBe(item.inclusion.treeSize);
      verifyInclusion(item.index, item.inclusion.treeSize, fromHex(entryLeafHash(entry)), item.inclusion.proof.map((h: string) => fromHex(h)), fromHex(item.anchor.rootHash));
      expect(verifyReceiptSigner(item.receipt, b.body.log.operator)).toBe(t.ledger.operator.address);
      const onChain = await t.ledger.registry.checkpoint(t.ledger.logId, item.anchor.treeSize);
      expect(onChain?.rootHash).toBe(item.anchor.rootHash);
    }
    expect((await t.api(`/v1/invoices/0x${'ab'.repeat(32)}`, { key: k.court })).status).toBe(404);
    expect((await t.api(`/v1/invoices/0x${'ab'.repeat(32)}/bundle`, { key: k.court })).status).toBe(404);
    const badKey = await t.api('/v1/invoices/not-a-key', { key: k.court });
    expect(badKey.status).toBe(400);
    expect(badKey.body.errors[0].path).toEqual(['params', 'invoiceKey']);
  });

  it('public check: status and anchoring only; one answer for "not found" and "fields do not match"', async () => {
    const body = blue(400);
    const issued = await t.api('/v1/invoices', { body, key: k.issuer });
    const q = (number: string, date: string, total: number | string) => t.api(`/v1/invoice-status?number=${number}&date=${date}&total=${total}`);
    const hit = await q(body.invoiceNumber, '2025-03-01', 106000);
    expect(hit.status).toBe(200);
    expect(hit.body.found).toBe(true);
    expect(Object.keys(hit.body.invoice).sort()).toEqual(['anchoring', 'colour', 'invoiceKey', 'registeredAt', 'status', 'updatedAt']);
    expect(hit.body.invoice).toMatchObject({ invoiceKey: issued.body.invoiceKey, colour: 'BLUE', status: 'issued' });
    expect(['anchored', 'pending']).toContain(hit.body.invoice.anchoring.registration.state);
    const text = JSON.stringify(hit.body);
    for (const secret of [SELLER_TAX_ID, BUYER_TAX_ID, '示例', '106000', 'reimbursement']) expect(text).not.toContain(secret);
    const misses = await Promise.all([
      q(body.invoiceNumber, '2025-03-02', 106000), // wrong date
      q(body.invoiceNumber, '2025-03-01', 106001), // wrong total by one fen
      q(body.invoiceNumber, '2025-02-28', 106000), // the UTC date, not the printed +08:00 date
      q(invoiceNumber(499), '2025-03-01', 106000), // no such number
    ]);
    for (const m of misses) {
      expect(m.status).toBe(200);
      expect(m.body).toEqual({ found: false });
    }
    const bad = await q('123', '2025-03-01', 106000);
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].path).toEqual(['query', 'number']);
    expect((await t.api(`/v1/invoice-status?number=${body.invoiceNumber}&date=2025-03-01&total=1.5`)).body.errors[0].path).toEqual(['query', 'total']);
  });

  it('OpenAPI lists every invoice route', async () => {
    const r = await t.api('/v1/openapi.json');
    expect(Object.keys(r.body.paths)).toEqual(
      expect.arrayContaining([
        '/v1/invoices', '/v1/invoices/batch', '/v1/invoices/{invoiceKey}', '/v1/invoices/{invoiceKey}/bundle', '/v1/invoices/{invoiceKey}/reimbursement',
        '/v1/invoices/{invoiceKey}/use', '/v1/red-letter-forms', '/v1/red-letter-forms/{id}/{action}', '/v1/invoice-status',
      ]),
    );
    expect(r.body.components.schemas.Invoice.properties.invoiceNumber).toBeDefined();
  });
});
