/**
 * The judge's path, end to end in real Chromium: the page served by the node, a real bundle, the
 * chain read over JSON-RPC from the browser, and a tampered bundle refused at the step that broke.
 * Status proofs (tianfu.status-proof/v1) go through the same page: presence and absence verify and
 * the page states "as of checkpoint N (block time T): status S, last changed at index i"; a leaf
 * with one field changed is refused at state-map.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { startInvoiceLedger, blue, type Parties } from '../api/invoices-support';
import { WITH_STATE_MAP, type TestLedger } from '../support/ledger';
import { depositEvidence } from '../verify/fixtures';
import { chromiumPath, CHROMIUM_ARGS } from '../support/system-tools';
import { openPlainSubjectSequencer } from '../support/plain-subjects';
import { issuerActor } from '../invoice/fixtures';
import { validateInvoice } from '../../node/invoice';


describe('browser verification page (real Chromium)', () => {
  let t: TestLedger;
  let k: Parties;
  let browser: Browser;
  let dir: string;
  let bundle: { items: { record: Record<string, unknown> }[] };
  let invoiceKey: string;

  beforeAll(async () => {
    ({ t, k } = await startInvoiceLedger(WITH_STATE_MAP));
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-page-'));
    const issued = await t.api('/v1/invoices', { body: blue(9001), key: k.issuer });
    expect(issued.status).toBe(201);
    invoiceKey = issued.body.invoiceKey;
    await t.waitAnchored();
    const b = await t.api(`/v1/invoices/${issued.body.invoiceKey}/bundle`, { key: k.court });
    expect(b.status).toBe(200);
    bundle = b.body;
    browser = await chromium.launch({
      executablePath: chromiumPath(),
      args: CHROMIUM_ARGS,
    });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function verifyInPage(
    bundleJson: unknown,
    pin: { registry?: string; logId?: string } = {},
    evidenceFile?: string,
  ): Promise<{ verdict: string | null; step: string | null; status: string; statement: string | null; steps: Record<string, string> }> {
    const file = path.join(dir, `bundle-${Math.random().toString(16).slice(2)}.json`);
    fs.writeFileSync(file, JSON.stringify(bundleJson));
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(t.url + '/');
    await page.setInputFiles('#bundle', file);
    if (evidenceFile) await page.setInputFiles('#file', evidenceFile);
    await page.fill('#rpc', t.ledger.chain.rpcUrl);
    if (pin.registry !== undefined) await page.fill('#registry', pin.registry);
    if (pin.logId !== undefined) await page.fill('#log-id', pin.logId);
    await page.click('#verify');
    await page.waitForFunction(() => document.getElementById('verdict') !== null || document.getElementById('status')?.dataset.error === 'true', undefined, { timeout: 30_000 });
    const verdict = (await page.locator('#verdict').count()) ? await page.locator('#verdict').getAttribute('data-verdict') : null;
    const step = (await page.locator('#first-failure').count()) ? await page.locator('#first-failure').getAttribute('data-step') : null;
    const status = (await page.locator('#status').textContent()) ?? '';
    const statement = (await page.locator('#status-statement').count()) ? await page.locator('#status-statement').textContent() : null;
    // Step name → status (the last row of a name wins: per-item steps repeat).
    const rows = await page.locator('#steps tr').evaluateAll((trs) => trs.slice(1).map((tr) => [tr.children[0]!.textContent ?? '', tr.children[2]!.textContent ?? '']));
    await page.close();
    expect(errors).toEqual([]);
    return { verdict, step, status, statement, steps: Object.fromEntries(rows) };
  }

  it('verifies a real invoice bundle against the chain from the browser', async () => {
    const r = await verifyInPage(bundle);
    expect(r.verdict).toBe('valid');
    expect(r.step).toBeNull();
  });

  it('an invoice registered before pseudonymous subjects (its key as the subject) verifies in the page too, and its bundle shows it', async () => {
    // A node before the cut-over wrote this one: the entry's subject is the plain invoice key.
    const plain = await openPlainSubjectSequencer(t.ledger);
    const v = validateInvoice(blue(9002));
    if (!v.ok) throw new Error(JSON.stringify(v.problems));
    try {
      await plain.submit({ kind: 'invoice.issued', subject: v.invoiceKey, record: v.invoice as unknown as Record<string, unknown>, actor: issuerActor() });
    } finally {
      await plain.close();
    }
    await t.waitAnchored();
    const b = await t.api(`/v1/invoices/${v.invoiceKey}/bundle`, { key: k.court });
    expect(b.status).toBe(200);
    expect(b.body.subjectLink).toBeUndefined();
    expect(b.body.items[0].entry.subject).toBe(v.invoiceKey);
    expect(bundle.items[0]).toBeDefined();
    expect((bundle as unknown as { subjectLink?: { key: string } }).subjectLink?.key).toBe(invoiceKey);
    const r = await verifyInPage(b.body);
    expect([r.verdict, r.step]).toEqual(['valid', null]);
  });

  it('refuses a bundle whose record was changed by one fen, naming the failing step', async () => {
    const tampered = structuredClone(bundle);
    const rec = tampered.items[0]!.record as { totalWithTaxFen: number };
    expect(typeof rec.totalWithTaxFen).toBe('number');
    rec.totalWithTaxFen += 1;
    const r = await verifyInPage(tampered);
    expect(r.verdict).toBe('invalid');
    expect(r.step).toBe('commitment');
  });

  it('reports unusable input for a file that is not a bundle', async () => {
    const r = await verifyInPage({ format: 'tianfu.bundle/v9' });
    expect(r.verdict).toBeNull();
    expect(r.status).toMatch(/Unusable input/);
  });

  it("checks the registry and log the judge pins, as tianfu verify --registry --log-id does", async () => {
    const own = { registry: t.ledger.chain.registry, logId: t.ledger.logId };
    expect((await verifyInPage(bundle, own)).verdict).toBe('valid');
    const other = await verifyInPage(bundle, { registry: '0x' + '12'.repeat(20) });
    expect(other.verdict).toBe('invalid');
    expect(other.step).toBe('registry-code');
    expect((await verifyInPage(bundle, { logId: '0x' + '34'.repeat(32) })).verdict).toBe('invalid');
    const typo = await verifyInPage(bundle, { registry: '0x1234' });
    expect(typo.verdict).toBeNull();
    expect(typo.status).toMatch(/registry address must be/);
  });

  it('hashes an evidence file in the page (SHA-256 and SM3, streamed) and refuses it changed by one byte', async () => {
    // 12 MiB of evidence, deposited with its SHA-256 and SM3 (node:crypto); the page streams it through
    // WebAssembly hashers of its own, so any size works (sm-crypto needed the whole file in memory).
    const dep = await depositEvidence(t.ledger, path.join(dir, 'capture.bin'), 12 * 1024 * 1024);
    await t.waitAnchored(t.ledger.log.size);
    const evBundle = await t.ledger.bundle('evidence', dep.evidenceId, { file: dep.file });
    const ok = await verifyInPage(evBundle, {}, dep.path);
    expect(ok.verdict, ok.status).toBe('valid');
    expect(ok.steps['file-sha256']).toBe('ok');
    expect(ok.steps['file-sm3']).toBe('ok');
    const bytes = fs.readFileSync(dep.path);
    bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 1;
    const changed = path.join(dir, 'capture-changed.bin');
    fs.writeFileSync(changed, bytes);
    const bad = await verifyInPage(evBundle, {}, changed);
    expect(bad.verdict).toBe('invalid');
    expect(bad.step).toBe('file-sha256');
    expect(bad.steps['file-sm3']).toBe('failed');
  });

  it('verifies a status proof (presence and absence) and states as of which checkpoint; refuses a changed leaf at state-map', async () => {
    // A state root after the invoice, anchored: the proof is against it.
    await t.ledger.sequencer.appendStateRoot();
    await t.waitAnchored();
    const r = await t.api(`/v1/invoices/${invoiceKey}/status-proof`, { key: k.court });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const ok = await verifyInPage(r.body);
    expect(ok.verdict, ok.status).toBe('valid');
    expect(ok.statement).toMatch(new RegExp(`^Status: as of checkpoint \\d+ \\(block time \\d{4}-\\d\\d-\\d\\dT[^)]+\\): invoice ${invoiceKey}: status issued, reimbursement init, use none, open red-letter forms 0, last changed at log index \\d+`));
    expect(ok.steps['state-map']).toBe('ok');
    expect(ok.steps['anchor']).toBe('ok');
    const changed = structuredClone(r.body);
    changed.leaf.status.status = 'fully-reversed';
    const bad = await verifyInPage(changed);
    expect(bad.verdict).toBe('invalid');
    expect(bad.step).toBe('state-map');
    expect(bad.statement).toMatch(/^Claimed status \(not proven\)/);
    const absent = await verifyInPage(await t.ledger.statusProof('evidence', 'ev_' + 'cd'.repeat(16)));
    expect(absent.verdict, absent.status).toBe('valid');
    expect(absent.statement).toMatch(/: no entry about this evidence among the first \d+ log entries$/);
  });
});
