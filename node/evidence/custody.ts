/**
 * Evidence lifecycle rules (DomainRules, node/domain/types.ts): the deposit and its custody events.
 *
 * Entry kinds: `evidence.deposited`, and one kind per custody event, `evidence.custody.<event>`
 * (transferred, sealed, exported, annotated, withdrawn, accessed, erased). The event name is in the
 * public entry's kind — not only inside the private record — so that an auditor holding nothing but
 * the public log can re-check the ordering rules (`replayEntries`); the event name reveals no
 * personal or commercial data, only that "some evidence was sealed/read at time T".
 *
 * Rules (docs/evidence.md has the table):
 *  - a deposit comes first, once, from a collector, for its own key;
 *  - nothing after `withdrawn` except `annotated` by a court, and the admin's `erased`
 *    (erasure is a legal duty that withdrawal must not block);
 *  - nothing after `erased` except `annotated` by a court;
 *  - a sealed item can only be read by a court; while sealed only a court acts on it, except that the
 *    depositing collector may still annotate;
 *  - `accessed` is written by the node only (actor null), for a reader that `canRead`;
 *  - `erased` by an admin only.
 */
import type { Hex } from '../protocol/bytes';
import type { LogEntry } from '../protocol/record';
import { DomainError, type Actor, type DomainRules, type TransitionContext } from '../domain/types';
import {
  CUSTODY_EVENTS,
  CUSTODY_KIND_PREFIX,
  DEPOSIT_KIND,
  EVIDENCE_KINDS,
  EvidenceCustodyRecordSchema,
  EvidenceDepositRecordSchema,
  LIMITS,
  claimDigest,
  custodyKind,
  type ActorRef,
  type CustodyEvent,
  type FileDigests,
} from './model';
import { recoverCollectorAddress } from './signature';

export { EvidenceEntryReplayer, replayEntries, type EntryViolation, type EntryViolationCode } from './history';
import { CAPTURE_FAILED_KIND, CAPTURE_ID_RE } from './history';

export interface EvidenceState {
  evidenceId: string;
  /** The depositing collector's key. */
  collector: ActorRef;
  depositedAt: string;
  file: FileDigests;
  sealed: boolean;
  withdrawn: boolean;
  erased: boolean;
  /** How many custody events of each kind were accepted after the deposit. */
  counts: Record<CustodyEvent, number>;
  /** Acceptance time of the latest accepted record. */
  lastAt: string;
}

export type EvidenceRuleCode =
  | 'EVIDENCE_INVALID_RECORD'
  | 'EVIDENCE_ALREADY_DEPOSITED'
  | 'EVIDENCE_NOT_FOUND'
  | 'EVIDENCE_FORBIDDEN'
  | 'EVIDENCE_ACTOR_MISMATCH'
  | 'EVIDENCE_NODE_ONLY_EVENT'
  | 'EVIDENCE_SEALED'
  | 'EVIDENCE_ALREADY_SEALED'
  | 'EVIDENCE_WITHDRAWN'
  | 'EVIDENCE_ERASED'
  | 'EVIDENCE_CAPTURED_AFTER_DEPOSIT'
  | 'EVIDENCE_DIGEST_MISMATCH'
  | 'EVIDENCE_SIGNATURE_INVALID'
  | 'EVIDENCE_TIME_REVERSED';

function refuse(code: EvidenceRuleCode, message: string, details: Record<string, unknown> = {}): never {
  throw new DomainError(code, message, details);
}

export function isDepositor(state: EvidenceState, who: { keyId: string; role: string }): boolean {
  return who.role === 'collector' && who.keyId === state.collector.keyId;
}

/**
 * Why `reader` may not read the content, or null when it may. Order matters: erased and withdrawn
 * are facts about the item (410-like), sealing and ownership are about the reader (403-like).
 */
