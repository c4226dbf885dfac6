/**
 * Mapping of the national platform's 数电票 XML (the tags observed in issued files) to the
 * `cn-einv/0.1` request model. Pure. Amounts go from decimal yuan strings to integer fen and rates
 * from decimal fractions to basis points by string arithmetic, never through floating point.
 *
 * What the mapping does not decide is left to validateInvoice (the JSON path's checks, all of them):
 * the mapper only converts, and remembers for every field the XML element it came from, so that each
 * refusal can name the XML path. Every leaf element or attribute the mapper did not read is returned
 * in `unmapped` (path and value): nothing in the document is dropped silently.
 *
 * The table of tags is in docs/invoice-xml.md.
 */
import type { XmlElement } from './parse';
import type { InvoiceInput, InvoiceLine, Problem } from '../schema';
import { SCHEMA_VERSION } from '../schema';
import { sha256 } from '../../protocol/hash';
import { toHex, type Hex } from '../../protocol/bytes';

/** A refusal located in the XML. `field` is the model field it maps to, when there is one. */
export interface XmlProblem {
  xmlPath: string;
  field?: (string | number)[];
  code: string;
  message: string;
}

/**
 * A leaf the mapping did not read. Values up to MAX_UNMAPPED_VALUE characters are kept as they are;
 * longer ones (signatures, embedded images) as the SHA-256 of their UTF-8 text and their length, so
 * the record stays small and the value is still pinned (the original bytes are kept beside it).
 */
export interface UnmappedTag {
  path: string;
  value?: string;
  sha256?: Hex;
  length?: number;
}

export const MAX_UNMAPPED_VALUE = 512;

function unmappedEntry(path: string, value: string): UnmappedTag {
  if (value.length <= MAX_UNMAPPED_VALUE) return { path, value };
  return { path, sha256: toHex(sha256(new TextEncoder().encode(value))), length: value.length };
}

export interface MappedXml {
  /** The request body for validateInvoice (without `original`, which the importer adds). */
  body: Partial<InvoiceInput> & Record<string, unknown>;
  /** Model field path (joined with '.') → XML path it was read from. */
  sources: Map<string, string>;
  unmapped: UnmappedTag[];
  /** Conversion refusals (bad decimals, unknown codes, missing required tags). */
  problems: XmlProblem[];
  /** Red invoices: the confirmation (red-letter form) number, for the importer to find the form's reason code. */
  confirmationNumber?: string;
}

export const XML_ROOT = 'EInvoice';
/** Money: optional minus, digits, at most two decimals (yuan → fen exactly). */
const MONEY_RE = /^(-?)(\d{1,16})(?:\.(\d{1,2}))?$/;
/** Rates: a decimal fraction between 0 and 1 with at most 4 decimals (0.03 → 300 bps). */
const RATE_RE = /^(0|1)(?:\.(\d{1,4}))?$/;
/** XML's white space (XML 1.0 §2.3 S): trimmed around leaf values, which pretty-printers add. */
const XML_SPACE = /^[ \t\r\n]+|[ \t\r\n]+$/g;

