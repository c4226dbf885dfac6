/**
 * Receipts v2 (tianfu.receipt/v2) in bundles from a real node: one operator signature per group
 * commit, over the checkpoint of the tree after the group, and each item's inclusion proof to it.
 * Valid bundles verify; a proof to the wrong checkpoint, a checkpoint signed by another key and a
 * proof for another index are each refused at the step that names them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Wallet } from 'ethers';
import { startTestLedger, type TestLedger } from '../support/ledger';
import { connectChainReader, type RpcChainReader } from '../../node/chain/chain-reader';
import { domainHistoryRules, verifyBundle, type VerificationReport } from '../../node/verifier';
import { logIdFor, verifyReceipt, type Bundle, type Hex, type ReceiptV2 } from '../../node/protocol';
import { clone, issueInvoiceWithHistory, resignReceipt } from './fixtures';
import { SELLER_TAX_ID, sampleInvoice } from '../invoice/fixtures';

describe('receipts v2 in bundles', () => {
  let t: TestLedger;
  let reader: RpcChainReader;
  let invoice: Bundle;
  const v2 = (b: Bundle, i: number): ReceiptV2 => b.items[i]!.receipt as ReceiptV2;
  const verify = (b: Bundle): Promise<VerificationReport> => verifyBundle(b, { chain: reader, history: domainHistoryRules });
  const failsAt = async (b: Bundle, step: string, item: number): Promise<VerificationReport> => {
    const r = await verify(b);
    expect(r.verdict).toBe('invalid');
    expect(r.firstFailure, JSON.stringify(r.firstFailure)).toMatchObject({ name: step, item, status: 'failed' });
    return r;
  };

  beforeAll(async () => {
    t = await startTestLedger();
    reader = await connectChainReader(t.ledger.chain.rpcUrl);
    // Item 0 in a group of its own, items 1 and 2 in one group commit (submitAll).
    const key = await issueInvoiceWithHistory(t.ledger);
    await t.waitAnchored();
    invoice = await t.ledger.bundle('invoice', key);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('every item has a v2 receipt; one group commit, one checkpoint; the bundle is valid with every receipt step ok', async () => {
    expect(invoice.items.map((i) => i.receipt.type)).toEqual(['tianfu.receipt/v2', 'tianfu.receipt/v2', 'tianfu.receipt/v2']);
    expect(v2(invoice, 1).checkpoint).toEqual(v2(invoice, 2).checkpoint);
    expect(v2(invoice, 0).checkpoint.treeSize).toBe(1);
    expect(v2(invoice, 1).checkpoint.treeSize).toBe(3);
    expect(v2(invoice, 1).proof).not.toEqual(v2(invoice, 2).proof);
    for (const it of invoice.items) expect(verifyReceipt(it.receipt, t.ledger.operator.address)).toBe(t.ledger.operator.address);
    const r = await verify(invoice);
    expect(r.verdict, JSON.stringify(r.firstFailure)).toBe('valid');
    for (const name of ['receipt-signature', 'receipt-proof', 'receipt-fields']) {
      expect(r.steps.filter((s) => s.name === name).map((s) => s.status)).toEqual(['ok', 'ok', 'ok']);
    }
    // A receipt's signed tree of another size than the anchored one is shown to be of one history with
    // it (item 0: size 1); one of the anchored size needs no proof (receipt-proof compares the roots).
    const anchored = invoice.items[0]!.anchor!.treeSize;
    expect(anchored).toBeGreaterThan(1);
    const want = invoice.items.map((i) => ((i.receipt as ReceiptV2).checkpoint.treeSize === anchored ? undefined : [Math.min((i.receipt as ReceiptV2).checkpoint.treeSize, anchored), Math.max((i.receipt as ReceiptV2).checkpoint.treeSize, anchored)]));
    expect(want[0]).toEqual([1, anchored]);
    expect(invoice.items.map((i) => i.receiptConsistency && [i.receiptConsistency.from, i.receiptConsistency.to])).toEqual(want);
    expect(r.steps.filter((s) => s.name === 'receipt-consistency').map((s) => s.status)).toEqual(want.map((w) => (w ? 'ok' : 'skipped')));
  });

  it('an operator who signed a receipt over a tree of another history (a fork) → receipt-consistency', async () => {
    // Item 0's leaf at index 0 of a tree of size 2 whose leaf 1 is not the log's: the receipt's proof
    // leads to that tree's root and the operator signs it, so signature and proof hold; the log's
    // consistency proof from size 2 to the anchored tree does not lead from that root.
    const anchored = invoice.items[0]!.anchor!.treeSize;
    const b = clone(invoice);
    b.items[0]!.receipt = await resignReceipt({ ...v2(b, 0), checkpoint: { ...v2(b, 0).checkpoint, treeSize: 2 }, proof: [('0x' + '5a'.repeat(32)) as Hex] }, t.ledger.operator, { refold: true });
    b.items[0]!.receiptConsistency = { from: 2, to: anchored, proof: await t.ledger.log.consistencyProof(2, anchored) };
    const r = await failsAt(b, 'receipt-consistency', 0);
    expect(r.steps.filter((s) => s.item === 0 && ['receipt-signature', 'receipt-proof'].includes(s.name)).map((s) => s.status)).toEqual(['ok', 'ok']);
    expect(r.firstFailure!.detail).toMatch(/not one history/);
  });

  it('a consistency proof changed, or for other sizes → receipt-consistency; none (a bundle made before it) → skipped', async () => {
    const b = clone(invoice);
    const c = b.items[0]!.receiptConsistency!;
    expect(c.proof.length).toBeGreaterThan(0);
    c.proof[0] = (c.proof[0]!.slice(0, 10) + (c.proof[0]![10] === 'a' ? 'b' : 'a') + c.proof[0]!.slice(11)) as Hex;
    await failsAt(b, 'receipt-consistency', 0);
    const d = clone(invoice);
    d.items[0]!.receiptConsistency = { ...d.items[0]!.receiptConsistency!, from: 2 };
    expect((await failsAt(d, 'receipt-consistency', 0)).firstFailure!.detail).toMatch(/sizes 2 →/);
    const e = clone(invoice);
    for (const it of e.items) delete it.receiptConsistency;
    const r = await verify(e);
    expect(r.verdict).toBe('valid');
    expect(r.steps.filter((s) => s.name === 'receipt-consistency' && s.item === 0).map((s) => [s.status, s.detail])).toEqual([['skipped', expect.stringMatching(/carries no consistency proof/)]]);
  });

  it('a v2 proof to the wrong checkpoint (another group\'s, validly signed) → receipt-proof', async () => {
    const b = clone(invoice);
    v2(b, 1).checkpoint = v2(invoice, 0).checkpoint;
    await failsAt(b, 'receipt-proof', 1);
    // A checkpoint of the right size whose root is not the tree's, signed by the operator itself: the
    // proof does not lead there either.
    const c = clone(invoice);
    c.items[2]!.receipt = await resignReceipt({ ...v2(c, 2), checkpoint: { ...v2(c, 2).checkpoint, rootHash: ('0x' + '11'.repeat(32)) as Hex } }, t.ledger.operator);
    const r = await failsAt(c, 'receipt-proof', 2);
    expect(r.firstFailure).toMatchObject({ expected: '0x' + '11'.repeat(32) });
  });

  it('a checkpoint signature by another key → receipt-signature, naming that key', async () => {
    const other = Wallet.createRandom();
    const b = clone(invoice);
    b.items[1]!.receipt = await resignReceipt(b.items[1]!.receipt, other);
    const r = await failsAt(b, 'receipt-signature', 1);
    expect(r.firstFailure).toMatchObject({ expected: t.ledger.operator.address.toLowerCase(), calculated: other.address.toLowerCase() });
    expect(r.firstFailure!.detail).toMatch(/checkpoint/);
  });

  it('a proof for another index → receipt-proof (the proof of item 2 with item 1, and item 1 claiming index 2)', async () => {
    const b = clone(invoice);
    v2(b, 1).proof = v2(invoice, 2).proof;
    await failsAt(b, 'receipt-proof', 1);
    const c = clone(invoice);
    v2(c, 1).index = 2;
    v2(c, 1).proof = v2(invoice, 2).proof;
    await failsAt(c, 'receipt-proof', 1);
  });

  it('checkpoint fields: of another log, or signed before the entry was accepted → receipt-fields', async () => {
    const b = clone(invoice);
    b.items[0]!.receipt = await resignReceipt({ ...v2(b, 0), checkpoint: { ...v2(b, 0).checkpoint, logId: logIdFor('another log') } }, t.ledger.operator);
    await failsAt(b, 'receipt-fields', 0);
    const c = clone(invoice);
    c.items[0]!.receipt = await resignReceipt({ ...v2(c, 0), checkpoint: { ...v2(c, 0).checkpoint, at: '2020-01-01T00:00:00.000Z' } }, t.ledger.operator);
    const r = await failsAt(c, 'receipt-fields', 0);
    expect(r.firstFailure!.detail).toMatch(/checkpoint\.at is before/);
  });

  it('the node serves the receipt it acknowledged: reads rebuild the same proof and checkpoint', async () => {
    for (const it of invoice.items) expect(await t.ledger.sequencer.getReceipt(it.index)).toEqual(it.receipt);
    const page = (await t.api('/v1/log/receipts?start=0&end=3')).body.receipts as ReceiptV2[];
    expect(page).toEqual(invoice.items.map((i) => i.receipt));
    const some = (await t.api('/v1/log/receipts?start=1&end=3')).body.receipts as ReceiptV2[];
    expect(some).toEqual(invoice.items.slice(1).map((i) => i.receipt));
  });

  it('over HTTP: a single answer carries the whole receipt; a batch answer each group checkpoint once and every item\'s proof', async () => {
    const issuer = await t.createKey('issuer', SELLER_TAX_ID);
    const one = await t.api('/v1/invoices', { body: sampleInvoice({ invoiceNumber: '25512000000000077001' }), key: issuer });
    expect(one.status).toBe(201);
    expect(one.body.receipt).toMatchObject({ type: 'tianfu.receipt/v2', index: one.body.index, checkpoint: { type: 'tianfu.checkpoint/v2', signature: expect.stringMatching(/^0x[0-9a-f]{130}$/) } });
    expect(verifyReceipt(one.body.receipt, t.ledger.operator.address)).toBe(t.ledger.operator.address);

    const invoices = Array.from({ length: 6 }, (_, i) => sampleInvoice({ invoiceNumber: `2551200000000007710${i}` }));
    const batch = await t.api('/v1/invoices/batch', { body: { invoices: [...invoices, invoices[0]] }, key: issuer });
    expect(batch.status).toBe(200);
    expect(batch.body).toMatchObject({ created: 6, duplicates: 1, refused: 0 });
    const cps = batch.body.checkpoints as ReceiptV2['checkpoint'][];
    expect(cps.length).toBeGreaterThanOrEqual(1);
    expect(cps.length).toBeLessThan(7);
    expect(new Set(cps.map((c) => c.treeSize)).size).toBe(cps.length);
    const results = batch.body.results as { index: number; receipt: Omit<ReceiptV2, 'checkpoint'> & { checkpoint: number } }[];
    const full = results.map((r) => ({ ...r.receipt, checkpoint: cps.find((c) => c.treeSize === r.receipt.checkpoint)! }) as ReceiptV2);
    for (const r of full) {
      expect(r.checkpoint).toBeDefined();
      expect(verifyReceipt(r, t.ledger.operator.address)).toBe(t.ledger.operator.address);
      expect(await t.ledger.sequencer.getReceipt(r.index)).toEqual(r);
    }
    // The duplicate is answered with the first item's receipt.
    expect(full[6]).toEqual(full[0]);
    // The answer is smaller than with a checkpoint per item.
    expect(JSON.stringify(batch.body).length).toBeLessThan(JSON.stringify({ ...batch.body, results: results.map((r, i) => ({ ...r, receipt: full[i] })) }).length);
  });
});