export function readRefusal(state: EvidenceState, reader: { keyId: string; role: string }): DomainError | null {
  if (state.erased) return new DomainError('EVIDENCE_ERASED', `evidence ${state.evidenceId} content was erased`, { evidenceId: state.evidenceId });
  if (state.withdrawn) return new DomainError('EVIDENCE_WITHDRAWN', `evidence ${state.evidenceId} was withdrawn; its content is no longer served`, { evidenceId: state.evidenceId });
  if (reader.role === 'court') return null;
  if (isDepositor(state, reader)) {
    return state.sealed ? new DomainError('EVIDENCE_SEALED', `evidence ${state.evidenceId} is sealed: only a court may read it`, { evidenceId: state.evidenceId }) : null;
  }
  return new DomainError('EVIDENCE_FORBIDDEN', `a ${reader.role} key that did not deposit evidence ${state.evidenceId} may not read its content`, { evidenceId: state.evidenceId, role: reader.role });
}

/** Whether `reader` may read the evidence content now (court; the depositing collector unless sealed). */
export function canRead(state: EvidenceState, reader: { keyId: string; role: string }): boolean {
  return readRefusal(state, reader) === null;
}

/** Throws the DomainError of `readRefusal`; the API calls this before appending `accessed`. */
export function assertCanRead(state: EvidenceState, reader: { keyId: string; role: string }): void {
  const why = readRefusal(state, reader);
  if (why) throw why;
}

/** Who may see metadata, digests and custody history (not content): court, auditor, admin, the depositor. */
export function canView(state: EvidenceState, viewer: { keyId: string; role: string }): boolean {
  return viewer.role === 'court' || viewer.role === 'auditor' || viewer.role === 'admin' || isDepositor(state, viewer);
}

/** Which roles may post which client event, given the item's state. Returns a refusal or null. */
function eventRefusal(state: EvidenceState, event: CustodyEvent, actor: Actor): DomainError | null {
  const court = actor.role === 'court';
  const depositor = isDepositor(state, actor);
  const id = state.evidenceId;
  const forbid = (why: string): DomainError => new DomainError('EVIDENCE_FORBIDDEN', `${actor.role} key ${actor.keyId} may not add '${event}' to evidence ${id}: ${why}`, { evidenceId: id, event, role: actor.role });

  if (state.erased && !(event === 'annotated' && court)) {
    return new DomainError('EVIDENCE_ERASED', `evidence ${id} was erased: only a court may still annotate it (got '${event}' from a ${actor.role})`, { evidenceId: id, event });
  }
  if (state.withdrawn && !(event === 'annotated' && court) && event !== 'erased') {
    return new DomainError('EVIDENCE_WITHDRAWN', `evidence ${id} was withdrawn: only a court may still annotate it (got '${event}' from a ${actor.role})`, { evidenceId: id, event });
  }
  switch (event) {
    case 'erased':
      return actor.role === 'admin' ? null : forbid('only an admin erases content');
    case 'sealed':
      if (!court) return forbid('only a court seals evidence');
      return state.sealed ? new DomainError('EVIDENCE_ALREADY_SEALED', `evidence ${id} is already sealed`, { evidenceId: id }) : null;
    case 'annotated':
      return court || depositor ? null : forbid('only the depositing collector or a court annotates');
    case 'transferred':
    case 'exported':
    case 'withdrawn':
      if (court) return null;
      if (!depositor) return forbid('only the depositing collector or a court');
      return state.sealed ? new DomainError('EVIDENCE_SEALED', `evidence ${id} is sealed: only a court may add '${event}'`, { evidenceId: id, event }) : null;
    case 'accessed':
      return new DomainError('EVIDENCE_NODE_ONLY_EVENT', "'accessed' is written by the node when content is read, never by a client", { event });
  }
}

function sameActor(ref: ActorRef, actor: Actor): boolean {
  return ref.keyId === actor.keyId && ref.role === actor.role;
}

function parseRecord<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }, record: unknown, what: string): T {
  const r = schema.safeParse(record);
  if (!r.success) {
    const first = r.error.issues[0];
    const where = first && first.path.length > 0 ? ` at ${first.path.map(String).join('.')}` : '';
    refuse('EVIDENCE_INVALID_RECORD', `invalid ${what}${where}: ${first?.message ?? 'malformed'}`, { path: (first?.path ?? []).map(String) });
  }
  return r.data;
}

