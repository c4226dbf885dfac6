/**
 * XML import: issuing-platform XML bytes → a registered invoice whose record names the bytes.
 *
 *   parse (safe profile) → map (tags → cn-einv/0.1, every field's XML path remembered)
 *   → the red-letter form's reason code (red invoices) → `original` {sha256, sm3, size, unmapped}
 *   → validateInvoice (every check of the JSON path) → store the exact bytes, durably,
 *   content-addressed → issue (the same service call as JSON).
 *
 * The bytes are durable before the record is appended, so every acknowledged record that names XML
 * has its XML at the node (GET /v1/invoices/{key}/xml). A refusal after storing (a key conflict, a red
 * invoice that does not fit its form) leaves a blob no record names: content-addressed, so a later
 * identical import reuses it; nothing refers to it otherwise.
 *
 * Refusals are DomainErrors: the parse profile's codes (XML_*, with `xmlPath`) and INVOICE_XML_INVALID
 * with `problems` [{xmlPath, field?, code, message}].
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { Readable } from 'node:stream';
import { DomainError, type Actor } from '../../domain/types';
import type { Hex } from '../../protocol';
import { BlobStore } from '../../evidence/blob-store';
import type { IssueResult, InvoiceService, ValidInvoice } from '../service';
import type { Invoice } from '../schema';
import { MAX_UNMAPPED_TAGS } from '../schema';
import { parseXml, XmlRefusal, type XmlLimits } from './parse';
import { mapInvoiceXml, xmlPathOf, type UnmappedTag, type XmlProblem } from './map';

export interface OriginalDigests {
  sha256: Hex;
  sm3: Hex;
  size: number;
}

export type PreparedXml =
  | { ok: true; valid: ValidInvoice; original: OriginalDigests; unmapped: UnmappedTag[]; sources: Map<string, string> }
  | { ok: false; problems: XmlProblem[] };

export interface XmlImportResult extends IssueResult {
  original: OriginalDigests;
  unmapped: UnmappedTag[];
}

export function digestsOf(bytes: Uint8Array): OriginalDigests {
  const sha = createHash('sha256').update(bytes).digest('hex');
  const sm3 = createHash('sm3').update(bytes).digest('hex');
  return { sha256: `0x${sha}`, sm3: `0x${sm3}`, size: bytes.length };
}

/** The parse refusal as a DomainError (codes XML_*; `xmlPath` says where). */
function refusal(e: XmlRefusal): DomainError {
  return new DomainError(e.code, e.message, { xmlPath: e.xmlPath, ...e.details });
}

export function xmlInvalid(problems: XmlProblem[]): DomainError {
  const first = problems[0]!;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  return new DomainError('INVOICE_XML_INVALID', `${first.xmlPath}: ${first.message}${more}`, { problems });
}

export class XmlImporter {
  private storeP: Promise<BlobStore> | undefined;

  constructor(
    private readonly svc: InvoiceService,
    /** Directory of the content-addressed XML store (by convention `<dataDir>/invoice-xml`). */
    private readonly storeDir: string,
    private readonly limits: Partial<XmlLimits> = {},
  ) {}

  store(): Promise<BlobStore> {
    this.storeP ??= BlobStore.open(this.storeDir);
    return this.storeP;
  }

