import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startInvoiceLedger, blue, type Parties } from './invoices-support';
import type { TestLedger } from '../support/ledger';

describe('POST /v1/verify (the protocol verifier, run by the node)', () => {
  let t: TestLedger;
  let k: Parties;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a bundle is edited freely here
  let bundle: any;
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

  it("pins trust to this ledger's own registry and log unless told otherwise", async () => {
    const own = await t.api('/v1/verify', { body: { bundle } });
    expect(own.body.limits.join(' ')).not.toMatch(/the bundle's own claim/);
    // A bundle that says it was anchored in another registry (anyone can deploy one).
    const elsewhere = structuredClone(bundle);
    const forgery = '0x' + '12'.repeat(20);
    elsewhere.log.registry = forgery;
    for (const item of elsewhere.items) if (item.anchor) item.anchor.registry = forgery;
    const pinned = await t.api('/v1/verify', { body: { bundle: elsewhere } });
    expect(pinned.body.verdict).toBe('invalid');
    const step = pinned.body.steps.find((s: { status: string }) => s.status === 'failed');
    expect(step.name).toBe('registry-code');
    expect(step.detail).toMatch(/another registry than the one trusted/);
    expect(step.expected).toBe(t.ledger.chain.registry.toLowerCase());
    // Unpinned ({}): the verifier goes to the claimed registry, and the report says whose claim it was.
    const unpinned = await t.api('/v1/verify', { body: { bundle: elsewhere, trust: {} } });
    expect(unpinned.body.verdict).toBe('invalid');
    expect(unpinned.body.limits.join(' ')).toMatch(/the bundle's own claim/);
    // Pinned to another log: the bundle's own log is refused.
    const otherLog = await t.api('/v1/verify', { body: { bundle, trust: { logId: '0x' + '34'.repeat(32) } } });
    expect(otherLog.body.verdict).toBe('invalid');
    expect(otherLog.body.steps.find((s: { status: string }) => s.status === 'failed').detail).toMatch(/another log than the one trusted/);
    const bad = await t.api('/v1/verify', { body: { bundle, trust: { registry: 'nope' } } });
    expect(bad.status).toBe(422);
    expect(bad.body.errors[0].path).toEqual(['body', 'trust', 'registry']);
  });
});
