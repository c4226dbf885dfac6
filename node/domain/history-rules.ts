/**
 * The domains' entry-level lifecycle rules as one HistoryRules function, replayed by the verifier over
 * a bundle's history. Shared by `tianfu verify`, the API and the browser page: pure, no I/O.
 */
import type { HistoryRules } from '../protocol/verify';
import { replayEntries as replayInvoiceEntries } from '../invoice/replay';
import { replayEntries as replayEvidenceEntries } from '../evidence/custody';

export const domainHistoryRules: HistoryRules = (kind, items) => {
  if (kind === 'invoice') return replayInvoiceEntries(items.map((it) => it.entry)).map((v) => ({ index: v.index, code: v.code, message: v.message }));
  if (kind === 'evidence') return replayEvidenceEntries(items.map((it, i) => ({ index: i, entry: it.entry }))).map((v) => ({ index: v.index, code: v.code, message: v.message }));
  return [];
};