function applyDeposit(ctx: TransitionContext<EvidenceState>): EvidenceState {
  const { subject, actor } = ctx;
  if (ctx.state !== undefined) refuse('EVIDENCE_ALREADY_DEPOSITED', `evidence ${subject} was already deposited at ${ctx.state.depositedAt}`, { evidenceId: subject });
  if (actor === null || actor.role !== 'collector') refuse('EVIDENCE_FORBIDDEN', `only a collector deposits evidence (got ${actor === null ? 'the node' : `a ${actor.role} key`})`, { role: actor?.role ?? null });
  const record = parseRecord(EvidenceDepositRecordSchema, ctx.record, 'evidence deposit record');
  if (record.evidenceId !== subject) refuse('EVIDENCE_INVALID_RECORD', `record evidenceId ${record.evidenceId} is not the entry subject ${subject}`, { path: ['evidenceId'] });
  if (!sameActor(record.collector, actor)) refuse('EVIDENCE_ACTOR_MISMATCH', `record names collector key ${record.collector.keyId}, but key ${actor.keyId} submitted it`, { path: ['collector'] });

  // A capture cannot postdate its deposit; a small allowance covers clock skew between the capture
  // machine and the node (a device clock is only a claim).
  const captured = Date.parse(record.metadata.capturedAt);
  if (captured > ctx.at.getTime() + LIMITS.captureSkewMs) {
    refuse('EVIDENCE_CAPTURED_AFTER_DEPOSIT', `capturedAt ${record.metadata.capturedAt} is after the deposit time ${ctx.at.toISOString()}`, { path: ['metadata', 'capturedAt'] });
  }
  for (const alg of ['sha256', 'sm3'] as const) {
    const declared = record.metadata[alg];
    if (declared !== undefined && declared !== record.file[alg]) {
      refuse('EVIDENCE_DIGEST_MISMATCH', `declared ${alg} ${declared} is not the stored file's ${record.file[alg]}`, { path: ['metadata', alg], algorithm: alg, expected: declared, calculated: record.file[alg] });
    }
  }
  if (record.capture !== undefined && record.metadata.method !== 'web-page') {
    refuse('EVIDENCE_INVALID_RECORD', `a deposit of the node's capture has method 'web-page', not '${record.metadata.method}'`, { path: ['metadata', 'method'] });
  }
  if (record.collectorSignature !== undefined) {
    // Re-checked here (not only at the API) so that `tianfu audit`, replaying records, verifies every
    // signature a deposit claims. That the address is registered to the collector is the API's check.
    const sig = record.collectorSignature;
    const digest = claimDigest(record.metadata);
    if (sig.digest !== digest) refuse('EVIDENCE_SIGNATURE_INVALID', `collectorSignature.digest ${sig.digest} is not the claim digest ${digest}`, { path: ['collectorSignature', 'digest'], expected: digest, calculated: sig.digest });
    const recovered = recoverCollectorAddress(digest, sig.signature as Hex);
    if (recovered !== sig.address) refuse('EVIDENCE_SIGNATURE_INVALID', `collector signature recovers to ${recovered}, not ${sig.address}`, { path: ['collectorSignature'], expected: sig.address, calculated: recovered });
  }
  const at = ctx.at.toISOString();
  const counts = Object.fromEntries(CUSTODY_EVENTS.map((e) => [e, 0])) as Record<CustodyEvent, number>;
  return { evidenceId: subject, collector: record.collector, depositedAt: at, file: record.file, sealed: false, withdrawn: false, erased: false, counts, lastAt: at };
}

