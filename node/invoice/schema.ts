/**
 * The invoice request model (docs/invoice.md "The model", `cn-einv/0.1`) as zod 4 schemas that also
 * produce the OpenAPI document, and `validateInvoice`: every semantic check, each failure with the
 * exact field path. Pure: no I/O, no clock (the caller passes `now`).
 *
 * What the client sends is what gets hashed, with two derived exceptions documented in docs/invoice.md:
 * `totalWithTaxUpper` is never stored (derived by `amountInWords`), and a red invoice's remark gets
 * the platform's link text when the client left it out.
 */
import { z } from 'zod';
import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import type { Hex } from '../protocol';
import { amountInWords, DECIMAL_RE, lineAmountFromQuantity, taxForAmount } from './money';
import { idCardProblem, KNOWN_LEGACY_USCC_EXCEPTIONS, usccCheckChar, usccProblem } from './tax-id';
import { invoiceKey } from './key';
import { textProblem, textRefinement } from '../input/text';

extendZodWithOpenApi(z);

export const SCHEMA_VERSION = 'cn-einv/0.1' as const;
/** Reported platform limit (docs/invoice.md "Background"); `maxLines` may lower it, never raise it. */
export const HARD_MAX_LINES = 2000;

export const INVOICE_KINDS = ['VAT_SPECIAL', 'VAT_GENERAL'] as const;
export const COLOURS = ['BLUE', 'RED'] as const;
export const TAX_ID_SCHEMES = ['USCC', 'LEGACY_TIN', 'ID_CARD', 'OTHER'] as const;
export const LINE_KINDS = ['NORMAL', 'DISCOUNT'] as const;
export const TAX_TREATMENTS = ['TAXABLE', 'EXEMPT', 'NOT_SUBJECT', 'ZERO_RATED'] as const;
export const RED_REASON_CODES = ['01', '02', '03', '04'] as const;
export const ATTACHMENT_MEDIA_TYPES = ['application/xml', 'application/ofd', 'application/pdf'] as const;

/** GB/T 2260 province-level codes of mainland China (positions 3–4 of the number, docs/invoice.md "Background"). */
export const PROVINCE_CODES: readonly string[] = Object.freeze([
  '11', '12', '13', '14', '15', '21', '22', '23', '31', '32', '33', '34', '35', '36', '37',
  '41', '42', '43', '44', '45', '46', '50', '51', '52', '53', '54', '61', '62', '63', '64', '65',
]);

export interface TaxRateInForce {
  bps: number;
  /** Inclusive last issue date (YYYY-MM-DD, +08:00) the rate may be used; open-ended when absent. */
  until?: string;
}

/** Rates and levy rates in force (docs/invoice.md "Background"). 1% is the temporary small-scale reduction to 2027-12-31. */
export const TAX_RATES_IN_FORCE: readonly TaxRateInForce[] = Object.freeze([
  { bps: 1300 }, { bps: 900 }, { bps: 600 }, { bps: 500 }, { bps: 300 }, { bps: 150 },
  { bps: 100, until: '2027-12-31' }, { bps: 50 }, { bps: 0 },
]);

/** A human-readable single-line field: the text rule of node/input/text.ts (docs/input.md). */
const text = (max: number) => z.string().min(1).max(max).superRefine(textRefinement());
const fen = z.int().openapi({ description: 'integer fen (1/100 CNY)' });
export const ISSUE_DATE_TIME_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,3})?\+08:00$/;
export const INVOICE_NUMBER_RE = /^\d{20}$/;
/** National confirmation numbers are 20 digits; pilot form ids are `FTZ-` prefixed so they cannot collide. */
export const FORM_ID_RE = /^(\d{20}|FTZ-[0-9A-Za-z-]{1,40})$/;

export const PartySchema = z
  .strictObject({
    name: text(300),
    taxId: z.string().min(1).max(40).optional(),
    taxIdScheme: z.enum(TAX_ID_SCHEMES),
    address: text(300).optional(),
    phone: text(40).optional(),
    bankName: text(300).optional(),
    bankAccount: text(60).optional(),
    isNaturalPerson: z.boolean().optional(),
  })
  .openapi('InvoiceParty');

