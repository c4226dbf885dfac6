/**
 * Invoice fixtures shared by unit, route and bench tests. `sampleInvoice()` with no overrides is
 * exactly the worked example of docs/invoice.md "Background", so its digest and key are the published vectors.
 */
import type { Actor } from '../../node/domain/types';
import {
  invoiceKey, redLinesOf, taxForAmount,
  type Invoice, type InvoiceInput, type InvoiceLine, type RedFormOpenRecord,
} from '../../node/invoice';

export const SELLER_TAX_ID = '91110000600037341L';
export const BUYER_TAX_ID = '9144030071526726XG';
/** Valid codes from the list in docs/invoice.md "Background", for "another company". */
export const OTHER_TAX_ID = '91440300568520498A';

/** The worked example (docs/invoice.md "Background"): canonical JSON text and SHA-256 of the example invoice, and its registry key. */
export const B4_CANONICAL_JSON =
  '{"buyer":{"name":"示例购买方有限公司","taxId":"9144030071526726XG","taxIdScheme":"USCC"},"colour":"BLUE","currency":"CNY","drawer":"张三","invoiceKind":"VAT_GENERAL","invoiceNumber":"25512000000000000001","issueDateTime":"2025-03-01T10:00:00+08:00","lines":[{"amountFen":100000,"itemName":"*餐饮服务*餐饮费","lineKind":"NORMAL","lineNo":1,"taxAmountFen":6000,"taxClassificationCode":"3070401000000000000","taxRateBps":600,"taxTreatment":"TAXABLE"}],"schemaVersion":"cn-einv/0.1","seller":{"name":"示例销售方有限公司","taxId":"91110000600037341L","taxIdScheme":"USCC"},"totalAmountFen":100000,"totalTaxFen":6000,"totalWithTaxFen":106000}';
export const B4_SHA256 = '0x587f4211766873831842a109460f8a82d754ad6dff276fc812f25ba01b5c70f6';
export const B4_INVOICE_KEY = '0x587571fde0937345736de4366863a3a363457e15131c369ed01b6e24da45df49';

/** A NORMAL line with its tax computed by the one rounding rule. */
export function sampleLine(overrides: Partial<InvoiceLine> = {}): InvoiceLine {
  const amountFen = overrides.amountFen ?? 100000;
  const taxRateBps = overrides.taxRateBps ?? 600;
  return {
    amountFen,
    itemName: '*餐饮服务*餐饮费',
    lineKind: 'NORMAL',
    lineNo: 1,
    taxAmountFen: taxForAmount(amountFen, taxRateBps),
    taxClassificationCode: '3070401000000000000',
    taxRateBps,
    taxTreatment: 'TAXABLE',
    ...overrides,
  };
}

/**
 * A valid blue invoice request body. When `lines` are overridden and totals are not, the totals
 * are recomputed so the result stays valid.
 */
export function sampleInvoice(overrides: Partial<InvoiceInput> = {}): InvoiceInput {
  const base: InvoiceInput = {
    buyer: { name: '示例购买方有限公司', taxId: BUYER_TAX_ID, taxIdScheme: 'USCC' },
    colour: 'BLUE',
    currency: 'CNY',
    drawer: '张三',
    invoiceKind: 'VAT_GENERAL',
    invoiceNumber: '25512000000000000001',
    issueDateTime: '2025-03-01T10:00:00+08:00',
    lines: [sampleLine()],
    schemaVersion: 'cn-einv/0.1',
    seller: { name: '示例销售方有限公司', taxId: SELLER_TAX_ID, taxIdScheme: 'USCC' },
    totalAmountFen: 100000,
    totalTaxFen: 6000,
    totalWithTaxFen: 106000,
  };
  const out: InvoiceInput = { ...base, ...overrides };
  if (overrides.lines && overrides.totalAmountFen === undefined && overrides.totalTaxFen === undefined && overrides.totalWithTaxFen === undefined) {
    out.totalAmountFen = out.lines.reduce((s, l) => s + l.amountFen, 0);
    out.totalTaxFen = out.lines.reduce((s, l) => s + l.taxAmountFen, 0);
    out.totalWithTaxFen = out.totalAmountFen + out.totalTaxFen;
  }
  return out;
}

