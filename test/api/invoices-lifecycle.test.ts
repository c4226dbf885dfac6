/**
 * Every lifecycle rule through HTTP, allowed and refused (docs/invoice.md "Entries and records"): reimbursement lock →
 * close / unlock (the 一票多报 guard, incl. 50 racing locks), use and booking, red-letter forms
 * (seller- and buyer-initiated, confirm / reject / withdraw, overlap, 72-hour expiry with a moved
 * node clock), red invoices (full and partial, never over what remains).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { sampleRedInvoice } from '../invoice/fixtures';
import type { ApiResult, TestLedger } from '../support/ledger';
import type { InvoiceInput } from '../../node/invoice';
import { blue, blueWithLines, formId, invoiceNumber, logSize, setNodeClock, startInvoiceLedger, type Parties } from './invoices-support';

describe('invoice lifecycle through HTTP (real node)', () => {
  let t: TestLedger;
  let k: Parties;
  beforeAll(async () => {
    ({ t, k } = await startInvoiceLedger());
  });
  afterAll(async () => {
    await t?.close();
  });

  async function issue(body: InvoiceInput): Promise<string> {
    const r = await t.api('/v1/invoices', { body, key: k.issuer });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body.invoiceKey;
  }
  const reimb = (key: string, action: string, as = k.buyer) => t.api(`/v1/invoices/${key}/reimbursement`, { body: { action }, key: as });
  const use = (key: string, action: string, as = k.buyer) => t.api(`/v1/invoices/${key}/use`, { body: { action }, key: as });
  const openForm = (body: object, as = k.issuer) => t.api('/v1/red-letter-forms', { body, key: as });
  const formAct = (id: string, action: string, as: string) => t.api(`/v1/red-letter-forms/${id}/${action}`, { method: 'POST', key: as });
  const view = async (key: string) => (await t.api(`/v1/invoices/${key}`, { key: k.court })).body;
  /** Form lines for a full reversal of the sample one-line invoice. */
  const fullLines = [{ originalLineNo: 1, amountFen: -100000, taxAmountFen: -6000 }];

  async function refused(p: Promise<ApiResult>, status: number, code: string): Promise<ApiResult> {
    const before = await logSize(t);
    const r = await p;
    expect(r.status, JSON.stringify(r.body)).toBe(status);
    expect(r.body.code).toBe(code);
    expect(await logSize(t)).toBe(before);
    return r;
  }

  it('reimbursement: lock → unlock → lock → close; every refused transition is 409 and appends nothing', async () => {
    const key = await issue(blue(1));
    await refused(reimb(key, 'unlock'), 409, 'REIMBURSEMENT_NOT_LOCKED');
    await refused(reimb(key, 'close'), 409, 'REIMBURSEMENT_NOT_LOCKED');
    const locked = await reimb(key, 'lock');
    expect(locked.status).toBe(200);
    expect(locked.body).toMatchObject({ kind: 'invoice.reimbursement-locked', reimbursement: 'locked', invoiceKey: key });
    await refused(reimb(key, 'lock'), 409, 'REIMBURSEMENT_LOCKED');
    expect((await reimb(key, 'unlock')).body.reimbursement).toBe('init');
    expect((await reimb(key, 'lock')).status).toBe(200);
    const closed = await reimb(key, 'close');
    expect(closed.status).toBe(200);
    expect(closed.body.reimbursement).toBe('closed');
    await refused(reimb(key, 'lock'), 409, 'REIMBURSEMENT_CLOSED');
    await refused(reimb(key, 'unlock'), 409, 'REIMBURSEMENT_CLOSED');
    await refused(reimb(key, 'close'), 409, 'REIMBURSEMENT_CLOSED');
    const bad = await reimb(key, 'reimburse-twice');
    expect(bad.status).toBe(422);
    expect(bad.body.errors[0].path).toEqual(['body', 'action']);
    expect((await view(key)).events.map((e: { kind: string }) => e.kind)).toEqual([
      'invoice.issued', 'invoice.reimbursement-locked', 'invoice.reimbursement-unlocked', 'invoice.reimbursement-locked', 'invoice.reimbursement-closed',
    ]);
  });

  it('50 concurrent lock requests on one invoice: exactly one 200', async () => {
    const key = await issue(blue(2));
    const before = await logSize(t);
    const all = await Promise.all(Array.from({ length: 50 }, () => reimb(key, 'lock')));
    const ok = all.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    expect(all.filter((r) => r.status === 409 && r.body.code === 'REIMBURSEMENT_LOCKED')).toHaveLength(49);
    expect(await logSize(t)).toBe(before + 1);
    expect((await view(key)).events.filter((e: { kind: string }) => e.kind === 'invoice.reimbursement-locked')).toHaveLength(1);
  });

  it('use: confirm-use → book; twice is refused; booking directly is allowed', async () => {
    const key = await issue(blue(3));
    expect((await use(key, 'confirm-use')).body.use).toBe('use-confirmed');
    await refused(use(key, 'confirm-use'), 409, 'USE_ALREADY_CONFIRMED');
    expect((await use(key, 'book')).body.use).toBe('booked');
    await refused(use(key, 'book'), 409, 'USE_ALREADY_BOOKED');
    await refused(use(key, 'confirm-use'), 409, 'USE_ALREADY_BOOKED');
    const key2 = await issue(blue(4));
    expect((await use(key2, 'book')).body.use).toBe('booked');
    await refused(use(`0x${'cd'.repeat(32)}`, 'book'), 404, 'INVOICE_NOT_FOUND');
  });

  it('red-letter, seller alone (buyer has not used it): form → red invoice reverses in full; then only unlock is allowed', async () => {
    const b = blue(10);
    const key = await issue(b);
    const f = await openForm({ invoiceKey: key, formId: formId(10), reasonCode: '02', lines: fullLines });
    expect(f.status, JSON.stringify(f.body)).toBe(201);
    expect(f.body).toMatchObject({ formStatus: 'no-confirm-needed', deadline: null, kind: 'invoice.red-form-opened' });
    await refused(openForm({ invoiceKey: key, formId: formId(11), reasonCode: '02', lines: fullLines }), 409, 'RED_FORM_OVERLAP');
    const red = sampleRedInvoice(b, { confirmationNumber: formId(10), invoiceNumber: invoiceNumber(9010) });
    const before = await logSize(t);
    const r = await t.api('/v1/invoices', { body: red, key: k.issuer });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.reversal).toMatchObject({ invoiceKey: key, kind: 'invoice.reversed', status: 'fully-reversed' });
    expect(r.body.index).toBe(r.body.reversal.index + 1); // all-or-nothing, in order
    expect(await logSize(t)).toBe(before + 2);
    const blueView = await view(key);
    expect(blueView.status).toBe('fully-reversed');
    expect(blueView.state.forms[0].status).toBe('used');
    const redView = await view(r.body.invoiceKey);
    expect(redView.state).toMatchObject({ colour: 'RED', parentKey: key });
    expect(redView.invoice.remarks).toContain(`被红冲蓝字数电发票号码：${b.invoiceNumber}`);
    // The same red invoice again: answered from the registry, nothing appended.
    const again = await t.api('/v1/invoices', { body: red, key: k.issuer });
    expect(again.status).toBe(200);
    expect(again.body.receipt).toEqual(r.body.receipt);
    await refused(reimb(key, 'lock'), 409, 'INVOICE_FULLY_REVERSED');
    await refused(use(key, 'confirm-use'), 409, 'INVOICE_FULLY_REVERSED');
    await refused(reimb(r.body.invoiceKey, 'lock'), 409, 'INVOICE_NOT_BLUE');
    await refused(openForm({ invoiceKey: key, formId: formId(12), reasonCode: '02', lines: fullLines }), 409, 'INVOICE_FULLY_REVERSED');
  });

  it('a form id is unique across invoices; unknown forms are 404', async () => {
    const key = await issue(blue(20));
    await refused(openForm({ invoiceKey: key, formId: formId(10), reasonCode: '02', lines: fullLines }), 409, 'RED_FORM_EXISTS');
    await refused(formAct(formId(999), 'confirm', k.buyer), 404, 'RED_FORM_NOT_FOUND');
    await refused(openForm({ invoiceKey: `0x${'ee'.repeat(32)}`, formId: formId(21), reasonCode: '02', lines: fullLines }), 404, 'INVOICE_NOT_FOUND');
  });

  it('after the buyer used it: the seller’s form waits for the buyer; red invoice refused until confirmed; reject, reopen, confirm', async () => {
    const b = blue(30);
    const key = await issue(b);
    await use(key, 'confirm-use');
    const f = await openForm({ invoiceKey: key, formId: formId(30), reasonCode: '04', lines: fullLines });
    expect(f.body.formStatus).toBe('pending-buyer');
    expect(Date.parse(f.body.deadline) - Date.parse(f.body.receipt.at)).toBe(72 * 3_600_000);
    const red = sampleRedInvoice(b, { confirmationNumber: formId(30), invoiceNumber: invoiceNumber(9030) });
    await refused(t.api('/v1/invoices', { body: red, key: k.issuer }), 409, 'RED_FORM_STATE');
    await refused(formAct(formId(30), 'confirm', k.issuer), 403, 'SCOPE_FORBIDDEN'); // the initiator cannot confirm its own form
    expect((await formAct(formId(30), 'reject', k.buyer)).body.formStatus).toBe('rejected');
    await refused(formAct(formId(30), 'confirm', k.buyer), 409, 'RED_FORM_STATE');
    await refused(formAct(formId(30), 'withdraw', k.issuer), 409, 'RED_FORM_STATE');
    await openForm({ invoiceKey: key, formId: formId(31), reasonCode: '04', lines: fullLines });
    expect((await formAct(formId(31), 'confirm', k.buyer)).body.formStatus).toBe('confirmed');
    const red2 = sampleRedInvoice(b, { confirmationNumber: formId(31), invoiceNumber: invoiceNumber(9031) });
    const r = await t.api('/v1/invoices', { body: red2, key: k.issuer });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    await refused(formAct(formId(31), 'withdraw', k.issuer), 409, 'INVOICE_FULLY_REVERSED');
  });

  it('buyer-initiated form: the seller confirms or the buyer withdraws; the wrong party is refused', async () => {
    const key = await issue(blue(40));
    const f = await openForm({ invoiceKey: key, formId: formId(40), reasonCode: '03', lines: fullLines }, k.buyer);
    expect(f.status).toBe(201);
    expect(f.body.formStatus).toBe('pending-seller');
    await refused(formAct(formId(40), 'withdraw', k.issuer), 403, 'SCOPE_FORBIDDEN');
    await refused(formAct(formId(40), 'confirm', k.buyer), 403, 'SCOPE_FORBIDDEN');
    expect((await formAct(formId(40), 'withdraw', k.buyer)).body.formStatus).toBe('withdrawn');
    await refused(formAct(formId(40), 'withdraw', k.buyer), 409, 'RED_FORM_STATE');
    await openForm({ invoiceKey: key, formId: formId(41), reasonCode: '03', lines: fullLines }, k.buyer);
    expect((await formAct(formId(41), 'confirm', k.issuer)).body.formStatus).toBe('confirmed');
  });

  it('partial reversals per line, never more than what remains; the red invoice must match its form', async () => {
    const b = blueWithLines(50, 2); // lines of 100000 and 100001 fen at 6%
    const key = await issue(b);
    // Part of line 1.
    const part = [{ originalLineNo: 1, amountFen: -40000, taxAmountFen: -2400 }];
    expect((await openForm({ invoiceKey: key, formId: formId(50), reasonCode: '02', lines: part })).status).toBe(201);
    const mismatched = sampleRedInvoice(b, { confirmationNumber: formId(50), invoiceNumber: invoiceNumber(9050), reverse: [{ lineNo: 1, amountFen: 30000 }] });
    await refused(t.api('/v1/invoices', { body: mismatched, key: k.issuer }), 422, 'RED_MISMATCH');
    const red = sampleRedInvoice(b, { confirmationNumber: formId(50), invoiceNumber: invoiceNumber(9051), reverse: [{ lineNo: 1, amountFen: 40000 }] });
    const r = await t.api('/v1/invoices', { body: red, key: k.issuer });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.reversal).toMatchObject({ kind: 'invoice.partially-reversed', status: 'partially-reversed' });
    // 60000 fen remain on line 1: one fen more is refused, with the field path.
    const over = await refused(openForm({ invoiceKey: key, formId: formId(51), reasonCode: '02', lines: [{ originalLineNo: 1, amountFen: -60001, taxAmountFen: -3600 }] }), 409, 'RED_OVER_REMAINING');
    expect(over.body.errors[0].path).toEqual(['body', 'lines', 0, 'amountFen']);
    expect(over.body.remainingFen).toBe(60000);
    // A red invoice over what remains is refused too (its form would have been refused, so use a form that fits then overdraw in the invoice).
    const rest = [{ originalLineNo: 1, amountFen: -60000, taxAmountFen: -3600 }, { originalLineNo: 2, amountFen: -100001, taxAmountFen: -6000 }];
    expect((await openForm({ invoiceKey: key, formId: formId(52), reasonCode: '02', lines: rest })).status).toBe(201);
    const overRed = sampleRedInvoice(b, { confirmationNumber: formId(52), invoiceNumber: invoiceNumber(9052), reverse: [{ lineNo: 1, amountFen: 60001 }, { lineNo: 2, amountFen: 100001 }] });
    const o = await refused(t.api('/v1/invoices', { body: overRed, key: k.issuer }), 409, 'RED_OVER_REMAINING');
    expect(o.body.errors[0].path).toEqual(['body', 'lines', 0, 'amountFen']);
    const last = sampleRedInvoice(b, { confirmationNumber: formId(52), invoiceNumber: invoiceNumber(9053), reverse: [{ lineNo: 1, amountFen: 60000, taxAmountFen: 3600 }, { lineNo: 2, amountFen: 100001 }] });
    const done = await t.api('/v1/invoices', { body: last, key: k.issuer });
    expect(done.status, JSON.stringify(done.body)).toBe(201);
    expect(done.body.reversal).toMatchObject({ kind: 'invoice.reversed', status: 'fully-reversed' });
    const v = await view(key);
    expect(v.state.lines.map((l: { amountFen: number; reversedAmountFen: number }) => l.amountFen + l.reversedAmountFen)).toEqual([0, 0]);
    expect(v.state.reversals).toHaveLength(2);
  });

  it('a red invoice for an unregistered blue invoice is 404 at red.originalInvoiceNumber', async () => {
    const ghost = blue(60);
    const red = sampleRedInvoice(ghost, { confirmationNumber: formId(60), invoiceNumber: invoiceNumber(9060) });
    const r = await refused(t.api('/v1/invoices', { body: red, key: k.issuer }), 404, 'INVOICE_NOT_FOUND');
    expect(r.body.errors[0].path).toEqual(['body', 'red', 'originalInvoiceNumber']);
  });

  // Last in this file: moves the node clock forward for good (acceptance times never go back).
  it('72-hour expiry: confirmation at 71 h passes, at 72 h + 1 s is refused and the expiry is logged', async () => {
    const b = blueWithLines(70, 2);
    const key = await issue(b);
    await use(key, 'book');
    const fA = await openForm({ invoiceKey: key, formId: formId(70), reasonCode: '02', lines: [{ originalLineNo: 1, amountFen: -100000, taxAmountFen: -6000 }] });
    const fB = await openForm({ invoiceKey: key, formId: formId(71), reasonCode: '02', lines: [{ originalLineNo: 2, amountFen: -100001, taxAmountFen: -6000 }] });
    expect([fA.body.formStatus, fB.body.formStatus]).toEqual(['pending-buyer', 'pending-buyer']);
    const opened = Date.parse(fB.body.receipt.at);
    setNodeClock(t, opened + 71 * 3_600_000);
    const ok = await formAct(formId(71), 'confirm', k.buyer);
    expect(ok.status).toBe(200);
    expect(ok.body.formStatus).toBe('confirmed');
    setNodeClock(t, Date.parse(fA.body.deadline) + 1000);
    const before = await logSize(t);
    const late = await formAct(formId(70), 'confirm', k.buyer);
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('RED_FORM_EXPIRED');
    expect(await logSize(t)).toBe(before + 1); // the node's invoice.red-form-expired entry
    const v = await view(key);
    expect(v.events.at(-1)).toMatchObject({ kind: 'invoice.red-form-expired' });
    expect(v.state.forms.find((f: { formId: string }) => f.formId === formId(70)).status).toBe('expired');
    await refused(formAct(formId(70), 'confirm', k.buyer), 409, 'RED_FORM_EXPIRED'); // expiry logged once
    // Line 1 is free again for a new form; the confirmed form B still issues its red invoice.
    expect((await openForm({ invoiceKey: key, formId: formId(72), reasonCode: '02', lines: [{ originalLineNo: 1, amountFen: -100000, taxAmountFen: -6000 }] })).status).toBe(201);
    const red = sampleRedInvoice(b, { confirmationNumber: formId(71), invoiceNumber: invoiceNumber(9071), reverse: [{ lineNo: 2, amountFen: 100001 }] });
    expect((await t.api('/v1/invoices', { body: red, key: k.issuer })).status).toBe(201);
  });
});
