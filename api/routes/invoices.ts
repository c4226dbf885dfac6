/**
 * Invoice routes (issue 4): issue (single and batch, blue and red), read, bundle, reimbursement,
 * use, red-letter forms, and the public check. The orchestration lives in node/invoice/service.ts;
 * this file parses requests, checks roles and maps refusals to problem+json with field paths.
 *
 * Field paths: request-body problems are reported as ['body', ...field path], query problems as
 * ['query', ...], batch items as ['body', 'invoices', i, ...], like parseOr422 elsewhere in the API.
 */
import express, { Router, type Request } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z, problemResponses } from '../openapi';
import { Anchoring, BatchReceipt, Bundle, GroupCheckpoint, Hex32, Receipt } from '../schemas';
import { parseOr422 } from '../validate';
import { invoiceIntake, itemProblems } from '../body';
import { checkInvoice, type InvoiceIntake } from '../../node/invoice/intake';
import { HttpProblem, domainProblem, problemCodeOf } from '../problem';
import { requireActor, requireRole } from '../auth';
import { DomainError, type Actor, type InvoiceService, type IssueResult, type Ledger } from '../../node';
import { RECEIPT_V2_TYPE, type Receipt as ReceiptT, type SignedCheckpointV2 } from '../../node/protocol';
import { FORM_ID_RE, HARD_MAX_LINES, InvoiceSchema, RED_REASON_CODES, parsePublicQuery, type Invoice, type Problem } from '../../node/invoice';
import { xmlImporterFor, type XmlImporter, type XmlImportResult } from '../../node/invoice/xml';

export const MAX_BATCH = 1000;

const KeyParams = z.strictObject({ invoiceKey: Hex32 });
const FormParams = z.strictObject({ id: z.string().regex(FORM_ID_RE, 'a red-letter form id is 20 digits or FTZ-…'), action: z.enum(['confirm', 'reject', 'withdraw']) });
const ReimbursementBody = z.strictObject({ action: z.enum(['lock', 'unlock', 'close']) }).openapi('ReimbursementAction');
const UseBody = z.strictObject({ action: z.enum(['confirm-use', 'book']) }).openapi('UseAction');
const BatchBody = z.strictObject({ invoices: z.array(z.unknown()).min(1).max(MAX_BATCH) });
/** A batch of issuing-platform XML documents, each base64 (RFC 4648 §4) in a JSON array. */
const XmlDocument = z
  .strictObject({
    name: z.string().min(1).max(500).optional().openapi({ description: 'the client\'s name for the document (e.g. its file name), echoed in the result' }),
    xml: z.string().min(1).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'xml must be the document in standard base64').openapi({ description: 'the XML document\'s exact bytes, base64' }),
  })
  .openapi('InvoiceXmlDocument');
const BundleQuery = z.strictObject({ xml: z.enum(['0', '1']).optional().openapi({ description: '1: the bundle carries the original XML (invoices registered from XML)' }) });
const XmlBatchBody = z.strictObject({ documents: z.array(XmlDocument).min(1).max(MAX_BATCH) });
export const XML_MEDIA_TYPES = ['application/xml', 'text/xml'];
const OpenFormBody = z
  .strictObject({
    invoiceKey: Hex32.openapi({ description: 'the blue invoice' }),
    formId: z.string().regex(FORM_ID_RE, 'formId must be 20 digits (national confirmation number) or FTZ-…'),
    reasonCode: z.enum(RED_REASON_CODES),
    lines: z
      .array(z.strictObject({ originalLineNo: z.int().min(1), amountFen: z.int(), taxAmountFen: z.int() }))
      .min(1)
      .max(HARD_MAX_LINES)
      .openapi({ description: 'red amounts per blue line, signed like the red invoice (opposite to the blue line)' }),
  })
  .openapi('RedLetterFormOpen');
