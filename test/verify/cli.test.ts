/**
 * `tianfu verify` as a user runs it: a child process `node scripts/tianfu.js verify ...` against a
 * real node's embedded chain. Exit 0 valid, 1 invalid or pending, 2 unusable input.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestLedger, type TestLedger } from '../support/ledger';
import { loadBundle, type Bundle } from '../../node/protocol';
import { clone, depositEvidence, flipHex, issueInvoiceWithHistory, type DepositedFile } from './fixtures';
import { SELLER_TAX_ID, sampleInvoice } from '../invoice/fixtures';

const ROOT = path.resolve(__dirname, '..', '..');

type CliResult = { code: number; stdout: string; stderr: string };

/**
 * Runs the CLI; a run killed at the (generous, loaded-machine) limit is code -1 and says so in stderr.
 * `closeStdout`: the reader closes its end of stdout at once (as `| head -0` does), so every write to it meets a closed pipe.
 */
function tianfu(args: string[], opts: { closeStdout?: boolean } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [path.join(ROOT, 'scripts', 'tianfu.js'), ...args], { cwd: ROOT, timeout: 180_000 }, (err, stdout, stderr) => {
      const killed = err && (err as { killed?: boolean }).killed ? `\n(killed after 180 s: ${(err as { signal?: string }).signal})` : '';
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      resolve({ code, stdout, stderr: stderr + killed });
    });
    if (opts.closeStdout) child.stdout?.destroy();
  });
}

/** Many CLI runs, two at a time: each is a Node process loading tsx and ethers, and ten at once on a loaded 2-core machine ran into the limit. */
async function tianfuAll(runs: string[][]): Promise<CliResult[]> {
  const out: CliResult[] = new Array(runs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < runs.length) {
      const i = next++;
      out[i] = await tianfu(runs[i]!);
    }
  };
  await Promise.all([worker(), worker()]);
  return out;
}