export const LineSchema = z
  .strictObject({
    lineNo: z.int().min(1),
    lineKind: z.enum(LINE_KINDS),
    discountOfLineNo: z.int().min(1).optional(),
    itemName: z.string().max(300).regex(/^\*[^*]+\*.+$/, 'itemName must be *简称*名称, e.g. *餐饮服务*餐饮费').superRefine(textRefinement()),
    taxClassificationCode: z.string().regex(/^\d{19}$/, 'taxClassificationCode must be 19 digits'),
    specification: text(150).optional(),
    unit: text(20).optional(),
    quantity: z.string().regex(DECIMAL_RE, 'quantity must be a decimal string').optional(),
    unitPrice: z.string().regex(DECIMAL_RE, 'unitPrice must be a decimal string').optional(),
    amountFen: fen,
    taxRateBps: z.int().min(0).max(10_000),
    taxTreatment: z.enum(TAX_TREATMENTS),
    taxAmountFen: fen,
  })
  .openapi('InvoiceLine');

export const RedBlockSchema = z
  .strictObject({
    originalInvoiceNumber: z.string().regex(INVOICE_NUMBER_RE, 'originalInvoiceNumber must be 20 digits'),
    confirmationNumber: z.string().regex(FORM_ID_RE, 'confirmationNumber must be 20 digits or FTZ-…'),
    reasonCode: z.enum(RED_REASON_CODES),
    lines: z.array(z.strictObject({ originalLineNo: z.int().min(1) })).min(1).max(HARD_MAX_LINES).optional(),
  })
  .openapi('InvoiceRedBlock');

export const AttachmentSchema = z
  .strictObject({
    mediaType: z.enum(ATTACHMENT_MEDIA_TYPES),
    sha256: z.string().regex(/^0x[0-9a-f]{64}$/, 'sha256 must be 0x-prefixed lowercase hex of 32 bytes'),
    uri: z.string().min(1).max(2048).optional(),
  })
  .openapi('InvoiceAttachment');

const hex32 = z.string().regex(/^0x[0-9a-f]{64}$/, 'must be 0x-prefixed lowercase hex of 32 bytes');
/** At most this many unmapped XML leaves are listed in a record (a document with more is refused). */
export const MAX_UNMAPPED_TAGS = 2000;

/**
 * The issuing XML a record was mapped from (docs/invoice-xml.md): its exact bytes' digests and size,
 * and every element or attribute the mapping did not read. Written by the node's XML import only;
 * the JSON routes refuse it (the node keeps the bytes of every record that names them).
 */
export const OriginalSchema = z
  .strictObject({
    mediaType: z.literal('application/xml'),
    sha256: hex32,
    sm3: hex32,
    size: z.int().min(1),
    unmapped: z
      .array(
        z.strictObject({
          path: z.string().min(2).max(2000),
          // XML text is held to the same text rule as the fields (docs/input.md), multi-line form.
          value: z.string().max(512).superRefine(textRefinement({ multiline: true })).optional(),
          sha256: hex32.optional().openapi({ description: 'for values over 512 characters: SHA-256 of the UTF-8 text' }),
          length: z.int().min(513).optional(),
        }),
      )
      .max(MAX_UNMAPPED_TAGS),
  })
  .openapi('InvoiceOriginal');

