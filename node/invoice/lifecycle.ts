/**
 * The invoice lifecycle (docs/invoice.md "Entries and records") as DomainRules: a pure reducer over one invoice's
 * history, applied by the sequencer at append time and replayed by `tianfu audit`.
 *
 * Three orthogonal dimensions on a blue invoice: validity (issued → partially-reversed →
 * fully-reversed), buyer use (none → use-confirmed → booked) and reimbursement (init → locked →
 * closed), plus red-letter confirmation forms. A red invoice is its own record (own key, subject,
 * `invoice.issued`) linked to the blue one, whose `invoice.reversed` / `invoice.partially-reversed`
 * entry carries the same red invoice. Every refusal is a DomainError with a stable code
 * (docs/invoice.md lists them; api/ maps them to statuses).
 */
import { z } from 'zod';
import { recordDigest, type Hex } from '../protocol';
import { DomainError, type Actor, type DomainRules, type TransitionContext } from '../domain/types';
import { invoiceKey } from './key';
import { taxForAmount } from './money';
import {
  DEFAULT_FUTURE_SKEW_MS, deepFreeze, FORM_ID_RE, issueDateOf, issueTimeMs, RED_REASON_CODES, validateInvoice,
  type Invoice, type Problem, type ValidateOptions, type ValidateResult,
} from './schema';

export { INVOICE_KINDS_ISSUED, INVOICE_ENTRY_KINDS, KINDS_AFTER_FULL_REVERSAL, RED_FORM_TTL_MS, type InvoiceEntryKind } from './history';
import { INVOICE_ENTRY_KINDS, KINDS_AFTER_FULL_REVERSAL, RED_FORM_TTL_MS, type InvoiceEntryKind } from './history';

export type InvoiceStatus = 'issued' | 'partially-reversed' | 'fully-reversed';
export type UseState = 'none' | 'use-confirmed' | 'booked';
export type ReimbursementState = 'init' | 'locked' | 'closed';
export type RedFormStatus =
  | 'no-confirm-needed' | 'pending-buyer' | 'pending-seller' | 'confirmed'
  | 'rejected' | 'withdrawn' | 'expired' | 'used';

export interface LineState {
  lineNo: number;
  lineKind: 'NORMAL' | 'DISCOUNT';
  discountOfLineNo?: number;
  taxRateBps: number;
  taxClassificationCode: string;
  amountFen: number;
  taxAmountFen: number;
  /** Sum of red amounts against this line (opposite sign to amountFen, or 0). */
  reversedAmountFen: number;
  reversedTaxFen: number;
}

export interface RedFormLine {
  originalLineNo: number;
  /** Signed like the red invoice's line: opposite to the blue line. */
  amountFen: number;
  taxAmountFen: number;
}

export interface RedFormState {
  formId: string;
  initiator: 'SELLER' | 'BUYER';
  reasonCode: (typeof RED_REASON_CODES)[number];
  status: RedFormStatus;
  lines: RedFormLine[];
  openedAt: string;
  /** Confirmation deadline (openedAt + 72 h) for forms awaiting the counterparty. */
  deadline?: string;
  closedAt?: string;
  redInvoiceKey?: Hex;
}

export interface ReversalRef {
  redInvoiceKey: Hex;
  redInvoiceNumber: string;
  formId: string;
  totalWithTaxFen: number;
  at: string;
}

/** One invoice's state. JSON-serialisable; private (holds tax ids): publicStatus() is the public view. */
export interface InvoiceState {
  v: 1;
  invoiceKey: Hex;
  colour: 'BLUE' | 'RED';
  invoiceKind: string;
  invoiceNumber: string;
  issueDateTime: string;
  issueDate: string;
  sellerTaxId: string;
  buyerTaxId: string | null;
  /** recordDigest of the registered invoice: idempotency and conflict detection. */
  contentDigest: Hex;
  totalWithTaxFen: number;
  status: InvoiceStatus;
  use: UseState;
  reimbursement: ReimbursementState;
  lines: LineState[];
  forms: RedFormState[];
  reversals: ReversalRef[];
  /** RED only: the blue invoice it reverses. */
  parentKey?: Hex;
  /** e.g. legacy_uscc_exception:seller.taxId, reimbursed_then_reversed. */
  flags: string[];
  conflictsRefused: number;
  registeredAt: string;
  updatedAt: string;
  events: number;
}

