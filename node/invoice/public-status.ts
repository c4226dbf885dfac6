/**
 * The public invoice check (like inv-veri.chinatax.gov.cn for 数电票, docs/invoice.md "Public check"): anyone holding an
 * invoice confirms it by number + issue date + tax-inclusive total, and learns its status only.
 */
import type { Hex } from '../protocol';
import type { InvoiceState, InvoiceStatus } from './lifecycle';

export interface PublicStatus {
  invoiceKey: Hex;
  colour: 'BLUE' | 'RED';
  status: InvoiceStatus;
  /** Ledger acceptance time of the invoice and of its latest lifecycle entry (where to look for anchors). */
  registeredAt: string;
  updatedAt: string;
}

/**
 * Only status and anchoring-relevant fields: no names, tax ids, amounts, reimbursement or use state.
 * (The key is already public as the log entries' subject.)
 */
export function publicStatus(state: InvoiceState): PublicStatus {
  return { invoiceKey: state.invoiceKey, colour: state.colour, status: state.status, registeredAt: state.registeredAt, updatedAt: state.updatedAt };
}

export interface PublicQuery {
  number: string;
  /** Issue date YYYY-MM-DD as printed (+08:00). */
  date: string;
  /** totalWithTaxFen (价税合计, integer fen). */
  total: number;
}

/** Parses the query string; null when malformed (answer 400, or the same not-found shape). */
export function parsePublicQuery(q: { number?: unknown; date?: unknown; total?: unknown }): PublicQuery | null {
  if (typeof q.number !== 'string' || !/^\d{20}$/.test(q.number)) return null;
  if (typeof q.date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(q.date)) return null;
  if (typeof q.total !== 'string' && typeof q.total !== 'number') return null;
  const t = String(q.total);
  if (!/^-?\d{1,16}$/.test(t)) return null;
  const total = Number(t);
  return Number.isSafeInteger(total) ? { number: q.number, date: q.date, total } : null;
}

/** All three must match exactly; any mismatch answers exactly like "not found" (no oracle on single fields). */
export function matchesPublicQuery(state: InvoiceState, q: PublicQuery): boolean {
  return state.invoiceNumber === q.number && state.issueDate === q.date && state.totalWithTaxFen === q.total;
}

export type PublicCheckAnswer = { found: true; invoice: PublicStatus } | { found: false };

/** The one answer for a query over the states the route found by number (any key). */
export function publicCheck(candidates: readonly InvoiceState[], q: PublicQuery): PublicCheckAnswer {
  const hit = candidates.find((s) => matchesPublicQuery(s, q));
  return hit ? { found: true, invoice: publicStatus(hit) } : { found: false };
}
