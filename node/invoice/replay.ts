/**
 * Re-checking the invoice lifecycle after the fact (`tianfu audit`).
 *
 * - `replayEntries` (node/invoice/history.ts, re-exported here): from log entries alone.
 * - `replayRecords`: with the records, by running the very same `apply` the sequencer ran.
 */
import { DomainError, type Actor } from '../domain/types';
import { invoiceRules, type InvoiceRules, type InvoiceState } from './lifecycle';
import type { EntryLike, Violation } from './history';

export { replayEntries, type EntryLike, type Violation } from './history';

export interface RecordItem extends EntryLike {
  record: Record<string, unknown>;
  /** Null or absent in an audit: the records name their parties and those are checked. */
  actor?: Actor | null;
}

/**
 * Replays full records through `apply`. A refused transition is a violation (it should never have
 * been appended); the state then stays as it was, as at append time. Also checks the one link that
 * spans two subjects: a red invoice's own `invoice.issued` follows the reversal on its blue invoice.
 */
export function replayRecords(items: readonly RecordItem[], rules: InvoiceRules = invoiceRules): { violations: Violation[]; states: Map<string, InvoiceState> } {
  const states = new Map<string, InvoiceState>();
  const violations: Violation[] = [];
  items.forEach((item, index) => {
    if (!item.kind.startsWith('invoice.')) return;
    try {
      const next = rules.apply({ kind: item.kind, subject: item.subject, record: item.record, state: states.get(item.subject), at: new Date(item.at), actor: item.actor ?? null });
      if (next.colour === 'RED' && item.kind === 'invoice.issued') {
        const parent = next.parentKey === undefined ? undefined : states.get(next.parentKey);
        if (!parent || !parent.reversals.some((r) => r.redInvoiceKey === next.invoiceKey)) {
          throw new DomainError('RED_WITHOUT_REVERSAL', `red invoice ${next.invoiceKey} was issued without a reversal entry on ${next.parentKey}`);
        }
      }
      states.set(item.subject, next);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      violations.push({ index, subject: item.subject, kind: item.kind, code: err.code, message: err.message });
    }
  });
  return { violations, states };
}
