/**
 * The invoice service: orchestration of the pure invoice domain (validateInvoice, the lifecycle
 * rules, the public view) over the ledger's sequencer. It decides which entries a request becomes,
 * keeps the domain's own indexes (invoice number → keys, red-letter form id → blue key) in the same
 * atomic, durable batch as the entry they belong to (sequencer `extraOps`), and reads back invoices,
 * their events and their anchoring state. Refusals are DomainErrors (api/problem.ts maps codes to
 * statuses); this file knows nothing of HTTP.
 *
 * Serialisation: the sequencer already applies submissions one at a time per subject, so racing
 * lifecycle transitions cannot both pass (of 50 racing locks exactly one wins). The service adds a
 * per-key queue only for the read-then-decide steps of issuing (duplicate/conflict classification,
 * red invoices) and of opening forms (form id uniqueness across invoices), so that a second identical
 * submission is answered from a durable first one rather than racing it.
 */
import type { Hex, LogEntry, Receipt } from '../protocol';
import { DomainError, type Actor } from '../domain/types';
import type { Accepted, Sequencer, SubmitRequest } from '../sequencer';
import type { BatchOp, Database } from '../store/db';
import type { Anchorer } from '../anchorer';
import type { StatusProof } from '../protocol/status-proof';
import type { Bundle } from '../protocol';
import { invoiceKey } from './key';
import {
  classifyIssue, createInvoiceRules, effectiveFormStatus, reversalKind,
  type InvoiceRuleOptions, type InvoiceRules, type InvoiceState, type RedFormLine, type RedFormState, type RedFormStatus,
} from './lifecycle';
import { publicCheck, type PublicQuery, type PublicStatus } from './public-status';
import type { Invoice, ValidateResult } from './schema';

/** Key prefix of the service's own indexes in the node database. */
export const INVOICE_INDEX_PREFIX = '!inv!';
const BY_NUMBER = INVOICE_INDEX_PREFIX + 'n'; // n<invoiceNumber>!<invoiceKey> → ''
const BY_FORM = INVOICE_INDEX_PREFIX + 'f'; // f<formId> → blue invoiceKey

export type ValidInvoice = Extract<ValidateResult, { ok: true }>;

/** What the service needs from the ledger (a `Ledger` satisfies it). */
export interface InvoiceServiceDeps {
  db: Database;
  sequencer: Sequencer;
  anchorer: Anchorer;
  bundle(kind: Bundle['kind'], subject: string, opts?: { indexes?: number[] }): Promise<Bundle>;
  /** Status proofs (node/state/status-proofs.ts); absent in nodes without the state map. */
  statusProof?(domain: 'invoice', subject: string): Promise<StatusProof>;
  config?: { usccLegacyExceptions?: string[] | undefined };
}

export interface InvoiceServiceOptions {
  /** Rule options; must match the rules the sequencer applies (Ledger.start builds them from the same config). */
  rules?: InvoiceRuleOptions;
  /** The rules themselves, as the sequencer applies them (the ledger builds them once and passes them here). */
  ruleSet?: InvoiceRules;
}

export interface AppendedRef {
  invoiceKey: Hex;
  kind: string;
  index: number;
  receipt: Receipt;
}

export interface IssueResult {
  /** created: appended now (201); duplicate: the identical invoice was already registered (200, same receipt). */
  outcome: 'created' | 'duplicate';
  invoiceKey: Hex;
  index: number;
  receipt: Receipt;
  status: InvoiceState['status'];
  /** Red invoices: the reversal entry appended on the blue invoice in the same step. */
  reversal?: AppendedRef & { status: InvoiceState['status'] };
}

export interface TransitionResult extends AppendedRef {
  status: InvoiceState['status'];
  use: InvoiceState['use'];
  reimbursement: InvoiceState['reimbursement'];
}

export interface FormResult extends AppendedRef {
  formId: string;
  formStatus: RedFormStatus;
  deadline: string | null;
}

export interface AnchoringState {
  state: 'anchored' | 'pending';
  checkpoint: { treeSize: number; rootHash: Hex; txHash: Hex; blockNumber: string; timestamp: string } | null;
}

export interface InvoiceEvent {
  kind: string;
  index: number;
  at: string;
  anchoring: AnchoringState;
}

