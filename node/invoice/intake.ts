/**
 * Invoice intake: what a JSON invoice request costs before it reaches the sequencer — the strict
 * JSON reader (docs/input.md), the issue pre-checks, validateInvoice, and the record digest
 * (SHA-256 of its canonical JSON). Pure and synchronous, so the very same function runs on the intake
 * workers (node/invoice/intake-pool.ts) and, when there are none or one died, on the request thread:
 * the answers cannot differ. Refusals are returned as data (the reader's error fields, the validator's
 * problems); the API turns them into problems exactly as it does for a body read on its own thread.
 */
import { JsonInputError, parseStrictJsonBytes, type JsonInputCode, type JsonPath } from '../input';
import { recordDigest, type Hex } from '../protocol';
import { createInvoiceRules, type InvoiceRuleOptions, type InvoiceRules } from './lifecycle';
import type { Problem, ValidateResult } from './schema';

/** A JsonInputError as plain data (it crosses threads). */
export interface JsonErrorData {
  code: JsonInputCode;
  message: string;
  path: JsonPath;
  extra: JsonInputError['extra'];
}

/** One invoice body, checked: refused (`original` sent, or invalid), or valid with its record digest. */
export type InvoiceIntake =
  | { kind: 'original' }
  | { kind: 'invalid'; problems: Problem[] }
  | { kind: 'ok'; result: Extract<ValidateResult, { ok: true }>; digest: Hex };

export interface IntakeRequest {
  /** 'single': the body is one invoice; 'batch': `{invoices: [...]}` (refusals inside item i are that item's). */
  mode: 'single' | 'batch';
  bytes: Uint8Array;
  /** The service's clock, for issue times in the future. */
  nowMs: number;
}

export interface IntakeResult {
  /** The reader refused the whole body. */
  error?: JsonErrorData;
  /**
   * The body as read (batch: each item that was checked replaced by null, to spare copying it back;
   * the route reads only the array's shape then).
   */
  body?: unknown;
  /** Batch: the first content refusal of each item, by index. */
  itemErrors?: [number, JsonErrorData][];
  /** Single: the invoice; batch: by item index (null where the item was refused by the reader or is not checked). */
  invoices?: (InvoiceIntake | null)[];
}

export const errorData = (e: JsonInputError): JsonErrorData => ({ code: e.code, message: e.message, path: e.path, extra: e.extra });
export const errorOf = (d: JsonErrorData): JsonInputError => new JsonInputError(d.code, d.message, d.path, d.extra);

/** The pre-checks and validation of one invoice body (the route's issueOne did these inline before). */
export function checkInvoice(rules: InvoiceRules, body: unknown, now: Date): InvoiceIntake {
  if (typeof body === 'object' && body !== null && Object.prototype.hasOwnProperty.call(body, 'original')) return { kind: 'original' };
  const v = rules.validate(body, now);
  if (!v.ok) return { kind: 'invalid', problems: v.problems };
  return { kind: 'ok', result: v, digest: recordDigest(v.invoice as unknown as Record<string, unknown>) };
}

/** Reads and checks a JSON invoice request body as the API's reader and routes would. */
export function intakeInvoices(rules: InvoiceRules, req: IntakeRequest): IntakeResult {
  const now = new Date(req.nowMs);
  const itemErrors = new Map<number, JsonErrorData>();
  let body: unknown;
  try {
    body = parseStrictJsonBytes(req.bytes, {
      text: true,
      ...(req.mode === 'batch'
        ? {
            onProblem: (p: JsonInputError): void => {
              const i = p.path[1];
              if (p.path[0] !== 'invoices' || typeof i !== 'number') throw p;
              if (!itemErrors.has(i)) itemErrors.set(i, errorData(p));
            },
          }
        : {}),
    });
  } catch (err) {
    if (err instanceof JsonInputError) return { error: errorData(err) };
    throw err;
  }
  if (body === null || typeof body !== 'object') return { body };
  if (req.mode === 'single') return Array.isArray(body) ? { body } : { body: {}, invoices: [checkInvoice(rules, body, now)] };
  const items = (body as { invoices?: unknown }).invoices;
  if (!Array.isArray(items) || Array.isArray(body)) return { body, itemErrors: [...itemErrors] };
  const invoices = items.map((item, i) => (itemErrors.has(i) || item === undefined ? null : checkInvoice(rules, item, now)));
  return { body: { ...(body as object), invoices: items.map((item, i) => (invoices[i] ? null : item)) }, itemErrors: [...itemErrors], invoices };
}

/** The rules a worker validates with: the node's options, so results are adopted as the node's own. */
export function intakeRules(options: InvoiceRuleOptions): InvoiceRules {
  return createInvoiceRules(options);
}
