/**
 * The evidence history as the public log shows it: entry kinds, the evidence id pattern and the
 * entry-level replay. Pure and browser-safe: it imports only node/protocol, so the verifier, the CLI
 * and the browser page use it without the domain's schemas (zod), services or Node's crypto.
 *
 * Entry kinds: `evidence.deposited`, and one kind per custody event, `evidence.custody.<event>`
 * (transferred, sealed, exported, annotated, withdrawn, accessed, erased).
 */
import type { LogEntry } from '../protocol/record';

/** Events an API client may post. */
export const CLIENT_CUSTODY_EVENTS = ['transferred', 'sealed', 'exported', 'annotated', 'withdrawn'] as const;
/** `accessed` is written by the node on every content read; `erased` by an admin's erasure. */
export const CUSTODY_EVENTS = [...CLIENT_CUSTODY_EVENTS, 'accessed', 'erased'] as const;
export type ClientCustodyEvent = (typeof CLIENT_CUSTODY_EVENTS)[number];
export type CustodyEvent = (typeof CUSTODY_EVENTS)[number];

/**
 * Evidence id: `ev_` + 32 lowercase hex characters (128 random bits).
 * Random, not derived from the content: the id is the `subject` of public log entries, and an id
 * computed from the file's hash would let anyone holding a candidate file test whether it was
 * deposited (the dictionary attack that salted commitments exist to stop). It also makes two deposits
 * of the same file two pieces of evidence, each with its own collector, capture and custody history.
 */
export const EVIDENCE_ID_RE = /^ev_[0-9a-f]{32}$/;

export function isEvidenceId(value: unknown): value is string {
  return typeof value === 'string' && EVIDENCE_ID_RE.test(value);
}

/** Log entry kind for each record (see docs/evidence.md, "Entry kinds"). */
export const DEPOSIT_KIND = 'evidence.deposited' as const;
export const CUSTODY_KIND_PREFIX = 'evidence.custody.' as const;
export function custodyKind(event: CustodyEvent): string {
  return CUSTODY_KIND_PREFIX + event;
}
export const EVIDENCE_KINDS: readonly string[] = [DEPOSIT_KIND, ...CUSTODY_EVENTS.map(custodyKind)];

/**
 * A capture attempt of the node's that produced no deposit (docs/capture.md): its subject is the
 * capture id, not an evidence id, and it belongs to no evidence item's history. Logged so that an
 * auditor sees every attempt, not only the one that was deposited.
 */
export const CAPTURE_FAILED_KIND = 'evidence.capture-failed' as const;
/** Capture id: `cap_` + 32 lowercase hex (random). */
export const CAPTURE_ID_RE = /^cap_[0-9a-f]{32}$/;

// ---- entry-level replay, for auditors with only the public log ----

export type EntryViolationCode =
  | 'BAD_SUBJECT'
  | 'UNKNOWN_KIND'
  | 'DUPLICATE_DEPOSIT'
  | 'CUSTODY_BEFORE_DEPOSIT'
  | 'EVENT_AFTER_WITHDRAWN'
  | 'EVENT_AFTER_ERASED'
  | 'DUPLICATE_SEAL'
  | 'TIME_REVERSED';

export interface EntryViolation {
  index: number;
  subject: string;
  kind: string;
  at: string;
  code: EntryViolationCode;
  message: string;
}

interface EntryState {
  sealed: boolean;
  withdrawn: boolean;
  erased: boolean;
  lastAt: string;
}

/**
 * What can be checked from public entries alone (kind, subject, time) — no records, so no roles:
 * deposit first and once, nothing after withdrawal but annotations (and erasure), nothing after
 * erasure but annotations, one seal, non-decreasing times per subject. Feed entries in log order;
 * state per subject is four fields, so a whole log replays in little memory. Roles, readers and
 * signatures need the records: replay `evidenceRules.apply` over an export for those.
 */
export class EvidenceEntryReplayer {
  readonly violations: EntryViolation[] = [];
  private readonly subjects = new Map<string, EntryState>();

  push(index: number, entry: LogEntry): void {
    const { kind, subject, at } = entry;
    if (!kind.startsWith('evidence.')) return; // other domains' entries
    if (kind === CAPTURE_FAILED_KIND) {
      if (!CAPTURE_ID_RE.test(subject)) this.violations.push({ index, subject, kind, at, code: 'BAD_SUBJECT', message: `subject ${JSON.stringify(subject)} is not a capture id` });
      return;
    }
    const flag = (code: EntryViolationCode, message: string): void => {
      this.violations.push({ index, subject, kind, at, code, message });
    };
    if (!EVIDENCE_KINDS.includes(kind)) return flag('UNKNOWN_KIND', `unknown evidence kind ${kind}`);
    if (!isEvidenceId(subject)) return flag('BAD_SUBJECT', `subject ${JSON.stringify(subject)} is not an evidence id`);
    const s = this.subjects.get(subject);
    if (kind === DEPOSIT_KIND) {
      if (s) return flag('DUPLICATE_DEPOSIT', `evidence ${subject} deposited again (first deposit's last record at ${s.lastAt})`);
      this.subjects.set(subject, { sealed: false, withdrawn: false, erased: false, lastAt: at });
      return;
    }
    if (!s) return flag('CUSTODY_BEFORE_DEPOSIT', `custody event for evidence ${subject} before any deposit`);
    const event = kind.slice(CUSTODY_KIND_PREFIX.length) as CustodyEvent;
    if (at < s.lastAt) flag('TIME_REVERSED', `at ${at} is before the subject's previous record at ${s.lastAt}`);
    if (s.erased && event !== 'annotated') flag('EVENT_AFTER_ERASED', `'${event}' after the content was erased`);
    else if (s.withdrawn && event !== 'annotated' && event !== 'erased') flag('EVENT_AFTER_WITHDRAWN', `'${event}' after the evidence was withdrawn`);
    if (event === 'sealed' && s.sealed) flag('DUPLICATE_SEAL', `evidence ${subject} sealed twice`);
    if (event === 'sealed') s.sealed = true;
    if (event === 'withdrawn') s.withdrawn = true;
    if (event === 'erased') s.erased = true;
    if (at > s.lastAt) s.lastAt = at;
  }
}

/** Replays entries in log order; `index` is the entry's log index (array position when plain entries are given). */
export function replayEntries(entries: Iterable<LogEntry | { index: number; entry: LogEntry }>): EntryViolation[] {
  const r = new EvidenceEntryReplayer();
  let i = 0;
  for (const e of entries) {
    if ('entry' in e) r.push(e.index, e.entry);
    else r.push(i, e);
    i++;
  }
  return r.violations;
}
