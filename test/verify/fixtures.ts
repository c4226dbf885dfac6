/**
 * Real records for the verifier tests, put in through the node's sequencer (the domain routes are
 * tested elsewhere): an invoice with a reimbursement history and an evidence deposit of a real file
 * with custody events. Bundles come from the node's own bundle builder.
 */
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { Actor } from '../../node/domain/types';
import type { Ledger } from '../../node';
import { parseInvoice } from '../../node/invoice';
import { buildCustodyRecord, buildDepositRecord, custodyKind, newEvidenceId, parseEvidenceMetadata } from '../../node/evidence/model';
import { RECEIPT_TYPE, checkpointV2Message, receiptMessage, receiptProofRoot, type Bundle, type Hex, type Receipt } from '../../node/protocol';
import { BUYER_TAX_ID, SELLER_TAX_ID, sampleInvoice } from '../invoice/fixtures';

export const issuer: Actor = { keyId: 'key-issuer-verify', role: 'issuer', taxIds: [SELLER_TAX_ID] };
export const buyer: Actor = { keyId: 'key-buyer-verify', role: 'buyer', taxIds: [BUYER_TAX_ID] };
export const collector: Actor = { keyId: 'key-collector-verify', role: 'collector', name: 'Evidence Platform A' };

let invoiceSeq = 0;

/**
 * Issues an invoice, then locks and closes its reimbursement in one group commit (so the tree size
 * between lock and close is never anchored). Returns the invoice key.
 */
export async function issueInvoiceWithHistory(ledger: Ledger): Promise<Hex> {
  const number = `255120000000000${String(10000 + ++invoiceSeq).slice(-5)}`;
  const v = parseInvoice(sampleInvoice({ invoiceNumber: number }));
  const key = v.invoiceKey;
  await ledger.sequencer.submit({ kind: 'invoice.issued', subject: key, record: v.invoice as unknown as Record<string, unknown>, actor: issuer });
  const buyerRecord = { invoiceKey: key, buyerTaxId: BUYER_TAX_ID };
  await ledger.sequencer.submitAll([
    { kind: 'invoice.reimbursement-locked', subject: key, record: buyerRecord, actor: buyer },
    { kind: 'invoice.reimbursement-closed', subject: key, record: buyerRecord, actor: buyer },
  ]);
  return key;
}

export interface DepositedFile {
  evidenceId: string;
  path: string;
  bytes: Buffer;
  file: { sha256: Hex; sm3: Hex; size: number };
  indexes: number[];
}

/** Writes `size` random bytes to `path`, deposits them as evidence with two custody events. */
export async function depositEvidence(ledger: Ledger, path: string, size = 4096): Promise<DepositedFile> {
  const bytes = randomBytes(size);
  writeFileSync(path, bytes);
  const file = {
    sha256: `0x${createHash('sha256').update(bytes).digest('hex')}` as Hex,
    sm3: `0x${createHash('sm3').update(bytes).digest('hex')}` as Hex,
    size,
  };
  const evidenceId = newEvidenceId();
  const metadata = parseEvidenceMetadata({
    title: 'listing page of the infringing shop',
    mediaType: 'application/octet-stream',
    fileName: 'capture.bin',
    method: 'web-page',
    source: { url: 'https://shop.example.com/item/42' },
    capturedAt: '2025-03-01T10:15:00+08:00',
    environment: { tool: 'capture', toolVersion: '2.0' },
    sha256: file.sha256,
    sm3: file.sm3,
  });
  const deposit = buildDepositRecord({ evidenceId, metadata, file, collector });
  const a = await ledger.sequencer.submit({ kind: 'evidence.deposited', subject: evidenceId, record: deposit as unknown as Record<string, unknown>, actor: collector });
  const t = await ledger.sequencer.submit({
    kind: custodyKind('transferred'), subject: evidenceId, actor: collector,
    record: buildCustodyRecord(evidenceId, { event: 'transferred', reason: 'handed to counsel' }, collector) as unknown as Record<string, unknown>,
  });
  const n = await ledger.sequencer.submit({
    kind: custodyKind('annotated'), subject: evidenceId, actor: collector,
    record: buildCustodyRecord(evidenceId, { event: 'annotated', reason: 'page 2 shows the price' }, collector) as unknown as Record<string, unknown>,
  });
  return { evidenceId, path, bytes, file, indexes: [a.index, t.index, n.index] };
}

/** Signs a receipt as `wallet` would: v1 its own message, v2 its checkpoint (whose root is recomputed from its proof and leaf first when `refold`). */
export async function resignReceipt(receipt: Receipt, wallet: { signMessage(m: Uint8Array): Promise<string> }, opts: { refold?: boolean } = {}): Promise<Receipt> {
  if (receipt.type === RECEIPT_TYPE) return { ...receipt, signature: (await wallet.signMessage(receiptMessage(receipt))) as Hex };
  const rootHash = opts.refold ? receiptProofRoot(receipt) : receipt.checkpoint.rootHash;
  const cp = { ...receipt.checkpoint, rootHash };
  return { ...receipt, checkpoint: { ...cp, signature: (await wallet.signMessage(checkpointV2Message(cp))) as Hex } };
}

/** The receipt's one signature with one hex digit changed (v1: its own, v2: its checkpoint's). */
export function tamperReceiptSignature(receipt: Receipt): Receipt {
  const flip = (sig: Hex): Hex => (sig.slice(0, 10) + (sig[10] === 'a' ? 'b' : 'a') + sig.slice(11)) as Hex;
  return receipt.type === RECEIPT_TYPE ? { ...receipt, signature: flip(receipt.signature) } : { ...receipt, checkpoint: { ...receipt.checkpoint, signature: flip(receipt.checkpoint.signature) } };
}

/** A deep copy to break. */
export function clone(b: Bundle): Bundle {
  return JSON.parse(JSON.stringify(b)) as Bundle;
}

/** Flips the last hex digit of a 0x-hex string. */
export function flipHex(h: string): Hex {
  const last = h[h.length - 1]!;
  return (h.slice(0, -1) + (last === '0' ? '1' : '0')) as Hex;
}