const PublicQuerySchema = z.strictObject({
  number: z.string().regex(/^\d{20}$/, 'number is the 20-digit invoice number'),
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'date is the issue date YYYY-MM-DD (+08:00)'),
  total: z.string().regex(/^-?\d{1,16}$/, 'total is totalWithTaxFen, integer fen'),
});

const IssueResponse = z
  .object({
    invoiceKey: Hex32,
    index: z.number().int(),
    receipt: Receipt,
    status: z.enum(['issued', 'partially-reversed', 'fully-reversed']),
    outcome: z.enum(['created', 'duplicate']),
    reversal: z.object({ invoiceKey: Hex32, kind: z.string(), index: z.number().int(), receipt: Receipt, status: z.string() }).optional(),
  })
  .openapi('IssueResult');

/** A refusal as an HTTP problem; field paths get `prefix` in front (['body'] for request bodies). */
export function toProblem(err: unknown, prefix: (string | number)[] = ['body']): unknown {
  if (!(err instanceof DomainError)) return err;
  return domainProblem(err, prefix);
}

function invalid(problems: Problem[], prefix: (string | number)[]): HttpProblem {
  const errors = problems.map((p) => ({ path: [...prefix, ...p.path], message: p.message, code: p.code }));
  const first = errors[0]!;
  return new HttpProblem('INVOICE_INVALID', `${first.path.join('.')}: ${first.message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`, { errors });
}

function issueBody(r: IssueResult): object {
  return { invoiceKey: r.invoiceKey, index: r.index, receipt: r.receipt, status: r.status, outcome: r.outcome, ...(r.reversal ? { reversal: r.reversal } : {}) };
}

/** `/EInvoice/EInvoiceData/IssuItemInformation[2]/Amount` → its steps, for the problem's `path`. */
const xmlSteps = (xmlPath: string): string[] => xmlPath.split('/').filter((s) => s !== '');

/**
 * A refusal of an XML document as an HTTP problem. Every error names the XML element (`xmlPath`, and
 * `path` = prefix + its steps) and, where there is one, the model field it maps to (`field`).
 */
export function toXmlProblem(err: unknown, prefix: (string | number)[] = ['body']): unknown {
  if (!(err instanceof DomainError)) return err;
  const d = err.details;
  if (err.code === 'INVOICE_XML_INVALID' && Array.isArray(d.problems)) {
    const errors = (d.problems as { xmlPath: string; field?: (string | number)[]; code: string; message: string }[]).map((p) => ({
      path: [...prefix, ...xmlSteps(p.xmlPath)],
      xmlPath: p.xmlPath,
      ...(p.field ? { field: p.field } : {}),
      message: p.message,
      code: p.code,
    }));
    return new HttpProblem(problemCodeOf(err), err.message, { errors });
  }
  if (typeof d.xmlPath === 'string') {
    const { xmlPath, field, path: _path, ...rest } = d;
    const error = { path: [...prefix, ...xmlSteps(xmlPath)], xmlPath, ...(Array.isArray(field) ? { field } : {}), message: err.message, code: err.code };
    return new HttpProblem(problemCodeOf(err), err.message, { ...rest, errors: [error] });
  }
  return toProblem(err, prefix);
}

function xmlIssueBody(r: XmlImportResult): object {
  return { ...issueBody(r), original: r.original, unmapped: r.unmapped };
}

async function importOne(imp: XmlImporter, bytes: Uint8Array, actor: Actor, prefix: (string | number)[]): Promise<XmlImportResult> {
  try {
    return await imp.import(bytes, actor);
  } catch (err) {
    throw toXmlProblem(err, prefix);
  }
}

/** Per-item batch result: the item's HTTP status in `status`, the invoice's own status as `invoiceStatus`. */
function batchItem(out: IssueResult, body: object): object {
  const { status: invoiceStatus, ...rest } = body as { status: string };
  return { status: out.outcome === 'created' ? 201 : 200, invoiceStatus, ...rest };
}

/**
 * One item's refusal. Anything but a problem is this item's failure alone: the others keep their
 * receipts and the answer still has one result per item. Re-sending is safe: an identical invoice
 * that did get in is answered as a duplicate with its receipt.
 */
