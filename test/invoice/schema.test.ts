/** validateInvoice: every refusal with its exact field path; accepted inputs and their flags. */
import { describe, expect, it } from 'vitest';
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { InvoiceSchema, validateInvoice, type InvoiceInput, type ValidateOptions } from '../../node/invoice';
import { sampleInvoice, sampleInvoiceWithLines, sampleLine, sampleRedInvoice } from './fixtures';

type Body = Record<string, unknown> & { lines: Record<string, unknown>[]; seller: Record<string, unknown>; buyer: Record<string, unknown> };
const mutate = (fn: (b: Body) => void, base: InvoiceInput = sampleInvoice()): unknown => {
  const b = structuredClone(base) as unknown as Body;
  fn(b);
  return b;
};

interface Case {
  name: string;
  body: unknown;
  path: (string | number)[];
  code: string;
  opts?: ValidateOptions;
}

const cases: Case[] = [
  { name: 'not an object', body: 'hello', path: [], code: 'invalid_type' },
  { name: 'null body', body: null, path: [], code: 'invalid_type' },
  { name: 'wrong schemaVersion', body: mutate((b) => { b.schemaVersion = 'cn-einv/0.2'; }), path: ['schemaVersion'], code: 'invalid_value' },
  { name: 'missing invoiceNumber', body: mutate((b) => { delete b.invoiceNumber; }), path: ['invoiceNumber'], code: 'required' },
  { name: 'number as a number', body: mutate((b) => { b.invoiceNumber = 25512000000000000001; }), path: ['invoiceNumber'], code: 'invalid_type' },
  { name: '19-digit number', body: mutate((b) => { b.invoiceNumber = '2551200000000000001'; }), path: ['invoiceNumber'], code: 'invalid_format' },
  { name: 'number year ≠ issue year', body: mutate((b) => { b.invoiceNumber = '24512000000000000001'; }), path: ['invoiceNumber'], code: 'number_year' },
  { name: 'bad province digits', body: mutate((b) => { b.invoiceNumber = '25992000000000000001'; }), path: ['invoiceNumber'], code: 'number_province' },
  { name: 'legacy invoiceCode present', body: mutate((b) => { b.invoiceCode = '144032109111'; }), path: ['invoiceCode'], code: 'not_allowed' },
  { name: 'unknown kind', body: mutate((b) => { b.invoiceKind = 'RAILWAY'; }), path: ['invoiceKind'], code: 'invalid_value' },
  { name: 'unknown colour', body: mutate((b) => { b.colour = 'GREEN'; }), path: ['colour'], code: 'invalid_value' },
  { name: 'issue time without +08:00', body: mutate((b) => { b.issueDateTime = '2025-03-01T02:00:00Z'; }), path: ['issueDateTime'], code: 'invalid_format' },
  { name: 'impossible date', body: mutate((b) => { b.issueDateTime = '2025-02-30T10:00:00+08:00'; }), path: ['issueDateTime'], code: 'invalid_date' },
  { name: 'issue time in the future', body: sampleInvoice(), path: ['issueDateTime'], code: 'issue_time_future', opts: { now: new Date('2025-03-01T01:54:00Z') } },
  { name: 'unknown top-level field', body: mutate((b) => { b.discount = 5; }), path: ['discount'], code: 'unknown_field' },
  { name: 'unknown nested field', body: mutate((b) => { b.seller.email = 'x@y'; }), path: ['seller', 'email'], code: 'unknown_field' },
  { name: 'unknown line field', body: mutate((b) => { b.lines[0]!.note = 'x'; }), path: ['lines', 0, 'note'], code: 'unknown_field' },
  { name: 'missing seller name', body: mutate((b) => { delete b.seller.name; }), path: ['seller', 'name'], code: 'required' },
  { name: 'missing seller taxId', body: mutate((b) => { delete b.seller.taxId; }), path: ['seller', 'taxId'], code: 'required' },
  { name: 'bad seller check character', body: mutate((b) => { b.seller.taxId = '91110000600037341N'; }), path: ['seller', 'taxId'], code: 'check_character' },
  { name: 'bad buyer check character', body: mutate((b) => { b.buyer.taxId = '91500105MAC35KKR6G'; }), path: ['buyer', 'taxId'], code: 'check_character' },
  { name: 'lowercase USCC', body: mutate((b) => { b.buyer.taxId = '9144030071526726xg'; }), path: ['buyer', 'taxId'], code: 'tax_id_format' },
  { name: 'legacy exception not configured', body: mutate((b) => { b.buyer.taxId = '91350100M0001TGQXM'; }), path: ['buyer', 'taxId'], code: 'check_character', opts: { legacyUsccExceptions: [] } },
  { name: 'unknown tax id scheme', body: mutate((b) => { b.buyer.taxIdScheme = 'VAT'; }), path: ['buyer', 'taxIdScheme'], code: 'invalid_value' },
  { name: 'special invoice to natural person', body: mutate((b) => { b.invoiceKind = 'VAT_SPECIAL'; b.buyer.isNaturalPerson = true; }), path: ['buyer', 'isNaturalPerson'], code: 'natural_person_special' },
  { name: 'special invoice without buyer tax id', body: mutate((b) => { b.invoiceKind = 'VAT_SPECIAL'; delete b.buyer.taxId; }), path: ['buyer', 'taxId'], code: 'required' },
  { name: 'no lines', body: mutate((b) => { b.lines = []; }), path: ['lines'], code: 'too_small' },
  { name: 'too many lines (configured)', body: sampleInvoiceWithLines(11), path: ['lines'], code: 'too_many_lines', opts: { maxLines: 10 } },
  { name: 'too many lines (2000 hard limit)', body: sampleInvoiceWithLines(2001), path: ['lines'], code: 'too_big' },
  { name: 'amount as a float', body: mutate((b) => { b.lines[0]!.amountFen = 1000.5; }), path: ['lines', 0, 'amountFen'], code: 'invalid_type' },
  { name: 'amount as a string', body: mutate((b) => { b.lines[0]!.amountFen = '100000'; }), path: ['lines', 0, 'amountFen'], code: 'invalid_type' },
  { name: 'item name without *简称*', body: mutate((b) => { b.lines[0]!.itemName = '餐饮费'; }), path: ['lines', 0, 'itemName'], code: 'invalid_format' },
  { name: '18-digit classification code', body: mutate((b) => { b.lines[0]!.taxClassificationCode = '307040100000000000'; }), path: ['lines', 0, 'taxClassificationCode'], code: 'invalid_format' },
  { name: 'lineNo out of order', body: mutate((b) => { b.lines[1]!.lineNo = 3; }, sampleInvoiceWithLines(2)), path: ['lines', 1, 'lineNo'], code: 'line_numbering' },
  { name: 'negative amount on a blue line', body: mutate((b) => { b.lines[0]!.amountFen = -100000; b.lines[0]!.taxAmountFen = -6000; b.totalAmountFen = -100000; b.totalTaxFen = -6000; b.totalWithTaxFen = -106000; }), path: ['lines', 0, 'amountFen'], code: 'amount_sign' },
  { name: 'unsupported rate 1700', body: mutate((b) => { b.lines[0]!.taxRateBps = 1700; b.lines[0]!.taxAmountFen = 17000; b.totalTaxFen = 17000; b.totalWithTaxFen = 117000; }), path: ['lines', 0, 'taxRateBps'], code: 'unsupported_rate' },
  { name: '1% after 2027', body: mutate((b) => { b.invoiceNumber = '28512000000000000001'; b.issueDateTime = '2028-01-01T00:00:00+08:00'; b.lines[0]!.taxRateBps = 100; b.lines[0]!.taxAmountFen = 1000; b.totalTaxFen = 1000; b.totalWithTaxFen = 101000; }), path: ['lines', 0, 'taxRateBps'], code: 'unsupported_rate' },
  { name: 'tax off by one fen', body: mutate((b) => { b.lines[0]!.taxAmountFen = 6001; b.totalTaxFen = 6001; b.totalWithTaxFen = 106001; }), path: ['lines', 0, 'taxAmountFen'], code: 'tax_mismatch' },
  { name: 'exempt line with a rate', body: mutate((b) => { b.lines[0]!.taxTreatment = 'EXEMPT'; }), path: ['lines', 0, 'taxRateBps'], code: 'tax_treatment' },
  { name: 'taxable line at 0%', body: mutate((b) => { b.lines[0]!.taxRateBps = 0; b.lines[0]!.taxAmountFen = 0; b.totalTaxFen = 0; b.totalWithTaxFen = 100000; }), path: ['lines', 0, 'taxTreatment'], code: 'tax_treatment' },
  { name: 'quantity without unit price', body: mutate((b) => { b.lines[0]!.quantity = '2'; }), path: ['lines', 0, 'unitPrice'], code: 'quantity_price_pair' },
  { name: 'quantity × price ≠ amount', body: mutate((b) => { b.lines[0]!.quantity = '2'; b.lines[0]!.unitPrice = '500.02'; }), path: ['lines', 0, 'amountFen'], code: 'quantity_price_mismatch' },
  { name: 'quantity not a decimal', body: mutate((b) => { b.lines[0]!.quantity = '1e3'; b.lines[0]!.unitPrice = '1'; }), path: ['lines', 0, 'quantity'], code: 'invalid_format' },
  { name: 'lines do not add up by one fen', body: mutate((b) => { b.totalAmountFen = 100001; b.totalWithTaxFen = 106001; }), path: ['totalAmountFen'], code: 'sum_mismatch' },
  { name: 'tax total off by one fen', body: mutate((b) => { b.totalTaxFen = 5999; b.totalWithTaxFen = 105999; }), path: ['totalTaxFen'], code: 'sum_mismatch' },
  { name: 'grand total off by one fen', body: mutate((b) => { b.totalWithTaxFen = 106001; }), path: ['totalWithTaxFen'], code: 'sum_mismatch' },
  { name: 'client uppercase differs', body: mutate((b) => { b.totalWithTaxUpper = '壹仟零陆拾壹圆整'; }), path: ['totalWithTaxUpper'], code: 'upper_mismatch' },
  { name: 'currency USD', body: mutate((b) => { b.currency = 'USD'; }), path: ['currency'], code: 'invalid_value' },
  { name: 'drawer too long', body: mutate((b) => { b.drawer = '张'.repeat(21); }), path: ['drawer'], code: 'too_big' },
  { name: 'remarks too long', body: mutate((b) => { b.remarks = 'x'.repeat(201); }), path: ['remarks'], code: 'too_big' },
  { name: 'non-NFC name', body: mutate((b) => { b.seller.name = 'Cafe\u0301'; }), path: ['seller', 'name'], code: 'TEXT_NOT_NFC' },
  { name: 'red block on a blue invoice', body: mutate((b) => { b.red = { originalInvoiceNumber: '25512000000000000009', confirmationNumber: 'FTZ-1', reasonCode: '01' }; }), path: ['red'], code: 'not_allowed' },
  { name: 'attachment hash without 0x', body: mutate((b) => { b.attachments = [{ mediaType: 'application/pdf', sha256: 'ab'.repeat(32) }]; }), path: ['attachments', 0, 'sha256'], code: 'invalid_format' },
  { name: 'duplicate attachment', body: mutate((b) => { b.attachments = [{ mediaType: 'application/pdf', sha256: '0x' + 'ab'.repeat(32) }, { mediaType: 'application/ofd', sha256: '0x' + 'ab'.repeat(32) }]; }), path: ['attachments', 1, 'sha256'], code: 'duplicate' },
  { name: 'bad pilot zone code', body: mutate((b) => { b.pilot = { ftzCode: 'SC FTZ' }; }), path: ['pilot', 'ftzCode'], code: 'invalid_format' },
  { name: 'discount not after its line', body: mutate((b) => { b.lines = [sampleLine(), sampleLine({ lineNo: 2, lineKind: 'DISCOUNT', discountOfLineNo: 2, amountFen: -1000 })]; b.totalAmountFen = 99000; b.totalTaxFen = 5940; b.totalWithTaxFen = 104940; }), path: ['lines', 1, 'discountOfLineNo'], code: 'discount_reference' },
];