export interface InvoiceView {
  invoiceKey: Hex;
  invoice: Invoice;
  /** The state, with red-letter forms at their effective status now (a pending form past 72 h is expired). */
  state: InvoiceState;
  events: InvoiceEvent[];
}

export type PublicAnswer =
  | { found: true; invoice: PublicStatus & { anchoring: { registration: AnchoringState; latest: AnchoringState } } }
  | { found: false };

export interface OpenFormInput {
  invoiceKey: Hex;
  formId: string;
  reasonCode: '01' | '02' | '03' | '04';
  lines: RedFormLine[];
}

const READER_ROLES = ['issuer', 'buyer', 'court', 'auditor'] as const;

export class InvoiceService {
  readonly rules: InvoiceRules;
  /**
   * The service's notion of "now" (future issue times in validation, effective form status in views).
   * Acceptance times come from the sequencer's own clock. Tests move both; production never does.
   */
  clock: () => Date = () => new Date();
  private readonly queues = new Map<string, Promise<void>>();

  constructor(private readonly deps: InvoiceServiceDeps, opts: InvoiceServiceOptions = {}) {
    const fromConfig = deps.config?.usccLegacyExceptions ? { legacyUsccExceptions: deps.config.usccLegacyExceptions } : {};
    this.rules = opts.ruleSet ?? createInvoiceRules({ ...fromConfig, ...(opts.rules ?? {}) });
  }

  /** validateInvoice with the node's rule options and the current time (the lifecycle reuses the result). */
  validate(body: unknown): ValidateResult {
    return this.rules.validate(body, this.clock());
  }

  // ---- issuing ---------------------------------------------------------------------------

  /**
   * Registers a validated invoice. Blue: one `invoice.issued`. Red: the reversal entry on the blue
   * key and the red invoice's own `invoice.issued`, all-or-nothing. Identical re-submission answers
   * with the existing record; same key with different content appends `invoice.conflict-refused` and
   * throws INVOICE_KEY_CONFLICT (details.auditIndex names the audit entry).
   */
  async issue(v: ValidInvoice, actor: Actor, extraOps: BatchOp[] = []): Promise<IssueResult> {
    this.checkIssuer(v, actor);
    return this.serial(v.invoiceKey, () => (v.invoice.colour === 'RED' ? this.issueRed(v, actor, extraOps) : this.issueBlue(v, actor, extraOps)));
  }

  /** Throws unless `actor` is an issuer granted the invoice's seller tax id. */
  checkIssuer(v: ValidInvoice, actor: Actor): void {
    const seller = v.invoice.seller.taxId!;
    if (actor.role !== 'issuer') throw new DomainError('ROLE_FORBIDDEN', `role ${actor.role} may not issue invoices; needs issuer`, { role: actor.role, needed: 'issuer' });
    if (!(actor.taxIds ?? []).includes(seller)) {
      throw new DomainError('SCOPE_FORBIDDEN', `this issuer key is not granted seller tax id ${seller}`, { party: 'seller', path: ['seller', 'taxId'] });
    }
  }

  /** The reason code of a registered red-letter form (undefined when no such form exists). */
  async formReason(formId: string): Promise<RedFormState['reasonCode'] | undefined> {
    const key = await this.formOwner(formId);
    if (key === undefined) return undefined;
    const state = await this.deps.sequencer.getState<InvoiceState>(key);
    return state?.forms.find((f) => f.formId === formId)?.reasonCode;
  }

  private async issueBlue(v: ValidInvoice, actor: Actor, extraOps: BatchOp[]): Promise<IssueResult> {
    const key = v.invoiceKey;
    try {
      const a = await this.deps.sequencer.submit(this.issuedRequest(v, actor, extraOps));
      return { outcome: 'created', invoiceKey: key, index: a.index, receipt: a.receipt, status: (a.state as InvoiceState).status };
    } catch (err) {
      if (err instanceof DomainError && err.code === 'INVOICE_DUPLICATE') return this.existing(key);
      if (err instanceof DomainError && err.code === 'INVOICE_KEY_CONFLICT') {
        throw await this.recordConflict(key, err.details.existingDigest as Hex, err.details.attemptedDigest as Hex, actor);
      }
      throw err;
    }
  }