function batchRefusal(err: unknown, path: (string | number)[]): { status: number } {
  if (err instanceof HttpProblem) return { status: err.status, code: err.code, detail: err.message, ...err.extra } as { status: number };
  return { status: 500, code: 'INTERNAL', detail: 'internal error on this item; re-send it (an identical invoice already registered is answered with its receipt)', errors: [{ path, message: 'internal error', code: 'INTERNAL' }] } as { status: number };
}

/**
 * One invoice: its intake (node/invoice/intake.ts) as the intake workers did it (`pre`), or here, then
 * the service. The answers are the same either way.
 */
async function issueOne(svc: InvoiceService, body: unknown, actor: Actor, prefix: (string | number)[], pre?: InvoiceIntake | null): Promise<IssueResult> {
  if (!pre && body === undefined) throw new HttpProblem('INVOICE_INVALID', 'the request needs a JSON invoice body (or application/xml)', { errors: [{ path: prefix, message: 'required', code: 'required' }] });
  const checked = pre ?? checkInvoice(svc.rules, body, svc.clock());
  if (checked.kind === 'original') {
    // `original` names XML bytes the node keeps; only the XML import writes it (send the XML itself).
    throw invalid([{ path: ['original'], code: 'not_allowed', message: 'original is written by the node when it imports XML; send the document as application/xml instead' }], prefix);
  }
  if (checked.kind === 'invalid') throw invalid(checked.problems, prefix);
  // A result made on a worker is adopted by the rules, so the lifecycle does not validate it again.
  const v = pre ? svc.rules.adopt({ ...checked.result, recordDigest: checked.digest }) : { ...checked.result, recordDigest: checked.digest };
  try {
    return await svc.issue(v, actor);
  } catch (err) {
    throw toProblem(err, prefix);
  }
}

const keyOf = (req: Request): `0x${string}` => parseOr422(KeyParams, req.params, 'params').invoiceKey as `0x${string}`;

