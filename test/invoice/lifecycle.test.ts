/** The invoice lifecycle rules (docs/invoice.md "Entries and records"): every rule's allowed and refused path, with explicit times. */
import { describe, expect, it } from 'vitest';
import { recordDigest } from '../../node/protocol';
import {
  classifyIssue, reversalKind, type Invoice, type InvoiceInput, type InvoiceRuleOptions,
} from '../../node/invoice';
import { Ledger, T0, hoursAfter, refused } from './harness';
import {
  BUYER_TAX_ID, OTHER_TAX_ID, SELLER_TAX_ID, buyerActor, issuerActor, sampleInvoice, sampleInvoiceWithLines, sampleLine,
  sampleRedFormRecord, sampleRedInvoice, type RedOptions,
} from './fixtures';

function setup(body: InvoiceInput = sampleInvoice(), opts: InvoiceRuleOptions = {}) {
  const L = new Ledger(opts);
  const v = L.rules.validate(body);
  if (!v.ok) throw new Error(JSON.stringify(v.problems));
  L.apply('invoice.issued', v.invoiceKey, v.invoice, T0, issuerActor());
  return { L, key: v.invoiceKey, blue: v.invoice };
}

function red(L: Ledger, blue: Invoice, opts: RedOptions): { inv: Invoice; key: `0x${string}` } {
  const v = L.rules.validate(sampleRedInvoice(blue, opts));
  if (!v.ok) throw new Error(JSON.stringify(v.problems));
  return { inv: v.invoice, key: v.invoiceKey };
}

const buyerRec = (key: string, buyerTaxId = BUYER_TAX_ID) => ({ invoiceKey: key, buyerTaxId });
const formAct = (key: string, formId: string, partyTaxId: string) => ({ invoiceKey: key, formId, partyTaxId });

function issueRed(L: Ledger, blueKey: string, r: { inv: Invoice; key: string }, at: Date) {
  const kind = reversalKind(L.state(blueKey), r.inv);
  const blue = L.apply(kind, blueKey, r.inv, at, issuerActor());
  const own = L.apply('invoice.issued', r.key, r.inv, at, issuerActor());
  return { blue, own, kind };
}

