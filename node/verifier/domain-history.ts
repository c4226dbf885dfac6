/**
 * The domains' entry-level lifecycle rules as one HistoryRules function, replayed by the verifier over
 * a bundle's history (the custody-rules step). Shared by `tianfu verify`, the API and the browser
 * page: pure, no I/O; it uses only the domains' history modules, not their services or schemas.
 */
import type { HistoryRules } from './types';
import { replayEntries as replayInvoiceEntries } from '../invoice/history';
import { replayEntries as replayEvidenceEntries } from '../evidence/history';

export const domainHistoryRules: HistoryRules = (kind, items) => {
  if (kind === 'invoice') return replayInvoiceEntries(items.map((it) => it.entry)).map((v) => ({ index: v.index, code: v.code, message: v.message }));
  if (kind === 'evidence') return replayEvidenceEntries(items.map((it, i) => ({ index: i, entry: it.entry }))).map((v) => ({ index: v.index, code: v.code, message: v.message }));
  return [];
};