/** Decimal yuan → integer fen by string arithmetic. null when not a 2-decimal amount in the exact range. */
export function yuanToFen(text: string): number | null {
  const m = MONEY_RE.exec(text);
  if (!m) return null;
  const fen = BigInt(m[2]! + (m[3] ?? '').padEnd(2, '0'));
  if (fen > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  const n = Number(fen);
  return m[1] === '-' ? -n : n;
}

/** Decimal rate → basis points by string arithmetic ("0.03" → 300, "0.015" → 150). null when not 0..1 with ≤ 4 decimals. */
export function rateToBps(text: string): number | null {
  const m = RATE_RE.exec(text);
  if (!m) return null;
  const bps = Number(m[1]) * 10_000 + Number((m[2] ?? '').padEnd(4, '0'));
  return bps <= 10_000 ? bps : null;
}

class Reader {
  readonly consumed = new Set<XmlElement>();
  readonly sources = new Map<string, string>();
  readonly problems: XmlProblem[] = [];

  /** The first child named `name` (a second one is a problem: these tags occur once). */
  child(parent: XmlElement | undefined, name: string): XmlElement | undefined {
    if (!parent) return undefined;
    const all = parent.children.filter((c) => c.name === name);
    if (all.length > 1) this.problems.push({ xmlPath: all[1]!.path, code: 'xml_repeated', message: `<${name}> occurs ${all.length} times in ${parent.path}; once is expected` });
    return all[0];
  }

  /** Follows a path of single children; marks the containers as read. */
  at(parent: XmlElement | undefined, ...names: string[]): XmlElement | undefined {
    let cur = parent;
    for (const n of names) {
      cur = this.child(cur, n);
      if (!cur) return undefined;
    }
    return cur;
  }

  /**
   * A leaf's trimmed text, recorded as the source of `field`. Empty leaves read as absent (the
   * platform writes empty tags for fields not filled). A leaf with children is a problem.
   */
  text(el: XmlElement | undefined, field?: (string | number)[]): string | undefined {
    if (!el) return undefined;
    this.consumed.add(el);
    if (field) this.sources.set(field.join('.'), el.path);
    if (el.children.length > 0) {
      this.problems.push({ xmlPath: el.path, ...(field ? { field } : {}), code: 'xml_structure', message: `<${el.name}> holds elements; a value is expected` });
      return undefined;
    }
    const v = el.text.replace(XML_SPACE, '');
    return v === '' ? undefined : v;
  }

  /** `text` of a required leaf; a problem naming `where` when missing or empty. */
  required(parent: XmlElement | undefined, path: string[], field: (string | number)[], where: string): string | undefined {
    const el = this.at(parent, ...path);
    const v = this.text(el, field);
    if (v === undefined) {
      const xmlPath = el?.path ?? `${where}/${path.join('/')}`;
      this.sources.set(field.join('.'), xmlPath);
      this.problems.push({ xmlPath, field, code: 'required', message: `${path[path.length - 1]} is required` });
    }
    return v;
  }

  money(el: XmlElement | undefined, field: (string | number)[], required: boolean, where: string): number | undefined {
    const v = this.text(el, field);
    if (v === undefined) {
      if (required) {
        const xmlPath = el?.path ?? where;
        this.sources.set(field.join('.'), xmlPath);
        this.problems.push({ xmlPath, field, code: 'required', message: `${xmlPath.split('/').pop()} is required` });
      }
      return undefined;
    }
    const fen = yuanToFen(v);
    if (fen === null) this.problems.push({ xmlPath: el!.path, field, code: 'money_format', message: `${JSON.stringify(v)} is not an amount in yuan with at most two decimals` });
    return fen ?? undefined;
  }
}

function taxIdScheme(id: string): 'USCC' | 'LEGACY_TIN' | 'OTHER' {
  if (id.length === 18) return 'USCC';
  if (id.length === 15 || id.length === 17 || id.length === 20) return 'LEGACY_TIN';
  return 'OTHER';
}

function party(r: Reader, data: XmlElement | undefined, who: 'seller' | 'buyer', base: string): Record<string, unknown> {
  const block = who === 'seller' ? 'SellerInformation' : 'BuyerInformation';
  const P = who === 'seller' ? 'Seller' : 'Buyer';
  const el = r.at(data, block);
  const where = `${base}/${block}`;
  const out: Record<string, unknown> = {};
  const name = r.required(el, [`${P}Name`], [who, 'name'], where);
  if (name !== undefined) out.name = name;
  const idEl = r.at(el, `${P}IdNum`);
  const id = r.text(idEl, [who, 'taxId']);
  r.sources.set(`${who}.taxIdScheme`, idEl?.path ?? `${where}/${P}IdNum`);
  if (id !== undefined) {
    out.taxId = id;
    out.taxIdScheme = taxIdScheme(id);
  } else if (who === 'buyer') {
    // No buyer id: a natural person (validateInvoice refuses it on a special invoice).
    out.taxIdScheme = 'OTHER';
    out.isNaturalPerson = true;
  } else {
    r.sources.set('seller.taxId', `${where}/${P}IdNum`);
    r.problems.push({ xmlPath: `${where}/${P}IdNum`, field: ['seller', 'taxId'], code: 'required', message: `${P}IdNum is required` });
  }
  const optional: [string, string][] = [[`${P}Addr`, 'address'], [`${P}TelNum`, 'phone'], [`${P}BankName`, 'bankName'], [`${P}BankAccNum`, 'bankAccount']];
  for (const [tag, field] of optional) {
    const v = r.text(r.at(el, tag), [who, field]);
    if (v !== undefined) out[field] = v;
  }
  return out;
}

function line(r: Reader, item: XmlElement, i: number, colour: string | undefined, prev: InvoiceLine | undefined): Partial<InvoiceLine> {
  const f = (name: string): (string | number)[] => ['lines', i, name];
  r.sources.set(`lines.${i}`, item.path);
  r.consumed.add(item);
  const out: Record<string, unknown> = { lineNo: i + 1 };
  r.sources.set(`lines.${i}.lineNo`, item.path);
  const name = r.required(item, ['ItemName'], f('itemName'), item.path);
  if (name !== undefined) out.itemName = name;
  const code = r.required(item, ['TaxClassificationCode'], f('taxClassificationCode'), item.path);
  if (code !== undefined) out.taxClassificationCode = code;
  const optional: [string, string][] = [['SpecMod', 'specification'], ['MeaUnits', 'unit'], ['Quantity', 'quantity'], ['UnPrice', 'unitPrice']];
  for (const [tag, field] of optional) {
    const v = r.text(r.at(item, tag), f(field));
    if (v !== undefined) out[field] = v;
  }
  const amountEl = r.at(item, 'Amount');
  const amount = r.money(amountEl, f('amountFen'), true, `${item.path}/Amount`);
  if (amount !== undefined) out.amountFen = amount;
  const tax = r.money(r.at(item, 'ComTaxAm'), f('taxAmountFen'), true, `${item.path}/ComTaxAm`);
  if (tax !== undefined) out.taxAmountFen = tax;

  const rateEl = r.at(item, 'TaxRate');
  const rateText = r.text(rateEl, f('taxRateBps'));
  r.sources.set(`lines.${i}.taxTreatment`, rateEl?.path ?? `${item.path}/TaxRate`);
  if (rateText === undefined) r.problems.push({ xmlPath: rateEl?.path ?? `${item.path}/TaxRate`, field: f('taxRateBps'), code: 'required', message: 'TaxRate is required' });
  else if (rateText === '免税' || rateText === '不征税') {
    out.taxRateBps = 0;
    out.taxTreatment = rateText === '免税' ? 'EXEMPT' : 'NOT_SUBJECT';
  } else {
    const bps = rateToBps(rateText);
    if (bps === null) r.problems.push({ xmlPath: rateEl!.path, field: f('taxRateBps'), code: 'rate_format', message: `${JSON.stringify(rateText)} is not a rate (a decimal such as 0.03, or 免税 / 不征税)` });
    else {
      out.taxRateBps = bps;
      out.taxTreatment = bps === 0 ? 'ZERO_RATED' : 'TAXABLE';
    }
  }
  // A line signed against its invoice (negative on blue, positive on red) right after a normal line
  // is the platform's discount line (折扣行) of that line.
  const sign = colour === 'RED' ? -1 : 1;
  if (amount !== undefined && amount !== 0 && Math.sign(amount) === -sign && prev && prev.lineKind === 'NORMAL') {
    out.lineKind = 'DISCOUNT';
    out.discountOfLineNo = prev.lineNo;
  } else out.lineKind = 'NORMAL';
  r.sources.set(`lines.${i}.lineKind`, amountEl?.path ?? item.path);
  r.sources.set(`lines.${i}.discountOfLineNo`, amountEl?.path ?? item.path);
  return out as Partial<InvoiceLine>;
}

/** "2025-03-01 10:00:00" (RequestTime) or "2025-03-01" (IssueTime) → RFC 3339 at +08:00; null when neither shape. */
export function platformTime(text: string): string | null {
  let m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})$/.exec(text);
  if (m) return `${m[1]}T${m[2]}+08:00`;
  m = /^(\d{4}-\d{2}-\d{2})$/.exec(text);
  return m ? `${m[1]}T00:00:00+08:00` : null;
}