  private async issueRed(v: ValidInvoice, actor: Actor, extraOps: BatchOp[]): Promise<IssueResult> {
    const red = v.invoice;
    const redKey = v.invoiceKey;
    const already = await this.classifyExisting(redKey, red, actor);
    if (already) return already;
    const blueKey = invoiceKey(red.seller.taxId!, red.invoiceKind, red.red!.originalInvoiceNumber);
    // The reversal kind depends on the blue state; a racing reversal can change it between this read
    // and the append (the rules then refuse with REVERSAL_KIND_MISMATCH), so re-read and retry.
    for (let attempt = 0; ; attempt++) {
      const blue = await this.deps.sequencer.getState<InvoiceState>(blueKey);
      if (!blue) {
        throw new DomainError('INVOICE_NOT_FOUND', `no blue invoice ${red.red!.originalInvoiceNumber} of seller ${red.seller.taxId} (key ${blueKey}) is registered`, { path: ['red', 'originalInvoiceNumber'] });
      }
      const kind = reversalKind(blue, red);
      try {
        const [rev, own] = await this.deps.sequencer.submitAll([
          { kind, subject: blueKey, record: red as unknown as Record<string, unknown>, actor, ...(v.recordDigest ? { recordDigest: v.recordDigest } : {}) },
          this.issuedRequest(v, actor, extraOps),
        ]);
        const blueState = rev!.state as InvoiceState;
        return {
          outcome: 'created',
          invoiceKey: redKey,
          index: own!.index,
          receipt: own!.receipt,
          status: (own!.state as InvoiceState).status,
          reversal: { invoiceKey: blueKey, kind, index: rev!.index, receipt: rev!.receipt, status: blueState.status },
        };
      } catch (err) {
        if (err instanceof DomainError && err.code === 'REVERSAL_KIND_MISMATCH' && attempt < 3) continue;
        throw err;
      }
    }
  }

  /** `extraOps`: written in the same atomic, durable batch as the entry (e.g. the original XML bytes). */
  private issuedRequest(v: ValidInvoice, actor: Actor, extraOps: BatchOp[] = []): SubmitRequest {
    const number = v.invoice.invoiceNumber;
    const key = v.invoiceKey;
    return {
      kind: 'invoice.issued',
      subject: key,
      record: v.invoice as unknown as Record<string, unknown>,
      actor,
      ...(v.recordDigest ? { recordDigest: v.recordDigest } : {}),
      extraOps: () => [{ type: 'put', key: `${BY_NUMBER}${number}!${key}`, value: '', valueEncoding: 'utf8' } as BatchOp, ...extraOps],
    };
  }

  /** For a key already registered: the existing answer (identical) or the conflict (recorded, thrown). */
  private async classifyExisting(key: Hex, invoice: Invoice, actor: Actor): Promise<IssueResult | null> {
    const state = await this.deps.sequencer.getState<InvoiceState>(key);
    if (!state) return null;
    const c = classifyIssue(state, invoice);
    if (c.outcome === 'duplicate') return this.existing(key);
    throw await this.recordConflict(key, state.contentDigest, c.digest, actor);
  }

  private async existing(key: Hex): Promise<IssueResult> {
    const [state, indexes] = await Promise.all([this.deps.sequencer.getState<InvoiceState>(key), this.deps.sequencer.subjectIndexes(key)]);
    const first = indexes[0];
    const receipt = first === undefined ? undefined : await this.deps.sequencer.getReceipt(first);
    if (!state || first === undefined || !receipt) throw new Error(`invoice ${key} has a state but no stored invoice.issued record`);
    return { outcome: 'duplicate', invoiceKey: key, index: first, receipt, status: state.status };
  }

  /** Appends the audit entry for "same key, different content" and returns the error to throw. */
  private async recordConflict(key: Hex, existingDigest: Hex, attemptedDigest: Hex, actor: Actor): Promise<DomainError> {
    const a = await this.deps.sequencer.submit({ kind: 'invoice.conflict-refused', subject: key, record: { invoiceKey: key, existingDigest, attemptedDigest }, actor });
    return new DomainError('INVOICE_KEY_CONFLICT', `invoice ${key} is already registered with different content; the attempt is recorded at log index ${a.index}`, {
      invoiceKey: key,
      existingDigest,
      attemptedDigest,
      auditIndex: a.index,
    });
  }

  // ---- buyer transitions -----------------------------------------------------------------

  reimbursement(key: Hex, action: 'lock' | 'unlock' | 'close', actor: Actor): Promise<TransitionResult> {
    const kind = { lock: 'invoice.reimbursement-locked', unlock: 'invoice.reimbursement-unlocked', close: 'invoice.reimbursement-closed' }[action];
    return this.buyerTransition(key, kind, actor);
  }

