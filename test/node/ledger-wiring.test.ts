/**
 * The ledger builds the domain rules once: the sequencer applies the very invoice rules its
 * `ledger.invoices` validates with, and the routes, the helpers and tests share one service per domain.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvidenceService, InvoiceService, invoiceServiceFor } from '../../node';
import { startTestLedger, type TestLedger } from '../support/ledger';

describe('ledger wiring', () => {
  let t: TestLedger;
  beforeAll(async () => {
    t = await startTestLedger();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('exposes one invoice and one evidence service, and the sequencer applies the invoice service\'s rules', () => {
    expect(t.ledger.invoices).toBeInstanceOf(InvoiceService);
    expect(t.ledger.evidence).toBeInstanceOf(EvidenceService);
    expect(invoiceServiceFor(t.ledger)).toBe(t.ledger.invoices);
    const applied = (t.ledger.sequencer as unknown as { rulesByKind: Map<string, unknown> }).rulesByKind.get('invoice.issued');
    expect(applied).toBe(t.ledger.invoices.rules);
  });
});