export interface InvoiceRuleOptions extends Omit<ValidateOptions, 'now'> {
  redFormTtlMs?: number;
  /** Notes B.3 R3 (unconfirmed rule, so a policy): reason 01 开票有误 only as a full reversal. */
  reason01FullOnly?: boolean;
}

// ---- lifecycle records (what each entry commits to, besides the invoice itself) -------------

const hex32 = z.string().regex(/^0x[0-9a-f]{64}$/);
const taxId = z.string().min(1).max(40);
const formId = z.string().regex(FORM_ID_RE);

/** invoice.reimbursement-* / invoice.use-confirmed / invoice.booked: who acted, for which invoice. */
export const BuyerActionRecordSchema = z.strictObject({ invoiceKey: hex32, buyerTaxId: taxId });
export const RedFormOpenRecordSchema = z.strictObject({
  invoiceKey: hex32,
  formId,
  initiator: z.enum(['SELLER', 'BUYER']),
  initiatorTaxId: taxId,
  reasonCode: z.enum(RED_REASON_CODES),
  lines: z.array(z.strictObject({ originalLineNo: z.int().min(1), amountFen: z.int(), taxAmountFen: z.int() })).min(1).max(2000),
});
/** confirm / reject / withdraw: the acting party. */
export const RedFormActionRecordSchema = z.strictObject({ invoiceKey: hex32, formId, partyTaxId: taxId });
export const RedFormExpiredRecordSchema = z.strictObject({ invoiceKey: hex32, formId });
export const ConflictRecordSchema = z.strictObject({ invoiceKey: hex32, existingDigest: hex32, attemptedDigest: hex32 });

export type BuyerActionRecord = z.infer<typeof BuyerActionRecordSchema>;
export type RedFormOpenRecord = z.infer<typeof RedFormOpenRecordSchema>;
export type RedFormActionRecord = z.infer<typeof RedFormActionRecordSchema>;
export type RedFormExpiredRecord = z.infer<typeof RedFormExpiredRecordSchema>;
export type ConflictRecord = z.infer<typeof ConflictRecordSchema>;

function parseRecord<T>(schema: z.ZodType<T>, ctx: TransitionContext<InvoiceState>): T {
  const r = schema.safeParse(ctx.record);
  if (!r.success) {
    const problems = r.error.issues.map((i) => ({ path: i.path.map(String), code: i.code, message: i.message }));
    throw new DomainError('RECORD_INVALID', `${ctx.kind} record refused: ${problems.map((p) => `${p.path.join('.')}: ${p.message}`).join('; ')}`, { problems });
  }
  const rec = r.data as T & { invoiceKey?: string };
  if (rec.invoiceKey !== undefined && rec.invoiceKey !== ctx.subject) {
    throw new DomainError('SUBJECT_MISMATCH', `record names invoice ${rec.invoiceKey} but the entry subject is ${ctx.subject}`, { path: ['invoiceKey'] });
  }
  return rec;
}

// ---- helpers -------------------------------------------------------------------------------

function need(state: InvoiceState | undefined, ctx: TransitionContext<InvoiceState>): InvoiceState {
  if (!state) throw new DomainError('INVOICE_NOT_FOUND', `no invoice is registered under ${ctx.subject}`);
  return state;
}

function needBlue(state: InvoiceState, kind: string): void {
  if (state.colour !== 'BLUE') throw new DomainError('INVOICE_NOT_BLUE', `${kind} applies to blue invoices; ${state.invoiceKey} is a red invoice`);
}

function needNotFullyReversed(state: InvoiceState, kind: string): void {
  if (state.status === 'fully-reversed' && !KINDS_AFTER_FULL_REVERSAL.includes(kind)) {
    throw new DomainError('INVOICE_FULLY_REVERSED', `invoice ${state.invoiceKey} is fully reversed; ${kind} is no longer allowed`);
  }
}

/**
 * Scope: only the named party may act. The record names the party (so a replay without API keys
 * still checks it); a live actor must hold the role and the tax id. Stops another company locking,
 * reimbursing or reversing an invoice it is not party to.
 */
function needParty(ctx: TransitionContext<InvoiceState>, state: InvoiceState, party: 'seller' | 'buyer', namedTaxId: string, what: string): void {
  const expected = party === 'seller' ? state.sellerTaxId : state.buyerTaxId;
  if (expected === null || namedTaxId !== expected) {
    throw new DomainError('SCOPE_FORBIDDEN', `only the invoice's ${party} may ${what}`, { party });
  }
  checkActor(ctx.actor, party === 'seller' ? 'issuer' : 'buyer', expected, what);
}