export function invoicesRouter(ledger: Ledger): Router {
  const r = Router();
  const svc = ledger.invoices;
  const wrap = (err: unknown) => toProblem(err);

  const imp = xmlImporterFor(ledger, svc);
  // One XML document as the body: its exact bytes (no charset decoding here; the parser checks UTF-8).
  const xmlBody = express.raw({ type: XML_MEDIA_TYPES, limit: ledger.config.maxInvoiceXmlBytes });

  r.post('/invoices', requireRole('issuer'), xmlBody, async (req, res) => {
    if (Buffer.isBuffer(req.body)) {
      const out = await importOne(imp, req.body, requireActor(res), ['body']);
      res.status(out.outcome === 'created' ? 201 : 200).json(xmlIssueBody(out));
      return;
    }
    const result = await issueOne(svc, req.body, requireActor(res), ['body'], invoiceIntake(res)?.[0]);
    res.status(result.outcome === 'created' ? 201 : 200).json(issueBody(result));
  });

  r.post('/invoices/batch', requireRole('issuer'), async (req, res) => {
    const actor = requireActor(res);
    if (typeof req.body === 'object' && req.body !== null && 'documents' in req.body) {
      const { documents } = parseOr422(XmlBatchBody, req.body);
      // Each document on its own, like JSON items; identical documents share one registration.
      const results = await Promise.all(
        documents.map(async (doc, i) => {
          const named = doc.name !== undefined ? { name: doc.name } : {};
          try {
            const bytes = Buffer.from(doc.xml, 'base64');
            const out = await importOne(imp, bytes, actor, ['body', 'documents', i, 'xml']);
            return { ...named, ...batchItem(out, xmlIssueBody(out)) } as { status: number };
          } catch (err) {
            return { ...named, ...batchRefusal(err, ['body', 'documents', i]) };
          }
        }),
      );
      res.status(200).json(batchSummary(results));
      return;
    }
    const { invoices } = parseOr422(BatchBody, req.body);
    // Items the body reader refused (a duplicate key, a number form, a character) are refused here
    // one by one; the rest go on.
    const refusedAtEdge = itemProblems(res);
    const checked = invoiceIntake(res);
    // Every item on its own: valid items are not held back by invalid ones. Identical items share one
    // registration (the service queues per key, so the second is answered from the first); same key
    // with other content is a conflict, recorded like any other.
    const results = await Promise.all(
      invoices.map(async (body, i) => {
        const edge = refusedAtEdge.get(i);
        if (edge) return { status: edge.status, code: edge.code, detail: edge.message, ...edge.extra };
        try {
          const out = await issueOne(svc, body, actor, ['body', 'invoices', i], checked?.[i]);
          return batchItem(out, issueBody(out)) as { status: number };
        } catch (err) {
          return batchRefusal(err, ['body', 'invoices', i]);
        }
      }),
    );
    res.status(200).json(batchSummary(results));
  });

  r.get('/invoices/:invoiceKey/xml', requireRole('issuer', 'buyer', 'court', 'auditor'), async (req, res) => {
    const key = keyOf(req);
    const v = await svc.view(key, requireActor(res)).catch((e) => Promise.reject(wrap(e)));
    const bytes = await imp.original(v.invoice).catch((e) => Promise.reject(wrap(e)));
    // RFC 9530 Repr-Digest: the client can check the bytes against the record without parsing them.
    const sha = Buffer.from(v.invoice.original!.sha256.slice(2), 'hex').toString('base64');
    res.set('repr-digest', `sha-256=:${sha}:`).type('application/xml').send(bytes);
  });

  r.get('/invoices/:invoiceKey', requireRole('issuer', 'buyer', 'court', 'auditor'), async (req, res) => {
    const key = keyOf(req);
    const v = await svc.view(key, requireActor(res)).catch((e) => Promise.reject(wrap(e)));
    const { status, ...state } = v.state;
    res.json({ invoiceKey: v.invoiceKey, invoice: v.invoice, status, state, events: v.events });
  });

  r.get('/invoices/:invoiceKey/bundle', requireRole('issuer', 'buyer', 'court', 'auditor'), async (req, res) => {
    const key = keyOf(req);
    const { xml: withXml } = parseOr422(BundleQuery, req.query, 'query');
    const bundle = await svc.bundle(key, requireActor(res)).catch((e) => Promise.reject(wrap(e)));
    if (withXml !== '1') {
      res.json(bundle);
      return;
    }
    // ?xml=1: the bundle carries the original XML (an invoice registered from JSON has none: 404).
    const record = bundle.items[0]?.record as Invoice | null | undefined;
    if (!record) throw new HttpProblem('INVOICE_XML_NOT_FOUND', 'the invoice record is not in the bundle (erased)');
    const bytes = await imp.original(record).catch((e) => Promise.reject(wrap(e)));
    res.json({ ...bundle, xml: { mediaType: 'application/xml', base64: bytes.toString('base64') } });
  });

  r.get('/invoices/:invoiceKey/status-proof', requireRole('issuer', 'buyer', 'court', 'auditor'), async (req, res) => {
    const key = keyOf(req);
    res.set('cache-control', 'no-store').json(await svc.statusProof(key, requireActor(res)).catch((e) => Promise.reject(wrap(e))));
  });

  r.post('/invoices/:invoiceKey/reimbursement', requireRole('buyer'), async (req, res) => {
    const key = keyOf(req);
    const { action } = parseOr422(ReimbursementBody, req.body);
    res.json(await svc.reimbursement(key, action, requireActor(res)).catch((e) => Promise.reject(wrap(e))));
  });

  r.post('/invoices/:invoiceKey/use', requireRole('buyer'), async (req, res) => {
    const key = keyOf(req);
    const { action } = parseOr422(UseBody, req.body);
    res.json(await svc.use(key, action, requireActor(res)).catch((e) => Promise.reject(wrap(e))));
  });

  r.post('/red-letter-forms', requireRole('issuer', 'buyer'), async (req, res) => {
    const body = parseOr422(OpenFormBody, req.body);
    const out = await svc.openForm({ ...body, invoiceKey: body.invoiceKey as `0x${string}` }, requireActor(res)).catch((e) => Promise.reject(wrap(e)));
    res.status(201).json(out);
  });

  r.post('/red-letter-forms/:id/:action', requireRole('issuer', 'buyer'), async (req, res) => {
    const { id, action } = parseOr422(FormParams, req.params, 'params');
    if (req.body !== undefined && (typeof req.body !== 'object' || req.body === null || Object.keys(req.body).length > 0)) {
      throw new HttpProblem('VALIDATION', 'this action takes no body', { errors: [{ path: ['body'], message: 'expected no body or {}', code: 'unknown_field' }] });
    }
    res.json(await svc.formAction(id, action, requireActor(res)).catch((e) => Promise.reject(wrap(e))));
  });

  // Public: no key. Status and anchoring only, never party data; one answer for "not found" and "fields differ".
  r.get('/invoice-status', async (req, res) => {
    const q = parsePublicQuery(parseOr422(PublicQuerySchema, req.query, 'query'));
    if (!q) throw new HttpProblem('QUERY_INVALID', 'total is out of the exact integer range', { errors: [{ path: ['query', 'total'], message: 'not a safe integer', code: 'too_big' }] });
    res.set('cache-control', 'no-store').json(await svc.publicCheck(q));
  });

  // Public: the same query and the same one "not found" answer as /invoice-status; the proof holds the key, status fields and proofs only.
  r.get('/invoice-status/proof', async (req, res) => {
    const q = parsePublicQuery(parseOr422(PublicQuerySchema, req.query, 'query'));
    if (!q) throw new HttpProblem('QUERY_INVALID', 'total is out of the exact integer range', { errors: [{ path: ['query', 'total'], message: 'not a safe integer', code: 'too_big' }] });
    const out = await svc.publicStatusProof(q).catch((e) => Promise.reject(wrap(e)));
    if (!out.found) throw new HttpProblem('INVOICE_NOT_FOUND', 'no invoice with this number, issue date and total');
    res.set('cache-control', 'no-store').json(out.proof);
  });

  return r;
}