  /** Parse, map and validate; no I/O but the red-letter form lookup. Throws the parse refusals. */
  async prepare(bytes: Uint8Array): Promise<PreparedXml> {
    let doc;
    try {
      doc = parseXml(bytes, this.limits);
    } catch (e) {
      if (e instanceof XmlRefusal) throw refusal(e);
      throw e;
    }
    const m = mapInvoiceXml(doc);
    if (m.problems.length > 0) return { ok: false, problems: m.problems };
    if (m.unmapped.length > MAX_UNMAPPED_TAGS) {
      return { ok: false, problems: [{ xmlPath: m.unmapped[MAX_UNMAPPED_TAGS]!.path, code: 'too_many_unmapped', message: `${m.unmapped.length} elements and attributes are not mapped; a record lists at most ${MAX_UNMAPPED_TAGS}` }] };
    }
    if (m.confirmationNumber !== undefined && m.body.red) {
      const reason = await this.svc.formReason(m.confirmationNumber);
      if (reason === undefined) {
        return {
          ok: false,
          problems: [{ xmlPath: m.sources.get('red.confirmationNumber')!, field: ['red', 'confirmationNumber'], code: 'red_form_unknown', message: `no red-letter form ${m.confirmationNumber} is registered: open it (POST /v1/red-letter-forms) before importing the red invoice` }],
        };
      }
      (m.body.red as Record<string, unknown>).reasonCode = reason;
    }
    m.unmapped.forEach((u, i) => m.sources.set(`original.unmapped.${i}`, u.path));
    const original = digestsOf(bytes);
    const body = { ...m.body, original: { mediaType: 'application/xml', ...original, unmapped: m.unmapped } };
    const v = this.svc.validate(body);
    if (!v.ok) {
      return { ok: false, problems: v.problems.map((p) => ({ xmlPath: xmlPathOf(p, m.sources), field: p.path, code: p.code, message: p.message })) };
    }
    return { ok: true, valid: v, original, unmapped: m.unmapped, sources: m.sources };
  }

  /** Registers one XML invoice (the issuer's key must be granted its seller). */
  async import(bytes: Uint8Array, actor: Actor): Promise<XmlImportResult> {
    const p = await this.prepare(bytes);
    if (!p.ok) throw xmlInvalid(p.problems);
    try {
      this.svc.checkIssuer(p.valid, actor);
      const store = await this.store();
      await store.ingest(Readable.from([Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)]), { maxBytes: bytes.length, expectSha256: p.original.sha256 });
      const issued = await this.svc.issue(p.valid, actor);
      return { ...issued, original: p.original, unmapped: p.unmapped };
    } catch (err) {
      // Refusals about a field (scope, red link) also name the XML element the field came from.
      if (err instanceof DomainError && Array.isArray(err.details.path)) {
        const field = err.details.path as (string | number)[];
        throw new DomainError(err.code, err.message, { ...err.details, xmlPath: xmlPathOf({ path: field }, p.sources), field });
      }
      throw err;
    }
  }

  /** The original bytes of a registered invoice, re-checked against the record's digests. */
  async original(invoice: Invoice): Promise<Buffer> {
    const o = invoice.original;
    if (!o) throw new DomainError('INVOICE_XML_NOT_FOUND', 'this invoice was not registered from XML; it has no original document');
    const store = await this.store();
    const chunks: Buffer[] = [];
    for await (const c of await store.open(o.sha256 as Hex)) chunks.push(c as Buffer);
    const bytes = Buffer.concat(chunks);
    const got = digestsOf(bytes);
    if (got.sha256 !== o.sha256 || got.sm3 !== o.sm3 || got.size !== o.size) {
      // The store's copy no longer matches what the record commits to: never serve it as the original.
      throw new DomainError('INVOICE_XML_DAMAGED', `the stored XML does not match the record (SHA-256 ${got.sha256}, record ${o.sha256})`, { expected: o.sha256, calculated: got.sha256 });
    }
    return bytes;
  }
}

const importers = new WeakMap<object, XmlImporter>();

/** One importer per ledger (store under `<dataDir>/invoice-xml`). */
export function xmlImporterFor(ledger: { config: { dataDir: string; maxInvoiceXmlBytes?: number } }, svc: InvoiceService): XmlImporter {
  let imp = importers.get(ledger);
  if (!imp) {
    const max = ledger.config.maxInvoiceXmlBytes;
    imp = new XmlImporter(svc, path.join(ledger.config.dataDir, 'invoice-xml'), max !== undefined ? { maxBytes: max } : {});
    importers.set(ledger, imp);
  }
  return imp;
}