/** A blue invoice with n lines of 1000.00 yuan at 6% (line i+1 amount = 100000 + i fen). */
export function sampleInvoiceWithLines(n: number, overrides: Partial<InvoiceInput> = {}): InvoiceInput {
  return sampleInvoice({ lines: Array.from({ length: n }, (_, i) => sampleLine({ lineNo: i + 1, amountFen: 100000 + i })), ...overrides });
}

export interface RedOptions {
  confirmationNumber: string;
  invoiceNumber?: string;
  issueDateTime?: string;
  reasonCode?: '01' | '02' | '03' | '04';
  /** Blue lines to reverse and the fen to reverse on each (magnitude); default: every line in full. */
  reverse?: { lineNo: number; amountFen: number; taxAmountFen?: number }[];
}

/**
 * A red invoice request body against `blue` (a full reversal unless `reverse` says otherwise).
 * Tax per red line: the blue tax when the whole line is reversed, else the rounding of the amount;
 * pass `taxAmountFen` (magnitude) when closing out a line that was partly reversed before.
 */
export function sampleRedInvoice(blue: InvoiceInput | Invoice, opts: RedOptions): InvoiceInput {
  const picks: { lineNo: number; amountFen: number; taxAmountFen?: number }[] =
    opts.reverse ?? blue.lines.map((l) => ({ lineNo: l.lineNo, amountFen: Math.abs(l.amountFen) }));
  const lines: InvoiceLine[] = picks.map((p, i) => {
    const b = blue.lines.find((l) => l.lineNo === p.lineNo);
    if (!b) throw new Error(`blue invoice has no line ${p.lineNo}`);
    const s = -Math.sign(b.amountFen);
    const amountFen = s * p.amountFen;
    const taxAmountFen = p.taxAmountFen !== undefined ? s * p.taxAmountFen : p.amountFen === Math.abs(b.amountFen) ? -b.taxAmountFen : taxForAmount(amountFen, b.taxRateBps);
    const { quantity: _q, unitPrice: _p, discountOfLineNo, ...rest } = b;
    const line: InvoiceLine = { ...rest, lineNo: i + 1, amountFen, taxAmountFen };
    if (discountOfLineNo !== undefined) line.discountOfLineNo = i; // the red line right before it
    return line;
  });
  const totalAmountFen = lines.reduce((s, l) => s + l.amountFen, 0);
  const totalTaxFen = lines.reduce((s, l) => s + l.taxAmountFen, 0);
  const n = blue.invoiceNumber;
  const identity = picks.every((p, i) => p.lineNo === i + 1);
  return {
    schemaVersion: 'cn-einv/0.1',
    invoiceNumber: opts.invoiceNumber ?? n.slice(0, 4) + (n[4] === '9' ? '8' : '9') + n.slice(5),
    invoiceKind: blue.invoiceKind,
    colour: 'RED',
    issueDateTime: opts.issueDateTime ?? blue.issueDateTime,
    seller: blue.seller,
    buyer: blue.buyer,
    lines,
    totalAmountFen,
    totalTaxFen,
    totalWithTaxFen: totalAmountFen + totalTaxFen,
    currency: 'CNY',
    drawer: blue.drawer,
    red: {
      originalInvoiceNumber: n,
      confirmationNumber: opts.confirmationNumber,
      reasonCode: opts.reasonCode ?? '02',
      ...(identity ? {} : { lines: picks.map((p) => ({ originalLineNo: p.lineNo })) }),
    },
  };
}

/** The `invoice.red-form-opened` record whose lines are exactly those of `red`. */
export function sampleRedFormRecord(red: InvoiceInput | Invoice, initiator: 'SELLER' | 'BUYER' = 'SELLER'): RedFormOpenRecord {
  return {
    invoiceKey: invoiceKey(red.seller.taxId!, red.invoiceKind, red.red!.originalInvoiceNumber),
    formId: red.red!.confirmationNumber,
    initiator,
    initiatorTaxId: initiator === 'SELLER' ? red.seller.taxId! : red.buyer.taxId!,
    reasonCode: red.red!.reasonCode,
    lines: redLinesOf(red as Invoice),
  };
}

export const issuerActor = (taxIds: string[] = [SELLER_TAX_ID]): Actor => ({ keyId: 'k-issuer', role: 'issuer', taxIds });
export const buyerActor = (taxIds: string[] = [BUYER_TAX_ID]): Actor => ({ keyId: 'k-buyer', role: 'buyer', taxIds });