describe('tianfu verify (CLI, child process, real chain)', () => {
  let t: TestLedger;
  let tmp: string;
  let rpc: string;
  let invoice: Bundle;
  let ev: DepositedFile;
  const files: Record<string, string> = {};
  const write = (name: string, value: unknown): string => {
    const p = path.join(tmp, name);
    fs.writeFileSync(p, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
    return p;
  };

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-verify-cli-'));
    t = await startTestLedger();
    rpc = t.ledger.chain.rpcUrl;
    const key = await issueInvoiceWithHistory(t.ledger);
    ev = await depositEvidence(t.ledger, path.join(tmp, 'capture.bin'));
    await t.waitAnchored();
    invoice = await t.ledger.bundle('invoice', key);
    files.invoice = write('invoice.json', invoice);
    files.evidence = write('evidence.json', await t.ledger.bundle('evidence', ev.evidenceId, { file: ev.file }));
    const changed = Buffer.from(ev.bytes);
    changed[0] = changed[0]! ^ 0x80;
    files.changedFile = write('changed.bin', changed);
    const bad = clone(invoice);
    bad.items[0]!.salt = flipHex(bad.items[0]!.salt!);
    files.tampered = write('tampered.json', bad);
    const pending = clone(invoice);
    pending.items[1]!.inclusion = null;
    pending.items[1]!.anchor = null;
    pending.items[2]!.inclusion = null;
    pending.items[2]!.anchor = null;
    files.pending = write('pending.json', pending);
  });
  afterAll(async () => {
    await t?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('exit 0 for a valid bundle, with a report for a person: what, when, which chain, by whom, and the limits', async () => {
    const r = await tianfu(['verify', files.invoice!, '--rpc', rpc]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^Tianfu bundle verification: VALID/);
    expect(r.stdout).toContain(`operator ${t.ledger.operator.address.toLowerCase()}`);
    expect(r.stdout).toMatch(/chain {6}31337 via/);
    expect(r.stdout).toMatch(/block \d+ \(hash 0x[0-9a-f]{64}\) at \d{4}-\d\d-\d\dT/);
    expect(r.stdout).toMatch(/What this proves[\s\S]*no later than/);
    expect(r.stdout).toMatch(/What it does not prove[\s\S]*not prove that their content is true/);
    expect(r.stdout).toMatch(/Verdict: VALID/);
  });

  it('end to end: an invoice issued over HTTP, its bundle fetched by a court key, verifies (exit 0)', async () => {
    const issuerKey = await t.createKey('issuer', SELLER_TAX_ID);
    const court = await t.createKey('court');
    const issued = await t.api('/v1/invoices', { key: issuerKey, body: sampleInvoice({ invoiceNumber: '25512000000000077777' }) });
    expect(issued.status, JSON.stringify(issued.body)).toBe(201);
    await t.waitAnchored();
    const got = await t.api(`/v1/invoices/${issued.body.invoiceKey}/bundle`, { key: court });
    expect(got.status).toBe(200);
    const r = await tianfu(['verify', write('http-bundle.json', got.body), '--rpc', rpc]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`subject    invoice ${issued.body.invoiceKey} (in the log as ${got.body.subject}), 1 record`);
  });

  it('--json is a machine report with every step', async () => {
    const r = await tianfu(['verify', files.invoice!, '--rpc', rpc, '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ type: 'tianfu.verification/v1', verdict: 'valid', accepted: true, firstFailure: null });
    // 9 per item, 6 for the checkpoint, custody-order and -rules, checkpoint-signature, tsa-token.
    expect(report.steps.length).toBe(3 * 10 + 6 + 2 + 2);
    // No TSA on this node: the one step not passed is the token's, reported skipped (item 6 not provided).
    expect(report.steps.filter((s: { status: string }) => s.status !== 'ok').map((s: { name: string; status: string }) => [s.name, s.status])).toEqual([['tsa-token', 'skipped']]);
    expect(report.time).toMatchObject({ status: 'not-provided', tokens: [] });
  });

  it('exit 1 for a tampered bundle, naming the first failing step', async () => {
    const r = await tianfu(['verify', files.tampered!, '--rpc', rpc]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/Verdict: INVALID\. First failing step: commitment \(item 0\)/);
    expect(r.stdout).toMatch(/FAILED\s+commitment/);
  });

  it('a reader that stops early (| head) does not crash it: the verdict is still the exit code (0 valid, 1 invalid), no EPIPE trace', async () => {
    const closed = { closeStdout: true };
    const [valid, tampered] = await Promise.all([tianfu(['verify', files.invoice!, '--rpc', rpc], closed), tianfu(['verify', files.tampered!, '--rpc', rpc, '--json'], closed)]);
    expect(valid, valid.stderr).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(tampered, tampered.stderr).toEqual({ code: 1, stdout: '', stderr: '' });
  });

  it('--registry / --log-id pin the registry and log: another registry exits 1 at registry-code; a malformed pin or count exits 2', async () => {
    const other = '0x' + '12'.repeat(20);
    const [pinnedOther, badArg, noConfirmations, fractionalTimeout] = await Promise.all([
      tianfu(['verify', files.invoice!, '--rpc', rpc, '--registry', other]),
      tianfu(['verify', files.invoice!, '--rpc', rpc, '--log-id', '0x12']),
      tianfu(['verify', files.invoice!, '--rpc', rpc, '--confirmations', '0']),
      tianfu(['verify', files.invoice!, '--rpc', rpc, '--timeout', '1.5']),
    ]);
    expect(pinnedOther.code, pinnedOther.stderr).toBe(1);
    expect(pinnedOther.stdout).toMatch(/First failing step: registry-code/);
    expect(badArg.code).toBe(2);
    expect(noConfirmations.code).toBe(2);
    expect(noConfirmations.stderr).toMatch(/--confirmations <n>.*must be an integer from 1 to 1000000/);
    expect(fractionalTimeout.code).toBe(2);
    expect(fractionalTimeout.stderr).toMatch(/--timeout <ms>.*must be an integer from 1 to 600000/);
  });

  it('evidence: the file is hashed (SHA-256 and SM3): exit 0 for the deposited file, 1 for one changed byte', async () => {
    const [good, bad] = await Promise.all([
      tianfu(['verify', files.evidence!, '--rpc', rpc, '--file', ev.path, '--json']),
      tianfu(['verify', files.evidence!, '--rpc', rpc, '--file', files.changedFile!]),
    ]);
    expect(good.code, good.stderr).toBe(0);
    const report = JSON.parse(good.stdout);
    expect(report.file).toMatchObject({ sha256: ev.file.sha256, sm3: ev.file.sm3, size: ev.file.size, status: 'ok' });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/First failing step: file-sha256/);
  });

  it('pending: exit 1, exit 0 with --allow-pending; --refresh fills the proofs from the node and writes the bundle', async () => {
    const [plain, allowed] = await Promise.all([
      tianfu(['verify', files.pending!, '--rpc', rpc]),
      tianfu(['verify', files.pending!, '--rpc', rpc, '--allow-pending']),
    ]);
    expect(plain.code).toBe(1);
    expect(plain.stdout).toMatch(/Verdict: PENDING at step inclusion \(item 1\)/);
    expect(allowed.code).toBe(0);

    const out = path.join(tmp, 'refreshed.json');
    const r = await tianfu(['verify', files.pending!, '--rpc', rpc, '--refresh', t.url, '--out', out]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/Refresh: 2 pending items filled from checkpoint \d+; updated bundle written to/);
    const refreshed = loadBundle(JSON.parse(fs.readFileSync(out, 'utf8')));
    expect(refreshed.items.every((it) => it.inclusion !== null && it.anchor !== null)).toBe(true);
    // The earliest checkpoint covering the pending items, which may be older than the bundle's own.
    expect(refreshed.items[2]!.anchor!.treeSize).toBeGreaterThan(refreshed.items[2]!.index);
    expect((await tianfu(['verify', out, '--rpc', rpc])).code).toBe(0);
    // The input was not touched when --out was given.
    expect(loadBundle(JSON.parse(fs.readFileSync(files.pending!, 'utf8'))).items[1]!.inclusion).toBeNull();
  });

  it('exit 2 for unusable input: not JSON, unknown version, missing fields, unreadable --file, unreachable RPC', async () => {
    const { receipt: _r, ...noReceipt } = invoice.items[0]!;
    const cases: [string, string[], RegExp][] = [
      ['not JSON', ['verify', write('not.json', '{"format": "tianfu.bundle/v1",'), '--rpc', rpc], /is not JSON/],
      ['unknown version', ['verify', write('v2.json', { ...invoice, format: 'tianfu.bundle/v2' }), '--rpc', rpc], /UNKNOWN_FORMAT format: "tianfu\.bundle\/v2" is not a bundle format/],
      ['missing fields', ['verify', write('missing.json', { ...invoice, items: [noReceipt] }), '--rpc', rpc], /MALFORMED items\[0\]\.receipt: must be an object, got missing/],
      ['no bundle file', ['verify', path.join(tmp, 'nope.json'), '--rpc', rpc], /cannot be read/],
      ['unreadable --file', ['verify', files.evidence!, '--rpc', rpc, '--file', path.join(tmp, 'missing.bin')], /--file .*missing\.bin cannot be read/],
      ['RPC unreachable', ['verify', files.invoice!, '--rpc', 'http://127.0.0.1:1', '--timeout', '2000'], /unreachable/],
      ['bad flag', ['verify', files.invoice!, '--confirmations', 'zero'], /confirmations/],
    ];
    const results = await tianfuAll(cases.map(([, args]) => args));
    cases.forEach(([what, , re], i) => {
      const r = results[i]!;
      expect(r.code, `${what}: ${r.stderr}`).toBe(2);
      expect(r.stderr, what).toMatch(re);
      expect(r.stdout, what).toBe('');
    });
    // With --json, machine readers get {verdict: "unusable", error: {code, message}} on stdout, in every command.
    const codes = ['BUNDLE_NOT_JSON', 'BUNDLE_UNKNOWN_FORMAT', 'BUNDLE_MALFORMED', 'BUNDLE_UNREADABLE', 'FILE_UNREADABLE', 'CHAIN_UNREACHABLE', 'BAD_ARGUMENTS'];
    const others: [string, string[], string][] = [
      ['keys without a key', ['keys', 'list', '--api', 'http://127.0.0.1:1', '--json'], 'UNUSABLE_INPUT'],
      ['unknown command', ['bogus', '--json'], 'BAD_ARGUMENTS'],
      ['audit without a source', ['audit', '--json'], 'UNUSABLE_INPUT'],
    ];
    const all: [string, string[], string][] = [...cases.map(([what, args], i): [string, string[], string] => [what, [...args, '--json'], codes[i]!]), ...others];
    const json = await tianfuAll(all.map(([, args]) => args));
    all.forEach(([what, , code], i) => {
      const r = json[i]!;
      expect(r.code, `${what} --json: ${r.stderr}`).toBe(2);
      const out = JSON.parse(r.stdout);
      expect(out, what).toEqual({ verdict: 'unusable', error: { code, message: expect.any(String) } });
      expect(out.error.message.length, what).toBeGreaterThan(5);
    });
  }, 600_000);
});