describe('issue', () => {
  it('registers a blue invoice for a seller the issuer is granted', () => {
    const { L, key } = setup();
    const s = L.state(key);
    expect(s).toMatchObject({ colour: 'BLUE', status: 'issued', use: 'none', reimbursement: 'init', sellerTaxId: SELLER_TAX_ID, buyerTaxId: BUYER_TAX_ID, issueDate: '2025-03-01', totalWithTaxFen: 106000, events: 1 });
    expect(s.contentDigest).toBe(recordDigest(sampleInvoice()));
  });

  it('refuses an issuer outside its seller scope, and other roles', () => {
    const L = new Ledger();
    const v = L.rules.validate(sampleInvoice());
    if (!v.ok) throw new Error('invalid');
    refused(() => L.apply('invoice.issued', v.invoiceKey, v.invoice, T0, issuerActor([OTHER_TAX_ID])), 'SCOPE_FORBIDDEN');
    refused(() => L.apply('invoice.issued', v.invoiceKey, v.invoice, T0, buyerActor([SELLER_TAX_ID])), 'ROLE_FORBIDDEN');
    refused(() => L.apply('invoice.issued', '0x' + '00'.repeat(32), v.invoice, T0, issuerActor()), 'SUBJECT_MISMATCH');
    // Accepted an hour before the invoice's own issue time: refused (5 minutes of skew allowed).
    refused(() => L.apply('invoice.issued', v.invoiceKey, v.invoice, new Date('2025-03-01T01:00:00Z'), issuerActor()), 'INVOICE_INVALID');
    expect(L.apply('invoice.issued', v.invoiceKey, v.invoice, new Date('2025-03-01T01:56:00Z'), issuerActor()).status).toBe('issued');
  });

  it('one key, one issue: identical is a duplicate, different content a conflict kept as an audit event', () => {
    const { L, key } = setup();
    const same = L.rules.validate(sampleInvoice());
    const other = L.rules.validate(sampleInvoice({ drawer: '李四' }));
    if (!same.ok || !other.ok) throw new Error('invalid');
    expect(classifyIssue(L.state(key), same.invoice).outcome).toBe('duplicate');
    expect(classifyIssue(L.state(key), other.invoice).outcome).toBe('conflict');
    expect(classifyIssue(undefined, other.invoice).outcome).toBe('new');
    refused(() => L.apply('invoice.issued', key, same.invoice, hoursAfter(1), issuerActor()), 'INVOICE_DUPLICATE');
    const err = refused(() => L.apply('invoice.issued', key, other.invoice, hoursAfter(1), issuerActor()), 'INVOICE_KEY_CONFLICT');
    const attemptedDigest = err.details.attemptedDigest as string;
    const s = L.apply('invoice.conflict-refused', key, { invoiceKey: key, existingDigest: L.state(key).contentDigest, attemptedDigest }, hoursAfter(1), null);
    expect(s.conflictsRefused).toBe(1);
    refused(() => L.apply('invoice.conflict-refused', key, { invoiceKey: key, existingDigest: attemptedDigest, attemptedDigest }, hoursAfter(1), null), 'RECORD_INVALID');
  });

  it('re-validates raw records (replay) and refuses what validation refuses', () => {
    const L = new Ledger();
    const body = structuredClone(sampleInvoice());
    const key = L.rules.validate(body).ok ? (L.rules.validate(body) as { invoiceKey: string }).invoiceKey : '';
    expect(L.apply('invoice.issued', key, structuredClone(body), T0, null).status).toBe('issued');
    const bad = { ...sampleInvoice({ invoiceNumber: '25512000000000000002' }), totalWithTaxFen: 1 };
    const e = refused(() => L.apply('invoice.issued', key, bad, T0, null), 'INVOICE_INVALID');
    expect(e.details.problems).toContainEqual(expect.objectContaining({ path: ['totalWithTaxFen'] }));
  });

  it('keeps the legacy USCC flag on the state', () => {
    const { L, key } = setup(sampleInvoice({ buyer: { name: '福建', taxId: '91350100M0001TGQXM', taxIdScheme: 'USCC' } }));
    expect(L.state(key).flags).toEqual(['legacy_uscc_exception:buyer.taxId']);
  });

  it('refuses lifecycle entries for an unknown invoice', () => {
    const L = new Ledger();
    const key = '0x' + '11'.repeat(32);
    refused(() => L.apply('invoice.reimbursement-locked', key, buyerRec(key), T0, buyerActor()), 'INVOICE_NOT_FOUND');
    refused(() => L.apply('invoice.nonsense', key, {}, T0, null), 'UNKNOWN_KIND');
  });
});

