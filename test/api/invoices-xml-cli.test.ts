/**
 * `tianfu import` and `tianfu verify --file invoice.xml` against a real node and chain: the README's
 * example folder registers (exit 0), runs again as "already present" (exit 0), a folder with a bad
 * document exits 1 naming the XML path, unusable input exits 2; the XML a record came from verifies,
 * from --file or carried in the bundle, and any other bytes fail the xml-* steps.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { verifyBundleOffline } from '../../node/verifier';
import { digestsOf } from '../../node/invoice/xml';
import type { TestLedger } from '../support/ledger';
import { startInvoiceLedger, type Parties } from './invoices-support';

const CLI = path.join(__dirname, '../../scripts/tianfu.js');
const EXAMPLES = path.join(__dirname, '../../docs/examples/invoice-xml');
const FIX = path.join(__dirname, '..', 'invoice', 'xml', 'fixtures');
// Asynchronous: the server under test runs in this process, so a blocking spawnSync would starve it.
const run = (args: string[]): Promise<{ code: number | null; out: string; err: string }> =>
  new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 90_000 }, (error, out, err) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, out, err });
    });
  });

describe('tianfu import and verify --file invoice.xml (real node)', () => {
  let t: TestLedger;
  let k: Parties;
  let scratch: string;
  beforeAll(async () => {
    ({ t, k } = await startInvoiceLedger());
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-import-'));
  });
  afterAll(async () => {
    await t?.close();
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('imports the example folder (exit 0), then again as already present (exit 0)', async () => {
    const first = await run(['import', EXAMPLES, '--api', t.url, '--key', k.issuer]);
    expect(first.code, first.err + first.out).toBe(0);
    expect(first.out).toContain('3 files: 3 registered, 0 already present, 0 refused');
    expect(first.out).toMatch(/registered 201 .*special-13pct\.xml: 0x[0-9a-f]{64} \(8 unmapped tags kept\)/);
    const again = await run(['import', EXAMPLES, '--api', t.url, '--key', k.issuer, '--json', '--batch', '2']);
    expect(again.code, again.err).toBe(0);
    const j = JSON.parse(again.out);
    expect(j.summary).toEqual({ files: 3, created: 0, duplicates: 3, refused: 0 });
    expect(j.results.map((r: { status: number }) => r.status)).toEqual([200, 200, 200]);
  });

  it('exit 1 when some files are refused, each named with its XML path; the others still register', async () => {
    const dir = path.join(scratch, 'mixed');
    fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
    fs.copyFileSync(path.join(FIX, 'blue-special.xml'), path.join(dir, 'a-good.xml'));
    fs.writeFileSync(path.join(dir, 'sub', 'b-bad.xml'), fs.readFileSync(path.join(FIX, 'small-1pct.xml'), 'utf8').replace('伍佰圆整', '伍佰圆'));
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not an invoice');
    const r = await run(['import', dir, '--api', t.url, '--key', k.issuer]);
    expect(r.code, r.err).toBe(1);
    expect(r.out).toMatch(/registered 201 .*a-good\.xml/);
    expect(r.out).toMatch(/refused    422 .*b-bad\.xml: INVOICE_XML_INVALID at \/EInvoice\/EInvoiceData\/BasicInformation\/TotalTax-includedAmountInChinese/);
    expect(r.out).toContain('2 files: 1 registered, 0 already present, 1 refused');
  });

  it('exit 2 for unusable input: no such path, no XML, no key, a wrong key, an unreachable API', async () => {
    const empty = path.join(scratch, 'empty');
    fs.mkdirSync(empty);
    for (const args of [
      ['import', path.join(scratch, 'missing'), '--api', t.url, '--key', k.issuer],
      ['import', empty, '--api', t.url, '--key', k.issuer],
      ['import', EXAMPLES, '--api', t.url],
      ['import', EXAMPLES, '--api', t.url, '--key', 'tfk_wrong'],
      ['import', EXAMPLES, '--api', 'http://127.0.0.1:9', '--key', k.issuer],
    ]) {
      const r = await run(args);
      expect(r.code, `${args.join(' ')}: ${r.out}`).toBe(2);
      expect(r.err).toMatch(/^tianfu: /);
    }
  });

  it('verify --file invoice.xml: the XML the record came from is valid; other bytes are invalid', async () => {
    const xml = path.join(EXAMPLES, 'special-13pct.xml');
    const view = await run(['import', xml, '--api', t.url, '--key', k.issuer, '--json']);
    const key = JSON.parse(view.out).results[0].invoiceKey as string;
    await t.waitAnchored();
    const bundle = (await t.api(`/v1/invoices/${key}/bundle`, { key: k.court })).body;
    const bundleFile = path.join(scratch, 'bundle.json');
    fs.writeFileSync(bundleFile, JSON.stringify(bundle));
    const rpc = t.ledger.chain.rpcUrl;
    const ok = await run(['verify', bundleFile, '--file', xml, '--rpc', rpc, '--json']);
    expect(ok.code, ok.out + ok.err).toBe(0);
    const report = JSON.parse(ok.out);
    expect(report.steps.filter((s: { name: string }) => s.name.startsWith('xml-')).map((s: { name: string; status: string }) => [s.name, s.status])).toEqual([['xml-sha256', 'ok'], ['xml-sm3', 'ok'], ['xml-size', 'ok']]);
    expect(report.proves.join(' ')).toContain('is byte for byte the document the invoice record was registered from');

    // One byte of white space more: not the document.
    const edited = path.join(scratch, 'edited.xml');
    fs.writeFileSync(edited, Buffer.concat([fs.readFileSync(xml), Buffer.from('\n')]));
    const bad = await run(['verify', bundleFile, '--file', edited, '--rpc', rpc, '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.out).firstFailure).toMatchObject({ name: 'xml-sha256', status: 'failed' });

    // The bundle can carry the XML itself (?xml=1): checked without --file.
    const carrying = (await t.api(`/v1/invoices/${key}/bundle?xml=1`, { key: k.court })).body;
    expect(Buffer.from(carrying.xml.base64, 'base64').equals(fs.readFileSync(xml))).toBe(true);
    const carried = path.join(scratch, 'bundle-xml.json');
    fs.writeFileSync(carried, JSON.stringify(carrying));
    const c = await run(['verify', carried, '--rpc', rpc]);
    expect(c.code, c.out).toBe(0);
    expect(c.out).toMatch(/ok\s+xml-sm3/);
    // A carried document swapped for another one fails.
    const swapped = { ...carrying, xml: { mediaType: 'application/xml', base64: fs.readFileSync(edited).toString('base64') } };
    fs.writeFileSync(carried, JSON.stringify(swapped));
    expect((await run(['verify', carried, '--rpc', rpc])).code).toBe(1);
  });

  it('offline verifier: xml-* skipped without a document, failed for an invoice registered from JSON', async () => {
    const key = JSON.parse((await run(['import', path.join(EXAMPLES, 'small-1pct.xml'), '--api', t.url, '--key', k.issuer, '--json'])).out).results[0].invoiceKey;
    const b = (await t.api(`/v1/invoices/${key}/bundle`, { key: k.court })).body;
    const none = verifyBundleOffline(b);
    expect(none.steps.find((s) => s.name === 'xml-sha256')).toMatchObject({ status: 'skipped' });
    const json = await t.api('/v1/invoices', { body: JSON.parse(fs.readFileSync(path.join(FIX, 'blue-general.expected.json'), 'utf8')).record, key: k.issuer });
    expect(json.status).toBe(422); // `original` is refused in JSON; register the face without it
    const { original: _o, ...face } = JSON.parse(fs.readFileSync(path.join(FIX, 'blue-general.expected.json'), 'utf8')).record;
    const reg = await t.api('/v1/invoices', { body: face, key: k.issuer });
    const jb = (await t.api(`/v1/invoices/${reg.body.invoiceKey}/bundle`, { key: k.court })).body;
    const r = verifyBundleOffline(jb, { file: digestsOf(fs.readFileSync(path.join(FIX, 'blue-general.xml'))) });
    expect(r.steps.find((s) => s.name === 'xml-sha256')).toMatchObject({ status: 'failed' });
    expect((await t.api(`/v1/invoices/${reg.body.invoiceKey}/bundle?xml=1`, { key: k.court })).status).toBe(404);
  });
});
