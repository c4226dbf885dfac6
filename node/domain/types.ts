/**
 * The contract between the sequencer and the domains (invoice, evidence). A domain's rules are a
 * pure reducer over one subject's history: the sequencer applies them one submission at a time per
 * subject (never two racing submissions against the same state), at append time; `tianfu audit`
 * replays the very same reducer over the log to re-check that the rules always held.
 */
import type { Hex } from '../protocol/bytes';

export type Role = 'admin' | 'issuer' | 'buyer' | 'collector' | 'court' | 'auditor';

/** Who submitted a record (from the API key). Null for records the node itself writes. */
export interface Actor {
  keyId: string;
  role: Role;
  /** issuer: the seller tax ids it may issue for; buyer: its own tax id. */
  taxIds?: readonly string[];
  name?: string;
}

/** A refused transition. `code` is stable (api/ maps codes to HTTP statuses in one table). */
export class DomainError extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly code: string,
    message: string,
    readonly details: { path?: (string | number)[]; [k: string]: unknown } = {},
  ) {
    super(message);
  }
}

export interface TransitionContext<S> {
  kind: string;
  subject: string;
  /** The full record (private; only its salted commitment reaches the log). */
  record: Record<string, unknown>;
  /** The subject's state after every earlier accepted record; undefined for a new subject. */
  state: S | undefined;
  /** The node's acceptance time of this record. */
  at: Date;
  actor: Actor | null;
  /**
   * SHA-256 of JCS(record), as the sequencer will commit it; computed once (on first call) and shared
   * with the sequencer. Absent when rules are replayed outside the sequencer.
   */
  recordDigest?: () => Hex;
}

export interface DomainRules<S = unknown> {
  /** Entry kinds this domain owns, e.g. 'invoice.issued'. */
  readonly kinds: readonly string[];
  /**
   * The entry's subject is a pseudonym of the subject (node/protocol/subject.ts), not the subject
   * itself: for subjects computable from public facts (invoice keys). The rules still see the plain
   * subject; only the log entry carries the pseudonym.
   */
  readonly pseudonymousSubjects?: boolean;
  /** Validates one transition and returns the subject's next state (JSON-serialisable). Pure: no I/O, no clock. Throws DomainError when refused. */
  apply(ctx: TransitionContext<S>): S;
}