export const InvoiceSchema = z
  .strictObject({
    schemaVersion: z.literal(SCHEMA_VERSION),
    invoiceNumber: z.string().regex(INVOICE_NUMBER_RE, 'invoiceNumber must be 20 digits'),
    invoiceCode: z.string().optional().openapi({ description: 'legacy 发票代码; must be absent for 数电票' }),
    invoiceKind: z.enum(INVOICE_KINDS),
    specificBusinessType: z.string().regex(/^(0[1-9]|1[0-8])$/).optional(),
    colour: z.enum(COLOURS),
    issueDateTime: z.string().regex(ISSUE_DATE_TIME_RE, 'issueDateTime must be RFC 3339 with +08:00, e.g. 2025-03-01T10:00:00+08:00'),
    seller: PartySchema,
    buyer: PartySchema,
    lines: z.array(LineSchema).min(1).max(HARD_MAX_LINES),
    totalAmountFen: fen,
    totalTaxFen: fen,
    totalWithTaxFen: fen,
    totalWithTaxUpper: z.string().optional().openapi({ description: 'derived from totalWithTaxFen; refused when it differs, never stored' }),
    currency: z.literal('CNY'),
    remarks: z.string().max(200).superRefine(textRefinement({ multiline: true })).optional(),
    drawer: text(20),
    reviewer: text(20).optional(),
    payee: text(20).optional(),
    red: RedBlockSchema.optional(),
    attachments: z.array(AttachmentSchema).max(16).optional(),
    pilot: z.strictObject({ ftzCode: z.string().regex(/^[0-9A-Za-z-]{1,32}$/) }).optional(),
    original: OriginalSchema.optional(),
  })
  .openapi('Invoice');

/** The request body as the client sends it. */
export type InvoiceInput = z.infer<typeof InvoiceSchema>;
/** The registered record: the input minus `totalWithTaxUpper` (derived, never stored). Deep-frozen. */
export type Invoice = Omit<InvoiceInput, 'totalWithTaxUpper'>;
export type InvoiceLine = z.infer<typeof LineSchema>;

export interface Problem {
  path: (string | number)[];
  message: string;
  code: string;
}

export interface ValidateOptions {
  /** When given, issue times later than now + `futureSkewMs` are refused. */
  now?: Date;
  futureSkewMs?: number;
  /** Codes accepted despite a wrong GB 32100 check character (flagged). Default: the three of docs/invoice.md "Background". */
  legacyUsccExceptions?: readonly string[];
  maxLines?: number;
  provinceCodes?: readonly string[];
  taxRates?: readonly TaxRateInForce[];
}

export type ValidateResult =
  | {
      ok: true;
      invoice: Invoice;
      /** Accepted-but-noteworthy facts, e.g. a legacy USCC exception (kept on the state, not in the hashed record). */
      flags: Problem[];
      invoiceKey: Hex;
      /** 价税合计（大写）, derived. */
      totalWithTaxUpper: string;
      /** SHA-256 of the invoice's canonical JSON, when the intake computed it already (node/invoice/intake.ts). */
      recordDigest?: Hex;
    }
  | { ok: false; problems: Problem[] };

export const DEFAULT_FUTURE_SKEW_MS = 5 * 60_000;

/** Milliseconds since epoch of an issueDateTime, or NaN if it is not a real calendar time. */
export function issueTimeMs(issueDateTime: string): number {
  const m = ISSUE_DATE_TIME_RE.exec(issueDateTime);
  if (!m) return NaN;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = m[7] ? Number(m[7].slice(1).padEnd(3, '0')) : 0;
  const utc = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const back = new Date(utc);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return NaN;
  return utc - 8 * 3_600_000;
}

/** The issue date as printed (YYYY-MM-DD, +08:00): what the public check compares. */
export function issueDateOf(issueDateTime: string): string {
  return issueDateTime.slice(0, 10);
}

export function redRemarkText(originalInvoiceNumber: string, confirmationNumber: string): string {
  return `被红冲蓝字数电发票号码：${originalInvoiceNumber} 红字发票信息确认单编号：${confirmationNumber}`;
}

function zodProblems(error: z.ZodError, body: unknown): Problem[] {
  const out: Problem[] = [];
  for (const issue of error.issues) {
    const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) out.push({ path: [...path, k], code: 'unknown_field', message: `unknown field ${JSON.stringify(k)}` });
      continue;
    }
    if (issue.code === 'invalid_type' && isMissing(body, path)) {
      out.push({ path, code: 'required', message: `${path.join('.') || 'body'} is required` });
      continue;
    }
    // The text rule names its own code (TEXT_BIDI, TEXT_NOT_NFC, …) and the code point.
    const textCode = issue.code === 'custom' ? (issue.params as { textCode?: string } | undefined)?.textCode : undefined;
    out.push({ path, code: textCode ?? issue.code, message: issue.message });
  }
  return out;
}