describe('reimbursement: lock → close | unlock, by the buyer organisation only', () => {
  it('allows lock, unlock, lock, close', () => {
    const { L, key } = setup();
    expect(L.apply('invoice.reimbursement-locked', key, buyerRec(key), hoursAfter(1), buyerActor()).reimbursement).toBe('locked');
    expect(L.apply('invoice.reimbursement-unlocked', key, buyerRec(key), hoursAfter(2), buyerActor()).reimbursement).toBe('init');
    expect(L.apply('invoice.reimbursement-locked', key, buyerRec(key), hoursAfter(3), buyerActor()).reimbursement).toBe('locked');
    expect(L.apply('invoice.reimbursement-closed', key, buyerRec(key), hoursAfter(4), buyerActor()).reimbursement).toBe('closed');
  });

  it('refuses a second lock, a second close, and anything after close', () => {
    const { L, key } = setup();
    refused(() => L.apply('invoice.reimbursement-closed', key, buyerRec(key), hoursAfter(1), buyerActor()), 'REIMBURSEMENT_NOT_LOCKED');
    refused(() => L.apply('invoice.reimbursement-unlocked', key, buyerRec(key), hoursAfter(1), buyerActor()), 'REIMBURSEMENT_NOT_LOCKED');
    L.apply('invoice.reimbursement-locked', key, buyerRec(key), hoursAfter(1), buyerActor());
    refused(() => L.apply('invoice.reimbursement-locked', key, buyerRec(key), hoursAfter(1), buyerActor()), 'REIMBURSEMENT_LOCKED');
    L.apply('invoice.reimbursement-closed', key, buyerRec(key), hoursAfter(2), buyerActor());
    refused(() => L.apply('invoice.reimbursement-closed', key, buyerRec(key), hoursAfter(3), buyerActor()), 'REIMBURSEMENT_CLOSED');
    refused(() => L.apply('invoice.reimbursement-locked', key, buyerRec(key), hoursAfter(3), buyerActor()), 'REIMBURSEMENT_CLOSED');
    refused(() => L.apply('invoice.reimbursement-unlocked', key, buyerRec(key), hoursAfter(3), buyerActor()), 'REIMBURSEMENT_CLOSED');
  });

  it('of 50 serialised lock attempts exactly one wins', () => {
    const { L, key } = setup();
    let wins = 0;
    for (let i = 0; i < 50; i++) {
      try {
        L.apply('invoice.reimbursement-locked', key, buyerRec(key), hoursAfter(1), buyerActor());
        wins++;
      } catch (err) {
        expect((err as { code: string }).code).toBe('REIMBURSEMENT_LOCKED');
      }
    }
    expect(wins).toBe(1);
  });

  it('refuses other companies, other roles and records naming another buyer', () => {
    const { L, key } = setup();
    refused(() => L.apply('invoice.reimbursement-locked', key, buyerRec(key), hoursAfter(1), buyerActor([OTHER_TAX_ID])), 'SCOPE_FORBIDDEN');
    refused(() => L.apply('invoice.reimbursement-locked', key, buyerRec(key, OTHER_TAX_ID), hoursAfter(1), buyerActor([OTHER_TAX_ID])), 'SCOPE_FORBIDDEN');
    refused(() => L.apply('invoice.reimbursement-locked', key, buyerRec(key, OTHER_TAX_ID), hoursAfter(1), null), 'SCOPE_FORBIDDEN');
    refused(() => L.apply('invoice.reimbursement-locked', key, buyerRec(key), hoursAfter(1), issuerActor([BUYER_TAX_ID])), 'ROLE_FORBIDDEN');
    refused(() => L.apply('invoice.reimbursement-locked', key, { ...buyerRec(key), extra: 1 }, hoursAfter(1), buyerActor()), 'RECORD_INVALID');
    refused(() => L.apply('invoice.reimbursement-locked', key, buyerRec('0x' + '22'.repeat(32)), hoursAfter(1), buyerActor()), 'SUBJECT_MISMATCH');
    // A natural-person buyer has no organisation that could lock.
    const np = setup(sampleInvoice({ buyer: { name: '李四', taxIdScheme: 'OTHER', isNaturalPerson: true } }));
    refused(() => np.L.apply('invoice.reimbursement-locked', np.key, buyerRec(np.key), hoursAfter(1), buyerActor()), 'SCOPE_FORBIDDEN');
  });
});

describe('buyer use / booking confirmation', () => {
  it('confirm use then book; each once', () => {
    const { L, key } = setup();
    expect(L.apply('invoice.use-confirmed', key, buyerRec(key), hoursAfter(1), buyerActor()).use).toBe('use-confirmed');
    refused(() => L.apply('invoice.use-confirmed', key, buyerRec(key), hoursAfter(2), buyerActor()), 'USE_ALREADY_CONFIRMED');
    expect(L.apply('invoice.booked', key, buyerRec(key), hoursAfter(2), buyerActor()).use).toBe('booked');
    refused(() => L.apply('invoice.booked', key, buyerRec(key), hoursAfter(3), buyerActor()), 'USE_ALREADY_BOOKED');
    refused(() => L.apply('invoice.use-confirmed', key, buyerRec(key), hoursAfter(3), buyerActor()), 'USE_ALREADY_BOOKED');
  });
  it('book directly; only the buyer', () => {
    const { L, key } = setup();
    refused(() => L.apply('invoice.booked', key, buyerRec(key), hoursAfter(1), issuerActor()), 'ROLE_FORBIDDEN');
    expect(L.apply('invoice.booked', key, buyerRec(key), hoursAfter(1), buyerActor()).use).toBe('booked');
  });
});

