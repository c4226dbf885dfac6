import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { fromHex, verifyConsistency, verifyInclusion, entryLeafHash, parseEntry, verifyReceiptSigner } from '../../node';
import { startTestLedger, type TestLedger } from '../support/ledger';
import { SELLER_TAX_ID, sampleInvoice } from '../invoice/fixtures';

describe('log routes, keys, health (real server, embedded chain)', () => {
  let t: TestLedger;
  beforeAll(async () => {
    t = await startTestLedger();
    // A few real invoices through the invoice route, so the log holds real entries to prove.
    const issuer = await t.createKey('issuer', SELLER_TAX_ID);
    for (let i = 0; i < 5; i++) {
      const r = await t.api('/v1/invoices', { body: sampleInvoice({ invoiceNumber: `2551200000000000010${i}` }), key: issuer });
      if (r.status !== 201) throw new Error(`issuing a setup invoice failed: ${r.status} ${JSON.stringify(r.body)}`);
    }
  });
  afterAll(async () => {
    await t?.close();
  });

  it('serves /healthz, /readyz and Prometheus /metrics', async () => {
    expect((await t.api('/healthz')).body).toEqual({ status: 'ok' });
    const ready = await t.api('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ready');
    const m = await t.api('/metrics');
    expect(m.body).toMatch(/^tianfu_log_entries \d+$/m);
    expect(m.body).toMatch(/^tianfu_checkpoint_lag_entries \d+$/m);
    expect(m.body).toMatch(/tianfu_rpc_errors_total/);
  });

  it('GET /v1/log reports the head and, once anchored, the checkpoint on chain', async () => {
    const r0 = await t.api('/v1/log');
    expect(r0.status).toBe(200);
    expect(r0.body).toMatchObject({ chainId: '31337', logId: t.ledger.logId, registry: t.ledger.chain.registry, operator: t.ledger.operator.address.toLowerCase() });
    if (r0.body.treeSize === 0) return; // the probe kind may be refused by the evidence rules; then nothing to anchor
    await t.waitAnchored();
    const r = await t.api('/v1/log');
    expect(r.body.anchored.treeSize).toBe(r.body.treeSize);
    expect(r.body.anchored.rootHash).toBe(r.body.rootHash);
    const onChain = await t.ledger.registry.checkpoint(t.ledger.logId, r.body.treeSize);
    expect(onChain?.rootHash).toBe(r.body.rootHash);
  });

  it('entries, inclusion and consistency proofs verify with the protocol code', async () => {
    const { body: head } = await t.api('/v1/log');
    const n = head.treeSize as number;
    const { body } = await t.api(`/v1/log/entries?start=0&end=${n}`);
    expect(body.entries).toHaveLength(n);
    for (const e of body.entries) {
      expect(entryLeafHash(parseEntry(e.entry))).toBe(e.leafHash);
      const p = await t.api(`/v1/log/proof/inclusion?index=${e.index}&treeSize=${n}`);
      expect(() => verifyInclusion(e.index, n, fromHex(e.leafHash), p.body.proof.map((h: string) => fromHex(h)), fromHex(head.rootHash))).not.toThrow();
    }
    if (n >= 2) {
      const root1 = (await t.api(`/v1/log/proof/inclusion?index=0&treeSize=1`)).body.rootHash;
      const c = await t.api(`/v1/log/proof/consistency?from=1&to=${n}`);
      expect(() => verifyConsistency(1, n, c.body.proof.map((h: string) => fromHex(h)), fromHex(root1), fromHex(head.rootHash))).not.toThrow();
    }
    const cps = await t.api('/v1/log/checkpoints');
    expect(cps.status).toBe(200);
    expect(Array.isArray(cps.body.checkpoints)).toBe(true);
  });

  it('refuses bad query parameters with problem+json', async () => {
    for (const q of ['/v1/log/entries?start=-1', '/v1/log/entries?start=abc', '/v1/log/proof/inclusion?index=999999', '/v1/log/proof/consistency?from=5&to=1', '/v1/log/entries?start=0&bogus=1']) {
      const r = await t.api(q);
      expect(r.status, q).toBe(400);
      expect(r.headers.get('content-type'), q).toMatch(/application\/problem\+json/);
      expect(typeof r.body.detail).toBe('string');
    }
    expect((await t.api('/v1/nope')).status).toBe(404);
  });

  it('keys: admin creates and revokes; 401 without or with a bad key, 403 for the wrong role', async () => {
    expect((await t.api('/v1/keys', { body: { role: 'court' } })).status).toBe(401);
    expect((await t.api('/v1/keys', { body: { role: 'court' }, key: 'tfk_not-a-real-key' })).status).toBe(401);
    const court = await t.createKey('court');
    expect((await t.api('/v1/keys', { body: { role: 'court' }, key: court })).status).toBe(403);
    const bad = await t.api('/v1/keys', { body: { role: 'wizard' }, key: t.adminKey });
    expect(bad.status).toBe(422);
    expect(bad.body.errors[0].path).toEqual(['body', 'role']);
    expect((await t.api('/v1/keys', { body: { role: 'buyer' }, key: t.adminKey })).status).toBe(422); // a buyer key needs its tax id
    const created = await t.api('/v1/keys', { body: { role: 'auditor', name: 'audit firm' }, key: t.adminKey });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ role: 'auditor', taxId: null });
    const del = await t.api(`/v1/keys/${created.body.id}`, { method: 'DELETE', key: t.adminKey });
    expect(del.status).toBe(200);
    expect((await t.api('/v1/keys', { body: { role: 'court' }, key: created.body.key })).status).toBe(401);
  });

  it('serves the OpenAPI document', async () => {
    const r = await t.api('/v1/openapi.json');
    expect(r.body.openapi).toBe('3.1.0');
    expect(Object.keys(r.body.paths)).toEqual(expect.arrayContaining(['/v1/log', '/v1/log/entries', '/v1/keys']));
  });

  it('receipts from the sequencer verify against the operator the API reports', async () => {
    const a = await t.ledger.sequencer.getReceipt(0);
    if (!a) return;
    const { body } = await t.api('/v1/log');
    expect(verifyReceiptSigner(a, body.operator)).toBe(t.ledger.operator.address);
  });
});