function applyCustody(ctx: TransitionContext<EvidenceState>): EvidenceState {
  const { subject, actor, state } = ctx;
  if (state === undefined) refuse('EVIDENCE_NOT_FOUND', `no evidence ${subject} was deposited`, { evidenceId: subject });
  const record = parseRecord(EvidenceCustodyRecordSchema, ctx.record, 'custody record');
  if (record.evidenceId !== subject) refuse('EVIDENCE_INVALID_RECORD', `record evidenceId ${record.evidenceId} is not the entry subject ${subject}`, { path: ['evidenceId'] });
  const kindEvent = ctx.kind.slice(CUSTODY_KIND_PREFIX.length);
  if (record.event !== kindEvent) refuse('EVIDENCE_INVALID_RECORD', `record event '${record.event}' does not match entry kind ${ctx.kind}`, { path: ['event'] });
  if (ctx.at.toISOString() < state.lastAt) refuse('EVIDENCE_TIME_REVERSED', `acceptance time ${ctx.at.toISOString()} is before the previous record's ${state.lastAt}`, { evidenceId: subject });

  if (record.event === 'accessed') {
    if (actor !== null) refuse('EVIDENCE_NODE_ONLY_EVENT', `'accessed' is written by the node when content is read, never by a client (got a ${actor.role} key)`, { event: 'accessed' });
    // The reader is in the record; replaying this rule proves no one read content they could not.
    assertCanRead(state, record.by);
  } else {
    if (actor === null) refuse('EVIDENCE_FORBIDDEN', `'${record.event}' needs an acting key; only 'accessed' is node-written`, { event: record.event });
    if (!sameActor(record.by, actor)) refuse('EVIDENCE_ACTOR_MISMATCH', `record names key ${record.by.keyId} (${record.by.role}), but key ${actor.keyId} (${actor.role}) submitted it`, { path: ['by'] });
    const why = eventRefusal(state, record.event, actor);
    if (why) throw why;
  }
  const next: EvidenceState = { ...state, counts: { ...state.counts, [record.event]: state.counts[record.event] + 1 }, lastAt: ctx.at.toISOString() };
  if (record.event === 'sealed') next.sealed = true;
  if (record.event === 'withdrawn') next.withdrawn = true;
  if (record.event === 'erased') next.erased = true;
  return next;
}

export const evidenceRules: DomainRules<EvidenceState> = {
  kinds: EVIDENCE_KINDS,
  apply(ctx) {
    if (ctx.kind === DEPOSIT_KIND) return applyDeposit(ctx);
    if (ctx.kind.startsWith(CUSTODY_KIND_PREFIX) && EVIDENCE_KINDS.includes(ctx.kind)) return applyCustody(ctx);
    throw new DomainError('EVIDENCE_INVALID_RECORD', `kind ${ctx.kind} is not an evidence kind (${EVIDENCE_KINDS.join(', ')})`, { kind: ctx.kind });
  },
};

// ---- failed capture attempts (docs/capture.md) ----

export const CAPTURE_FAILED_RECORD_TYPE = 'tianfu.evidence.capture-failed/v1' as const;

/** One capture job's failed attempts (subject: the capture id). */
export interface CaptureState {
  captureId: string;
  collector: ActorRef;
  attempts: number[];
  lastAt: string;
}

function isActorRef(v: unknown): v is ActorRef {
  const r = v as ActorRef;
  return typeof r === 'object' && r !== null && typeof r.keyId === 'string' && typeof r.role === 'string';
}

/**
 * `evidence.capture-failed`: written by the node only (actor null), for a collector's capture job,
 * one entry per failed attempt, attempts increasing, always the same collector for one capture id.
 * The record holds the URL, the reason and a message, never page content.
 */
export const captureRules: DomainRules<CaptureState> = {
  kinds: [CAPTURE_FAILED_KIND],
  apply(ctx) {
    const { subject, record, state, actor } = ctx;
    if (actor !== null) refuse('EVIDENCE_NODE_ONLY_EVENT', `'capture-failed' is written by the node for its own capture jobs, never by a client (got a ${actor.role} key)`, { event: 'capture-failed' });
    if (!CAPTURE_ID_RE.test(subject)) refuse('EVIDENCE_INVALID_RECORD', `subject ${JSON.stringify(subject)} is not a capture id (cap_ + 32 hex)`, { path: ['captureId'] });
    const r = record as { type?: unknown; captureId?: unknown; attempt?: unknown; collector?: unknown; url?: unknown; reason?: unknown; message?: unknown };
    if (r.type !== CAPTURE_FAILED_RECORD_TYPE || r.captureId !== subject || !Number.isSafeInteger(r.attempt) || (r.attempt as number) < 1 || !isActorRef(r.collector) || r.collector.role !== 'collector' || typeof r.url !== 'string' || typeof r.reason !== 'string' || typeof r.message !== 'string') {
      refuse('EVIDENCE_INVALID_RECORD', `invalid capture-failed record for ${subject}`, { path: [] });
    }
    const collector = r.collector as ActorRef;
    const attempt = r.attempt as number;
    if (state && (state.collector.keyId !== collector.keyId || attempt <= state.attempts[state.attempts.length - 1]!)) {
      refuse('EVIDENCE_INVALID_RECORD', `capture ${subject}: attempt ${attempt} by key ${collector.keyId} does not follow attempt ${state.attempts.at(-1)} by key ${state.collector.keyId}`, { path: ['attempt'] });
    }
    return { captureId: subject, collector, attempts: [...(state?.attempts ?? []), attempt], lastAt: ctx.at.toISOString() };
  },
};