/** Maps a parsed document. Never throws on bad content: refusals are in `problems`. */
export function mapInvoiceXml(doc: XmlElement): MappedXml {
  const r = new Reader();
  const body: Record<string, unknown> = { schemaVersion: SCHEMA_VERSION, currency: 'CNY' };
  if (doc.name !== XML_ROOT) {
    r.problems.push({ xmlPath: doc.path, code: 'xml_root', message: `the root element is <${doc.name}>; a 数电票 document is <${XML_ROOT}>` });
    return { body, sources: r.sources, unmapped: [], problems: r.problems };
  }
  r.consumed.add(doc);
  const R = doc.path;
  const header = r.at(doc, 'Header');
  const data = r.at(doc, 'EInvoiceData');
  const supervision = r.at(doc, 'TaxSupervisionInfo');

  // Number: Header/EIid, and TaxSupervisionInfo/InvoiceNumber when present must agree.
  const number = r.required(header, ['EIid'], ['invoiceNumber'], `${R}/Header`);
  if (number !== undefined) body.invoiceNumber = number;
  const numberEl = r.at(supervision, 'InvoiceNumber');
  const number2 = r.text(numberEl);
  if (number2 !== undefined && number !== undefined && number2 !== number) {
    r.problems.push({ xmlPath: numberEl!.path, field: ['invoiceNumber'], code: 'xml_disagree', message: `InvoiceNumber ${number2} differs from Header/EIid ${number}` });
  }

  // Kind and colour from the inherent labels.
  const labels = `${R}/Header/InherentLabel`;
  const kind = r.required(header, ['InherentLabel', 'GeneralOrSpecialVAT', 'LabelCode'], ['invoiceKind'], labels);
  if (kind !== undefined) {
    if (kind === '01') body.invoiceKind = 'VAT_SPECIAL';
    else if (kind === '02') body.invoiceKind = 'VAT_GENERAL';
    else r.problems.push({ xmlPath: r.sources.get('invoiceKind')!, field: ['invoiceKind'], code: 'unknown_code', message: `GeneralOrSpecialVAT/LabelCode ${JSON.stringify(kind)} is not 01 (special) or 02 (general)` });
  }
  const issu = r.required(header, ['InherentLabel', 'InIssuType', 'LabelCode'], ['colour'], labels);
  if (issu !== undefined) {
    if (issu === 'Y') body.colour = 'BLUE';
    else if (issu === 'N') body.colour = 'RED';
    else r.problems.push({ xmlPath: r.sources.get('colour')!, field: ['colour'], code: 'unknown_code', message: `InIssuType/LabelCode ${JSON.stringify(issu)} is not Y (blue) or N (red)` });
  }

  body.seller = party(r, data, 'seller', `${R}/EInvoiceData`);
  body.buyer = party(r, data, 'buyer', `${R}/EInvoiceData`);

  // Totals, drawer and time.
  const basic = r.at(data, 'BasicInformation');
  const bp = `${R}/EInvoiceData/BasicInformation`;
  const totals: [string, string][] = [['TotalAmWithoutTax', 'totalAmountFen'], ['TotalTaxAm', 'totalTaxFen'], ['TotalTax-includedAmount', 'totalWithTaxFen']];
  for (const [tag, field] of totals) {
    const v = r.money(r.at(basic, tag), [field], true, `${bp}/${tag}`);
    if (v !== undefined) body[field] = v;
  }
  const upper = r.text(r.at(basic, 'TotalTax-includedAmountInChinese'), ['totalWithTaxUpper']);
  if (upper !== undefined) body.totalWithTaxUpper = upper;
  const drawer = r.required(basic, ['Drawer'], ['drawer'], bp);
  if (drawer !== undefined) body.drawer = drawer;

  const reqEl = r.at(basic, 'RequestTime');
  const issueEl = r.at(supervision, 'IssueTime');
  const reqText = r.text(reqEl, ['issueDateTime']);
  const issueText = r.text(issueEl);
  const timeEl = reqText !== undefined ? reqEl! : issueEl;
  const timeText = reqText ?? issueText;
  r.sources.set('issueDateTime', timeEl?.path ?? `${bp}/RequestTime`);
  if (timeText === undefined) r.problems.push({ xmlPath: `${bp}/RequestTime`, field: ['issueDateTime'], code: 'required', message: 'RequestTime (or TaxSupervisionInfo/IssueTime) is required' });
  else {
    const t = platformTime(timeText);
    if (t === null) r.problems.push({ xmlPath: timeEl!.path, field: ['issueDateTime'], code: 'time_format', message: `${JSON.stringify(timeText)} is not yyyy-MM-dd HH:mm:ss or yyyy-MM-dd` });
    else {
      body.issueDateTime = t;
      if (issueText !== undefined && reqText !== undefined && issueText.slice(0, 10) !== reqText.slice(0, 10)) {
        r.problems.push({ xmlPath: issueEl!.path, field: ['issueDateTime'], code: 'xml_disagree', message: `IssueTime ${issueText} is another day than RequestTime ${reqText}` });
      }
    }
  }

  // Lines.
  const items = (data?.children ?? []).filter((c) => c.name === 'IssuItemInformation');
  r.sources.set('lines', items[0]?.path ?? `${R}/EInvoiceData/IssuItemInformation`);
  if (items.length === 0) r.problems.push({ xmlPath: `${R}/EInvoiceData/IssuItemInformation`, field: ['lines'], code: 'required', message: 'at least one IssuItemInformation line is required' });
  const lines: Partial<InvoiceLine>[] = [];
  items.forEach((item, i) => lines.push(line(r, item, i, body.colour as string | undefined, lines[i - 1] as InvoiceLine | undefined)));
  body.lines = lines;

  const remark = r.text(r.at(data, 'AdditionalInformation', 'Remark'), ['remarks']);
  if (remark !== undefined) body.remarks = remark;

  // Red-letter link.
  const redEl = r.at(data, 'SpecificInformation', 'RedEInvoice');
  let confirmationNumber: string | undefined;
  if (redEl) {
    r.sources.set('red', redEl.path);
    const red: Record<string, unknown> = {};
    const orig = r.required(redEl, ['OriginalInvoiceCode'], ['red', 'originalInvoiceNumber'], redEl.path);
    if (orig !== undefined) red.originalInvoiceNumber = orig;
    confirmationNumber = r.required(redEl, ['CreditNoteNumber'], ['red', 'confirmationNumber'], redEl.path);
    if (confirmationNumber !== undefined) red.confirmationNumber = confirmationNumber;
    // The reason code is not among the observed tags: it is the red-letter form's (the importer adds it).
    r.sources.set('red.reasonCode', r.sources.get('red.confirmationNumber')!);
    body.red = red;
  } else if (body.colour === 'RED') {
    r.sources.set('red', `${R}/EInvoiceData/SpecificInformation/RedEInvoice`);
  }

  return { body, sources: r.sources, unmapped: unmappedOf(doc, r.consumed), problems: r.problems, ...(confirmationNumber !== undefined ? { confirmationNumber } : {}) };
}

/** Every leaf element not read, every attribute, and stray text in containers. */
function unmappedOf(root: XmlElement, consumed: Set<XmlElement>): UnmappedTag[] {
  const out: UnmappedTag[] = [];
  const walk = (el: XmlElement): void => {
    for (const [name, value] of el.attributes) out.push(unmappedEntry(`${el.path}/@${name}`, value));
    if (el.children.length === 0) {
      if (!consumed.has(el)) out.push(unmappedEntry(el.path, el.text));
      return;
    }
    const stray = el.text.replace(XML_SPACE, '');
    if (stray !== '') out.push(unmappedEntry(`${el.path}/text()`, stray));
    el.children.forEach(walk);
  };
  walk(root);
  return out;
}

/** The XML path a model problem is about: its field's source, or the nearest enclosing one's. */
export function xmlPathOf(problem: Pick<Problem, 'path'>, sources: Map<string, string>, fallback = `/${XML_ROOT}`): string {
  for (let n = problem.path.length; n > 0; n--) {
    const hit = sources.get(problem.path.slice(0, n).join('.'));
    if (hit !== undefined) return hit;
  }
  return fallback;
}
