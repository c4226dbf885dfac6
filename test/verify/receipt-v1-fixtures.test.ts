/**
 * Receipts v1 (tianfu.receipt/v1, one signature per record) issued before receipts v2 keep verifying,
 * forever: the fixtures in test/fixtures/receipt-v1 were written by the node of that time
 * (test/fixtures/generate-v1.ts) and are never regenerated. A node started today on a copy of that
 * data directory replays the embedded chain's journal to the very blocks the bundles name, so nothing
 * in the fixtures is patched: `tianfu verify`, `tianfu audit` (the export and the live log), the
 * in-process verifier and the browser page all check the old bundles and receipts as they were.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import { JsonRpcProvider, Signature, Wallet } from 'ethers';
import { ExportSource, runAudit } from '../../node/audit';
import { startTestLedger, type TestLedger } from '../support/ledger';
import { chromiumPath, CHROMIUM_ARGS } from '../support/system-tools';
import { connectChainReader } from '../../node/chain/chain-reader';
import { recoverEip191Signer } from '../../node/crypto/eip191';
import { domainHistoryRules, loadBundle, verifyBundle } from '../../node/verifier';
import { receiptMessage, type Bundle } from '../../node/protocol';
import { FIXTURE_OPERATOR_KEY } from '../fixtures/generate-v1';
import { SELLER_TAX_ID, sampleInvoice } from '../invoice/fixtures';

const ROOT = path.resolve(__dirname, '..', '..');
const FIX = path.join(ROOT, 'test', 'fixtures', 'receipt-v1');
const read = (name: string): Bundle => loadBundle(JSON.parse(fs.readFileSync(path.join(FIX, name), 'utf8')));

function tianfu(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, 'scripts', 'tianfu.js'), ...args], { cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('receipts v1 from before v2: fixtures keep verifying', () => {
  let t: TestLedger;
  let tmp: string;
  const invoice = read('invoice.json');
  const evidence = read('evidence.json');

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-v1-fixture-'));
    fs.cpSync(path.join(FIX, 'data'), path.join(tmp, 'data'), { recursive: true });
    t = await startTestLedger({ TIANFU_OPERATOR_KEY: FIXTURE_OPERATOR_KEY, TIANFU_LOG_NAME: 'tianfu-fixture-v1' }, { dataDir: path.join(tmp, 'data') });
  });
  afterAll(async () => {
    await t?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('the fixtures are v1: one signature per record, every item anchored', () => {
    for (const b of [invoice, evidence]) {
      expect(b.items.length).toBeGreaterThan(1);
      for (const it of b.items) {
        expect(it.receipt.type).toBe('tianfu.receipt/v1');
        expect(it.anchor).not.toBeNull();
      }
    }
    // The replayed chain is the one the bundles name.
    expect(t.ledger.chain.registry.toLowerCase()).toBe(invoice.log.registry.toLowerCase());
    expect(t.ledger.logId).toBe(invoice.log.logId);
  });

  it('verify in process against the replayed chain: valid, every receipt step ok', async () => {
    const chain = await connectChainReader(t.ledger.chain.rpcUrl);
    for (const b of [invoice, evidence]) {
      const r = await verifyBundle(b, { chain, history: domainHistoryRules, recoverSigner: recoverEip191Signer, ...(b === evidence ? { file: b.file! } : {}) });
      expect(r.verdict, JSON.stringify(r.firstFailure)).toBe('valid');
      const receiptSteps = r.steps.filter((s) => s.name === 'receipt-signature' || s.name === 'receipt-fields');
      expect(receiptSteps).toHaveLength(2 * b.items.length);
      expect(receiptSteps.every((s) => s.status === 'ok')).toBe(true);
    }
  });

  it('tianfu verify: exit 0 for both bundles (the evidence with its file)', async () => {
    const rpc = t.ledger.chain.rpcUrl;
    const a = await tianfu(['verify', path.join(FIX, 'invoice.json'), '--rpc', rpc]);
    expect(a.code, a.stdout + a.stderr).toBe(0);
    expect(a.stdout).toMatch(/VALID/);
    const b = await tianfu(['verify', path.join(FIX, 'evidence.json'), '--file', path.join(FIX, 'evidence.bin'), '--rpc', rpc]);
    expect(b.code, b.stdout + b.stderr).toBe(0);
  });

  it('tianfu audit: the v1 export is clean, and so is the live log of the node started on the old data', async () => {
    const rpc = t.ledger.chain.rpcUrl;
    const a = await tianfu(['audit', '--from-export', path.join(FIX, 'export'), '--rpc', rpc, '--no-state', '--json']);
    expect(a.code, a.stdout + a.stderr).toBe(0);
    const ra = JSON.parse(a.stdout) as { violations: unknown[]; receipts?: unknown };
    expect(ra.violations).toEqual([]);
    const b = await tianfu(['audit', '--api', t.url, '--rpc', rpc, '--no-state', '--json']);
    expect(b.code, b.stdout + b.stderr).toBe(0);
  });

  it('a v1 receipt of the export re-signed by a stranger or with a high s: RECEIPT_SIGNATURE there, on the worker pool as on this thread', async () => {
    const dir = path.join(tmp, 'export-forged');
    fs.cpSync(path.join(FIX, 'export'), dir, { recursive: true });
    const file = path.join(dir, 'receipts.jsonl');
    const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
    const r1 = JSON.parse(lines[1]!);
    r1.signature = Wallet.createRandom().signMessageSync(receiptMessage(r1));
    lines[1] = JSON.stringify(r1);
    const r3 = JSON.parse(lines[3]!);
    const sig = Signature.from(r3.signature);
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    r3.signature = '0x' + sig.r.slice(2) + (n - BigInt(sig.s)).toString(16).padStart(64, '0') + (sig.v === 27 ? '1c' : '1b');
    lines[3] = JSON.stringify(r3);
    fs.writeFileSync(file, lines.join('\n') + '\n');
    const provider = new JsonRpcProvider(t.ledger.chain.rpcUrl, undefined, { staticNetwork: true });
    try {
      const run = async (receiptWorkers: number) => (await runAudit({ source: new ExportSource(dir), provider, statePath: null, receiptWorkers })).report;
      for (const workers of [1, 0]) {
        const rep = await run(workers);
        expect(rep.violations.map((v) => [v.code, v.index])).toEqual([['RECEIPT_SIGNATURE', 1], ['RECEIPT_SIGNATURE', 3]]);
      }
    } finally {
      provider.destroy();
    }
  });

  it('the node on the old data serves the old records with the very receipts it issued then', async () => {
    const responses = JSON.parse(fs.readFileSync(path.join(FIX, 'responses.json'), 'utf8')) as { single: { index: number; receipt: unknown }; batch: { results: { index: number; receipt: unknown }[] } };
    const served = (await t.api('/v1/log/receipts?start=0&end=9')).body.receipts as { index: number }[];
    expect(served[responses.single.index]).toEqual(responses.single.receipt);
    for (const r of responses.batch.results) expect(served[r.index]).toEqual(r.receipt);
    const fresh = await t.ledger.bundle('invoice', invoice.subjectLink?.key ?? invoice.subject, { indexes: invoice.items.map((i) => i.index) });
    expect(fresh.items.map((i) => i.receipt)).toEqual(invoice.items.map((i) => i.receipt));
  });

  it('the browser page verifies the v1 bundle against the replayed chain', async () => {
    const browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(t.url + '/');
      await page.setInputFiles('#bundle', path.join(FIX, 'invoice.json'));
      await page.fill('#rpc', t.ledger.chain.rpcUrl);
      await page.click('#verify');
      await page.waitForFunction(() => document.getElementById('verdict') !== null || document.getElementById('status')?.dataset.error === 'true', undefined, { timeout: 30_000 });
      expect(await page.locator('#verdict').getAttribute('data-verdict')).toBe('valid');
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('records appended today on the old data get v2 receipts; the mixed log (v1 then v2) audits clean', async () => {
    const v2From = t.ledger.sequencer.firstV2Index;
    expect(v2From).toBe(11); // the fixture's log: 9 records and 2 conflict entries
    const issuer = await t.createKey('issuer', SELLER_TAX_ID);
    const r = await t.api('/v1/invoices', { body: sampleInvoice({ invoiceNumber: '25512000000000088001' }), key: issuer });
    expect(r.status).toBe(201);
    expect(r.body.index).toBe(v2From);
    expect(r.body.receipt.type).toBe('tianfu.receipt/v2');
    await t.waitAnchored();
    const page = (await t.api(`/v1/log/receipts?start=${v2From - 1}&end=${v2From + 1}`)).body.receipts as { type: string }[];
    expect(page.map((x) => x.type)).toEqual(['tianfu.receipt/v1', 'tianfu.receipt/v2']);
    // A page is what the receipts are one by one.
    const all = (await t.api(`/v1/log/receipts?start=0&end=${v2From + 1}`)).body.receipts as unknown[];
    for (let i = 0; i <= v2From; i++) expect(all[i]).toEqual(await t.ledger.sequencer.getReceipt(i));
    const a = await tianfu(['audit', '--api', t.url, '--rpc', t.ledger.chain.rpcUrl, '--no-state', '--json']);
    expect(a.code, a.stdout + a.stderr).toBe(0);
  });
});