describe('validateInvoice refuses bad input with the exact field path', () => {
  it.each(cases)('$name → $path ($code)', ({ body, path, code, opts }) => {
    const r = validateInvoice(body, opts);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toContainEqual(expect.objectContaining({ path, code }));
    for (const p of r.problems) expect(p.message.length).toBeGreaterThan(3);
  });

  it('reports every problem, not just the first', () => {
    const r = validateInvoice(mutate((b) => { b.invoiceNumber = '24992000000000000001'; b.totalWithTaxFen = 1; }));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((p) => p.code).sort()).toEqual(['number_province', 'number_year', 'sum_mismatch']);
  });
});

describe('validateInvoice accepts', () => {
  it('the sample, and derives the uppercase', () => {
    const r = validateInvoice(sampleInvoice());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.totalWithTaxUpper).toBe('壹仟零陆拾圆整');
    expect(r.flags).toEqual([]);
    expect(Object.isFrozen(r.invoice) && Object.isFrozen(r.invoice.lines[0])).toBe(true);
  });

  it('a matching client uppercase, which is not stored', () => {
    const r = validateInvoice({ ...sampleInvoice(), totalWithTaxUpper: '壹仟零陆拾圆整' });
    expect(r.ok && 'totalWithTaxUpper' in r.invoice).toBe(false);
    expect(r.ok).toBe(true);
  });

  it('a legacy USCC exception, flagged with its path', () => {
    const r = validateInvoice(mutate((b) => { b.buyer.taxId = '91350211M0000XUF46'; }));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.flags).toEqual([expect.objectContaining({ path: ['buyer', 'taxId'], code: 'legacy_uscc_exception' })]);
  });

  it('2000 lines, quantities, discounts, natural-person buyers and all optional fields', () => {
    expect(validateInvoice(sampleInvoiceWithLines(2000)).ok).toBe(true);
    const lines = [
      sampleLine({ quantity: '3', unitPrice: '333.333333', amountFen: 100000 }),
      sampleLine({ lineNo: 2, lineKind: 'DISCOUNT', discountOfLineNo: 1, amountFen: -1000 }),
      sampleLine({ lineNo: 3, taxRateBps: 0, taxTreatment: 'EXEMPT', amountFen: 500 }),
    ];
    const r = validateInvoice(sampleInvoice({
      lines,
      buyer: { name: '李四', taxIdScheme: 'ID_CARD', isNaturalPerson: true },
      specificBusinessType: '03',
      remarks: '备注',
      attachments: [{ mediaType: 'application/ofd', sha256: `0x${'cd'.repeat(32)}`, uri: 'https://example.org/a.ofd' }],
      pilot: { ftzCode: 'SC-CD' },
      seller: { name: '示例销售方有限公司', taxId: '91110000600037341L', taxIdScheme: 'USCC', address: '成都', phone: '028-1', bankName: '银行', bankAccount: '6222' },
      reviewer: '王五',
      payee: '赵六',
    }));
    expect(r.ok ? [] : r.problems).toEqual([]);
  });

  it('a red invoice, adding the platform remark with both numbers', () => {
    const blue = sampleInvoice();
    const r = validateInvoice(sampleRedInvoice(blue, { confirmationNumber: '51010825030100000001' }));
    expect(r.ok ? [] : r.problems).toEqual([]);
    if (!r.ok) return;
    expect(r.invoice.remarks).toBe('被红冲蓝字数电发票号码：25512000000000000001 红字发票信息确认单编号：51010825030100000001');
    expect(r.totalWithTaxUpper).toBe('（负数）壹仟零陆拾圆整');
    // Validating the normalised record again is a fixed point (idempotent registration).
    const again = validateInvoice(structuredClone(r.invoice));
    expect(again.ok && again.invoice).toEqual(r.invoice);
  });

  it('refuses a red invoice without its red block, or with a foreign red remark', () => {
    const red = sampleRedInvoice(sampleInvoice(), { confirmationNumber: 'FTZ-7' });
    const { red: _r, ...noBlock } = red;
    const a = validateInvoice(noBlock);
    expect(!a.ok && a.problems).toContainEqual(expect.objectContaining({ path: ['red'], code: 'required' }));
    const b = validateInvoice({ ...red, remarks: '被红冲蓝字数电发票号码：25512000000000000099' });
    expect(!b.ok && b.problems).toContainEqual(expect.objectContaining({ path: ['remarks'], code: 'red_link' }));
    const c = validateInvoice({ ...red, lines: [{ ...red.lines[0]!, amountFen: 100000, taxAmountFen: 6000 }], totalAmountFen: 100000, totalTaxFen: 6000, totalWithTaxFen: 106000 });
    expect(!c.ok && c.problems).toContainEqual(expect.objectContaining({ path: ['lines', 0, 'amountFen'], code: 'amount_sign' }));
  });
});

describe('OpenAPI', () => {
  it('registers Invoice as a strict component', () => {
    const registry = new OpenAPIRegistry();
    registry.register('Invoice', InvoiceSchema);
    const doc = new OpenApiGeneratorV31(registry.definitions).generateComponents() as { components: { schemas: Record<string, Record<string, unknown>> } };
    const inv = doc.components.schemas.Invoice!;
    expect(inv.additionalProperties).toBe(false);
    expect(inv.required).toEqual(expect.arrayContaining(['schemaVersion', 'invoiceNumber', 'lines', 'totalWithTaxFen', 'drawer']));
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['InvoiceLine', 'InvoiceParty']));
  });
});