/**
 * The batch answer. Receipts v2 of one group commit share one signed checkpoint, so the answer
 * carries each checkpoint once (`checkpoints`, ascending tree size) and each item's receipt names its
 * checkpoint by tree size; v1 receipts (records logged before v2) are left whole. `checkpoints` is
 * absent when no item has a v2 receipt, so an answer of refusals only is what it always was.
 */
function batchSummary(results: { status: number }[]): object {
  const count = (pred: (s: number) => boolean) => results.filter((x) => pred(x.status)).length;
  const checkpoints = new Map<number, SignedCheckpointV2>();
  const compact = (receipt: ReceiptT | undefined): unknown => {
    if (receipt?.type !== RECEIPT_V2_TYPE) return receipt;
    checkpoints.set(receipt.checkpoint.treeSize, receipt.checkpoint);
    return { ...receipt, checkpoint: receipt.checkpoint.treeSize };
  };
  const out = results.map((r) => {
    const x = r as { status: number; receipt?: ReceiptT; reversal?: { receipt: ReceiptT } };
    if (x.receipt === undefined) return r;
    return { ...x, receipt: compact(x.receipt), ...(x.reversal ? { reversal: { ...x.reversal, receipt: compact(x.reversal.receipt) } } : {}) };
  });
  const head = { created: count((s) => s === 201), duplicates: count((s) => s === 200), refused: count((s) => s >= 400) };
  if (checkpoints.size === 0) return { ...head, results: out };
  return { ...head, checkpoints: [...checkpoints.values()].sort((a, b) => a.treeSize - b.treeSize), results: out };
}

