/**
 * The intake workers (node/invoice/intake-pool.ts) on a real node: JSON invoice requests are read,
 * validated and hashed on a worker; killing the worker in the middle of a batch loses nothing that is
 * acknowledged and applies nothing twice (the batch is re-run inline, and intake has no side effects);
 * the next request goes to a fresh worker.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestLedger, type TestLedger } from '../support/ledger';
import { SELLER_TAX_ID, sampleInvoice } from '../invoice/fixtures';
import { invoiceKey } from '../../node/invoice';

const number = (n: number): string => '255120' + String(n).padStart(14, '0');

describe('intake workers', () => {
  let t: TestLedger;
  let issuer: string;
  const pool = () => t.ledger.intake!;

  beforeAll(async () => {
    t = await startTestLedger({ TIANFU_INTAKE_WORKERS: '1' });
    issuer = await t.createKey('issuer', SELLER_TAX_ID);
    expect(await pool().whenReady()).toBe(true);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('a single invoice and a batch are checked on the worker', async () => {
    const before = pool().stats.pooled;
    const one = await t.api('/v1/invoices', { body: sampleInvoice({ invoiceNumber: number(1) }), key: issuer });
    expect(one.status).toBe(201);
    const batch = await t.api('/v1/invoices/batch', { body: { invoices: [2, 3, 4].map((n) => sampleInvoice({ invoiceNumber: number(n) })) }, key: issuer });
    expect(batch.body).toMatchObject({ created: 3, refused: 0 });
    expect(pool().stats.pooled).toBe(before + 2);
    expect(pool().stats.fallbacks).toBe(0);
  });

  it('the worker killed mid-batch: every item answered once, each invoice in the log once; a re-send is all duplicates; the next job goes to a fresh worker', async () => {
    const n = 400;
    const invoices = Array.from({ length: n }, (_, i) => sampleInvoice({ invoiceNumber: number(1000 + i) }));
    const sizeBefore = t.ledger.log.size;
    const fallbacksBefore = pool().stats.fallbacks;
    const sent = t.api('/v1/invoices/batch', { body: { invoices }, key: issuer });
    // Kill the worker while this batch's job is pending on it.
    let killed = false;
    const deadline = Date.now() + 20_000;
    while (!killed && Date.now() < deadline) {
      if (pool().pending > 0) {
        await pool().crashWorker(0);
        killed = true;
      } else await new Promise((r) => setImmediate(r));
    }
    expect(killed).toBe(true);
    const r = await sent;
    expect(r.status).toBe(200);
    expect(pool().stats.fallbacks).toBe(fallbacksBefore + 1);
    expect(r.body).toMatchObject({ created: n, duplicates: 0, refused: 0 });
    expect(r.body.results.map((x: { status: number }) => x.status)).toEqual(Array(n).fill(201));
    expect(t.ledger.log.size).toBe(sizeBefore + n);
    const indexes = new Set<number>();
    for (const inv of invoices) {
      const key = invoiceKey(inv.seller.taxId!, inv.invoiceKind, inv.invoiceNumber);
      const at = await t.ledger.sequencer.subjectIndexes(key);
      expect(at).toHaveLength(1);
      indexes.add(at[0]!);
    }
    expect(indexes.size).toBe(n);
    const again = await t.api('/v1/invoices/batch', { body: { invoices }, key: issuer });
    expect(again.body).toMatchObject({ created: 0, duplicates: n, refused: 0 });
    expect(t.ledger.log.size).toBe(sizeBefore + n);
    // The dead worker is replaced on the next job and serves the ones after it.
    await t.api('/v1/invoices', { body: sampleInvoice({ invoiceNumber: number(5000) }), key: issuer });
    expect(await pool().whenReady()).toBe(true);
    const pooled = pool().stats.pooled;
    const last = await t.api('/v1/invoices', { body: sampleInvoice({ invoiceNumber: number(5001) }), key: issuer });
    expect(last.status).toBe(201);
    expect(pool().stats.pooled).toBe(pooled + 1);
  });
});
