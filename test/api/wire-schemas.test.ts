/**
 * One wire-schema module (api/schemas.ts): the shared shapes are registered once in the OpenAPI
 * document, built from the protocol's constants, no route retypes them, and what the node really
 * sends (a bundle, its receipts, an anchoring state) fits them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { BUNDLE_FORMAT, CHECKPOINT_V2_TYPE, RECEIPT_TYPE, RECEIPT_V2_TYPE, type Bundle as BundleType } from '../../node/protocol';
import { AnchoredCheckpoint, Bundle, Hex32, Receipt } from '../../api/schemas';
import { startTestLedger, type TestLedger } from '../support/ledger';
import { issueInvoiceWithHistory } from '../verify/fixtures';

const ROOT = path.resolve(__dirname, '..', '..');

describe('wire schemas', () => {
  let t: TestLedger;
  let bundle: BundleType;
  beforeAll(async () => {
    t = await startTestLedger();
    const key = await issueInvoiceWithHistory(t.ledger);
    await t.waitAnchored();
    bundle = await t.ledger.bundle('invoice', key);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('are registered once, from the protocol constants, and the routes use them', async () => {
    const doc = (await t.api('/v1/openapi.json')).body as { components: { schemas: Record<string, { properties?: Record<string, { enum?: unknown[]; const?: unknown }> }> } };
    const s = doc.components.schemas;
    for (const name of ['Hex32', 'Address', 'Receipt', 'AnchoredCheckpoint', 'Anchoring', 'Bundle']) expect(s[name], name).toBeDefined();
    const literal = (p: { enum?: unknown[]; const?: unknown } | undefined) => p?.const ?? p?.enum?.[0];
    expect(literal(s.ReceiptV1!.properties!.type)).toBe(RECEIPT_TYPE);
    expect(literal(s.ReceiptV2!.properties!.type)).toBe(RECEIPT_V2_TYPE);
    expect(literal(s.GroupCheckpoint!.properties!.type)).toBe(CHECKPOINT_V2_TYPE);
    expect(literal(s.Bundle!.properties!.format)).toBe(BUNDLE_FORMAT);
    // No route file retypes a hex pattern, a format literal or a shared schema.
    for (const f of fs.readdirSync(path.join(ROOT, 'api/routes'))) {
      const src = fs.readFileSync(path.join(ROOT, 'api/routes', f), 'utf8');
      expect(src, f).not.toMatch(/regex\(\/\^0x\[0-9a-f/);
      expect(src, f).not.toMatch(/'tianfu\.(receipt|bundle|checkpoint)\/v1'/);
      expect(src, f).not.toMatch(/\.openapi\('(Receipt|Anchoring|Bundle|Hex32)'\)/);
    }
  });

  it('fit what the node sends', async () => {
    expect(Bundle.safeParse(bundle).success).toBe(true);
    for (const it of bundle.items) expect(Receipt.safeParse(it.receipt).error).toBeUndefined();
    const a = bundle.items[0]!.anchor!;
    expect(AnchoredCheckpoint.safeParse({ treeSize: a.treeSize, rootHash: a.rootHash, txHash: a.txHash, blockNumber: a.blockNumber, timestamp: a.timestamp }).success).toBe(true);
    const log = (await t.api('/v1/log')).body as { anchored: unknown; logId: string };
    expect(AnchoredCheckpoint.nullable().safeParse(log.anchored).error).toBeUndefined();
    expect(Hex32.safeParse(log.logId).success).toBe(true);
    // and refuse what is not that shape
    expect(Receipt.safeParse({ ...bundle.items[0]!.receipt, type: 'tianfu.receipt/v9' }).success).toBe(false);
    expect(Receipt.safeParse({ ...bundle.items[0]!.receipt, proof: undefined }).success).toBe(false);
    expect(Hex32.safeParse(bundle.subject.toUpperCase()).success).toBe(false);
  });
});
