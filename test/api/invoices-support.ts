/** Shared setup for the invoice route tests: one real node per file, keys for every party, numbered invoices. */
import { invoiceServiceFor } from '../../node';
import type { InvoiceInput } from '../../node/invoice';
import { startTestLedger, type TestLedger } from '../support/ledger';
import { BUYER_TAX_ID, OTHER_TAX_ID, SELLER_TAX_ID, sampleInvoice, sampleInvoiceWithLines } from '../invoice/fixtures';

export interface Parties {
  issuer: string;
  buyer: string;
  court: string;
  auditor: string;
  collector: string;
  /** An issuer granted another seller, and a buyer of another company. */
  otherIssuer: string;
  otherBuyer: string;
}

export async function startInvoiceLedger(env: Record<string, string> = {}): Promise<{ t: TestLedger; k: Parties }> {
  const t = await startTestLedger(env);
  const [issuer, buyer, court, auditor, collector, otherIssuer, otherBuyer] = await Promise.all([
    t.createKey('issuer', SELLER_TAX_ID),
    t.createKey('buyer', BUYER_TAX_ID),
    t.createKey('court'),
    t.createKey('auditor'),
    t.createKey('collector'),
    t.createKey('issuer', OTHER_TAX_ID),
    t.createKey('buyer', OTHER_TAX_ID),
  ]);
  return { t, k: { issuer: issuer!, buyer: buyer!, court: court!, auditor: auditor!, collector: collector!, otherIssuer: otherIssuer!, otherBuyer: otherBuyer! } };
}

/** Invoice number n of 2025, Sichuan (51): distinct per n. */
export const invoiceNumber = (n: number): string => '255120' + String(n).padStart(14, '0');
/** A 20-digit national red-letter confirmation number. */
export const formId = (n: number): string => '4403' + String(n).padStart(16, '0');

export const blue = (n: number, overrides: Partial<InvoiceInput> = {}): InvoiceInput => sampleInvoice({ invoiceNumber: invoiceNumber(n), ...overrides });
export const blueWithLines = (n: number, lines: number): InvoiceInput => sampleInvoiceWithLines(lines, { invoiceNumber: invoiceNumber(n) });

export async function logSize(t: TestLedger): Promise<number> {
  return (await t.api('/v1/log')).body.treeSize as number;
}

/**
 * Moves the node's clock (test only): the sequencer's acceptance time and the invoice service's "now".
 * The sequencer keeps acceptance times monotonic, so a test may only move it forward.
 */
export function setNodeClock(t: TestLedger, ms: number): void {
  const clock = () => new Date(ms);
  (t.ledger.sequencer as unknown as { clock: () => Date }).clock = clock;
  invoiceServiceFor(t.ledger).clock = clock;
}

export { BUYER_TAX_ID, OTHER_TAX_ID, SELLER_TAX_ID };
