/**
 * Export routes for auditors (issue 6, `tianfu export`): receipts for every entry (public: a receipt
 * is {logId, index, leafHash, at} and a signature, no private data) and, for auditor and court keys,
 * the records with their salts, which open the entries' commitments. Bounded pages, like
 * GET /v1/log/entries (whose shape stays as it is).
 */
import { Router } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z, problemResponses } from '../openapi';
import { Hex32, Receipt, SubjectLink } from '../schemas';
import { parseOr422 } from '../validate';
import { HttpProblem } from '../problem';
import { requireRole } from '../auth';
import { subjectLink, type Hex, type Ledger } from '../../node';

export const MAX_RECEIPTS_PAGE = 1000;
/** Records can be large (a 100-line invoice): smaller pages. Clients continue from the last index returned. */
export const MAX_RECORDS_PAGE = 500;

const count = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const RangeQuery = z.strictObject({ start: count, end: count.optional() });

const RecordRowSchema = z
  .object({
    index: z.number().int(),
    kind: z.string(),
    subject: z.string().openapi({ description: "the entry's subject, as the log writes it" }),
    subjectLink: SubjectLink.optional(),
    record: z.record(z.string(), z.unknown()).nullable().openapi({ description: 'null when erased (crypto-shredding)' }),
    salt: Hex32.nullable(),
    recordDigest: Hex32,
  })
  .openapi('ExportedRecord');

export function registerExportOpenApi(r: OpenAPIRegistry): void {
  r.registerPath({
    method: 'get',
    path: '/v1/log/receipts',
    summary: `Signed receipts for entries [start, end), at most ${MAX_RECEIPTS_PAGE} per page (public)`,
    request: { query: RangeQuery },
    responses: { 200: { description: 'receipts', content: { 'application/json': { schema: z.object({ receipts: z.array(Receipt) }) } } }, ...problemResponses(400) },
  });
  r.registerPath({
    method: 'get',
    path: '/v1/log/records',
    summary: `Records and salts for entries [start, end), at most ${MAX_RECORDS_PAGE} per page (auditor or court key)`,
    security: [{ bearer: [] }],
    request: { query: RangeQuery },
    responses: { 200: { description: 'records', content: { 'application/json': { schema: z.object({ records: z.array(RecordRowSchema) }) } } }, ...problemResponses(400, 401, 403) },
  });
}

function range(ledger: Ledger, query: unknown, max: number): { start: number; end: number } {
  const q = parseOr422(RangeQuery, query, 'query');
  const size = ledger.log.size;
  if (q.start > size) throw new HttpProblem('OUT_OF_RANGE', `start ${q.start} is beyond the tree size ${size}`);
  if (q.end !== undefined && q.end < q.start) throw new HttpProblem('OUT_OF_RANGE', `end ${q.end} is before start ${q.start}`);
  return { start: q.start, end: Math.min(q.end ?? size, size, q.start + max) };
}

const indexes = (start: number, end: number): number[] => Array.from({ length: end - start }, (_, i) => start + i);

export function exportRouter(ledger: Ledger): Router {
  const r = Router();
  const { sequencer } = ledger;

  r.get('/log/receipts', async (req, res) => {
    const { start, end } = range(ledger, req.query, MAX_RECEIPTS_PAGE);
    const receipts = await sequencer.getReceipts(start, end);
    const missing = receipts.findIndex((x) => x === undefined);
    if (missing >= 0) throw new HttpProblem('RECEIPT_UNAVAILABLE', `no receipt can be produced for index ${start + missing}`);
    res.json({ receipts });
  });

  r.get('/log/records', requireRole('auditor', 'court'), async (req, res) => {
    const { start, end } = range(ledger, req.query, MAX_RECORDS_PAGE);
    const rows = await Promise.all(indexes(start, end).map((i) => sequencer.getRecord(i)));
    const missing = rows.findIndex((x) => x === undefined);
    if (missing >= 0) throw new HttpProblem('RECORD_UNAVAILABLE', `no record is stored for index ${start + missing}`);
    res.json({
      // The subject as the entry names it, and for a pseudonym the link to the invoice key (auditors and courts only).
      records: rows.map((x) => ({
        index: x!.index,
        kind: x!.kind,
        subject: x!.entry.subject,
        ...(x!.subjectSalt !== undefined ? { subjectLink: subjectLink(x!.subject as Hex, x!.subjectSalt) } : {}),
        record: x!.record,
        salt: x!.salt,
        recordDigest: x!.recordDigest,
      })),
    });
  });

  return r;
}