function isMissing(body: unknown, path: (string | number)[]): boolean {
  let cur: unknown = body;
  for (const p of path) {
    if (typeof cur !== 'object' || cur === null || !Object.prototype.hasOwnProperty.call(cur, p)) return true;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur === undefined;
}

/**
 * Calls `visit` on every string under `value`. `path` is one stack, pushed and popped as the walk
 * goes (a visitor that keeps it must copy it): no array is allocated per node on the hot path.
 */
function walkStrings(value: unknown, path: (string | number)[], visit: (s: string, path: (string | number)[]) => void): void {
  if (typeof value === 'string') visit(value, path);
  else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      walkStrings(value[i], path, visit);
      path.pop();
    }
  } else if (typeof value === 'object' && value !== null) {
    for (const k of Object.keys(value)) {
      path.push(k);
      walkStrings((value as Record<string, unknown>)[k], path, visit);
      path.pop();
    }
  }
}

// ASCII text is NFC by definition: only other text needs the (costly) normalisation to be checked.
const ASCII = /^[\x00-\x7f]*$/;

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

function checkParty(party: InvoiceInput['seller'], who: 'seller' | 'buyer', inv: InvoiceInput, opts: ValidateOptions, problems: Problem[], flags: Problem[]): void {
  const p = (field: string, code: string, message: string) => problems.push({ path: [who, field], code, message });
  if (party.taxId === undefined) {
    if (who === 'seller') p('taxId', 'required', 'seller.taxId is required');
    else if (inv.invoiceKind === 'VAT_SPECIAL') p('taxId', 'required', 'a special VAT invoice needs the buyer tax id');
    else if (party.isNaturalPerson !== true) p('taxId', 'required', 'buyer.taxId is required unless buyer.isNaturalPerson is true');
  }
  if (party.isNaturalPerson === true) {
    if (who === 'seller') p('isNaturalPerson', 'not_allowed', 'the seller cannot be flagged as a natural person');
    else if (inv.invoiceKind === 'VAT_SPECIAL') p('isNaturalPerson', 'natural_person_special', 'a special VAT invoice cannot be issued to a natural person');
  }
  if (party.taxId === undefined) return;
  const id = party.taxId;
  switch (party.taxIdScheme) {
    case 'USCC': {
      const problem = usccProblem(id);
      if (problem === 'check_character') {
        const exceptions = opts.legacyUsccExceptions ?? KNOWN_LEGACY_USCC_EXCEPTIONS;
        if (exceptions.includes(id)) {
          flags.push({ path: [who, 'taxId'], code: 'legacy_uscc_exception', message: `${id} fails the GB 32100 check but is a known legacy code; accepted for manual review` });
        } else {
          p('taxId', 'check_character', `${id} has a wrong GB 32100-2015 check character (expected ${expectedCheck(id)})`);
        }
      } else if (problem !== null) {
        p('taxId', 'tax_id_format', `${id} is not a unified social credit code (${problem}); 18 characters of 0-9 and A-Y without I, O, S, V, Z`);
      }
      break;
    }
    case 'LEGACY_TIN':
      if (!/^[0-9A-Z]{15}$|^[0-9A-Z]{17,18}$|^[0-9A-Z]{20}$/.test(id)) p('taxId', 'tax_id_format', 'a legacy taxpayer id has 15, 17, 18 or 20 characters of 0-9 and A-Z');
      break;
    case 'ID_CARD': {
      const problem = idCardProblem(id);
      if (problem === 'check_character') p('taxId', 'check_character', `${id} has a wrong GB 11643 check character`);
      else if (problem !== null) p('taxId', 'tax_id_format', 'a resident id card number has 17 digits and a check digit or X');
      break;
    }
    case 'OTHER':
      if (!/^[0-9A-Z-]{1,40}$/.test(id)) p('taxId', 'tax_id_format', 'taxId must be 1-40 characters of 0-9, A-Z and -');
      break;
  }
}

