/**
 * The invoice history as the public log shows it (entry kinds and the entry-level replay), pure and
 * browser-safe: it imports only node/protocol, so the verifier, the CLI and the browser page can use
 * it without the domain's schemas, services or Node's crypto.
 *
 * `replayEntries` re-checks the lifecycle from log entries alone (kind, subject, at; no records, which
 * stay private). The kinds were chosen so that the rules that matter most are visible here: a second
 * lock or close (一票多报), anything after a full reversal (`invoice.reversed` is only ever the last
 * reversal), a reversal without a red-letter form, an expiry before 72 hours, a time going backwards.
 */

export const INVOICE_KINDS_ISSUED = 'invoice.issued';
export const INVOICE_ENTRY_KINDS = [
  'invoice.issued',
  'invoice.conflict-refused',
  'invoice.reimbursement-locked',
  'invoice.reimbursement-unlocked',
  'invoice.reimbursement-closed',
  'invoice.use-confirmed',
  'invoice.booked',
  'invoice.red-form-opened',
  'invoice.red-form-confirmed',
  'invoice.red-form-rejected',
  'invoice.red-form-withdrawn',
  'invoice.red-form-expired',
  'invoice.partially-reversed',
  'invoice.reversed',
] as const;
export type InvoiceEntryKind = (typeof INVOICE_ENTRY_KINDS)[number];

/** The only kinds a fully reversed invoice still accepts: an audit note, and releasing a stale lock. */
export const KINDS_AFTER_FULL_REVERSAL: readonly string[] = ['invoice.conflict-refused', 'invoice.reimbursement-unlocked'];

export const RED_FORM_TTL_MS = 72 * 3_600_000;

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