function checkActor(actor: Actor | null, role: 'issuer' | 'buyer', taxIdNeeded: string, what: string): void {
  if (actor === null) return; // node-written record or audit replay: the record's party was checked
  if (actor.role !== role) throw new DomainError('ROLE_FORBIDDEN', `role ${actor.role} may not ${what}; needs ${role}`, { role: actor.role, needed: role });
  if (!(actor.taxIds ?? []).includes(taxIdNeeded)) {
    throw new DomainError('SCOPE_FORBIDDEN', `this ${role} key is not granted the tax id it would need to ${what}`, { party: role === 'issuer' ? 'seller' : 'buyer' });
  }
}

function touch(state: InvoiceState, at: Date): InvoiceState {
  return { ...state, updatedAt: at.toISOString(), events: state.events + 1 };
}

/** A form's status at time `at`: a form awaiting the counterparty past its deadline is expired (lazily). */
export function effectiveFormStatus(form: RedFormState, at: Date): RedFormStatus {
  if ((form.status === 'pending-buyer' || form.status === 'pending-seller') && form.deadline !== undefined && at.getTime() > Date.parse(form.deadline)) return 'expired';
  return form.status;
}

const OPEN_FORM_STATUSES: readonly RedFormStatus[] = ['no-confirm-needed', 'pending-buyer', 'pending-seller', 'confirmed'];

function findForm(state: InvoiceState, id: string): RedFormState {
  const f = state.forms.find((x) => x.formId === id);
  if (!f) throw new DomainError('RED_FORM_NOT_FOUND', `invoice ${state.invoiceKey} has no red-letter form ${id}`, { path: ['formId'] });
  return f;
}

function replaceForm(state: InvoiceState, form: RedFormState): RedFormState[] {
  return state.forms.map((f) => (f.formId === form.formId ? form : f));
}

function formStateError(form: RedFormState, status: RedFormStatus, what: string): DomainError {
  if (status === 'expired') return new DomainError('RED_FORM_EXPIRED', `red-letter form ${form.formId} expired unconfirmed at ${form.deadline}; cannot ${what}`);
  if (status === 'used') return new DomainError('RED_FORM_USED', `red-letter form ${form.formId} was already used for a red invoice`);
  return new DomainError('RED_FORM_STATE', `red-letter form ${form.formId} is ${status}; cannot ${what}`, { formStatus: status });
}

/**
 * Per-line reversal limits (docs/invoice.md "Background", R2): a red line has the opposite sign of its blue line, is not
 * zero, never exceeds what remains, and its tax is the rounding of its amount, except that a red line
 * closing out the line takes exactly the remaining tax (so rounding can never leave or overdraw a fen).
 */
function checkReversalLines(state: InvoiceState, lines: readonly RedFormLine[], pathPrefix: (string | number)[]): LineState[] {
  const next = state.lines.map((l) => ({ ...l }));
  let prevNo = 0;
  lines.forEach((rl, i) => {
    const path = [...pathPrefix, i];
    if (rl.originalLineNo <= prevNo) throw new DomainError('RED_LINES', 'original line numbers are referenced in order, each once', { path: [...path, 'originalLineNo'] });
    prevNo = rl.originalLineNo;
    const line = next.find((l) => l.lineNo === rl.originalLineNo);
    if (!line) throw new DomainError('RED_LINES', `the blue invoice has no line ${rl.originalLineNo}`, { path: [...path, 'originalLineNo'] });
    const remainingAmount = line.amountFen + line.reversedAmountFen;
    const remainingTax = line.taxAmountFen + line.reversedTaxFen;
    if (rl.amountFen === 0 || Math.sign(rl.amountFen) === Math.sign(line.amountFen)) {
      throw new DomainError('RED_LINES', `a red line against blue line ${line.lineNo} has a non-zero amount of the opposite sign`, { path: [...path, 'amountFen'] });
    }
    if (Math.abs(rl.amountFen) > Math.abs(remainingAmount)) {
      throw new DomainError('RED_OVER_REMAINING', `line ${line.lineNo}: reversing ${-rl.amountFen} fen but only ${remainingAmount} fen remain`, { path: [...path, 'amountFen'], remainingFen: remainingAmount });
    }
    const closesLine = rl.amountFen === -remainingAmount;
    const expectedTax = closesLine ? -remainingTax : taxForAmount(rl.amountFen, line.taxRateBps);
    if (rl.taxAmountFen !== expectedTax) {
      throw new DomainError('RED_TAX_MISMATCH', `line ${line.lineNo}: red tax must be ${expectedTax} fen${closesLine ? ' (the remaining tax)' : ''}, got ${rl.taxAmountFen}`, { path: [...path, 'taxAmountFen'] });
    }
    if (Math.abs(rl.taxAmountFen) > Math.abs(remainingTax)) {
      throw new DomainError('RED_OVER_REMAINING', `line ${line.lineNo}: reversing ${-rl.taxAmountFen} fen tax but only ${remainingTax} fen remain`, { path: [...path, 'taxAmountFen'] });
    }
    line.reversedAmountFen += rl.amountFen;
    line.reversedTaxFen += rl.taxAmountFen;
  });
  // A discount may never outlive the line it discounts: the invoice's remaining value stays >= 0 per line pair.
  for (const d of next) {
    if (d.lineKind !== 'DISCOUNT' || d.discountOfLineNo === undefined) continue;
    const base = next.find((l) => l.lineNo === d.discountOfLineNo)!;
    if (Math.abs(d.amountFen + d.reversedAmountFen) > Math.abs(base.amountFen + base.reversedAmountFen)) {
      throw new DomainError('RED_LINES', `reversing line ${base.lineNo} needs its discount line ${d.lineNo} reversed alongside`, { path: pathPrefix });
    }
  }
  return next;
}