function expectedCheck(id: string): string {
  return usccCheckChar(id.slice(0, 17)) ?? '?';
}

function rateInForce(bps: number, issueDate: string, rates: readonly TaxRateInForce[]): 'ok' | 'unknown' | 'expired' {
  const r = rates.find((x) => x.bps === bps);
  if (!r) return 'unknown';
  return r.until !== undefined && issueDate > r.until ? 'expired' : 'ok';
}

/** All checks of docs/invoice.md "The model" on a request body. Never throws on bad input. */
export function validateInvoice(body: unknown, opts: ValidateOptions = {}): ValidateResult {
  const parsed = InvoiceSchema.safeParse(body);
  if (!parsed.success) return { ok: false, problems: zodProblems(parsed.error, body) };
  const inv = parsed.data;
  const problems: Problem[] = [];
  const flags: Problem[] = [];
  const add = (path: (string | number)[], code: string, message: string) => problems.push({ path, code, message });
  const sign = inv.colour === 'BLUE' ? 1 : -1;

  // Every other string (codes, numbers as text, URIs) is held to the multi-line text rule too.
  walkStrings(inv, [], (s, path) => {
    const p = ASCII.test(s) && !/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(s) ? null : textProblem(s, { multiline: true });
    if (p) add([...path], p.code, p.message);
  });

  // Number and time (docs/invoice.md "Background").
  const issueMs = issueTimeMs(inv.issueDateTime);
  if (Number.isNaN(issueMs)) add(['issueDateTime'], 'invalid_date', `${inv.issueDateTime} is not a calendar date and time`);
  else {
    const year2 = inv.issueDateTime.slice(2, 4);
    if (inv.invoiceNumber.slice(0, 2) !== year2) add(['invoiceNumber'], 'number_year', `invoice number starts with ${inv.invoiceNumber.slice(0, 2)} but the issue year ends in ${year2}`);
    if (opts.now !== undefined && issueMs > opts.now.getTime() + (opts.futureSkewMs ?? DEFAULT_FUTURE_SKEW_MS)) {
      add(['issueDateTime'], 'issue_time_future', `issueDateTime ${inv.issueDateTime} is in the future`);
    }
  }
  const provinces = opts.provinceCodes ?? PROVINCE_CODES;
  if (!provinces.includes(inv.invoiceNumber.slice(2, 4))) add(['invoiceNumber'], 'number_province', `digits 3-4 (${inv.invoiceNumber.slice(2, 4)}) are not a province code (GB/T 2260)`);
  if (inv.invoiceCode !== undefined) add(['invoiceCode'], 'not_allowed', 'a fully digitalised e-invoice has no invoiceCode (legacy 发票代码)');

  checkParty(inv.seller, 'seller', inv, opts, problems, flags);
  checkParty(inv.buyer, 'buyer', inv, opts, problems, flags);

  // Lines (docs/invoice.md "Background", B.1 and rates): exact integer arithmetic, one rounding rule.
  const maxLines = Math.min(opts.maxLines ?? HARD_MAX_LINES, HARD_MAX_LINES);
  if (inv.lines.length > maxLines) add(['lines'], 'too_many_lines', `${inv.lines.length} lines; at most ${maxLines}`);
  const rates = opts.taxRates ?? TAX_RATES_IN_FORCE;
  const issueDate = issueDateOf(inv.issueDateTime);
  let sumAmount = 0;
  let sumTax = 0;
  inv.lines.forEach((line, i) => {
    const at = (field: string) => ['lines', i, field];
    sumAmount += line.amountFen;
    sumTax += line.taxAmountFen;
    if (line.lineNo !== i + 1) add(at('lineNo'), 'line_numbering', `lineNo must be ${i + 1} (lines are numbered 1..n in order)`);
    const expectedSign = line.lineKind === 'NORMAL' ? sign : -sign;
    if (Math.sign(line.amountFen) !== expectedSign) {
      add(at('amountFen'), 'amount_sign', `a ${line.lineKind} line on a ${inv.colour} invoice needs a ${expectedSign > 0 ? 'positive' : 'negative'} amount`);
    }
    if (line.lineKind === 'DISCOUNT') {
      const prev = inv.lines[i - 1];
      if (line.discountOfLineNo === undefined) add(at('discountOfLineNo'), 'required', 'a DISCOUNT line names the line it discounts');
      else if (!prev || prev.lineNo !== line.discountOfLineNo || prev.lineKind !== 'NORMAL') add(at('discountOfLineNo'), 'discount_reference', 'a DISCOUNT line directly follows the NORMAL line it discounts');
      else {
        if (prev.taxRateBps !== line.taxRateBps) add(at('taxRateBps'), 'discount_reference', 'a discount carries the rate of the line it discounts');
        if (Math.abs(line.amountFen) > Math.abs(prev.amountFen)) add(at('amountFen'), 'discount_reference', 'a discount cannot exceed the line it discounts');
      }
    } else if (line.discountOfLineNo !== undefined) add(at('discountOfLineNo'), 'not_allowed', 'only DISCOUNT lines have discountOfLineNo');
    if ((line.quantity === undefined) !== (line.unitPrice === undefined)) {
      add(at(line.quantity === undefined ? 'quantity' : 'unitPrice'), 'quantity_price_pair', 'quantity and unitPrice come together');
    } else if (line.quantity !== undefined && line.unitPrice !== undefined) {
      const derived = lineAmountFromQuantity(line.quantity, line.unitPrice);
      const diff = derived - BigInt(line.amountFen);
      if (diff > 1n || diff < -1n) add(at('amountFen'), 'quantity_price_mismatch', `quantity × unitPrice = ${derived} fen, amountFen ${line.amountFen} (at most 1 fen apart)`);
    }
    const rate = rateInForce(line.taxRateBps, issueDate, rates);
    if (rate !== 'ok') add(at('taxRateBps'), 'unsupported_rate', rate === 'unknown' ? `${line.taxRateBps} bps is not a rate in force (${rates.map((r) => r.bps).join(', ')})` : `${line.taxRateBps} bps is no longer in force on ${issueDate}`);
    if (line.taxTreatment !== 'TAXABLE') {
      if (line.taxRateBps !== 0) add(at('taxRateBps'), 'tax_treatment', `${line.taxTreatment} lines have taxRateBps 0`);
      if (line.taxAmountFen !== 0) add(at('taxAmountFen'), 'tax_treatment', `${line.taxTreatment} lines have taxAmountFen 0`);
    } else if (line.taxRateBps === 0) {
      add(at('taxTreatment'), 'tax_treatment', 'a 0% line is ZERO_RATED, EXEMPT or NOT_SUBJECT');
    } else {
      const tax = taxForAmount(line.amountFen, line.taxRateBps);
      // A red line closing out a blue line carries the blue line's remaining tax, which may differ by
      // one fen from re-rounding; the lifecycle checks that exactly against the blue invoice.
      const slack = inv.colour === 'RED' ? 1 : 0;
      if (Math.abs(tax - line.taxAmountFen) > slack) add(at('taxAmountFen'), 'tax_mismatch', `${line.amountFen} fen at ${line.taxRateBps} bps is ${tax} fen tax (round half away from zero), got ${line.taxAmountFen}`);
    }
  });

  // Totals must add up exactly (BR-CO-10/14/15 analogues).
  if (inv.totalAmountFen !== sumAmount) add(['totalAmountFen'], 'sum_mismatch', `lines add up to ${sumAmount} fen, totalAmountFen is ${inv.totalAmountFen}`);
  if (inv.totalTaxFen !== sumTax) add(['totalTaxFen'], 'sum_mismatch', `line taxes add up to ${sumTax} fen, totalTaxFen is ${inv.totalTaxFen}`);
  if (inv.totalWithTaxFen !== inv.totalAmountFen + inv.totalTaxFen) add(['totalWithTaxFen'], 'sum_mismatch', `totalAmountFen + totalTaxFen = ${inv.totalAmountFen + inv.totalTaxFen}, totalWithTaxFen is ${inv.totalWithTaxFen}`);
  if (Math.sign(inv.totalWithTaxFen) !== sign) add(['totalWithTaxFen'], 'total_sign', `a ${inv.colour} invoice has a ${sign > 0 ? 'positive' : 'negative'} total`);
  if (!Number.isSafeInteger(sumAmount + sumTax)) add(['totalWithTaxFen'], 'too_big', 'totals exceed exact integer range');
  const upper = Number.isSafeInteger(inv.totalWithTaxFen) ? amountInWords(inv.totalWithTaxFen) : '';
  if (inv.totalWithTaxUpper !== undefined && inv.totalWithTaxUpper !== upper) add(['totalWithTaxUpper'], 'upper_mismatch', `totalWithTaxUpper is derived: ${upper}`);

  // Red-letter link (docs/invoice.md "The model", red.*).
  let remarks = inv.remarks;
  if (inv.colour === 'RED') {
    if (!inv.red) add(['red'], 'required', 'a RED invoice carries the red block (original number, confirmation number, reason)');
    else {
      if (inv.red.originalInvoiceNumber === inv.invoiceNumber) add(['red', 'originalInvoiceNumber'], 'red_link', 'a red invoice has its own number');
      if (inv.red.lines !== undefined) {
        if (inv.red.lines.length !== inv.lines.length) add(['red', 'lines'], 'red_lines', `red.lines maps each of the ${inv.lines.length} lines to a blue line`);
        inv.red.lines.forEach((l, i) => {
          const prev = inv.red!.lines![i - 1];
          if (prev && prev.originalLineNo >= l.originalLineNo) add(['red', 'lines', i, 'originalLineNo'], 'red_lines', 'original line numbers are referenced in order, each once');
        });
      }
      const link = redRemarkText(inv.red.originalInvoiceNumber, inv.red.confirmationNumber);
      if (remarks === undefined || remarks === '') remarks = link;
      else if (!remarks.includes(link)) {
        if (remarks.includes('被红冲')) add(['remarks'], 'red_link', `the remark names another blue invoice or form; expected: ${link}`);
        else remarks = `${link} ${remarks}`;
      }
    }
  } else if (inv.red !== undefined) add(['red'], 'not_allowed', 'a BLUE invoice has no red block');

  inv.original?.unmapped.forEach((u, i) => {
    if ((u.value === undefined) === (u.sha256 === undefined) || (u.sha256 === undefined) !== (u.length === undefined)) {
      add(['original', 'unmapped', i], 'invalid_value', 'an unmapped entry has a value, or the sha256 and length of a long one');
    }
  });

  const hashes = new Set<string>();
  inv.attachments?.forEach((a, i) => {
    if (hashes.has(a.sha256)) add(['attachments', i, 'sha256'], 'duplicate', 'the same attachment is listed twice');
    hashes.add(a.sha256);
  });

  if (problems.length > 0) return { ok: false, problems };
  const { totalWithTaxUpper: _derived, ...rest } = inv;
  const invoice: Invoice = remarks === inv.remarks ? rest : { ...rest, remarks };
  deepFreeze(invoice);
  const key = invoiceKey(inv.seller.taxId!, inv.invoiceKind, inv.invoiceNumber);
  return { ok: true, invoice, flags, invoiceKey: key, totalWithTaxUpper: upper };
}

/** `validateInvoice` that throws the first problems as one error, for callers that only want the record. */
export function parseInvoice(body: unknown, opts?: ValidateOptions): Extract<ValidateResult, { ok: true }> {
  const r = validateInvoice(body, opts);
  if (!r.ok) throw new InvoiceValidationError(r.problems);
  return r;
}

export class InvoiceValidationError extends Error {
  override readonly name = 'InvoiceValidationError';
  constructor(readonly problems: Problem[]) {
    super(`invoice refused: ${problems.slice(0, 5).map((p) => `${p.path.join('.') || '(body)'}: ${p.message}`).join('; ')}`);
  }
}