// ---- record-level replay, for auditors holding an export (records and salts) ----

export interface RecordViolation {
  index: number;
  subject: string;
  kind: string;
  at: string;
  /** A DomainError code of the rules (EVIDENCE_FORBIDDEN, EVIDENCE_SEALED, …). */
  code: string;
  message: string;
}

export interface RecordReplayItem {
  index: number;
  entry: LogEntry;
  /** The record; null when it was erased (crypto-shredding) or is not held by this auditor. */
  record: Record<string, unknown> | null;
}

export interface RecordReplayResult {
  violations: RecordViolation[];
  /** Subjects whose deposit record is absent (erased): only the entry-level rules were checked for them. */
  unchecked: string[];
}

/** Who acted, as the record states it; the node bound that to the submitting key at append time. */
function actorOf(kind: string, record: Record<string, unknown>): Actor | null {
  if (kind === custodyKind('accessed')) return null;
  const ref = (kind === DEPOSIT_KIND ? record.collector : record.by) as ActorRef | undefined;
  if (!ref || typeof ref !== 'object') return null;
  const actor: Actor = { keyId: ref.keyId, role: ref.role };
  if (ref.name !== undefined) actor.name = ref.name;
  return actor;
}

/**
 * Replays `evidenceRules.apply` over records in log order (what `tianfu audit` does with an export),
 * so roles, readers of sealed items and collector signatures are re-checked, not only the order of
 * kinds. A refused record is reported and skipped (the state stays as before it), as the node would
 * have refused it. For a subject whose deposit record was erased only `replayEntries` can speak.
 */
export function replayRecords(items: Iterable<RecordReplayItem>): RecordReplayResult {
  const states = new Map<string, EvidenceState>();
  const captureStates = new Map<string, CaptureState>();
  const unchecked = new Set<string>();
  const violations: RecordViolation[] = [];
  for (const { index, entry, record } of items) {
    const { kind, subject, at } = entry;
    if (!kind.startsWith('evidence.')) continue;
    if (kind === CAPTURE_FAILED_KIND) {
      if (record === null) continue;
      try {
        captureStates.set(subject, captureRules.apply({ kind, subject, record, state: captureStates.get(subject), at: new Date(at), actor: null }));
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        violations.push({ index, subject, kind, at, code: err.code, message: err.message });
      }
      continue;
    }
    if (unchecked.has(subject)) continue;
    if (record === null) {
      if (kind === DEPOSIT_KIND && !states.has(subject)) unchecked.add(subject);
      else {
        // A shredded custody record: keep the state's flags in step with the kind, check nothing.
        const s = states.get(subject);
        if (s) {
          const event = kind.slice(CUSTODY_KIND_PREFIX.length);
          if (event === 'sealed') s.sealed = true;
          if (event === 'withdrawn') s.withdrawn = true;
          if (event === 'erased') s.erased = true;
          if (at > s.lastAt) s.lastAt = at;
        }
      }
      continue;
    }
    try {
      const next = evidenceRules.apply({ kind, subject, record, state: states.get(subject), at: new Date(at), actor: actorOf(kind, record) });
      states.set(subject, next);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      violations.push({ index, subject, kind, at, code: err.code, message: err.message });
    }
  }
  return { violations, unchecked: [...unchecked] };
}
