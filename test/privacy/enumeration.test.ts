/**
 * The enumeration attack on the public log (issue 17): seller tax ids are public and invoice numbers
 * near-sequential, so an outsider can compute the invoice keys of a seller's next 1,000 numbers. None
 * of them may appear in any route that answers without a key; the parties' bundle does carry the link.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INVOICE_KINDS, invoiceKey } from '../../node/invoice';
import { subjectPseudonym } from '../../node/protocol';
import { SELLER_TAX_ID, blue, invoiceNumber, startInvoiceLedger, type Parties } from '../api/invoices-support';
import type { TestLedger } from '../support/ledger';

/** The numbers the seller issued among the next 1,000 (a Fibonacci-ish spread, not just the first few). */
const ISSUED = [1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987];

describe('no invoice key of a seller is readable from the public routes', () => {
  let t: TestLedger;
  let k: Parties;
  const bodies = new Map<string, string>();

  const getText = async (p: string): Promise<string> => {
    const res = await fetch(t.url + p);
    const text = await res.text();
    bodies.set(p, text);
    return text;
  };

  beforeAll(async () => {
    ({ t, k } = await startInvoiceLedger());
    const r = await t.api('/v1/invoices/batch', { key: k.issuer, body: { invoices: ISSUED.map((n) => blue(n)) } });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.created).toBe(ISSUED.length);
    // A life story for some of them: what the log would have told an outsider.
    for (const n of ISSUED.slice(0, 4)) {
      const key = invoiceKey(SELLER_TAX_ID, 'VAT_GENERAL', invoiceNumber(n));
      for (const action of ['lock', 'close']) {
        const a = await t.api(`/v1/invoices/${key}/reimbursement`, { key: k.buyer, body: { action } });
        expect(a.status, JSON.stringify(a.body)).toBe(200);
      }
    }
    await t.waitAnchored();

    // Every route that answers without a key, over the whole log.
    const info = JSON.parse(await getText('/v1/log'));
    const size = info.treeSize as number;
    for (let start = 0; start < size; start += 1000) {
      await getText(`/v1/log/entries?start=${start}`);
      await getText(`/v1/log/receipts?start=${start}`);
    }
    await getText('/v1/log/checkpoints');
    for (let i = 0; i < size; i++) await getText(`/v1/log/proof/inclusion?index=${i}`);
    await getText(`/v1/log/proof/consistency?from=1&to=${size}`);
    for (const p of ['/healthz', '/readyz', '/metrics', '/v1/openapi.json', '/']) await getText(p);
    // The public check with what an outsider lacks (the date and the total), for every issued number.
    for (const n of ISSUED) await getText(`/v1/invoice-status?number=${invoiceNumber(n)}&date=2025-03-02&total=1`);
  }, 120_000);

  afterAll(async () => {
    await t?.close();
  });

  it('the plain keys of the next 1,000 numbers, of every invoice kind, appear in none of them', () => {
    const keys: string[] = [];
    for (let n = 1; n <= 1000; n++) for (const kind of INVOICE_KINDS) keys.push(invoiceKey(SELLER_TAX_ID, kind, invoiceNumber(n)));
    expect(keys).toHaveLength(2000);
    const hits: string[] = [];
    for (const [p, text] of bodies) {
      const lower = text.toLowerCase();
      // With or without the 0x prefix: a key written any way is a key.
      for (const key of keys) if (lower.includes(key.slice(2))) hits.push(`${key} in ${p}`);
    }
    expect(hits).toEqual([]);
    expect(bodies.size).toBeGreaterThan(ISSUED.length + 8);
  });

  it('the log holds one pseudonym per invoice, shared by its events and computable only with its salt', async () => {
    const entries = JSON.parse(bodies.get('/v1/log/entries?start=0')!).entries as { entry: { kind: string; subject: string } }[];
    const subjects = new Set(entries.map((e) => e.entry.subject));
    expect(subjects.size).toBe(ISSUED.length);
    const key = invoiceKey(SELLER_TAX_ID, 'VAT_GENERAL', invoiceNumber(ISSUED[0]!));
    // The parties (here a court) get the link in the bundle, and it opens the subject of that invoice's entries.
    const b = await t.api(`/v1/invoices/${key}/bundle`, { key: k.court });
    expect(b.status).toBe(200);
    expect(JSON.stringify(b.body)).toContain(key.slice(2)); // the search above would have found a key
    expect(b.body.subjectLink.key).toBe(key);
    expect(subjectPseudonym(b.body.subjectLink.salt, key)).toBe(b.body.subject);
    expect(entries.filter((e) => e.entry.subject === b.body.subject).map((e) => e.entry.kind)).toEqual(['invoice.issued', 'invoice.reimbursement-locked', 'invoice.reimbursement-closed']);
    // Whoever knows the number, date and total learns the status, never the pseudonym (the link).
    const check = await fetch(`${t.url}/v1/invoice-status?number=${invoiceNumber(ISSUED[0]!)}&date=2025-03-01&total=106000`).then((r) => r.text());
    expect(JSON.parse(check)).toMatchObject({ found: true, invoice: { invoiceKey: key } });
    expect(check).not.toContain(b.body.subject.slice(2));
    // Salts differ per invoice: two invoices' links share nothing an outsider could reuse.
    const other = await t.api(`/v1/invoices/${invoiceKey(SELLER_TAX_ID, 'VAT_GENERAL', invoiceNumber(ISSUED[1]!))}/bundle`, { key: k.court });
    expect(other.body.subjectLink.salt).not.toBe(b.body.subjectLink.salt);
  });
});
