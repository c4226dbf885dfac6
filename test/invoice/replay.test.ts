/** Audit replay (entries only, and full records through `apply`), and the public status view. */
import { describe, expect, it } from 'vitest';
import {
  matchesPublicQuery, parsePublicQuery, publicCheck, publicStatus, replayEntries, replayRecords, reversalKind,
  type EntryLike,
} from '../../node/invoice';
import { Ledger, T0, hoursAfter } from './harness';
import { BUYER_TAX_ID, SELLER_TAX_ID, buyerActor, issuerActor, sampleInvoice, sampleInvoiceWithLines, sampleRedFormRecord, sampleRedInvoice } from './fixtures';

/** A realistic history: issue, book, lock/unlock/lock/close, partial then full reversal via forms. */
function history() {
  const L = new Ledger();
  const v = L.rules.validate(sampleInvoiceWithLines(2));
  if (!v.ok) throw new Error('invalid');
  const key = v.invoiceKey;
  const buyer = { invoiceKey: key, buyerTaxId: BUYER_TAX_ID };
  L.apply('invoice.issued', key, v.invoice, T0, issuerActor());
  L.apply('invoice.booked', key, buyer, hoursAfter(1), buyerActor());
  L.apply('invoice.reimbursement-locked', key, buyer, hoursAfter(2), buyerActor());
  L.apply('invoice.reimbursement-unlocked', key, buyer, hoursAfter(3), buyerActor());
  L.apply('invoice.reimbursement-locked', key, buyer, hoursAfter(4), buyerActor());
  L.apply('invoice.reimbursement-closed', key, buyer, hoursAfter(5), buyerActor());
  let n = 2;
  const reverse = (formId: string, at: number, reverseLines?: { lineNo: number; amountFen: number; taxAmountFen?: number }[]) => {
    const r = L.rules.validate(sampleRedInvoice(v.invoice, { confirmationNumber: formId, invoiceNumber: `2551900000000000000${n++}`, ...(reverseLines ? { reverse: reverseLines } : {}) }));
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    L.apply('invoice.red-form-opened', key, sampleRedFormRecord(r.invoice), hoursAfter(at), issuerActor());
    L.apply('invoice.red-form-confirmed', key, { invoiceKey: key, formId, partyTaxId: BUYER_TAX_ID }, hoursAfter(at + 1), buyerActor());
    L.apply(reversalKind(L.state(key), r.invoice), key, r.invoice, hoursAfter(at + 2), issuerActor());
    L.apply('invoice.issued', r.invoiceKey, r.invoice, hoursAfter(at + 2), issuerActor());
    return r.invoiceKey;
  };
  reverse('FTZ-1', 6, [{ lineNo: 1, amountFen: 100000 }]);
  const redKey = reverse('FTZ-2', 10, [{ lineNo: 2, amountFen: 100001 }]);
  return { L, key, redKey, entries: L.log.map(({ kind, subject, at }) => ({ kind, subject, at })) };
}

describe('replayEntries: kinds and times only', () => {
  it('a lawful history has no violations', () => {
    const { entries } = history();
    expect(entries.map((e) => e.kind)).toContain('invoice.reversed');
    expect(replayEntries(entries)).toEqual([]);
  });

  const forge = (mutate: (e: EntryLike[]) => void) => {
    const { entries } = history();
    mutate(entries);
    return replayEntries(entries);
  };

  it('catches a forged second lock and a forged second close (一票多报)', () => {
    const lock = forge((e) => e.splice(3, 0, { ...e[2]!, at: e[2]!.at }));
    expect(lock).toEqual([expect.objectContaining({ index: 3, code: 'DOUBLE_LOCK', kind: 'invoice.reimbursement-locked' })]);
    const close = forge((e) => e.splice(6, 0, { ...e[5]! }));
    expect(close).toEqual([expect.objectContaining({ index: 6, code: 'DOUBLE_CLOSE' })]);
    const lockAfterClose = forge((e) => e.splice(6, 0, { ...e[4]!, at: e[5]!.at }));
    expect(lockAfterClose.map((v) => v.code)).toEqual(['LOCK_AFTER_CLOSE']);
  });

  it('catches anything after full reversal, reversal without a form, early expiry, back-dating, double issue', () => {
    const { key } = history();
    const after = forge((e) => e.push({ kind: 'invoice.booked', subject: key, at: hoursAfter(100).toISOString() }));
    expect(after.map((v) => v.code)).toEqual(['AFTER_FULL_REVERSAL']);
    const allowed = forge((e) => e.push({ kind: 'invoice.conflict-refused', subject: key, at: hoursAfter(100).toISOString() }));
    expect(allowed).toEqual([]);
    const noForm = replayEntries([
      { kind: 'invoice.issued', subject: key, at: T0.toISOString() },
      { kind: 'invoice.partially-reversed', subject: key, at: hoursAfter(1).toISOString() },
    ]);
    expect(noForm.map((v) => v.code)).toEqual(['REVERSAL_WITHOUT_FORM']);
    const early = replayEntries([
      { kind: 'invoice.issued', subject: key, at: T0.toISOString() },
      { kind: 'invoice.red-form-opened', subject: key, at: hoursAfter(1).toISOString() },
      { kind: 'invoice.red-form-expired', subject: key, at: hoursAfter(72).toISOString() },
      { kind: 'invoice.red-form-expired', subject: key, at: hoursAfter(73.5).toISOString() },
    ]);
    expect(early.map((v) => [v.index, v.code])).toEqual([[2, 'EXPIRY_TOO_EARLY'], [3, 'FORM_EVENT_WITHOUT_FORM']]);
    const back = forge((e) => { e[4] = { ...e[4]!, at: T0.toISOString() }; });
    expect(back.map((v) => [v.index, v.code])).toEqual([[4, 'AT_DECREASED']]);
    const twice = forge((e) => e.push({ ...e[0]!, at: hoursAfter(100).toISOString() }));
    expect(twice.map((v) => v.code)).toEqual(['DUPLICATE_ISSUE']);
    const orphan = replayEntries([{ kind: 'invoice.reimbursement-locked', subject: key, at: T0.toISOString() }]);
    expect(orphan.map((v) => v.code)).toEqual(['BEFORE_ISSUE']);
  });
});