  use(key: Hex, action: 'confirm-use' | 'book', actor: Actor): Promise<TransitionResult> {
    return this.buyerTransition(key, action === 'book' ? 'invoice.booked' : 'invoice.use-confirmed', actor);
  }

  private async buyerTransition(key: Hex, kind: string, actor: Actor): Promise<TransitionResult> {
    if (actor.role !== 'buyer') throw new DomainError('ROLE_FORBIDDEN', `role ${actor.role} may not do this; needs buyer`, { role: actor.role, needed: 'buyer' });
    // Out of scope reads as unknown; the record names the invoice's buyer, and the rules check it
    // again against the state at append time and against the key.
    const state = await this.needInScope(key, actor);
    const a = await this.deps.sequencer.submit({ kind, subject: key, record: { invoiceKey: key, buyerTaxId: state.buyerTaxId ?? '' }, actor });
    const s = a.state as InvoiceState;
    return { invoiceKey: key, kind, index: a.index, receipt: a.receipt, status: s.status, use: s.use, reimbursement: s.reimbursement };
  }

  // ---- red-letter forms --------------------------------------------------------------------

  /** Opens a form: the seller's issuer (initiator SELLER) or the buyer (BUYER). Form ids are unique across invoices. */
  openForm(input: OpenFormInput, actor: Actor): Promise<FormResult> {
    return this.serial(`form:${input.formId}`, async () => {
      const state = await this.needInScope(input.invoiceKey, actor);
      const party = this.partyOf(actor, state);
      const owner = await this.formOwner(input.formId);
      if (owner !== undefined) throw new DomainError('RED_FORM_EXISTS', `red-letter form ${input.formId} already exists`, { path: ['formId'] });
      const record = {
        invoiceKey: input.invoiceKey,
        formId: input.formId,
        initiator: party.initiator,
        initiatorTaxId: party.taxId,
        reasonCode: input.reasonCode,
        lines: input.lines.map((l) => ({ originalLineNo: l.originalLineNo, amountFen: l.amountFen, taxAmountFen: l.taxAmountFen })),
      };
      const a = await this.deps.sequencer.submit({
        kind: 'invoice.red-form-opened',
        subject: input.invoiceKey,
        record,
        actor,
        extraOps: () => [{ type: 'put', key: BY_FORM + input.formId, value: input.invoiceKey, valueEncoding: 'utf8' } as BatchOp],
      });
      return this.formResult(a, input.formId);
    });
  }

  /** confirm / reject (the counterparty) or withdraw (the initiator). */
  formAction(formId: string, action: 'confirm' | 'reject' | 'withdraw', actor: Actor): Promise<FormResult> {
    return this.serial(`form:${formId}`, async () => {
      // Scope first: a key that is neither party of the form's invoice learns nothing about the form
      // (not its state, not that it exists): the same answer as for an unknown id.
      const unknown = () => new DomainError('RED_FORM_NOT_FOUND', `no red-letter form ${formId}`, { path: ['formId'] });
      const key = await this.formOwner(formId);
      if (key === undefined) throw unknown();
      const state = await this.needInScope(key, actor, unknown);
      const party = this.partyOf(actor, state);
      const kind = { confirm: 'invoice.red-form-confirmed', reject: 'invoice.red-form-rejected', withdraw: 'invoice.red-form-withdrawn' }[action];
      try {
        const a = await this.deps.sequencer.submit({ kind, subject: key, record: { invoiceKey: key, formId, partyTaxId: party.taxId }, actor });
        return this.formResult(a, formId);
      } catch (err) {
        if (err instanceof DomainError && err.code === 'RED_FORM_EXPIRED') await this.recordExpiry(key, formId);
        throw err;
      }
    });
  }

  /**
   * Expiry is lazy in the rules; the first refusal past the deadline also writes the explicit
   * `invoice.red-form-expired` entry (node actor) so the log itself shows it. Best effort: the
   * refusal stands either way.
   */
  private async recordExpiry(key: Hex, formId: string): Promise<void> {
    const s = await this.deps.sequencer.getState<InvoiceState>(key);
    const f = s?.forms.find((x) => x.formId === formId);
    if (!f || (f.status !== 'pending-buyer' && f.status !== 'pending-seller')) return;
    await this.deps.sequencer.submit({ kind: 'invoice.red-form-expired', subject: key, record: { invoiceKey: key, formId }, actor: null }).catch(() => undefined);
  }