function isFullyReversed(lines: readonly LineState[]): boolean {
  return lines.every((l) => l.amountFen + l.reversedAmountFen === 0 && l.taxAmountFen + l.reversedTaxFen === 0);
}

/** Which kind a red invoice's reversal entry must have: the kind tells the log whether it was the last one. */
export function reversalKind(state: InvoiceState, red: Invoice): 'invoice.reversed' | 'invoice.partially-reversed' {
  const lines = checkReversalLines(state, redLinesOf(red), ['lines']);
  return isFullyReversed(lines) ? 'invoice.reversed' : 'invoice.partially-reversed';
}

/** A red invoice's lines as blue-line references (red.lines maps them; absent means same numbers). */
export function redLinesOf(red: Invoice): RedFormLine[] {
  return red.lines.map((l, i) => ({
    originalLineNo: red.red?.lines?.[i]?.originalLineNo ?? l.lineNo,
    amountFen: l.amountFen,
    taxAmountFen: l.taxAmountFen,
  }));
}

// ---- the rules -----------------------------------------------------------------------------

export interface InvoiceRules extends DomainRules<InvoiceState> {
  /** validateInvoice with these rules' options; use it in routes so the lifecycle reuses the result. */
  validate(body: unknown, now?: Date): ValidateResult;
  /**
   * Admits a result of `validate` made elsewhere with these very options (the intake workers,
   * node/invoice/intake.ts): the invoice is frozen and `apply` reuses the result as if `validate` had
   * made it here.
   */
  adopt<R extends ValidateResult>(result: R): R;
  readonly options: InvoiceRuleOptions;
}

