/**
 * 数电票 XML import against a real node: every fixture registers and its record equals the expected
 * JSON; refusals name the XML path; hostile documents (XXE, entity expansion, 50 MB, malformed) are
 * refused with 4xx and nothing is fetched; XML and JSON of one invoice share the key; XML twice is the
 * same receipt; the original bytes come back byte for byte; the batch of base64 documents.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../node';
import { invoiceKey } from '../../node/invoice';
import { INVOICE_XML_PREFIX } from '../../node/invoice/xml';
import { sampleInvoice } from '../invoice/fixtures';
import type { TestLedger } from '../support/ledger';
import { logSize, startInvoiceLedger, type Parties } from './invoices-support';

const FIX = path.join(__dirname, '..', 'invoice', 'xml', 'fixtures');
const xml = (name: string): Buffer => fs.readFileSync(path.join(FIX, name));
const expected = (name: string): { invoiceKey: string; record: Record<string, unknown> } => JSON.parse(fs.readFileSync(path.join(FIX, name.replace('.xml', '.expected.json')), 'utf8'));
/** A fixture with one piece of text replaced (the replacement must occur exactly once). */
function variant(name: string, from: string, to: string): Buffer {
  const text = xml(name).toString('utf8');
  if (text.split(from).length !== 2) throw new Error(`${from} does not occur once in ${name}`);
  return Buffer.from(text.replace(from, to), 'utf8');
}
const RED_FORM = '51010725030500000001';
const LEVY_SELLER = '9153000077859986X2';
const XML_LIMIT = 64 * 1024;

