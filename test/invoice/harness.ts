/** A tiny in-memory driver of the invoice rules for unit tests: one state per subject, explicit times. */
import { expect } from 'vitest';
import type { Actor } from '../../node/domain/types';
import { DomainError } from '../../node/domain/types';
import { createInvoiceRules, type InvoiceRuleOptions, type InvoiceRules, type InvoiceState, type RecordItem } from '../../node/invoice';

export const T0 = new Date('2025-03-02T02:00:00.000Z');
export const hoursAfter = (h: number, base: Date = T0): Date => new Date(base.getTime() + h * 3_600_000);

export class Ledger {
  readonly rules: InvoiceRules;
  readonly states = new Map<string, InvoiceState>();
  /** Every accepted item, as an auditor would read it back (records through JSON). */
  readonly log: RecordItem[] = [];
  constructor(opts: InvoiceRuleOptions = {}) {
    this.rules = createInvoiceRules(opts);
  }
  apply(kind: string, subject: string, record: object, at: Date, actor: Actor | null): InvoiceState {
    const next = this.rules.apply({ kind, subject, record: record as Record<string, unknown>, state: this.states.get(subject), at, actor });
    // States must survive JSON (they are stored as JSON by the node).
    expect(JSON.parse(JSON.stringify(next))).toEqual(next);
    this.states.set(subject, next);
    this.log.push({ kind, subject, at: at.toISOString(), record: JSON.parse(JSON.stringify(record)) });
    return next;
  }
  state(subject: string): InvoiceState {
    const s = this.states.get(subject);
    if (!s) throw new Error(`no state for ${subject}`);
    return s;
  }
}

/** Runs fn and asserts it throws a DomainError with this code; returns the error. */
export function refused(fn: () => unknown, code: string): DomainError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected DomainError ${code}`).toBeInstanceOf(DomainError);
  expect((caught as DomainError).code, (caught as Error).message).toBe(code);
  return caught as DomainError;
}