  private formResult(a: Accepted, formId: string): FormResult {
    const s = a.state as InvoiceState;
    const f = s.forms.find((x) => x.formId === formId)!;
    return { invoiceKey: a.subject as Hex, kind: a.kind, index: a.index, receipt: a.receipt, formId, formStatus: f.status, deadline: f.deadline ?? null };
  }

  private formOwner(formId: string): Promise<Hex | undefined> {
    return this.deps.db.get(BY_FORM + formId, { valueEncoding: 'utf8' }) as Promise<Hex | undefined>;
  }

  /** Which side of the invoice a key acts for: issuer keys for the seller, buyer keys for the buyer. */
  private partyOf(actor: Actor, state: InvoiceState): { initiator: 'SELLER' | 'BUYER'; taxId: string } {
    if (actor.role === 'issuer') return { initiator: 'SELLER', taxId: state.sellerTaxId };
    if (actor.role === 'buyer') return { initiator: 'BUYER', taxId: state.buyerTaxId ?? '' };
    throw new DomainError('ROLE_FORBIDDEN', `role ${actor.role} may not act on red-letter forms; needs issuer or buyer`, { role: actor.role });
  }

  // ---- reads -------------------------------------------------------------------------------

  private async need(key: string): Promise<InvoiceState> {
    const s = await this.deps.sequencer.getState<InvoiceState>(key);
    if (!s || typeof s !== 'object' || (s as { v?: unknown }).v !== 1 || !('invoiceNumber' in s)) throw invoiceNotFound(key);
    return s;
  }

  /**
   * The state, for a key whose scope covers the invoice: an issuer key granted the seller's tax id, a
   * buyer key granted the buyer's, a court or auditor key. Any other key is answered exactly as for
   * an invoice never registered, before anything else about the invoice is looked at.
   */
  private async needInScope(key: string, actor: Actor, notFound: () => DomainError = () => invoiceNotFound(key)): Promise<InvoiceState> {
    const s = await this.need(key).catch((err: unknown) => Promise.reject(err instanceof DomainError && err.code === 'INVOICE_NOT_FOUND' ? notFound() : err));
    if (!inScope(actor, s)) throw notFound();
    return s;
  }

  /** Readers: the seller's issuer, the invoice's buyer, courts and auditors. */
  checkReader(state: InvoiceState, actor: Actor): void {
    if (!(READER_ROLES as readonly string[]).includes(actor.role)) {
      throw new DomainError('ROLE_FORBIDDEN', `role ${actor.role} may not read invoices; needs ${READER_ROLES.join(', ')}`, { role: actor.role });
    }
    const ids = actor.taxIds ?? [];
    if (actor.role === 'issuer' && !ids.includes(state.sellerTaxId)) throw new DomainError('SCOPE_FORBIDDEN', "only the seller's issuer may read this invoice", { party: 'seller' });
    if (actor.role === 'buyer' && (state.buyerTaxId === null || !ids.includes(state.buyerTaxId))) {
      throw new DomainError('SCOPE_FORBIDDEN', "only the invoice's buyer may read this invoice", { party: 'buyer' });
    }
  }

  async view(key: Hex, actor: Actor): Promise<InvoiceView> {
    const state = await this.needInScope(key, actor);
    this.checkReader(state, actor);
    const indexes = await this.deps.sequencer.subjectIndexes(key);
    const records = await Promise.all(indexes.map((i) => this.deps.sequencer.getRecord(i)));
    const issued = records.find((r) => r?.kind === 'invoice.issued');
    if (!issued?.record) throw new Error(`invoice ${key} has no stored invoice.issued record`);
    const now = this.clock();
    const anchored = this.deps.anchorer.status().anchored;
    const events = records.map((r, j) => {
      if (!r) throw new Error(`record ${indexes[j]} of invoice ${key} is missing`);
      return { kind: r.kind, index: r.index, at: (r.entry as LogEntry).at, anchoring: anchoringOf(r.index, anchored) };
    });
    return {
      invoiceKey: key,
      invoice: issued.record as unknown as Invoice,
      state: { ...state, forms: state.forms.map((f) => ({ ...f, status: effectiveFormStatus(f, now) })) },
      events,
    };
  }