export function registerInvoicesOpenApi(reg: OpenAPIRegistry): void {
  const sec = [{ bearer: [] }];
  const json = <T extends z.ZodType>(schema: T) => ({ content: { 'application/json': { schema } } });
  const keyParam = z.object({ invoiceKey: Hex32 });
  reg.registerPath({
    method: 'post',
    path: '/v1/invoices',
    summary: 'Register an invoice (issuer, for the seller tax ids its key is granted). Red invoices carry their `red` block and reverse their blue invoice in the same step.',
    security: sec,
    request: {
      body: {
        description: 'a cn-einv/0.1 invoice as JSON, or one issuing-platform 数电票 XML document (application/xml or text/xml, UTF-8, no DOCTYPE; docs/invoice-xml.md)',
        content: { 'application/json': { schema: InvoiceSchema }, 'application/xml': { schema: z.string().openapi({ format: 'binary' }) }, 'text/xml': { schema: z.string().openapi({ format: 'binary' }) } },
      },
    },
    responses: {
      201: { description: 'registered (from XML the answer also has `original` {sha256, sm3, size} and `unmapped` [{path, value}])', ...json(IssueResponse) },
      200: { description: 'identical invoice already registered: the existing record and receipt', ...json(IssueResponse) },
      ...problemResponses(400, 401, 403, 404, 409, 413, 415, 422),
    },
  });
  reg.registerPath({
    method: 'post',
    path: '/v1/invoices/batch',
    summary: `Register up to ${MAX_BATCH} invoices; per-item results in order (status 201, 200 or a problem)`,
    security: sec,
    request: {
      body: {
        description: `either \`invoices\` (JSON invoices) or \`documents\` (XML documents, each base64 with an optional name); at most ${MAX_BATCH}`,
        content: { 'application/json': { schema: z.union([z.object({ invoices: z.array(InvoiceSchema).min(1).max(MAX_BATCH) }), XmlBatchBody]) } },
      },
    },
    responses: {
      200: {
        description: 'per-item results; a v2 receipt of an item names its group checkpoint by tree size (`receipt.checkpoint`), each checkpoint is in `checkpoints` once',
        ...json(z.object({ created: z.number(), duplicates: z.number(), refused: z.number(), checkpoints: z.array(GroupCheckpoint).optional(), results: z.array(z.record(z.string(), z.unknown()).and(z.object({ receipt: BatchReceipt.optional() }))) })),
      },
      ...problemResponses(400, 401, 403, 413, 422),
    },
  });
  reg.registerPath({
    method: 'get',
    path: '/v1/invoices/{invoiceKey}',
    summary: "The invoice, its status and its events with anchoring state (the seller's issuer, the buyer, court, auditor)",
    security: sec,
    request: { params: keyParam },
    responses: {
      200: {
        description: 'invoice',
        ...json(z.object({ invoiceKey: Hex32, invoice: InvoiceSchema, status: z.string(), state: z.record(z.string(), z.unknown()), events: z.array(z.object({ kind: z.string(), index: z.number(), at: z.string(), anchoring: Anchoring })) })),
      },
      ...problemResponses(400, 401, 403, 404),
    },
  });
  reg.registerPath({
    method: 'get',
    path: '/v1/invoices/{invoiceKey}/bundle',
    summary: 'One tianfu.bundle/v1 (kind invoice): the invoice record and every lifecycle record, each with proof and anchor; with ?xml=1 also the original XML (`xml.base64`)',
    security: sec,
    request: { params: keyParam, query: BundleQuery },
    responses: { 200: { description: 'bundle', content: { 'application/json': { schema: Bundle } } }, ...problemResponses(400, 401, 403, 404) },
  });
  const StatusProofDoc = z.object({ format: z.literal('tianfu.status-proof/v1'), domain: z.enum(['invoice', 'evidence']), subject: z.string(), leaf: z.record(z.string(), z.unknown()).nullable(), mapProof: z.record(z.string(), z.unknown()), stateRoot: z.object({ treeSize: z.number(), root: Hex32 }), bundle: Bundle, createdAt: z.string() }).openapi('StatusProof');
  reg.registerPath({
    method: 'get',
    path: '/v1/invoices/{invoiceKey}/status-proof',
    summary: 'tianfu.status-proof/v1: the invoice\'s state leaf as of the newest anchored state root, its sparse Merkle proof and the state.root entry\'s bundle (docs/status-proofs.md); verify with `tianfu verify`',
    security: sec,
    request: { params: keyParam },
    responses: { 200: { description: 'status proof', content: { 'application/json': { schema: StatusProofDoc } } }, ...problemResponses(400, 401, 403, 404, 409) },
  });
  reg.registerPath({
    method: 'get',
    path: '/v1/invoice-status/proof',
    summary: 'Public (no key): number + issue date + total → tianfu.status-proof/v1 with the key, status fields and proofs only; 404 for both "not found" and "fields differ"',
    request: { query: PublicQuerySchema },
    responses: { 200: { description: 'status proof', content: { 'application/json': { schema: StatusProofDoc } } }, ...problemResponses(400, 404, 409) },
  });
  reg.registerPath({
    method: 'get',
    path: '/v1/invoices/{invoiceKey}/xml',
    summary: 'The exact XML bytes the invoice was registered from (the seller\'s issuer, the buyer, court, auditor); re-checked against the record\'s SHA-256 and SM3 before they are sent',
    security: sec,
    request: { params: keyParam },
    responses: {
      200: { description: 'the original document; header Repr-Digest: sha-256=:…: (RFC 9530)', content: { 'application/xml': { schema: z.string().openapi({ format: 'binary' }) } } },
      ...problemResponses(400, 401, 403, 404),
    },
  });
  reg.registerPath({
    method: 'post',
    path: '/v1/invoices/{invoiceKey}/reimbursement',
    summary: 'Lock, unlock or close reimbursement (the buyer): one lock at a time, one close ever',
    security: sec,
    request: { params: keyParam, body: json(ReimbursementBody) },
    responses: { 200: { description: 'appended' }, ...problemResponses(400, 401, 403, 404, 409, 422) },
  });
  reg.registerPath({
    method: 'post',
    path: '/v1/invoices/{invoiceKey}/use',
    summary: 'Confirm use or booking (the buyer)',
    security: sec,
    request: { params: keyParam, body: json(UseBody) },
    responses: { 200: { description: 'appended' }, ...problemResponses(400, 401, 403, 404, 409, 422) },
  });
  reg.registerPath({
    method: 'post',
    path: '/v1/red-letter-forms',
    summary: "Open a red-letter confirmation form (the seller's issuer or the buyer)",
    security: sec,
    request: { body: json(OpenFormBody) },
    responses: { 201: { description: 'opened' }, ...problemResponses(400, 401, 403, 404, 409, 422) },
  });
  reg.registerPath({
    method: 'post',
    path: '/v1/red-letter-forms/{id}/{action}',
    summary: 'confirm or reject (the counterparty, within 72 hours) or withdraw (the initiator)',
    security: sec,
    request: { params: z.object({ id: z.string(), action: z.enum(['confirm', 'reject', 'withdraw']) }) },
    responses: { 200: { description: 'appended' }, ...problemResponses(400, 401, 403, 404, 409) },
  });
  reg.registerPath({
    method: 'get',
    path: '/v1/invoice-status',
    summary: 'Public check (no key): number + issue date + total → status and anchoring only; {found:false} for both "not found" and "fields differ"',
    request: { query: PublicQuerySchema },
    responses: {
      200: {
        description: 'answer',
        ...json(
          z.union([
            z.object({ found: z.literal(true), invoice: z.object({ invoiceKey: Hex32, colour: z.string(), status: z.string(), registeredAt: z.string(), updatedAt: z.string(), anchoring: z.object({ registration: Anchoring, latest: Anchoring }) }) }),
            z.object({ found: z.literal(false) }),
          ]),
        ),
      },
      ...problemResponses(400),
    },
  });
}
