/**
 * `tianfu audit` and `tianfu export` against a real ledger (embedded Hardhat chain, LevelDB, HTTP):
 * a clean export passes; exports with one injected fault each report exactly that fault; a history
 * rewritten between two audits is caught through the state file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonRpcProvider } from 'ethers';
import { commitment, entryBytes, leafHash, checkpointV2Message, makeEntry, recordDigest, stateRootSubject, subjectLink, subjectPseudonym, toHex, type Hex } from '../../node/protocol';
import { Signature, Wallet } from 'ethers';
import { validateInvoice } from '../../node/invoice';
import { ExportSource, TreeReplay, chainProvider, exportLog, runAudit, stateFileFor, stateKey, type AuditReport } from '../../node/audit';
import { WITH_STATE_MAP, startTestLedger, type TestLedger } from '../support/ledger';
import { openPlainSubjectSequencer } from '../support/plain-subjects';
import { chainReaderFromProvider } from '../../node/chain/chain-reader';
import { verifyBundle } from '../../node/verifier';
import { BUYER_TAX_ID, OTHER_TAX_ID, buyerActor, issuerActor, sampleInvoice } from '../invoice/fixtures';

const run = promisify(execFile);
const CLI = path.join(__dirname, '../../scripts/tianfu.js');

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [CLI, ...args], { env: { ...process.env, TIANFU_API_KEY: '' }, maxBuffer: 16 << 20 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const readLines = (file: string): string[] => fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0);
const writeLines = (file: string, lines: string[]): void => fs.writeFileSync(file, lines.join('\n') + '\n');
const codes = (r: AuditReport): string[] => [...new Set(r.violations.map((v) => v.code))].sort();

describe('tianfu audit / export on a real ledger', () => {
  let t: TestLedger;
  let tmp: string;
  let clean: string;
  let auditorKey: string;
  let provider: JsonRpcProvider;
  /** Log indexes of interest. */
  const at: { issued: number[]; lockOf2: number; lockOf0: number } = { issued: [], lockOf2: -1, lockOf0: -1 };
  const keys: Hex[] = [];

  const copy = (name: string): string => {
    const dir = path.join(tmp, name);
    fs.cpSync(clean, dir, { recursive: true });
    return dir;
  };
  const audit = async (dir: string, statePath: string | null = null) =>
    (await runAudit({ source: new ExportSource(dir), provider, statePath, registry: t.ledger.chain.registry })).report;

  beforeAll(async () => {
    t = await startTestLedger(WITH_STATE_MAP);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-audit-'));
    auditorKey = await t.createKey('auditor');
    provider = chainProvider(t.ledger.chain.rpcUrl);
    const { sequencer } = t.ledger;
    // Group 0 as a node before pseudonymous subjects wrote it (plain invoice keys as subjects): the log
    // holds both subject forms, and keys[0] and keys[1] keep their plain subject for later events.
    const plain = await openPlainSubjectSequencer(t.ledger);
    const buyer = (key: Hex) => ({ invoiceKey: key, buyerTaxId: BUYER_TAX_ID });
    // Several groups, each anchored before the next, so the chain holds several checkpoints.
    for (let g = 0; g < 3; g++) {
      for (let i = 0; i < 2; i++) {
        const n = g * 2 + i;
        const v = validateInvoice(sampleInvoice({ invoiceNumber: `2551200000000000${String(100 + n).padStart(4, '0')}` }));
        if (!v.ok) throw new Error(JSON.stringify(v.problems));
        const a = await (g === 0 ? plain : sequencer).submit({ kind: 'invoice.issued', subject: v.invoiceKey, record: v.invoice as unknown as Record<string, unknown>, actor: issuerActor() });
        at.issued.push(a.index);
        keys.push(v.invoiceKey as Hex);
      }
      if (g === 1) {
        at.lockOf0 = (await sequencer.submit({ kind: 'invoice.reimbursement-locked', subject: keys[0]!, record: buyer(keys[0]!), actor: buyerActor() })).index;
        await sequencer.submit({ kind: 'invoice.reimbursement-closed', subject: keys[0]!, record: buyer(keys[0]!), actor: buyerActor() });
        await sequencer.submit({ kind: 'invoice.booked', subject: keys[1]!, record: buyer(keys[1]!), actor: buyerActor() });
      }
      if (g === 2) at.lockOf2 = (await sequencer.submit({ kind: 'invoice.reimbursement-locked', subject: keys[2]!, record: buyer(keys[2]!), actor: buyerActor() })).index;
      await t.waitAnchored();
    }
    await plain.close();
    // End on a state root, anchored: then the anchorer has nothing more to append while the tests read the log.
    await sequencer.appendStateRoot();
    await t.waitAnchored();
    clean = path.join(tmp, 'clean');
    const e = await cli(['export', '--api', t.url, '--out', clean, '--records', '--key', auditorKey, '--json']);
    expect(e.code, e.stderr).toBe(0);
  });

  afterAll(async () => {
    provider?.destroy();
    await t?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('export writes entries, receipts, records, checkpoints and the manifest; the routes guard records', async () => {
    const m = JSON.parse(fs.readFileSync(path.join(clean, 'manifest.json'), 'utf8'));
    expect(m).toMatchObject({ format: 'tianfu.export/v1', logId: t.ledger.logId, chainId: '31337', registry: t.ledger.chain.registry, treeSize: t.ledger.log.size, rootHash: t.ledger.log.rootHash, records: true });
    expect(readLines(path.join(clean, 'entries.jsonl'))).toHaveLength(m.treeSize);
    expect(readLines(path.join(clean, 'receipts.jsonl'))).toHaveLength(m.treeSize);
    const recs = readLines(path.join(clean, 'records.jsonl')).map((l) => JSON.parse(l));
    expect(recs[at.lockOf0]).toMatchObject({ index: at.lockOf0, kind: 'invoice.reimbursement-locked', record: { buyerTaxId: BUYER_TAX_ID } });
    expect(JSON.parse(fs.readFileSync(path.join(clean, 'checkpoints.json'), 'utf8')).checkpoints.length).toBeGreaterThanOrEqual(3);
    expect((await t.api('/v1/log/records?start=0&end=2')).status).toBe(401);
    expect((await t.api('/v1/log/records?start=0&end=2', { key: await t.createKey('issuer', '91110000600037341L') })).status).toBe(403);
    const pub = await t.api('/v1/log/receipts?start=1&end=3');
    expect(pub.status).toBe(200);
    expect(pub.body.receipts.map((r: { index: number }) => r.index)).toEqual([1, 2]);
    expect((await t.api('/v1/log/receipts?start=999999')).status).toBe(400);
  });

  it('the log holds both subject forms: plain keys from before the cut-over (kept for later events), pseudonyms after; the records link them', async () => {
    const entries = readLines(path.join(clean, 'entries.jsonl')).map((l) => JSON.parse(l).entry);
    const recs = readLines(path.join(clean, 'records.jsonl')).map((l) => JSON.parse(l));
    const subjectOf = (i: number) => entries[i].subject;
    expect([subjectOf(at.issued[0]!), subjectOf(at.issued[1]!), subjectOf(at.lockOf0)]).toEqual([keys[0], keys[1], keys[0]]);
    expect(recs[at.lockOf0].subjectLink).toBeUndefined();
    for (const j of [2, 3, 4, 5]) {
      const i = at.issued[j]!;
      expect(subjectOf(i)).not.toBe(keys[j]);
      expect(recs[i]).toMatchObject({ subject: subjectOf(i), subjectLink: { scheme: 'tianfu/subject/v1', key: keys[j] } });
      expect(subjectPseudonym(recs[i].subjectLink.salt, keys[j]!)).toBe(subjectOf(i));
    }
    expect(subjectOf(at.lockOf2)).toBe(subjectOf(at.issued[2]!));
    // The bundles of both forms verify with the same verifier.
    for (const k of [keys[0]!, keys[2]!]) {
      const b = await t.api(`/v1/invoices/${k}/bundle`, { key: auditorKey });
      expect(b.status).toBe(200);
      expect(b.body.subjectLink?.key).toBe(k === keys[0] ? undefined : k);
      const rep = await verifyBundle(b.body, { chain: chainReaderFromProvider(provider) });
      expect(rep.verdict, JSON.stringify(rep.firstFailure)).toBe('valid');
    }
  });

  it('a clean export passes: CLI exit 0, every checkpoint equal to the chain, every receipt and record checked', async () => {
    const r = await cli(['audit', '--from-export', clean, '--rpc', t.ledger.chain.rpcUrl, '--no-state', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(rep.ok).toBe(true);
    expect(rep.violations).toEqual([]);
    expect(rep.treeSize).toBe(t.ledger.log.size);
    expect(rep.checkpoints.onChain).toBeGreaterThanOrEqual(3);
    expect(rep.checkpoints.verified).toBe(rep.checkpoints.onChain);
    expect(rep.checkpoints.consistencyProofs).toBe(rep.checkpoints.onChain - 1);
    // Receipts v2: one signature per group commit, checked once per distinct checkpoint; every receipt's fields and proof.
    const heads = new Set(readLines(path.join(clean, 'receipts.jsonl')).map((l) => JSON.stringify(JSON.parse(l).checkpoint)));
    expect(heads.size).toBeGreaterThanOrEqual(3);
    expect(rep.receipts.checked).toBe(rep.treeSize);
    expect(rep.receipts.signaturesVerified).toBe(heads.size);
    // A state.root has no record (its commitment is the map root); every other entry's record opens it.
    expect(rep.stateMap.stateRoots).toBeGreaterThanOrEqual(3);
    expect(rep.kinds['state.root']).toBe(rep.stateMap.stateRoots);
    expect(rep.records.checked).toBe(rep.treeSize - rep.stateMap.stateRoots);
    expect(rep.stateMap.subjects).toBe(6);
    expect(rep.stateMap.root).toBe(await t.ledger.sequencer.stateMap!.currentRoot());
    expect(rep.kinds['invoice.issued']).toBe(6);
    expect(rep.nodeCheckpoints.matching).toBe(rep.nodeCheckpoints.listed);
  });

  it('audits a live node through the API as well', async () => {
    const r = await cli(['audit', '--api', t.url, '--rpc', t.ledger.chain.rpcUrl, '--no-state', '--records', '--key', auditorKey]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Result: CLEAN/);
    expect(r.stdout).toMatch(/Checkpoints on chain: \d+; root equal to the replay: \d+; different: 0/);
  });

  it('an entry dropped: ENTRY_MISSING at that index, and the roots after it differ from the chain (CLI exit 1)', async () => {
    const dir = copy('dropped');
    const drop = at.issued[3]!; // an invoice with no later events: the lifecycle replay stays quiet
    writeLines(path.join(dir, 'entries.jsonl'), readLines(path.join(dir, 'entries.jsonl')).filter((_, i) => i !== drop));
    const r = await cli(['audit', '--from-export', dir, '--rpc', t.ledger.chain.rpcUrl, '--no-state', '--json']);
    expect(r.code).toBe(1);
    const rep = JSON.parse(r.stdout) as AuditReport;
    // The state roots after it were made with the dropped invoice in the map: the replay without it differs.
    // And the trees the operator signed for the receipts after it are not the replayed ones (RECEIPT_CHECKPOINT).
    expect(codes(rep)).toEqual(['CHECKPOINT_ROOT_MISMATCH', 'ENTRY_MISSING', 'RECEIPT_CHECKPOINT', 'SOURCE_SIZE_MISMATCH', 'STATE_ROOT_MISMATCH']);
    for (const v of rep.violations.filter((x) => x.code === 'RECEIPT_CHECKPOINT')) expect(v.treeSize!).toBeGreaterThan(drop);
    for (const v of rep.violations.filter((x) => x.code === 'STATE_ROOT_MISMATCH')) expect(v.index!).toBeGreaterThan(drop);
    expect(rep.violations.find((v) => v.code === 'ENTRY_MISSING')!.index).toBe(drop);
    for (const v of rep.violations.filter((x) => x.code === 'CHECKPOINT_ROOT_MISMATCH')) expect(v.treeSize!).toBeGreaterThan(drop);
  });

  it('two entries swapped: ENTRY_OUT_OF_ORDER and the roots covering them differ from the chain', async () => {
    const dir = copy('swapped');
    const [a, b] = [at.issued[4]!, at.issued[5]!];
    expect(b).toBe(a + 1);
    const lines = readLines(path.join(dir, 'entries.jsonl'));
    [lines[a], lines[b]] = [lines[b]!, lines[a]!];
    writeLines(path.join(dir, 'entries.jsonl'), lines);
    const rep = await audit(dir);
    const sameAt = JSON.parse(lines[a]!).entry.at === JSON.parse(lines[b]!).entry.at;
    // The head root the manifest claims differs too (SOURCE_ROOT_MISMATCH): the same reordering seen at the head.
    const expected = ['CHECKPOINT_ROOT_MISMATCH', 'ENTRY_OUT_OF_ORDER', 'RECEIPT_CHECKPOINT', 'SOURCE_ROOT_MISMATCH'];
    expect(codes(rep)).toEqual(sameAt ? expected : ['AT_DECREASED', ...expected]);
    expect(rep.violations.find((v) => v.code === 'ENTRY_OUT_OF_ORDER')!.index).toBe(a);
  });

  it('a record changed: RECORD_NOT_COMMITTED for exactly that record', async () => {
    const dir = copy('record-changed');
    const file = path.join(dir, 'records.jsonl');
    const lines = readLines(file);
    const rec = JSON.parse(lines[at.lockOf0]!);
    rec.record.buyerTaxId = OTHER_TAX_ID;
    lines[at.lockOf0] = JSON.stringify(rec);
    writeLines(file, lines);
    const rep = await audit(dir);
    expect(rep.violations).toEqual([expect.objectContaining({ code: 'RECORD_NOT_COMMITTED', index: at.lockOf0 })]);
  });

  it('a subject link that does not open its entry: SUBJECT_LINK_MISMATCH for exactly that record', async () => {
    const dir = copy('link-changed');
    const file = path.join(dir, 'records.jsonl');
    const lines = readLines(file);
    const victim = at.issued[3]!;
    const row = JSON.parse(lines[victim]!);
    row.subjectLink.key = keys[4];
    lines[victim] = JSON.stringify(row);
    writeLines(file, lines);
    const rep = await audit(dir);
    expect(rep.violations.map((v) => [v.code, v.index])).toEqual([['SUBJECT_LINK_MISMATCH', victim]]);
  });

  it('receipts signed by another key or altered: RECEIPT_SIGNATURE at exactly those indexes, on the worker pool as on this thread', async () => {
    const dir = copy('receipt-forged');
    const file = path.join(dir, 'receipts.jsonl');
    const lines = readLines(file);
    const stranger = Wallet.createRandom();
    // v2: the signature is the group checkpoint's. Index 1's re-signed by a stranger, index 3's with s
    // flipped to n - s (high s), the last one's with a bad v.
    const r1 = JSON.parse(lines[1]!);
    r1.checkpoint.signature = stranger.signMessageSync(checkpointV2Message(r1.checkpoint));
    lines[1] = JSON.stringify(r1);
    const r3 = JSON.parse(lines[3]!);
    const sig = Signature.from(r3.checkpoint.signature);
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    r3.checkpoint.signature = '0x' + sig.r.slice(2) + (n - BigInt(sig.s)).toString(16).padStart(64, '0') + (sig.v === 27 ? '1c' : '1b');
    lines[3] = JSON.stringify(r3);
    const last = lines.length - 1;
    const rl = JSON.parse(lines[last]!);
    rl.checkpoint.signature = rl.checkpoint.signature.slice(0, 130) + '1d';
    lines[last] = JSON.stringify(rl);
    writeLines(file, lines);
    const run = async (receiptWorkers: number) => (await runAudit({ source: new ExportSource(dir), provider, statePath: null, registry: t.ledger.chain.registry, receiptWorkers })).report;
    const pooled = await run(1);
    const inline = await run(0);
    const found = (r: AuditReport) => r.violations.map((v) => [v.code, v.index, v.message]).sort((x, y) => Number(x[1]) - Number(y[1]));
    expect(found(pooled).map((v) => [v[0], v[1]])).toEqual([['RECEIPT_SIGNATURE', 1], ['RECEIPT_SIGNATURE', 3], ['RECEIPT_SIGNATURE', last]]);
    expect(found(pooled)).toEqual(found(inline));
  });

  it('a receipt v2 whose proof was changed: RECEIPT_PROOF at exactly that index (its checkpoint is the log\'s, its signature the operator\'s)', async () => {
    const dir = copy('receipt-proof');
    const file = path.join(dir, 'receipts.jsonl');
    const lines = readLines(file);
    const victim = at.issued[4]!;
    const r = JSON.parse(lines[victim]!);
    expect(r.proof.length).toBeGreaterThan(0);
    r.proof[0] = '0x' + '22'.repeat(32);
    lines[victim] = JSON.stringify(r);
    writeLines(file, lines);
    const rep = await audit(dir);
    expect(rep.violations.map((v) => [v.code, v.index])).toEqual([['RECEIPT_PROOF', victim]]);
  });

  it('a forged second reimbursement lock, appended with a valid receipt and record: caught by the lifecycle replays', async () => {
    const dir = copy('second-lock');
    const n = t.ledger.log.size;
    const record = { invoiceKey: keys[2]!, buyerTaxId: BUYER_TAX_ID };
    const salt = toHex(new Uint8Array(32).fill(7)) as Hex;
    const digest = recordDigest(record);
    // The entry names the invoice's pseudonym, as the node writes it; the record row carries the link.
    const pseudonym = await t.ledger.sequencer.entrySubject(keys[2]!);
    const link = subjectLink(keys[2]!, (await t.ledger.sequencer.subjectSalt(keys[2]!))!);
    const entry = makeEntry('invoice.reimbursement-locked', pseudonym, commitment(salt, digest), new Date());
    const leaf = toHex(leafHash(entryBytes(entry))) as Hex;
    // The operator's own key signs the forgery: only the rules can catch it, not the signatures.
    const receipt = t.ledger.sequencer.sign(n, leaf, entry.at);
    fs.appendFileSync(path.join(dir, 'entries.jsonl'), JSON.stringify({ index: n, entry, leafHash: leaf }) + '\n');
    fs.appendFileSync(path.join(dir, 'receipts.jsonl'), JSON.stringify(receipt) + '\n');
    fs.appendFileSync(path.join(dir, 'records.jsonl'), JSON.stringify({ index: n, kind: entry.kind, subject: entry.subject, subjectLink: link, record, salt, recordDigest: digest }) + '\n');
    const tree = new TreeReplay();
    for (const l of readLines(path.join(dir, 'entries.jsonl'))) tree.append(leafHash(entryBytes(JSON.parse(l).entry)));
    const mf = path.join(dir, 'manifest.json');
    fs.writeFileSync(mf, JSON.stringify({ ...JSON.parse(fs.readFileSync(mf, 'utf8')), treeSize: n + 1, rootHash: toHex(tree.root()) }));
    const rep = await audit(dir);
    expect(codes(rep)).toEqual(['DOUBLE_LOCK', 'REIMBURSEMENT_LOCKED']);
    expect(rep.violations.every((v) => v.index === n && v.subject === pseudonym)).toBe(true);
    expect(rep.anchoring.pending).toBe(1);
  });

  it('a forged state.root, appended with a valid receipt: STATE_ROOT_MISMATCH at exactly that index', async () => {
    const dir = copy('state-root-forged');
    const n = t.ledger.log.size;
    // The operator claims a map in which invoice 0 was never reimbursed (the root of another map).
    const forged = recordDigest({ pretend: 'invoice 0 is open' });
    const entry = makeEntry('state.root', stateRootSubject(n), forged, new Date());
    const leaf = toHex(leafHash(entryBytes(entry))) as Hex;
    const receipt = t.ledger.sequencer.sign(n, leaf, entry.at);
    fs.appendFileSync(path.join(dir, 'entries.jsonl'), JSON.stringify({ index: n, entry, leafHash: leaf }) + '\n');
    fs.appendFileSync(path.join(dir, 'receipts.jsonl'), JSON.stringify(receipt) + '\n');
    fs.appendFileSync(path.join(dir, 'records.jsonl'), JSON.stringify({ index: n, kind: entry.kind, subject: entry.subject, record: null, salt: null, recordDigest: forged }) + '\n');
    const tree = new TreeReplay();
    for (const l of readLines(path.join(dir, 'entries.jsonl'))) tree.append(leafHash(entryBytes(JSON.parse(l).entry)));
    const mf = path.join(dir, 'manifest.json');
    fs.writeFileSync(mf, JSON.stringify({ ...JSON.parse(fs.readFileSync(mf, 'utf8')), treeSize: n + 1, rootHash: toHex(tree.root()) }));
    const rep = await audit(dir);
    expect(rep.violations).toEqual([expect.objectContaining({ source: 'map', code: 'STATE_ROOT_MISMATCH', index: n })]);
    expect(rep.violations[0]!.message).toContain(await t.ledger.sequencer.stateMap!.currentRoot());
    // The CLI says so and exits 1.
    const r = await cli(['audit', '--from-export', dir, '--rpc', t.ledger.chain.rpcUrl, '--no-state']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/STATE_ROOT_MISMATCH/);
  });

  it('a checkpoint in checkpoints.json that differs from the chain: NODE_CHECKPOINT_MISMATCH at that size', async () => {
    const dir = copy('checkpoint-edited');
    const file = path.join(dir, 'checkpoints.json');
    const cps = JSON.parse(fs.readFileSync(file, 'utf8'));
    const victim = cps.checkpoints[1];
    victim.rootHash = '0x' + (victim.rootHash[2] === 'a' ? 'b' : 'a') + victim.rootHash.slice(3);
    fs.writeFileSync(file, JSON.stringify(cps));
    const rep = await audit(dir);
    expect(rep.violations).toEqual([expect.objectContaining({ code: 'NODE_CHECKPOINT_MISMATCH', treeSize: victim.treeSize })]);
    expect(rep.violations[0]!.message).toMatch(/operator signature does not cover it/);
  });

  it('unusable input exits 2: no export there, unreachable chain', async () => {
    const a = await cli(['audit', '--from-export', path.join(tmp, 'nope'), '--rpc', t.ledger.chain.rpcUrl, '--no-state']);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/manifest\.json is missing/);
    const b = await runAudit({ source: new ExportSource(clean), provider: chainProvider('http://127.0.0.1:9'), statePath: null }).catch((e: Error) => e);
    expect(b).toBeInstanceOf(Error);
    expect((b as Error).message).toMatch(/unreachable/);
  });

  it('export resumes after an interruption (torn last line) and equals a one-go export', async () => {
    const dir = path.join(tmp, 'resumed');
    const first = await exportLog({ api: t.url, out: dir, records: true, key: auditorKey, limit: 3 });
    expect(first.complete).toBe(false);
    // Nothing at the name asked for until it is complete: the work is in <out>.partial.
    expect(fs.existsSync(dir)).toBe(false);
    expect(first.dir).toBe(`${dir}.partial`);
    fs.appendFileSync(path.join(`${dir}.partial`, 'entries.jsonl'), '{"index":3,"entry":{"v":1,"ki');
    const seen: unknown[] = [];
    const second = await exportLog({ api: t.url, out: dir, records: true, key: auditorKey, onResume: (i) => seen.push(i) });
    expect(second).toMatchObject({ complete: true, resumedFrom: 3, dir });
    expect(seen).toEqual([{ mode: 'unfinished', dir: `${dir}.partial`, entries: 3, receipts: 3, records: 3 }]);
    expect(fs.existsSync(`${dir}.partial`)).toBe(false);
    for (const f of ['entries.jsonl', 'receipts.jsonl', 'records.jsonl']) expect(fs.readFileSync(path.join(dir, f), 'utf8'), f).toBe(fs.readFileSync(path.join(clean, f), 'utf8'));
    expect((await audit(dir)).ok).toBe(true);
  });

  it('an export that fails (no key for --records) leaves no export-looking directory, exits 2 with JSON on stdout, and a re-run says what it resumes', async () => {
    const dir = path.join(tmp, 'no-key');
    const failed = await cli(['export', '--api', t.url, '--out', dir, '--records', '--json']);
    expect(failed.code, failed.stderr).toBe(2);
    expect(JSON.parse(failed.stdout)).toMatchObject({ verdict: 'unusable', error: { code: 'EXPORT_FAILED', message: expect.stringMatching(/401/) } });
    expect(failed.stderr).toMatch(/kept in .*no-key\.partial; run the same command again/);
    expect(fs.existsSync(dir)).toBe(false);
    const a = await cli(['audit', '--from-export', dir, '--rpc', t.ledger.chain.rpcUrl, '--no-state', '--json']);
    expect(a.code).toBe(2);
    expect(JSON.parse(a.stdout)).toMatchObject({ verdict: 'unusable', error: { message: expect.stringMatching(/did not finish.*no-key\.partial.*resume/) } });
    const again = await cli(['export', '--api', t.url, '--out', dir, '--records', '--key', auditorKey]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/resuming the unfinished export in .*no-key\.partial \(it holds \d+ entries, \d+ receipts, 0 records/);
    expect(again.stdout).toMatch(/resumed from 0/);
    expect((await audit(dir)).ok).toBe(true);
    const update = await cli(['export', '--api', t.url, '--out', dir, '--records', '--key', auditorKey]);
    expect(update.stderr).toMatch(/updating the finished export/);
  });

  it('state per log: one file per (chain, registry, log) in the state directory; the old shared file is read once for a log without one, and never written', async () => {
    const stateDir = path.join(tmp, 'state-dir');
    const legacy = path.join(tmp, 'legacy-audit-state.json');
    const run = (legacyStatePath: string | null = legacy) => runAudit({ source: new ExportSource(clean), provider, statePath: null, stateDir, legacyStatePath, registry: t.ledger.chain.registry });
    // Another ledger's state, as an earlier version kept it in the one shared file, next to ours.
    const registry = t.ledger.chain.registry.toLowerCase();
    const chainId = String(t.ledger.chain.chainId);
    const key = stateKey(chainId, registry, t.ledger.logId);
    const theirs = { treeSize: 1, rootHash: '0x' + 'ab'.repeat(32), verifiedAt: '2025-01-01T00:00:00.000Z' };
    const first = await run();
    const file = stateFileFor(stateDir, chainId, registry, t.ledger.logId);
    expect(first.stateFile).toBe(file);
    expect(path.basename(file)).toBe(`${chainId}-${registry}-${t.ledger.logId}.json`);
    expect(first.priorFrom).toBe(null);
    const saved = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(Object.keys(saved.logs)).toEqual([key]);
    expect(saved.logs[key].treeSize).toBe(first.savedState!.treeSize);

    // A machine that audited this log before the change: its prior is in the shared file only.
    fs.rmSync(stateDir, { recursive: true });
    const otherKey = stateKey(chainId, '0x' + '11'.repeat(20), t.ledger.logId);
    fs.writeFileSync(legacy, JSON.stringify({ format: 'tianfu.audit-state/v1', logs: { [otherKey]: theirs, [key]: saved.logs[key] } }));
    const legacyBefore = fs.readFileSync(legacy, 'utf8');
    const second = await run();
    expect(second.priorFrom).toBe('legacy');
    expect(second.report.state.prior?.treeSize).toBe(saved.logs[key].treeSize);
    expect(second.report.state.consistent).toBe(true);
    // Written to this log's own file only; the shared file and the other ledger's entry are untouched.
    expect(Object.keys(JSON.parse(fs.readFileSync(file, 'utf8')).logs)).toEqual([key]);
    expect(fs.readFileSync(legacy, 'utf8')).toBe(legacyBefore);
    expect(fs.readdirSync(stateDir)).toEqual([path.basename(file)]);
    // From then on the log's own file is the state: the shared one is not consulted again.
    fs.writeFileSync(legacy, JSON.stringify({ format: 'tianfu.audit-state/v1', logs: { [key]: { ...saved.logs[key], rootHash: '0x' + 'cd'.repeat(32) } } }));
    const third = await run();
    expect([third.priorFrom, third.report.ok]).toEqual(['state', true]);
  });

  // Last: it stops the anchorer, so that entries stay unanchored and only the state file can see them.
  it('a history rewritten between two audits is caught through the state file', async () => {
    const statePath = path.join(tmp, 'state.json');
    await t.ledger.anchorer.stop();
    for (const k of [keys[3]!, keys[4]!]) await t.ledger.sequencer.submit({ kind: 'invoice.booked', subject: k, record: { invoiceKey: k, buyerTaxId: BUYER_TAX_ID }, actor: buyerActor() });
    const dir = path.join(tmp, 'tail');
    await exportLog({ api: t.url, out: dir, records: true, key: auditorKey });
    const first = await audit(dir, statePath);
    expect(first.violations).toEqual([]);
    expect(first.anchoring.pending).toBe(2);
    const saved = JSON.parse(fs.readFileSync(statePath, 'utf8'));
    const entry0 = Object.values(saved.logs)[0] as { treeSize: number; head: { treeSize: number } };
    expect(entry0.head.treeSize).toBe(first.treeSize);
    expect(entry0.treeSize).toBe(first.checkpoints.latest!.treeSize);

    // The node now serves another last entry (re-signed receipt, matching record and manifest): every
    // signature and the chain are satisfied; only the previous audit remembers the old head.
    const n = first.treeSize - 1;
    const record = { invoiceKey: keys[4]!, buyerTaxId: BUYER_TAX_ID };
    const salt = toHex(new Uint8Array(32).fill(9)) as Hex;
    const digest = recordDigest(record);
    const entry = makeEntry('invoice.use-confirmed', await t.ledger.sequencer.entrySubject(keys[4]!), commitment(salt, digest), new Date());
    const leaf = toHex(leafHash(entryBytes(entry))) as Hex;
    const replace = (file: string, value: unknown) => {
      const lines = readLines(path.join(dir, file));
      lines[n] = JSON.stringify(value);
      writeLines(path.join(dir, file), lines);
    };
    replace('entries.jsonl', { index: n, entry, leafHash: leaf });
    replace('receipts.jsonl', t.ledger.sequencer.sign(n, leaf, entry.at));
    replace('records.jsonl', { index: n, kind: entry.kind, subject: entry.subject, subjectLink: subjectLink(keys[4]!, (await t.ledger.sequencer.subjectSalt(keys[4]!))!), record, salt, recordDigest: digest });
    const tree = new TreeReplay();
    for (const l of readLines(path.join(dir, 'entries.jsonl'))) tree.append(leafHash(entryBytes(JSON.parse(l).entry)));
    const mf = path.join(dir, 'manifest.json');
    fs.writeFileSync(mf, JSON.stringify({ ...JSON.parse(fs.readFileSync(mf, 'utf8')), rootHash: toHex(tree.root()) }));

    expect((await audit(dir)).violations).toEqual([]); // without the state file the rewrite is invisible
    const second = await audit(dir, statePath);
    expect(second.violations).toEqual([expect.objectContaining({ code: 'STATE_HISTORY_REWRITTEN', source: 'state', treeSize: first.treeSize })]);
    expect(second.state.consistent).toBe(false);
    // A failed audit does not move the remembered head.
    expect(JSON.parse(fs.readFileSync(statePath, 'utf8'))).toEqual(saved);
  });
});