  async bundle(key: Hex, actor: Actor): Promise<Bundle> {
    const state = await this.needInScope(key, actor);
    this.checkReader(state, actor);
    return this.deps.bundle('invoice', key);
  }

  /** A status proof for the invoice (the same readers as its bundle). */
  async statusProof(key: Hex, actor: Actor): Promise<StatusProof> {
    const state = await this.needInScope(key, actor);
    this.checkReader(state, actor);
    return this.proofOf(key);
  }

  /**
   * The public status proof: found by number + date + total exactly like the public check (one answer for
   * "not found" and "fields differ"), and it holds only the key, its subject link, the state leaf (status
   * fields) and the proofs: no names, tax ids or amounts.
   */
  async publicStatusProof(q: PublicQuery): Promise<{ found: true; proof: StatusProof } | { found: false }> {
    const answer = await this.publicCheck(q);
    if (!answer.found) return { found: false };
    return { found: true, proof: await this.proofOf(answer.invoice.invoiceKey) };
  }

  private proofOf(key: Hex): Promise<StatusProof> {
    if (!this.deps.statusProof) throw new DomainError('STATE_MAP_DISABLED', 'this node serves no status proofs');
    return this.deps.statusProof('invoice', key);
  }

  /** The public check: status and anchoring only; the same `{found: false}` for "no such number" and "fields differ". */
  async publicCheck(q: PublicQuery): Promise<PublicAnswer> {
    const prefix = `${BY_NUMBER}${q.number}!`;
    const keys: string[] = [];
    for await (const k of this.deps.db.keys({ gte: prefix, lt: prefix + '\xff' })) keys.push(k.slice(prefix.length));
    const states = (await Promise.all(keys.map((k) => this.deps.sequencer.getState<InvoiceState>(k)))).filter((s): s is InvoiceState => s !== undefined);
    const answer = publicCheck(states, q);
    if (!answer.found) return { found: false };
    const indexes = await this.deps.sequencer.subjectIndexes(answer.invoice.invoiceKey);
    const anchored = this.deps.anchorer.status().anchored;
    return {
      found: true,
      invoice: { ...answer.invoice, anchoring: { registration: anchoringOf(indexes[0] ?? 0, anchored), latest: anchoringOf(indexes[indexes.length - 1] ?? 0, anchored) } },
    };
  }

  // ---- helpers -----------------------------------------------------------------------------

  /** Runs fn after every earlier fn queued under the same name (in-process; one node is one sequencer). */
  private serial<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(name) ?? Promise.resolve();
    const run = prev.then(fn);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(name, tail);
    void tail.then(() => {
      if (this.queues.get(name) === tail) this.queues.delete(name);
    });
    return run;
  }
}

function anchoringOf(index: number, anchored: ReturnType<Anchorer['status']>['anchored']): AnchoringState {
  if (!anchored || index >= anchored.treeSize) return { state: 'pending', checkpoint: null };
  return {
    state: 'anchored',
    checkpoint: { treeSize: anchored.treeSize, rootHash: anchored.rootHash, txHash: anchored.txHash, blockNumber: anchored.blockNumber, timestamp: anchored.timestamp },
  };
}

const services = new WeakMap<object, InvoiceService>();

/**
 * One service per ledger (the router and tests share it, e.g. to move its clock in a test): a Ledger's
 * own `ledger.invoices`; for other deps (a test's hand-made ones), one kept per object.
 */
export function invoiceServiceFor(ledger: InvoiceServiceDeps & { invoices?: unknown }): InvoiceService {
  if (ledger.invoices instanceof InvoiceService) return ledger.invoices;
  let s = services.get(ledger);
  if (!s) {
    s = new InvoiceService(ledger);
    services.set(ledger, s);
  }
  return s;
}

function invoiceNotFound(key: string): DomainError {
  return new DomainError('INVOICE_NOT_FOUND', `no invoice is registered under ${key}`);
}

/** Whether a key's scope covers an invoice (see needInScope). */
function inScope(actor: Actor, s: InvoiceState): boolean {
  const ids = actor.taxIds ?? [];
  if (actor.role === 'issuer') return ids.includes(s.sellerTaxId);
  if (actor.role === 'buyer') return s.buyerTaxId !== null && ids.includes(s.buyerTaxId);
  return actor.role === 'court' || actor.role === 'auditor';
}
