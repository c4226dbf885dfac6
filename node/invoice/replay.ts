/**
 * Re-checking the invoice lifecycle after the fact (`tianfu audit`).
 *
 * - `replayEntries`: from log entries alone (kind, subject, at; no records, which stay private). The
 *   kinds were chosen so that the rules that matter most are visible here: a second lock or close
 *   (一票多报), anything after a full reversal (`invoice.reversed` is only ever the last reversal),
 *   a reversal without a red-letter form, an expiry before 72 hours, a time going backwards.
 * - `replayRecords`: with the records, by running the very same `apply` the sequencer ran.
 */
import { DomainError, type Actor } from '../domain/types';
import { invoiceRules, KINDS_AFTER_FULL_REVERSAL, RED_FORM_TTL_MS, type InvoiceRules, type InvoiceState } from './lifecycle';

export interface EntryLike {
  kind: string;
  subject: string;
  /** RFC 3339. */
  at: string;
}

export interface Violation {
  /** Position in the input (the log index when the whole log is passed from 0). */
  index: number;
  subject: string;
  kind: string;
  code: string;
  message: string;
}

interface SubjectTrack {
  issued: boolean;
  fullyReversed: boolean;
  reimbursement: 'init' | 'locked' | 'closed';
  use: 'none' | 'use-confirmed' | 'booked';
  formsOpenedAt: number[];
  /** Forms opened minus forms closed (rejected, withdrawn, expired, used); never negative. */
  openForms: number;
}

export function replayEntries(entries: readonly EntryLike[], opts: { redFormTtlMs?: number } = {}): Violation[] {
  const ttl = opts.redFormTtlMs ?? RED_FORM_TTL_MS;
  const out: Violation[] = [];
  const subjects = new Map<string, SubjectTrack>();
  let lastAt = -Infinity;
  entries.forEach((e, index) => {
    const v = (code: string, message: string) => out.push({ index, subject: e.subject, kind: e.kind, code, message });
    const at = Date.parse(e.at);
    if (Number.isNaN(at)) v('AT_INVALID', `at ${JSON.stringify(e.at)} is not a time`);
    else {
      // The sequencer stamps acceptance times in log order; a step back means a back-dated entry.
      if (at < lastAt) v('AT_DECREASED', `at ${e.at} is earlier than the previous entry's`);
      lastAt = Math.max(lastAt, at);
    }
    if (!e.kind.startsWith('invoice.')) return;
    const t = subjects.get(e.subject);
    if (e.kind === 'invoice.issued') {
      if (t) v('DUPLICATE_ISSUE', 'a second invoice.issued for one key (one key, one issue, forever)');
      else subjects.set(e.subject, { issued: true, fullyReversed: false, reimbursement: 'init', use: 'none', formsOpenedAt: [], openForms: 0 });
      return;
    }
    if (!t) {
      v('BEFORE_ISSUE', `${e.kind} for a subject with no earlier invoice.issued`);
      return;
    }
    if (t.fullyReversed && !KINDS_AFTER_FULL_REVERSAL.includes(e.kind)) {
      v('AFTER_FULL_REVERSAL', `${e.kind} after the invoice was fully reversed`);
      return;
    }
    switch (e.kind) {
      case 'invoice.reimbursement-locked':
        if (t.reimbursement === 'locked') v('DOUBLE_LOCK', 'locked for reimbursement while already locked');
        else if (t.reimbursement === 'closed') v('LOCK_AFTER_CLOSE', 'locked after it was reimbursed');
        else t.reimbursement = 'locked';
        break;
      case 'invoice.reimbursement-unlocked':
        if (t.reimbursement !== 'locked') v('UNLOCK_WITHOUT_LOCK', `unlocked while ${t.reimbursement}`);
        else t.reimbursement = 'init';
        break;
      case 'invoice.reimbursement-closed':
        if (t.reimbursement === 'closed') v('DOUBLE_CLOSE', 'reimbursed (closed) twice');
        else if (t.reimbursement !== 'locked') v('CLOSE_WITHOUT_LOCK', 'closed without a lock');
        else t.reimbursement = 'closed';
        break;
      case 'invoice.use-confirmed':
        if (t.use !== 'none') v('USE_TWICE', `use confirmed while ${t.use}`);
        else t.use = 'use-confirmed';
        break;
      case 'invoice.booked':
        if (t.use === 'booked') v('BOOKED_TWICE', 'booked twice');
        else t.use = 'booked';
        break;
      case 'invoice.red-form-opened':
        t.formsOpenedAt.push(at);
        t.openForms++;
        break;
      case 'invoice.red-form-confirmed':
        if (t.openForms === 0) v('FORM_EVENT_WITHOUT_FORM', 'a red-letter form confirmed while none is open');
        break;
      case 'invoice.red-form-expired':
        if (!t.formsOpenedAt.some((o) => at - o > ttl)) v('EXPIRY_TOO_EARLY', 'a red-letter form expired before any open form was 72 hours old');
      // falls through: an expiry also closes a form
      case 'invoice.red-form-rejected':
      case 'invoice.red-form-withdrawn':
        if (t.openForms === 0) v('FORM_EVENT_WITHOUT_FORM', `${e.kind} while no red-letter form is open`);
        else t.openForms--;
        break;
      case 'invoice.partially-reversed':
      case 'invoice.reversed':
        if (t.openForms === 0) v('REVERSAL_WITHOUT_FORM', 'a red invoice without an open red-letter form');
        else t.openForms--;
        if (e.kind === 'invoice.reversed') t.fullyReversed = true;
        break;
      case 'invoice.conflict-refused':
        break;
      default:
        v('UNKNOWN_KIND', `${e.kind} is not an invoice entry kind`);
    }
  });
  return out;
}

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