describe('invoice XML import (real node)', () => {
  let t: TestLedger;
  let k: Parties;
  let levyIssuer: string;
  const postXml = (body: Uint8Array | string, key: string = k.issuer, type = 'application/xml') => t.api('/v1/invoices', { rawBody: body, key, headers: { 'content-type': type } });

  beforeAll(async () => {
    // A 64 KiB document limit (production default 4 MiB) keeps the over-limit cases cheap.
    ({ t, k } = await startInvoiceLedger({ TIANFU_MAX_INVOICE_XML_BYTES: String(XML_LIMIT) }));
    levyIssuer = await t.createKey('issuer', LEVY_SELLER);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('registers the blue general, blue special, 3% levy and 1% samples; each record equals its expected JSON', async () => {
    for (const [name, key] of [['blue-general.xml', k.issuer], ['blue-special.xml', k.issuer], ['levy-3pct-toll.xml', levyIssuer], ['small-1pct.xml', k.issuer]] as const) {
      const r = await postXml(xml(name), key);
      expect(r.status, `${name}: ${JSON.stringify(r.body)}`).toBe(201);
      const want = expected(name);
      expect(r.body.invoiceKey).toBe(want.invoiceKey);
      const got = await t.api(`/v1/invoices/${r.body.invoiceKey}`, { key: k.court });
      expect(got.body.invoice).toEqual(want.record);
      // The digests in the record are those of the exact bytes sent.
      expect(got.body.invoice.original.sha256).toBe('0x' + createHash('sha256').update(xml(name)).digest('hex'));
      expect(got.body.invoice.original.sm3).toBe('0x' + createHash('sm3').update(xml(name)).digest('hex'));
      expect(got.body.invoice.original.size).toBe(xml(name).length);
      // Stored under its SHA-256 in the node database, byte for byte.
      const stored = (await t.ledger.db.get(INVOICE_XML_PREFIX + got.body.invoice.original.sha256.slice(2))) as Uint8Array;
      expect(Buffer.from(stored).equals(xml(name))).toBe(true);
      // The tags not mapped are in the response and the record.
      expect(r.body.unmapped).toEqual(want.record.original && (want.record.original as { unmapped: unknown }).unmapped);
    }
    // The figures of docs/invoice.md "Background": 18.63 + 0.56 = 19.19 at 3%; 495.05 + 4.95 = 500.00 at 1%.
    const levy = expected('levy-3pct-toll.xml').record as { totalAmountFen: number; totalTaxFen: number; totalWithTaxFen: number; lines: { taxRateBps: number }[] };
    expect([levy.totalAmountFen, levy.totalTaxFen, levy.totalWithTaxFen, levy.lines[0]!.taxRateBps]).toEqual([1863, 56, 1919, 300]);
    const small = expected('small-1pct.xml').record as typeof levy;
    expect([small.totalAmountFen, small.totalTaxFen, small.totalWithTaxFen, small.lines[0]!.taxRateBps]).toEqual([49505, 495, 50000, 100]);
  });

  it('the same invoice as XML and as JSON has the same key; the XML record is the JSON record plus `original`', async () => {
    const want = expected('blue-general.xml');
    const json = sampleInvoice(); // the worked example (docs/invoice.md "Background"), which blue-general.xml carries
    expect(invoiceKey(json.seller.taxId!, json.invoiceKind, json.invoiceNumber)).toBe(want.invoiceKey);
    const { original, ...face } = want.record;
    expect(original).toBeDefined();
    expect(canonicalJson(face)).toBe(canonicalJson(json));
    // Sent as JSON after the XML: the same key, and content that differs only by `original` is a conflict.
    const r = await t.api('/v1/invoices', { body: json, key: k.issuer });
    expect(r.status).toBe(409);
    expect(r.body.invoiceKey).toBe(want.invoiceKey);
  });

  it('sent twice as XML: the same receipt, nothing appended', async () => {
    const first = await t.api(`/v1/invoices/${expected('blue-special.xml').invoiceKey}/bundle`, { key: k.court });
    const before = await logSize(t);
    const again = await postXml(xml('blue-special.xml'));
    expect(again.status).toBe(200);
    expect(again.body.outcome).toBe('duplicate');
    expect(again.body.receipt).toEqual(first.body.items[0].receipt);
    expect(await logSize(t)).toBe(before);
  });

  it('GET /v1/invoices/{key}/xml returns the original bytes to the parties, court and auditor only', async () => {
    const key = expected('blue-special.xml').invoiceKey;
    for (const reader of [k.issuer, k.buyer, k.court, k.auditor]) {
      const res = await fetch(`${t.url}/v1/invoices/${key}/xml`, { headers: { authorization: `Bearer ${reader}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/xml/);
      expect(Buffer.from(await res.arrayBuffer()).equals(xml('blue-special.xml'))).toBe(true);
      expect(res.headers.get('repr-digest')).toBe(`sha-256=:${createHash('sha256').update(xml('blue-special.xml')).digest('base64')}:`);
    }
    // Another company's keys get the unknown-invoice answer; a role that never reads invoices, 403.
    for (const outsider of [k.otherBuyer, k.otherIssuer]) {
      const r = await t.api(`/v1/invoices/${key}/xml`, { key: outsider });
      expect([r.status, r.body.code]).toEqual([404, 'INVOICE_NOT_FOUND']);
    }
    expect((await t.api(`/v1/invoices/${key}/xml`, { key: k.collector })).status).toBe(403);
    // An invoice registered from JSON has no original.
    const j = await t.api('/v1/invoices', { body: sampleInvoice({ invoiceNumber: '25512000000000000777' }), key: k.issuer });
    const none = await t.api(`/v1/invoices/${j.body.invoiceKey}/xml`, { key: k.court });
    expect(none.status).toBe(404);
    expect(none.body.code).toBe('INVOICE_XML_NOT_FOUND');
  });

  it('red invoice with the platform remark and confirmation number: registers against its form and reverses the blue one', async () => {
    const blueKey = expected('blue-general.xml').invoiceKey;
    // Without the form: refused at the confirmation number.
    const early = await postXml(xml('red-with-remark.xml'));
    expect(early.status).toBe(422);
    expect(early.body.errors[0]).toMatchObject({ xmlPath: '/EInvoice/EInvoiceData/SpecificInformation/RedEInvoice/CreditNoteNumber', code: 'red_form_unknown' });
    const form = await t.api('/v1/red-letter-forms', { body: { invoiceKey: blueKey, formId: RED_FORM, reasonCode: '01', lines: [{ originalLineNo: 1, amountFen: -100000, taxAmountFen: -6000 }] }, key: k.issuer });
    expect(form.status, JSON.stringify(form.body)).toBe(201);
    const r = await postXml(xml('red-with-remark.xml'));
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.invoiceKey).toBe(expected('red-with-remark.xml').invoiceKey);
    expect(r.body.reversal).toMatchObject({ invoiceKey: blueKey, kind: 'invoice.reversed', status: 'fully-reversed' });
    const got = await t.api(`/v1/invoices/${r.body.invoiceKey}`, { key: k.court });
    expect(got.body.invoice).toEqual(expected('red-with-remark.xml').record);
    expect(got.body.invoice.remarks).toBe(`被红冲蓝字数电发票号码：25512000000000000001 红字发票信息确认单编号：${RED_FORM}`);
  });

  describe('refusals name the XML path; the log does not change', () => {
    const BASIC = '/EInvoice/EInvoiceData/BasicInformation';
    const cases: { name: string; body: () => Buffer | string; status: number; code: string; xmlPath: string; errorCode?: string; field?: (string | number)[] }[] = [
      { name: 'totals off by one fen', body: () => variant('small-1pct.xml', '<TotalTax-includedAmount>500.00<', '<TotalTax-includedAmount>500.01<'), status: 422, code: 'INVOICE_XML_INVALID', xmlPath: `${BASIC}/TotalTax-includedAmount`, errorCode: 'sum_mismatch', field: ['totalWithTaxFen'] },
      { name: 'line tax off by one fen', body: () => variant('levy-3pct-toll.xml', '<ComTaxAm>0.56<', '<ComTaxAm>0.57<'), status: 422, code: 'INVOICE_XML_INVALID', xmlPath: '/EInvoice/EInvoiceData/IssuItemInformation/ComTaxAm', errorCode: 'tax_mismatch', field: ['lines', 0, 'taxAmountFen'] },
      { name: 'uppercase total that does not match', body: () => variant('small-1pct.xml', '伍佰圆整', '伍佰零壹圆整'), status: 422, code: 'INVOICE_XML_INVALID', xmlPath: `${BASIC}/TotalTax-includedAmountInChinese`, errorCode: 'upper_mismatch', field: ['totalWithTaxUpper'] },
      { name: 'unknown rate', body: () => variant('blue-general.xml', '<TaxRate>0.06<', '<TaxRate>0.07<').toString().replace('<ComTaxAm>60.00<', '<ComTaxAm>70.00<').replace('<TotalTaxAm>60.00<', '<TotalTaxAm>70.00<').replace('<TotalTax-includedAmount>1060.00<', '<TotalTax-includedAmount>1070.00<').replace('壹仟零陆拾圆整', '壹仟零柒拾圆整'), status: 422, code: 'INVOICE_XML_INVALID', xmlPath: '/EInvoice/EInvoiceData/IssuItemInformation/TaxRate', errorCode: 'unsupported_rate', field: ['lines', 0, 'taxRateBps'] },
      { name: 'rate that is not a decimal', body: () => variant('blue-general.xml', '<TaxRate>0.06<', '<TaxRate>6%<'), status: 422, code: 'INVOICE_XML_INVALID', xmlPath: '/EInvoice/EInvoiceData/IssuItemInformation/TaxRate', errorCode: 'rate_format' },
      { name: 'bad USCC check character', body: () => variant('blue-special.xml', '<BuyerIdNum>9144030071526726XG<', '<BuyerIdNum>9144030071526726XH<'), status: 422, code: 'INVOICE_XML_INVALID', xmlPath: '/EInvoice/EInvoiceData/BuyerInformation/BuyerIdNum', errorCode: 'check_character', field: ['buyer', 'taxId'] },
      { name: 'amount with three decimals', body: () => variant('blue-special.xml', '<Amount>255.00<', '<Amount>255.001<'), status: 422, code: 'INVOICE_XML_INVALID', xmlPath: '/EInvoice/EInvoiceData/IssuItemInformation[2]/Amount', errorCode: 'money_format' },
      { name: 'missing drawer', body: () => variant('small-1pct.xml', '<Drawer>王五</Drawer>', ''), status: 422, code: 'INVOICE_XML_INVALID', xmlPath: `${BASIC}/Drawer`, errorCode: 'required' },
      { name: 'not a 数电票 root', body: () => Buffer.from('<Invoice><ID>1</ID></Invoice>'), status: 422, code: 'INVOICE_XML_INVALID', xmlPath: '/Invoice', errorCode: 'xml_root' },
      { name: 'a bidi override in a name (the text rule)', body: () => variant('small-1pct.xml', '<SellerName>示例销售方有限公司<', '<SellerName>示例销售方\u202e有限公司<'), status: 422, code: 'INVOICE_XML_INVALID', xmlPath: '/EInvoice/EInvoiceData/SellerInformation/SellerName', errorCode: 'TEXT_BIDI', field: ['seller', 'name'] },
      { name: 'a zero-width character in an unmapped tag (the text rule)', body: () => variant('small-1pct.xml', '<LabelName>普通发票<', '<LabelName>普通\u200b发票<'), status: 422, code: 'INVOICE_XML_INVALID', xmlPath: '/EInvoice/Header/InherentLabel/GeneralOrSpecialVAT/LabelName', errorCode: 'TEXT_INVISIBLE', field: ['original', 'unmapped', 1, 'value'] },
      { name: 'malformed XML', body: () => variant('small-1pct.xml', '</Drawer>', '</Drawr>'), status: 400, code: 'XML_MALFORMED', xmlPath: BASIC },
      { name: 'truncated document', body: () => xml('small-1pct.xml').subarray(0, 400), status: 400, code: 'XML_MALFORMED', xmlPath: '/EInvoice/Header' },
      { name: 'not UTF-8', body: () => Buffer.concat([xml('small-1pct.xml').subarray(0, 100), Buffer.from([0xc3, 0x28]), xml('small-1pct.xml').subarray(100)]), status: 415, code: 'XML_ENCODING', xmlPath: '/' },
      { name: 'a processing instruction', body: () => variant('small-1pct.xml', '<EInvoice>', '<?xml-stylesheet href="http://127.0.0.1:1/x.xsl"?><EInvoice>'), status: 400, code: 'XML_PI_FORBIDDEN', xmlPath: '/' },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const before = await logSize(t);
        const r = await postXml(c.body());
        expect(r.status, JSON.stringify(r.body)).toBe(c.status);
        expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(r.body.code).toBe(c.code);
        const e = r.body.errors.find((x: { xmlPath: string }) => x.xmlPath === c.xmlPath);
        expect(e, JSON.stringify(r.body.errors)).toBeDefined();
        expect(e.path).toEqual(['body', ...c.xmlPath.split('/').filter(Boolean)]);
        if (c.errorCode) expect(e.code).toBe(c.errorCode);
        if (c.field) expect(e.field).toEqual(c.field);
        expect(await logSize(t)).toBe(before);
      });
    }
  });

  describe('hostile documents: refused with 4xx, nothing resolved or fetched', () => {
    let server: http.Server;
    let hits = 0;
    let base = '';
    beforeAll(async () => {
      server = http.createServer((_req, res) => {
        hits++;
        res.end('<!ENTITY leak "LEAKED">');
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await new Promise((r) => server.close(r));
    });
    const doc = (dtd: string, use: string) => `<?xml version="1.0" encoding="UTF-8"?>\n${dtd}\n<EInvoice><Header><EIid>${use}</EIid></Header></EInvoice>`;
    const attacks = (): [string, string][] => [
      ['external entity to a file (XXE)', doc('<!DOCTYPE EInvoice [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', '&xxe;')],
      ['external entity over HTTP (XXE)', doc(`<!DOCTYPE EInvoice [<!ENTITY xxe SYSTEM "${base}/xxe">]>`, '&xxe;')],
      ['external DTD', doc(`<!DOCTYPE EInvoice SYSTEM "${base}/evil.dtd">`, '1')],
      ['parameter entity', doc(`<!DOCTYPE EInvoice [<!ENTITY % p SYSTEM "${base}/p.dtd"> %p;]>`, '&leak;')],
      ['billion laughs', doc(`<!DOCTYPE EInvoice [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;"><!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;"><!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;"><!ENTITY i "&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;">]>`, '&i;')],
      ['entity reference without a DTD', doc('', '&xxe;')],
    ];
    it('each attack is a 4xx problem whose answer holds nothing the entity would have produced', async () => {
      const before = await logSize(t);
      for (const [name, body] of attacks()) {
        const r = await postXml(body);
        expect(r.status, `${name}: ${JSON.stringify(r.body)}`).toBeGreaterThanOrEqual(400);
        expect(r.status, name).toBeLessThan(500);
        expect(['XML_DTD_FORBIDDEN', 'XML_MALFORMED'], name).toContain(r.body.code);
        const text = JSON.stringify(r.body);
        expect(text).not.toContain('root:');
        expect(text).not.toContain('LEAKED');
        expect(text).not.toContain('lollollol');
      }
      // Also as text/xml and inside a batch.
      expect((await postXml(attacks()[1]![1], k.issuer, 'text/xml')).body.code).toBe('XML_DTD_FORBIDDEN');
      const batch = await t.api('/v1/invoices/batch', { body: { documents: attacks().map(([, b]) => ({ xml: Buffer.from(b).toString('base64') })) }, key: k.issuer });
      expect(batch.body.refused).toBe(attacks().length);
      expect(hits).toBe(0);
      expect(await logSize(t)).toBe(before);
    });
  });

  it('a 50 MB document is refused (413) without being parsed', async () => {
    const big = Buffer.alloc(50 * 1024 * 1024, 0x20);
    xml('small-1pct.xml').copy(big, 0);
    const r = await postXml(big);
    expect(r.status).toBe(413);
    expect(r.body.code).toBe('BODY_TOO_LARGE');
    // In a batch (within the JSON body limit, over the per-document limit once decoded): 413 for that item.
    const over = Buffer.alloc(XML_LIMIT + 1, 0x20);
    xml('small-1pct.xml').copy(over, 0);
    const b = await t.api('/v1/invoices/batch', { body: { documents: [{ name: 'big.xml', xml: over.toString('base64') }] }, key: k.issuer });
    expect(b.status).toBe(200);
    expect(b.body.results[0]).toMatchObject({ name: 'big.xml', status: 413, code: 'XML_TOO_LARGE' });
  });

  it('batch of base64 documents: per-document results in order, with names, unmapped tags and XML paths', async () => {
    const docs = [
      { name: 'dup.xml', xml: xml('blue-special.xml').toString('base64') },
      { name: 'new.xml', xml: variant('small-1pct.xml', '26512000000000000021</EIid>', '26512000000000000022</EIid>').toString().replace('26512000000000000021</InvoiceNumber>', '26512000000000000022</InvoiceNumber>') },
      { name: 'bad.xml', xml: variant('small-1pct.xml', '<TotalTaxAm>4.95<', '<TotalTaxAm>4.96<').toString('base64') },
    ];
    docs[1]!.xml = Buffer.from(docs[1]!.xml).toString('base64');
    const r = await t.api('/v1/invoices/batch', { body: { documents: docs }, key: k.issuer });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ created: 1, duplicates: 1, refused: 1 });
    expect(r.body.results.map((x: { name: string; status: number }) => [x.name, x.status])).toEqual([['dup.xml', 200], ['new.xml', 201], ['bad.xml', 422]]);
    expect(r.body.results[1].unmapped.map((u: { path: string }) => u.path)).toContain('/EInvoice/Header/InherentLabel/InIssuType/LabelName');
    expect(r.body.results[2].errors[0]).toMatchObject({ xmlPath: '/EInvoice/EInvoiceData/BasicInformation/TotalTaxAm', path: ['body', 'documents', 2, 'xml', 'EInvoice', 'EInvoiceData', 'BasicInformation', 'TotalTaxAm'] });
    // Not base64: the whole batch is refused with the item's path.
    const bad = await t.api('/v1/invoices/batch', { body: { documents: [{ xml: '<EInvoice/>' }] }, key: k.issuer });
    expect(bad.status).toBe(422);
    expect(bad.body.errors[0].path).toEqual(['body', 'documents', 0, 'xml']);
  });

  it('JSON bodies may not carry `original` (only the XML import writes it)', async () => {
    const r = await t.api('/v1/invoices', { body: expected('small-1pct.xml').record, key: k.issuer });
    expect(r.status).toBe(422);
    expect(r.body.errors[0]).toMatchObject({ path: ['body', 'original'], code: 'not_allowed' });
  });

  it('an issuer not granted the seller is refused at SellerIdNum, and the XML is not kept for it', async () => {
    const r = await postXml(variant('small-1pct.xml', '26512000000000000021</EIid>', '26512000000000000031</EIid>').toString().replace('26512000000000000021<', '26512000000000000031<'), k.otherIssuer);
    expect(r.status).toBe(403);
    expect(r.body.errors[0]).toMatchObject({ xmlPath: '/EInvoice/EInvoiceData/SellerInformation/SellerIdNum', field: ['seller', 'taxId'] });
    // The document is stored only in the batch that appends its record: refused, nothing is kept.
    const sha = createHash('sha256').update(Buffer.from(variant('small-1pct.xml', '26512000000000000021</EIid>', '26512000000000000031</EIid>').toString().replace('26512000000000000021<', '26512000000000000031<'))).digest('hex');
    expect(await t.ledger.db.get(INVOICE_XML_PREFIX + sha)).toBeUndefined();
  });
});
