import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startInvoiceLedger, blue, type Parties } from './invoices-support';
import type { TestLedger } from '../support/ledger';

describe('POST /v1/verify (the protocol verifier, run by the node)', () => {
  let t: TestLedger;
  let k: Parties;
  let bundle: { items: { record: Record<string, unknown>; salt: string }[] };
  beforeAll(async () => {
    ({ t, k } = await startInvoiceLedger());
    const issued = await t.api('/v1/invoices', { body: blue(7001), key: k.issuer });
    expect(issued.status).toBe(201);
    await t.waitAnchored();
    bundle = (await t.api(`/v1/invoices/${issued.body.invoiceKey}/bundle`, { key: k.auditor })).body;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers valid for an anchored bundle, without a key', async () => {
    const r = await t.api('/v1/verify', { body: { bundle } });
    expect(r.status).toBe(200);
    expect(r.body.type).toBe('tianfu.verification/v1');
    expect(r.body.verdict).toBe('valid');
    expect(r.body.checkpoints[0].chainId).toBe('31337');
  });

  it('answers invalid, naming the step, when the salt was changed', async () => {
    const tampered = structuredClone(bundle);
    tampered.items[0]!.salt = '0x' + '11'.repeat(32);
    const r = await t.api('/v1/verify', { body: { bundle: tampered } });
    expect(r.status).toBe(200);
    expect(r.body.verdict).toBe('invalid');
    expect(r.body.firstFailure.name).toBe('commitment');
  });

  it('refuses an unknown bundle version and a malformed request with 422 and the path', async () => {
    const r = await t.api('/v1/verify', { body: { bundle: { ...bundle, format: 'tianfu.bundle/v2' } } });
    expect(r.status).toBe(422);
    expect(r.body.code).toBe('UNKNOWN_FORMAT');
    expect(r.body.errors[0].path.slice(0, 2)).toEqual(['body', 'bundle']);
    const r2 = await t.api('/v1/verify', { body: { bundle, extra: 1 } });
    expect(r2.status).toBe(422);
    const r3 = await t.api('/v1/verify', { body: { bundle, file: { sha256: 'abc' } } });
    expect(r3.status).toBe(422);
    expect(r3.body.errors[0].path).toEqual(['body', 'file', 'sha256']);
  });
});