describe('red-letter forms and red invoices', () => {
  it('seller alone reverses an unused invoice in full; afterwards only allowed transitions', () => {
    const { L, key, blue } = setup();
    L.apply('invoice.reimbursement-locked', key, buyerRec(key), hoursAfter(0.5), buyerActor());
    L.apply('invoice.reimbursement-unlocked', key, buyerRec(key), hoursAfter(0.6), buyerActor());
    const r = red(L, blue, { confirmationNumber: '51010825030200000001' });
    const opened = L.apply('invoice.red-form-opened', key, sampleRedFormRecord(r.inv), hoursAfter(1), issuerActor());
    expect(opened.forms[0]).toMatchObject({ status: 'no-confirm-needed', initiator: 'SELLER' });
    expect(opened.forms[0]!.deadline).toBeUndefined();
    refused(() => L.apply('invoice.partially-reversed', key, r.inv, hoursAfter(2), issuerActor()), 'REVERSAL_KIND_MISMATCH');
    const { blue: after, own, kind } = issueRed(L, key, r, hoursAfter(2));
    expect(kind).toBe('invoice.reversed');
    expect(after.status).toBe('fully-reversed');
    expect(after.forms[0]).toMatchObject({ status: 'used', redInvoiceKey: r.key });
    expect(after.reversals).toEqual([expect.objectContaining({ redInvoiceKey: r.key, totalWithTaxFen: -106000, formId: '51010825030200000001' })]);
    expect(own).toMatchObject({ colour: 'RED', parentKey: key, totalWithTaxFen: -106000 });
    // A red invoice has no lifecycle of its own.
    refused(() => L.apply('invoice.reimbursement-locked', r.key, buyerRec(r.key), hoursAfter(3), buyerActor()), 'INVOICE_NOT_BLUE');
    // Nothing but the allowed transitions after full reversal.
    for (const kind of ['invoice.reimbursement-locked', 'invoice.booked', 'invoice.use-confirmed']) {
      refused(() => L.apply(kind, key, buyerRec(key), hoursAfter(3), buyerActor()), 'INVOICE_FULLY_REVERSED');
    }
    refused(() => L.apply('invoice.red-form-opened', key, { ...sampleRedFormRecord(r.inv), formId: 'FTZ-2' }, hoursAfter(3), issuerActor()), 'INVOICE_FULLY_REVERSED');
    refused(() => L.apply('invoice.reversed', key, r.inv, hoursAfter(3), issuerActor()), 'INVOICE_FULLY_REVERSED');
    expect(L.apply('invoice.conflict-refused', key, { invoiceKey: key, existingDigest: after.contentDigest, attemptedDigest: '0x' + '33'.repeat(32) }, hoursAfter(3), null).conflictsRefused).toBe(1);
  });

  it('a stale lock can still be released after full reversal', () => {
    const { L, key, blue } = setup();
    L.apply('invoice.reimbursement-locked', key, buyerRec(key), hoursAfter(0.5), buyerActor());
    const r = red(L, blue, { confirmationNumber: 'FTZ-1' });
    const f = L.apply('invoice.red-form-opened', key, sampleRedFormRecord(r.inv), hoursAfter(1), issuerActor());
    expect(f.forms[0]!.status).toBe('pending-buyer'); // locked for reimbursement: the buyer must confirm
    L.apply('invoice.red-form-confirmed', key, formAct(key, 'FTZ-1', BUYER_TAX_ID), hoursAfter(2), buyerActor());
    issueRed(L, key, r, hoursAfter(3));
    refused(() => L.apply('invoice.reimbursement-closed', key, buyerRec(key), hoursAfter(4), buyerActor()), 'INVOICE_FULLY_REVERSED');
    expect(L.apply('invoice.reimbursement-unlocked', key, buyerRec(key), hoursAfter(4), buyerActor()).reimbursement).toBe('init');
  });

  it('after use/booking the buyer must confirm; only the counterparty confirms; 72 h deadline', () => {
    const { L, key, blue } = setup();
    L.apply('invoice.booked', key, buyerRec(key), hoursAfter(0.5), buyerActor());
    const r = red(L, blue, { confirmationNumber: 'FTZ-1' });
    const s = L.apply('invoice.red-form-opened', key, sampleRedFormRecord(r.inv), hoursAfter(1), issuerActor());
    expect(s.forms[0]).toMatchObject({ status: 'pending-buyer', deadline: hoursAfter(73).toISOString() });
    refused(() => L.apply('invoice.reversed', key, r.inv, hoursAfter(2), issuerActor()), 'RED_FORM_STATE');
    refused(() => L.apply('invoice.red-form-confirmed', key, formAct(key, 'FTZ-1', SELLER_TAX_ID), hoursAfter(2), issuerActor()), 'SCOPE_FORBIDDEN');
    refused(() => L.apply('invoice.red-form-confirmed', key, formAct(key, 'FTZ-9', BUYER_TAX_ID), hoursAfter(2), buyerActor()), 'RED_FORM_NOT_FOUND');
    // Confirmation exactly at the deadline is still within 72 hours.
    expect(L.apply('invoice.red-form-confirmed', key, formAct(key, 'FTZ-1', BUYER_TAX_ID), hoursAfter(73), buyerActor()).forms[0]!.status).toBe('confirmed');
    refused(() => L.apply('invoice.red-form-confirmed', key, formAct(key, 'FTZ-1', BUYER_TAX_ID), hoursAfter(74), buyerActor()), 'RED_FORM_STATE');
    expect(issueRed(L, key, r, hoursAfter(100)).blue.status).toBe('fully-reversed'); // a confirmed form does not expire
  });

  it('buyer-initiated forms wait for the seller', () => {
    const { L, key, blue } = setup();
    const r = red(L, blue, { confirmationNumber: 'FTZ-1' });
    refused(() => L.apply('invoice.red-form-opened', key, sampleRedFormRecord(r.inv, 'BUYER'), hoursAfter(1), issuerActor()), 'ROLE_FORBIDDEN');
    expect(L.apply('invoice.red-form-opened', key, sampleRedFormRecord(r.inv, 'BUYER'), hoursAfter(1), buyerActor()).forms[0]!.status).toBe('pending-seller');
    refused(() => L.apply('invoice.red-form-confirmed', key, formAct(key, 'FTZ-1', BUYER_TAX_ID), hoursAfter(2), buyerActor()), 'SCOPE_FORBIDDEN');
    expect(L.apply('invoice.red-form-confirmed', key, formAct(key, 'FTZ-1', SELLER_TAX_ID), hoursAfter(2), issuerActor()).forms[0]!.status).toBe('confirmed');
  });

  it('72-hour expiry: refused before, recorded after, evaluated lazily in between', () => {
    const { L, key, blue } = setup();
    L.apply('invoice.use-confirmed', key, buyerRec(key), hoursAfter(0.5), buyerActor());
    const r = red(L, blue, { confirmationNumber: 'FTZ-1' });
    L.apply('invoice.red-form-opened', key, sampleRedFormRecord(r.inv), hoursAfter(1), issuerActor());
    const deadline = hoursAfter(73);
    refused(() => L.apply('invoice.red-form-expired', key, { invoiceKey: key, formId: 'FTZ-1' }, hoursAfter(72.9), null), 'RED_FORM_NOT_EXPIRED');
    refused(() => L.apply('invoice.red-form-expired', key, { invoiceKey: key, formId: 'FTZ-1' }, deadline, null), 'RED_FORM_NOT_EXPIRED');
    const late = new Date(deadline.getTime() + 1);
    // Lazily expired: confirmation refused although no expiry entry was written yet.
    refused(() => L.apply('invoice.red-form-confirmed', key, formAct(key, 'FTZ-1', BUYER_TAX_ID), late, buyerActor()), 'RED_FORM_EXPIRED');
    refused(() => L.apply('invoice.red-form-withdrawn', key, formAct(key, 'FTZ-1', SELLER_TAX_ID), late, issuerActor()), 'RED_FORM_EXPIRED');
    // ... and it no longer blocks a new form over the same lines.
    const r2 = red(L, blue, { confirmationNumber: 'FTZ-2', invoiceNumber: '25518000000000000002' });
    expect(L.apply('invoice.red-form-opened', key, sampleRedFormRecord(r2.inv), late, issuerActor()).forms).toHaveLength(2);
    refused(() => L.apply('invoice.red-form-expired', key, { invoiceKey: key, formId: 'FTZ-1' }, late, buyerActor()), 'ROLE_FORBIDDEN');
    const s = L.apply('invoice.red-form-expired', key, { invoiceKey: key, formId: 'FTZ-1' }, late, null);
    expect(s.forms[0]).toMatchObject({ status: 'expired', closedAt: late.toISOString() });
    refused(() => L.apply('invoice.red-form-expired', key, { invoiceKey: key, formId: 'FTZ-2' }, late, null), 'RED_FORM_NOT_EXPIRED');
  });

  it('reject and withdraw: counterparty rejects, initiator withdraws; a closed form cannot be used', () => {
    const { L, key, blue } = setup();
    L.apply('invoice.booked', key, buyerRec(key), hoursAfter(0.5), buyerActor());
    const r1 = red(L, blue, { confirmationNumber: 'FTZ-1' });
    L.apply('invoice.red-form-opened', key, sampleRedFormRecord(r1.inv), hoursAfter(1), issuerActor());
    refused(() => L.apply('invoice.red-form-rejected', key, formAct(key, 'FTZ-1', SELLER_TAX_ID), hoursAfter(2), issuerActor()), 'SCOPE_FORBIDDEN');
    expect(L.apply('invoice.red-form-rejected', key, formAct(key, 'FTZ-1', BUYER_TAX_ID), hoursAfter(2), buyerActor()).forms[0]!.status).toBe('rejected');
    refused(() => L.apply('invoice.reversed', key, r1.inv, hoursAfter(3), issuerActor()), 'RED_FORM_STATE');
    refused(() => L.apply('invoice.red-form-withdrawn', key, formAct(key, 'FTZ-1', SELLER_TAX_ID), hoursAfter(3), issuerActor()), 'RED_FORM_STATE');
    const r2 = red(L, blue, { confirmationNumber: 'FTZ-2' });
    L.apply('invoice.red-form-opened', key, sampleRedFormRecord(r2.inv), hoursAfter(4), issuerActor());
    refused(() => L.apply('invoice.red-form-withdrawn', key, formAct(key, 'FTZ-2', BUYER_TAX_ID), hoursAfter(5), buyerActor()), 'SCOPE_FORBIDDEN');
    L.apply('invoice.red-form-confirmed', key, formAct(key, 'FTZ-2', BUYER_TAX_ID), hoursAfter(5), buyerActor());
    expect(L.apply('invoice.red-form-withdrawn', key, formAct(key, 'FTZ-2', SELLER_TAX_ID), hoursAfter(6), issuerActor()).forms[1]!.status).toBe('withdrawn');
    refused(() => L.apply('invoice.reversed', key, r2.inv, hoursAfter(7), issuerActor()), 'RED_FORM_STATE');
    expect(L.state(key).status).toBe('issued');
  });

  it('partial reversals per line, never more than what remains', () => {
    const { L, key, blue } = setup(sampleInvoiceWithLines(2));
    const r1 = red(L, blue, { confirmationNumber: 'FTZ-1', reverse: [{ lineNo: 1, amountFen: 50000 }] });
    expect(r1.inv.lines[0]).toMatchObject({ amountFen: -50000, taxAmountFen: -3000 });
    L.apply('invoice.red-form-opened', key, sampleRedFormRecord(r1.inv), hoursAfter(1), issuerActor());
    // A second open form over the same line is refused (its sum could overdraw the line).
    const overlap = red(L, blue, { confirmationNumber: 'FTZ-X', reverse: [{ lineNo: 1, amountFen: 10 }] });
    refused(() => L.apply('invoice.red-form-opened', key, sampleRedFormRecord(overlap.inv), hoursAfter(1), issuerActor()), 'RED_FORM_OVERLAP');
    refused(() => L.apply('invoice.red-form-opened', key, sampleRedFormRecord(r1.inv), hoursAfter(1), issuerActor()), 'RED_FORM_EXISTS');
    const first = issueRed(L, key, r1, hoursAfter(2));
    expect(first.kind).toBe('invoice.partially-reversed');
    expect(first.blue.status).toBe('partially-reversed');
    expect(first.blue.lines[0]).toMatchObject({ reversedAmountFen: -50000, reversedTaxFen: -3000 });
    // 50,001 fen on a line with 50,000 remaining.
    const over = red(L, blue, { confirmationNumber: 'FTZ-2', invoiceNumber: '25519000000000000002', reverse: [{ lineNo: 1, amountFen: 50001 }] });
    const e = refused(() => L.apply('invoice.red-form-opened', key, sampleRedFormRecord(over.inv), hoursAfter(3), issuerActor()), 'RED_OVER_REMAINING');
    expect(e.details).toMatchObject({ remainingFen: 50000, path: ['lines', 0, 'amountFen'] });
    // The rest of line 1 and all of line 2: full.
    const r2 = red(L, blue, { confirmationNumber: 'FTZ-3', invoiceNumber: '25519000000000000003', reverse: [{ lineNo: 1, amountFen: 50000, taxAmountFen: 3000 }, { lineNo: 2, amountFen: 100001 }] });
    L.apply('invoice.red-form-opened', key, sampleRedFormRecord(r2.inv), hoursAfter(3), issuerActor());
    const last = issueRed(L, key, r2, hoursAfter(4));
    expect(last.kind).toBe('invoice.reversed');
    expect(last.blue.status).toBe('fully-reversed');
    expect(last.blue.reversals.map((x) => x.totalWithTaxFen)).toEqual([-53000, -159001]);
  });

  it('the last red line takes the remaining tax, so rounding neither strands nor overdraws a fen', () => {
    // 4 fen at 13% = 0.52 → 1 fen tax; reversing 2 fen (0.26 → 0) leaves 2 fen and 1 fen tax.
    const { L, key, blue } = setup(sampleInvoice({ lines: [sampleLine({ amountFen: 4, taxRateBps: 1300 })] }));
    const r1 = red(L, blue, { confirmationNumber: 'FTZ-1', reverse: [{ lineNo: 1, amountFen: 2 }] });
    L.apply('invoice.red-form-opened', key, sampleRedFormRecord(r1.inv), hoursAfter(1), issuerActor());
    issueRed(L, key, r1, hoursAfter(1));
    const rounded = red(L, blue, { confirmationNumber: 'FTZ-2', invoiceNumber: '25519000000000000002', reverse: [{ lineNo: 1, amountFen: 2, taxAmountFen: 0 }] });
    refused(() => L.apply('invoice.red-form-opened', key, sampleRedFormRecord(rounded.inv), hoursAfter(2), issuerActor()), 'RED_TAX_MISMATCH');
    const closing = red(L, blue, { confirmationNumber: 'FTZ-3', invoiceNumber: '25519000000000000003', reverse: [{ lineNo: 1, amountFen: 2, taxAmountFen: 1 }] });
    L.apply('invoice.red-form-opened', key, sampleRedFormRecord(closing.inv), hoursAfter(2), issuerActor());
    expect(issueRed(L, key, closing, hoursAfter(2)).blue.status).toBe('fully-reversed');
  });

  it('refuses a red invoice that differs from its form, reverses another invoice, or comes from the wrong issuer', () => {
    const { L, key, blue } = setup(sampleInvoiceWithLines(2));
    const r = red(L, blue, { confirmationNumber: 'FTZ-1', reverse: [{ lineNo: 1, amountFen: 1000 }] });
    L.apply('invoice.red-form-opened', key, sampleRedFormRecord(r.inv), hoursAfter(1), issuerActor());
    const different = red(L, blue, { confirmationNumber: 'FTZ-1', reverse: [{ lineNo: 1, amountFen: 999 }] });
    refused(() => L.apply('invoice.partially-reversed', key, different.inv, hoursAfter(2), issuerActor()), 'RED_MISMATCH');
    const otherBuyer = L.rules.validate({ ...sampleRedInvoice(blue, { confirmationNumber: 'FTZ-1', reverse: [{ lineNo: 1, amountFen: 1000 }] }), buyer: { name: 'x', taxId: OTHER_TAX_ID, taxIdScheme: 'USCC' } });
    if (!otherBuyer.ok) throw new Error('invalid');
    refused(() => L.apply('invoice.partially-reversed', key, otherBuyer.invoice, hoursAfter(2), issuerActor()), 'RED_MISMATCH');
    refused(() => L.apply('invoice.partially-reversed', key, r.inv, hoursAfter(2), issuerActor([OTHER_TAX_ID])), 'SCOPE_FORBIDDEN');
    refused(() => L.apply('invoice.partially-reversed', key, blue, hoursAfter(2), issuerActor()), 'RED_MISMATCH');
    expect(L.apply('invoice.partially-reversed', key, r.inv, hoursAfter(2), issuerActor()).status).toBe('partially-reversed');
    refused(() => L.apply('invoice.partially-reversed', key, r.inv, hoursAfter(2), issuerActor()), 'RED_DUPLICATE');
  });

  it('reason 01 as full reversal only, when that policy is on', () => {
    const { L, key, blue } = setup(sampleInvoiceWithLines(2), { reason01FullOnly: true });
    const partial = red(L, blue, { confirmationNumber: 'FTZ-1', reasonCode: '01', reverse: [{ lineNo: 1, amountFen: 100000 }] });
    refused(() => L.apply('invoice.red-form-opened', key, sampleRedFormRecord(partial.inv), hoursAfter(1), issuerActor()), 'RED_REASON_FULL_ONLY');
    const full = red(L, blue, { confirmationNumber: 'FTZ-1', reasonCode: '01' });
    expect(L.apply('invoice.red-form-opened', key, sampleRedFormRecord(full.inv), hoursAfter(1), issuerActor()).forms).toHaveLength(1);
  });

  it('flags an invoice reversed after it was reimbursed', () => {
    const { L, key, blue } = setup();
    L.apply('invoice.reimbursement-locked', key, buyerRec(key), hoursAfter(0.1), buyerActor());
    L.apply('invoice.reimbursement-closed', key, buyerRec(key), hoursAfter(0.2), buyerActor());
    const r = red(L, blue, { confirmationNumber: 'FTZ-1' });
    L.apply('invoice.red-form-opened', key, sampleRedFormRecord(r.inv), hoursAfter(1), issuerActor());
    refused(() => L.apply('invoice.reversed', key, r.inv, hoursAfter(2), issuerActor()), 'RED_FORM_STATE');
    L.apply('invoice.red-form-confirmed', key, formAct(key, 'FTZ-1', BUYER_TAX_ID), hoursAfter(2), buyerActor());
    expect(issueRed(L, key, r, hoursAfter(3)).blue.flags).toContain('reimbursed_then_reversed');
  });
});