describe('replayRecords: the same apply over records read back from storage', () => {
  it('reproduces the live states from JSON records with no actors', () => {
    const { L, key, redKey } = history();
    const { violations, states } = replayRecords(L.log);
    expect(violations).toEqual([]);
    expect(states.get(key)).toEqual(L.state(key));
    expect(states.get(redKey)).toEqual(L.state(redKey));
  });

  it('catches a forged second lock record and a red invoice with no reversal on its blue', () => {
    const { L } = history();
    const forged = [...L.log];
    forged.splice(3, 0, { ...L.log[2]! });
    const r = replayRecords(forged);
    expect(r.violations).toEqual([expect.objectContaining({ index: 3, code: 'REIMBURSEMENT_LOCKED' })]);
    const orphanRed = L.log.filter((item) => !(item.kind === 'invoice.reversed'));
    const r2 = replayRecords(orphanRed);
    expect(r2.violations.map((v) => v.code)).toEqual(['RED_WITHOUT_REVERSAL']);
  });

  it('catches a record tampered to name another buyer', () => {
    const { L } = history();
    const tampered = L.log.map((item, i) => (i === 2 ? { ...item, record: { ...item.record, buyerTaxId: SELLER_TAX_ID } } : item));
    expect(replayRecords(tampered).violations[0]).toMatchObject({ index: 2, code: 'SCOPE_FORBIDDEN' });
  });
});

describe('public status check', () => {
  it('shows status and anchoring fields only, never party data', () => {
    const { L, key } = history();
    const s = L.state(key);
    const view = publicStatus(s);
    expect(Object.keys(view).sort()).toEqual(['colour', 'invoiceKey', 'registeredAt', 'status', 'updatedAt']);
    expect(view.status).toBe('fully-reversed');
    const text = JSON.stringify(view);
    for (const secret of [SELLER_TAX_ID, BUYER_TAX_ID, '示例', '106000', 'closed', 'booked']) expect(text).not.toContain(secret);
  });

  it('matches number + issue date in +08:00 + totalWithTaxFen exactly; mismatches look like not found', () => {
    const L = new Ledger();
    // 00:30 in Beijing on 1 March is still 28 February in UTC: the date compared is the printed one.
    const v = L.rules.validate(sampleInvoice({ issueDateTime: '2025-03-01T00:30:00+08:00' }));
    if (!v.ok) throw new Error('invalid');
    const s = L.apply('invoice.issued', v.invoiceKey, v.invoice, T0, issuerActor());
    const q = parsePublicQuery({ number: '25512000000000000001', date: '2025-03-01', total: '106000' })!;
    expect(matchesPublicQuery(s, q)).toBe(true);
    expect(publicCheck([s], q)).toEqual({ found: true, invoice: publicStatus(s) });
    for (const wrong of [{ ...q, date: '2025-02-28' }, { ...q, total: 106001 }, { ...q, total: 100000 }, { ...q, number: '25512000000000000002' }]) {
      expect(publicCheck([s], wrong)).toEqual({ found: false });
    }
    expect(publicCheck([], q)).toEqual({ found: false });
    expect(parsePublicQuery({ number: '123', date: '2025-03-01', total: '1' })).toBeNull();
    expect(parsePublicQuery({ number: '25512000000000000001', date: '2025/03/01', total: '1' })).toBeNull();
    expect(parsePublicQuery({ number: '25512000000000000001', date: '2025-03-01', total: '1060.00' })).toBeNull();
  });
});