export function createInvoiceRules(options: InvoiceRuleOptions = {}): InvoiceRules {
  const ttl = options.redFormTtlMs ?? RED_FORM_TTL_MS;
  const skew = options.futureSkewMs ?? DEFAULT_FUTURE_SKEW_MS;
  /**
   * Records these rules' own `validate` admitted (deep-frozen by validateInvoice, so unchanged since):
   * `apply` reuses the result instead of re-running the checks at append time. The ledger builds one
   * rules object for its service and its sequencer, so the result travels with the rules, not through
   * module state; records from anywhere else (replays, other rules) are validated in full.
   */
  const admitted = new WeakMap<object, { flags: Problem[]; invoiceKey: Hex }>();

  function validateRecord(record: unknown, at: Date): { invoice: Invoice; flags: Problem[]; key: Hex } {
    const prior = typeof record === 'object' && record !== null ? admitted.get(record) : undefined;
    let result: { invoice: Invoice; flags: Problem[]; key: Hex };
    if (prior) result = { invoice: record as Invoice, flags: prior.flags, key: prior.invoiceKey };
    else {
      const r = validateInvoice(record, options);
      if (!r.ok) throw new DomainError('INVOICE_INVALID', `invoice refused: ${r.problems.slice(0, 5).map((p) => `${p.path.join('.') || '(body)'}: ${p.message}`).join('; ')}`, { problems: r.problems });
      if ((record as { totalWithTaxUpper?: unknown }).totalWithTaxUpper !== undefined || r.invoice.remarks !== (record as Invoice).remarks) {
        // The registered record is the normalised invoice; a raw body that normalises differently is not it.
        throw new DomainError('RECORD_NOT_NORMALISED', 'register the invoice returned by validateInvoice (derived fields removed, red remark added)');
      }
      result = { invoice: r.invoice, flags: r.flags, key: r.invoiceKey };
    }
    if (issueTimeMs(result.invoice.issueDateTime) > at.getTime() + skew) {
      throw new DomainError('INVOICE_INVALID', `issueDateTime ${result.invoice.issueDateTime} is after the acceptance time`, {
        problems: [{ path: ['issueDateTime'], code: 'issue_time_future', message: 'issueDateTime is in the future' }],
      });
    }
    return result;
  }

  function issue(ctx: TransitionContext<InvoiceState>): InvoiceState {
    const { invoice, flags, key } = validateRecord(ctx.record, ctx.at);
    if (key !== ctx.subject) throw new DomainError('SUBJECT_MISMATCH', `the invoice's key is ${key}, the entry subject ${ctx.subject}`);
    // The registered invoice is the record itself (validateRecord refuses anything else), so the
    // sequencer's digest of it is this digest: computed once for both.
    const digest = invoice === ctx.record && ctx.recordDigest ? ctx.recordDigest() : recordDigest(invoice);
    if (ctx.state) {
      if (ctx.state.contentDigest === digest) throw new DomainError('INVOICE_DUPLICATE', `invoice ${key} is already registered with identical content`, { invoiceKey: key });
      throw new DomainError('INVOICE_KEY_CONFLICT', `invoice ${key} is already registered with different content`, { invoiceKey: key, existingDigest: ctx.state.contentDigest, attemptedDigest: digest });
    }
    checkActor(ctx.actor, 'issuer', invoice.seller.taxId!, `issue for seller ${invoice.seller.taxId}`);
    const at = ctx.at.toISOString();
    return {
      v: 1,
      invoiceKey: key,
      colour: invoice.colour,
      invoiceKind: invoice.invoiceKind,
      invoiceNumber: invoice.invoiceNumber,
      issueDateTime: invoice.issueDateTime,
      issueDate: issueDateOf(invoice.issueDateTime),
      sellerTaxId: invoice.seller.taxId!,
      buyerTaxId: invoice.buyer.taxId ?? null,
      contentDigest: digest,
      totalWithTaxFen: invoice.totalWithTaxFen,
      status: 'issued',
      use: 'none',
      reimbursement: 'init',
      lines: invoice.lines.map((l) => ({
        lineNo: l.lineNo,
        lineKind: l.lineKind,
        ...(l.discountOfLineNo !== undefined ? { discountOfLineNo: l.discountOfLineNo } : {}),
        taxRateBps: l.taxRateBps,
        taxClassificationCode: l.taxClassificationCode,
        amountFen: l.amountFen,
        taxAmountFen: l.taxAmountFen,
        reversedAmountFen: 0,
        reversedTaxFen: 0,
      })),
      forms: [],
      reversals: [],
      ...(invoice.colour === 'RED' ? { parentKey: invoiceKey(invoice.seller.taxId!, invoice.invoiceKind, invoice.red!.originalInvoiceNumber) } : {}),
      flags: flags.map((f) => `${f.code}:${f.path.join('.')}`),
      conflictsRefused: 0,
      registeredAt: at,
      updatedAt: at,
      events: 1,
    };
  }

  function conflict(ctx: TransitionContext<InvoiceState>): InvoiceState {
    const s = need(ctx.state, ctx);
    const rec = parseRecord(ConflictRecordSchema, ctx);
    if (rec.existingDigest !== s.contentDigest) throw new DomainError('RECORD_INVALID', 'existingDigest is not the registered content digest', { path: ['existingDigest'] });
    if (rec.attemptedDigest === rec.existingDigest) throw new DomainError('RECORD_INVALID', 'an identical re-submission is not a conflict', { path: ['attemptedDigest'] });
    return { ...touch(s, ctx.at), conflictsRefused: s.conflictsRefused + 1 };
  }

  function buyerAction(ctx: TransitionContext<InvoiceState>, what: string): { s: InvoiceState } {
    const s = need(ctx.state, ctx);
    needBlue(s, ctx.kind);
    needNotFullyReversed(s, ctx.kind);
    const rec = parseRecord(BuyerActionRecordSchema, ctx);
    needParty(ctx, s, 'buyer', rec.buyerTaxId, what);
    return { s };
  }

  function reimbursement(ctx: TransitionContext<InvoiceState>, action: 'lock' | 'unlock' | 'close'): InvoiceState {
    const { s } = buyerAction(ctx, `${action} reimbursement`);
    const r = s.reimbursement;
    // The 一票多报 guard: one lock at a time, one close ever (WeChat INIT/LOCK/CLOSURE).
    if (r === 'closed') throw new DomainError('REIMBURSEMENT_CLOSED', `invoice ${s.invoiceKey} was already reimbursed (closed)`);
    if (action === 'lock') {
      if (r === 'locked') throw new DomainError('REIMBURSEMENT_LOCKED', `invoice ${s.invoiceKey} is already locked for reimbursement`);
      return { ...touch(s, ctx.at), reimbursement: 'locked' };
    }
    if (r !== 'locked') throw new DomainError('REIMBURSEMENT_NOT_LOCKED', `invoice ${s.invoiceKey} is not locked; ${action} needs a lock first`);
    return { ...touch(s, ctx.at), reimbursement: action === 'close' ? 'closed' : 'init' };
  }

  function use(ctx: TransitionContext<InvoiceState>, target: 'use-confirmed' | 'booked'): InvoiceState {
    const { s } = buyerAction(ctx, target === 'booked' ? 'book the invoice' : 'confirm use');
    if (s.use === 'booked') throw new DomainError('USE_ALREADY_BOOKED', `invoice ${s.invoiceKey} is already booked`);
    if (target === 'use-confirmed' && s.use === 'use-confirmed') throw new DomainError('USE_ALREADY_CONFIRMED', `invoice ${s.invoiceKey} use is already confirmed`);
    return { ...touch(s, ctx.at), use: target };
  }

  function openForm(ctx: TransitionContext<InvoiceState>): InvoiceState {
    const s = need(ctx.state, ctx);
    needBlue(s, ctx.kind);
    needNotFullyReversed(s, ctx.kind);
    const rec = parseRecord(RedFormOpenRecordSchema, ctx);
    needParty(ctx, s, rec.initiator === 'SELLER' ? 'seller' : 'buyer', rec.initiatorTaxId, 'open a red-letter form');
    if (s.forms.some((f) => f.formId === rec.formId)) throw new DomainError('RED_FORM_EXISTS', `red-letter form ${rec.formId} already exists`, { path: ['formId'] });
    const lines = checkReversalLines(s, rec.lines, ['lines']);
    // Notes B.3 R4: no two open forms over the same line, so their sum can never exceed what remains.
    for (const f of s.forms) {
      if (!OPEN_FORM_STATUSES.includes(effectiveFormStatus(f, ctx.at))) continue;
      const overlap = f.lines.find((l) => rec.lines.some((r) => r.originalLineNo === l.originalLineNo));
      if (overlap) throw new DomainError('RED_FORM_OVERLAP', `line ${overlap.originalLineNo} is already on open red-letter form ${f.formId}`, { path: ['lines'], formId: f.formId });
    }
    if (options.reason01FullOnly && rec.reasonCode === '01' && !isFullyReversed(lines)) {
      throw new DomainError('RED_REASON_FULL_ONLY', 'reason 01 (开票有误) reverses the whole remaining invoice', { path: ['lines'] });
    }
    // Notes §2.4: the seller alone suffices only while the buyer has neither confirmed use, booked nor
    // started reimbursing; otherwise the counterparty must confirm within 72 h.
    const alone = rec.initiator === 'SELLER' && s.use === 'none' && s.reimbursement === 'init';
    const status: RedFormStatus = alone ? 'no-confirm-needed' : rec.initiator === 'SELLER' ? 'pending-buyer' : 'pending-seller';
    const form: RedFormState = {
      formId: rec.formId,
      initiator: rec.initiator,
      reasonCode: rec.reasonCode,
      status,
      lines: rec.lines.map((l) => ({ originalLineNo: l.originalLineNo, amountFen: l.amountFen, taxAmountFen: l.taxAmountFen })),
      openedAt: ctx.at.toISOString(),
      ...(alone ? {} : { deadline: new Date(ctx.at.getTime() + ttl).toISOString() }),
    };
    return { ...touch(s, ctx.at), forms: [...s.forms, form] };
  }

  function formAction(ctx: TransitionContext<InvoiceState>, action: 'confirm' | 'reject' | 'withdraw'): InvoiceState {
    const s = need(ctx.state, ctx);
    needBlue(s, ctx.kind);
    needNotFullyReversed(s, ctx.kind);
    const rec = parseRecord(RedFormActionRecordSchema, ctx);
    const form = findForm(s, rec.formId);
    const status = effectiveFormStatus(form, ctx.at);
    const initiatorParty = form.initiator === 'SELLER' ? 'seller' : 'buyer';
    const counterparty = form.initiator === 'SELLER' ? 'buyer' : 'seller';
    if (action === 'withdraw') {
      if (!OPEN_FORM_STATUSES.includes(status)) throw formStateError(form, status, 'withdraw it');
      needParty(ctx, s, initiatorParty, rec.partyTaxId, 'withdraw this red-letter form (initiator only)');
      return { ...touch(s, ctx.at), forms: replaceForm(s, { ...form, status: 'withdrawn', closedAt: ctx.at.toISOString() }) };
    }
    if (status !== 'pending-buyer' && status !== 'pending-seller') throw formStateError(form, status, `${action} it`);
    needParty(ctx, s, counterparty, rec.partyTaxId, `${action} this red-letter form (counterparty only)`);
    const next: RedFormState = action === 'confirm' ? { ...form, status: 'confirmed' } : { ...form, status: 'rejected', closedAt: ctx.at.toISOString() };
    return { ...touch(s, ctx.at), forms: replaceForm(s, next) };
  }

  function expireForm(ctx: TransitionContext<InvoiceState>): InvoiceState {
    const s = need(ctx.state, ctx);
    const rec = parseRecord(RedFormExpiredRecordSchema, ctx);
    if (ctx.actor !== null && ctx.actor.role !== 'admin') throw new DomainError('ROLE_FORBIDDEN', 'expiry is recorded by the node (or an admin)');
    const form = findForm(s, rec.formId);
    const status = effectiveFormStatus(form, ctx.at);
    if (status !== 'expired') {
      throw new DomainError('RED_FORM_NOT_EXPIRED', `red-letter form ${form.formId} is ${status}${form.deadline ? `; it could expire only after ${form.deadline}` : ''}`);
    }
    return { ...touch(s, ctx.at), forms: replaceForm(s, { ...form, status: 'expired', closedAt: ctx.at.toISOString() }) };
  }

  function reverse(ctx: TransitionContext<InvoiceState>): InvoiceState {
    const s = need(ctx.state, ctx);
    needBlue(s, ctx.kind);
    needNotFullyReversed(s, ctx.kind);
    const { invoice: red, key: redKey } = validateRecord(ctx.record, ctx.at);
    if (red.colour !== 'RED' || !red.red) throw new DomainError('RED_MISMATCH', 'a reversal carries a RED invoice', { path: ['colour'] });
    if (red.red.originalInvoiceNumber !== s.invoiceNumber || red.invoiceKind !== s.invoiceKind || red.seller.taxId !== s.sellerTaxId) {
      throw new DomainError('RED_MISMATCH', `the red invoice does not reverse invoice ${s.invoiceKey} (number, kind and seller must match)`, { path: ['red', 'originalInvoiceNumber'] });
    }
    if ((red.buyer.taxId ?? null) !== s.buyerTaxId) throw new DomainError('RED_MISMATCH', 'the red invoice names another buyer', { path: ['buyer', 'taxId'] });
    if (issueTimeMs(red.issueDateTime) < issueTimeMs(s.issueDateTime)) throw new DomainError('RED_MISMATCH', 'a red invoice cannot be issued before the invoice it reverses', { path: ['issueDateTime'] });
    checkActor(ctx.actor, 'issuer', s.sellerTaxId, 'issue a red invoice for this seller');
    if (s.reversals.some((r) => r.redInvoiceKey === redKey)) throw new DomainError('RED_DUPLICATE', `red invoice ${redKey} is already applied`);
    const form = findForm(s, red.red.confirmationNumber);
    const status = effectiveFormStatus(form, ctx.at);
    if (status !== 'no-confirm-needed' && status !== 'confirmed') throw formStateError(form, status, 'issue a red invoice from it');
    const redLines = redLinesOf(red);
    const same = redLines.length === form.lines.length && redLines.every((l, i) => {
      const f = form.lines[i]!;
      return f.originalLineNo === l.originalLineNo && f.amountFen === l.amountFen && f.taxAmountFen === l.taxAmountFen;
    });
    if (!same) throw new DomainError('RED_MISMATCH', `the red invoice's lines differ from red-letter form ${form.formId}`, { path: ['lines'] });
    red.lines.forEach((l, i) => {
      const blue = s.lines.find((b) => b.lineNo === redLines[i]!.originalLineNo);
      if (blue && (blue.taxRateBps !== l.taxRateBps || blue.taxClassificationCode !== l.taxClassificationCode)) {
        throw new DomainError('RED_MISMATCH', `red line ${l.lineNo} must carry the rate and classification of blue line ${blue.lineNo}`, { path: ['lines', i] });
      }
    });
    const lines = checkReversalLines(s, redLines, ['lines']);
    const full = isFullyReversed(lines);
    const expectedKind = full ? 'invoice.reversed' : 'invoice.partially-reversed';
    if (ctx.kind !== expectedKind) throw new DomainError('REVERSAL_KIND_MISMATCH', `this red invoice ${full ? 'fully' : 'partially'} reverses the invoice; the entry kind must be ${expectedKind}`);
    const at = ctx.at.toISOString();
    const flags = s.reimbursement === 'closed' && !s.flags.includes('reimbursed_then_reversed') ? [...s.flags, 'reimbursed_then_reversed'] : s.flags;
    return {
      ...touch(s, ctx.at),
      status: full ? 'fully-reversed' : 'partially-reversed',
      lines,
      forms: replaceForm(s, { ...form, status: 'used', closedAt: at, redInvoiceKey: redKey }),
      reversals: [...s.reversals, { redInvoiceKey: redKey, redInvoiceNumber: red.invoiceNumber, formId: form.formId, totalWithTaxFen: red.totalWithTaxFen, at }],
      flags,
    };
  }

  function apply(ctx: TransitionContext<InvoiceState>): InvoiceState {
    if (ctx.kind !== 'invoice.issued' && ctx.state) needNotFullyReversed(ctx.state, ctx.kind);
    switch (ctx.kind as InvoiceEntryKind) {
      case 'invoice.issued': return issue(ctx);
      case 'invoice.conflict-refused': return conflict(ctx);
      case 'invoice.reimbursement-locked': return reimbursement(ctx, 'lock');
      case 'invoice.reimbursement-unlocked': return reimbursement(ctx, 'unlock');
      case 'invoice.reimbursement-closed': return reimbursement(ctx, 'close');
      case 'invoice.use-confirmed': return use(ctx, 'use-confirmed');
      case 'invoice.booked': return use(ctx, 'booked');
      case 'invoice.red-form-opened': return openForm(ctx);
      case 'invoice.red-form-confirmed': return formAction(ctx, 'confirm');
      case 'invoice.red-form-rejected': return formAction(ctx, 'reject');
      case 'invoice.red-form-withdrawn': return formAction(ctx, 'withdraw');
      case 'invoice.red-form-expired': return expireForm(ctx);
      case 'invoice.partially-reversed':
      case 'invoice.reversed': return reverse(ctx);
      default: throw new DomainError('UNKNOWN_KIND', `${ctx.kind} is not an invoice entry kind`);
    }
  }

  return {
    kinds: INVOICE_ENTRY_KINDS,
    // Invoice keys are computable from public facts: the log carries a salted pseudonym (docs/architecture.md).
    pseudonymousSubjects: true,
    options,
    validate: (body, now) => {
      const r = validateInvoice(body, now === undefined ? options : { ...options, now });
      if (r.ok) admitted.set(r.invoice, { flags: r.flags, invoiceKey: r.invoiceKey });
      return r;
    },
    adopt: (r) => {
      if (r.ok) admitted.set(deepFreeze(r.invoice), { flags: r.flags, invoiceKey: r.invoiceKey });
      return r;
    },
    apply,
  };
}

/** The rules with default options (the legacy exceptions of docs/invoice.md "Background", 2000 lines, 72-hour forms). */
export const invoiceRules: InvoiceRules = createInvoiceRules();

/**
 * What the route does with a submitted invoice under an existing key (docs/invoice.md "Background", R1): 'new' → append
 * `invoice.issued`; 'duplicate' → answer with the existing record and receipt; 'conflict' → refuse
 * (INVOICE_KEY_CONFLICT) and append `invoice.conflict-refused`.
 */
export function classifyIssue(state: InvoiceState | undefined, invoice: Invoice): { outcome: 'new' | 'duplicate' | 'conflict'; digest: Hex } {
  const digest = recordDigest(invoice);
  if (!state) return { outcome: 'new', digest };
  return { outcome: state.contentDigest === digest ? 'duplicate' : 'conflict', digest };
}
