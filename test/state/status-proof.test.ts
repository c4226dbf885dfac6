/**
 * Status proofs end to end (real node, embedded chain, HTTP): GET /v1/invoices/{key}/status-proof,
 * the public GET /v1/invoice-status/proof and GET /v1/evidence/{id}/status-proof give
 * tianfu.status-proof/v1 documents that verify against the chain, for presence and absence; a proof for
 * the wrong key, a stale leaf presented with a later state root, a leaf with one field changed and a
 * root that was never anchored are each refused, naming the step; the public proof holds no party data;
 * `tianfu verify` accepts a proof (exit 0) and refuses a tampered one (exit 1).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entryLeafHash, leafValueHash, makeEntry, mapKey, stateRootSubject, type Hex, type StateLeaf } from '../../node/protocol';
import { connectChainReader, type RpcChainReader } from '../../node/chain/chain-reader';
import { verifyStatusProof, type StatusProof, type StatusVerificationReport } from '../../node/verifier';
import { MemoryMap } from '../../node/state';
import { BUYER_TAX_ID, SELLER_TAX_ID, blue, startInvoiceLedger, type Parties } from '../api/invoices-support';
import { WITH_STATE_MAP, type TestLedger } from '../support/ledger';
import { bytesOf, deposit, metadata } from '../api/evidence-support';

const run = promisify(execFile);
const CLI = path.join(__dirname, '../../scripts/tianfu.js');

describe('status proofs (real node)', () => {
  let t: TestLedger;
  let k: Parties;
  let chain: RpcChainReader;
  let tmp: string;
  let key: Hex;
  let other: Hex;
  let first: StatusProof;
  let evidenceId: string;

  const settle = async (): Promise<void> => {
    await t.ledger.sequencer.appendStateRoot();
    await t.waitAnchored();
  };
  const verify = (p: unknown): Promise<StatusVerificationReport> => verifyStatusProof(p, { chain });
  const failedAt = async (p: unknown): Promise<string | undefined> => {
    const r = await verify(p);
    expect(r.verdict).toBe('invalid');
    return r.firstFailure?.name;
  };
  const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

  beforeAll(async () => {
    ({ t, k } = await startInvoiceLedger(WITH_STATE_MAP));
    chain = await connectChainReader(t.ledger.chain.rpcUrl);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-status-'));
    const a = await t.api('/v1/invoices', { body: blue(1), key: k.issuer });
    const b = await t.api('/v1/invoices', { body: blue(2), key: k.issuer });
    expect(a.status, JSON.stringify(a.body)).toBe(201);
    key = a.body.invoiceKey;
    other = b.body.invoiceKey;
    const ev = await deposit(t, k.collector, metadata(), bytesOf(1024, 'status'));
    expect(ev.status).toBe(201);
    evidenceId = ev.body.evidenceId;
    await settle();
    const r = await t.api(`/v1/invoices/${key}/status-proof`, { key: k.auditor });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    first = r.body;
  });

  afterAll(async () => {
    chain?.close();
    await t?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('an invoice proof verifies on chain: as of checkpoint N (block time T), status, last changed at index i', async () => {
    expect(first.format).toBe('tianfu.status-proof/v1');
    expect(first.subjectLink?.key).toBe(key);
    const r = await verify(first);
    expect(r.verdict, JSON.stringify(r.firstFailure)).toBe('valid');
    expect(r.status).toMatchObject({ present: true, domain: 'invoice', subjectKey: key, status: { status: 'issued', reimbursement: 'init', use: 'none', openRedForms: 0 }, entries: 1 });
    expect(r.status.checkpoint).toBeGreaterThan(r.status.asOfTreeSize);
    expect(r.status.statement).toMatch(new RegExp(`^as of checkpoint ${r.status.checkpoint} \\(block time .+\\): invoice ${key}: status issued, reimbursement init.*last changed at log index ${r.status.lastIndex}`));
    expect(r.steps.map((s) => s.name).slice(0, 3)).toEqual(['state-key', 'state-root', 'state-map']);
    // The state.root item has no record by design: the report says what its entry proves, never "content erased".
    expect(r.items[0]!.status).toBe('verified');
    expect(r.proves[1]).toMatch(new RegExp(`^The state\\.root entry at log index ${r.status.asOfTreeSize} commits to map root 0x[0-9a-f]{64}; .* no later than `));
    expect(r.proves.join('\n')).not.toContain('erased');
    expect(r.status.statement).toMatch(/; 1 entry in all$/);
  });

  it('after a reimbursement lock, the next proof says locked; the old leaf with the new state root is refused (stale)', async () => {
    const lock = await t.api(`/v1/invoices/${key}/reimbursement`, { body: { action: 'lock' }, key: k.buyer });
    expect(lock.status, JSON.stringify(lock.body)).toBe(200);
    await settle();
    const now = (await t.api(`/v1/invoices/${key}/status-proof`, { key: k.buyer })).body as StatusProof;
    const r = await verify(now);
    expect(r.verdict).toBe('valid');
    expect(r.status.status).toMatchObject({ reimbursement: 'locked' });
    expect(r.status.lastIndex).toBe(lock.body.index);
    // The operator (or anyone) presenting the state before the lock as current for the later checkpoint.
    const stale = { ...clone(now), leaf: first.leaf, mapProof: first.mapProof };
    expect(await failedAt(stale)).toBe('state-map');
    // The old proof itself still verifies, as of its own (earlier) checkpoint.
    expect((await verify(first)).verdict).toBe('valid');
  });

  it('refuses a proof for the wrong key, a leaf with one field changed, and a root never anchored, naming the step', async () => {
    const b = (await t.api(`/v1/invoices/${other}/status-proof`, { key: k.court })).body as StatusProof;
    expect((await verify(b)).verdict).toBe('valid');
    // Wrong key: invoice B's leaf and map proof presented under invoice A's key and subject.
    expect(await failedAt({ ...clone(first), leaf: b.leaf, mapProof: b.mapProof })).toBe('state-key');
    // …or relabelled as A's: its map path is not A's.
    expect(await failedAt({ ...clone(first), leaf: { ...b.leaf!, subject: first.subject }, mapProof: b.mapProof })).toBe('state-map');
    // A subject link that does not open the subject.
    expect(await failedAt({ ...clone(first), subjectLink: b.subjectLink })).toBe('state-key');
    // One field changed: the leaf says "not reimbursed" with any other value.
    const changed = clone(first);
    (changed.leaf!.status as { openRedForms: number }).openRedForms = 1;
    expect(await failedAt(changed)).toBe('state-map');
    // A root never anchored: a map the operator made up, a state.root entry committing to it with a
    // receipt the operator signs; its leaf is not in any anchored checkpoint.
    const forgedLeaf: StateLeaf = { ...first.leaf!, status: { status: 'issued', reimbursement: 'init', use: 'none', openRedForms: 0 } };
    const m = new MemoryMap();
    m.update([{ key: mapKey(first.subject), valueHash: leafValueHash(forgedLeaf) }]);
    const forged = clone(first);
    const item = forged.bundle.items[0]!;
    item.entry = makeEntry('state.root', stateRootSubject(item.index), m.root, new Date(item.entry.at));
    item.receipt = t.ledger.sequencer.sign(item.index, entryLeafHash(item.entry), item.entry.at);
    forged.stateRoot.root = m.root;
    forged.leaf = forgedLeaf;
    forged.mapProof = await m.proof(mapKey(first.subject));
    expect(await failedAt(forged)).toBe('inclusion');
  });

  it('the public proof holds the key, status fields and proofs only (no party data); the same 404 for a miss', async () => {
    const q = (n: string, d: string, total: number) => t.api(`/v1/invoice-status/proof?number=${n}&date=${d}&total=${total}`);
    const hit = await q(blue(2).invoiceNumber, '2025-03-01', 106000);
    expect(hit.status).toBe(200);
    expect((await verify(hit.body)).status).toMatchObject({ present: true, subjectKey: other });
    const text = JSON.stringify(hit.body);
    for (const secret of [SELLER_TAX_ID, BUYER_TAX_ID, '示例', '106000', '100000', '张三']) expect(text).not.toContain(secret);
    expect(Object.keys(hit.body).sort()).toEqual(['bundle', 'createdAt', 'domain', 'format', 'leaf', 'mapProof', 'stateRoot', 'subject', 'subjectLink']);
    expect(hit.body.bundle.items[0].record).toBeNull();
    const misses = await Promise.all([q(blue(2).invoiceNumber, '2025-03-01', 106001), q(blue(99).invoiceNumber, '2025-03-01', 106000)]);
    for (const miss of misses) {
      expect(miss.status).toBe(404);
      expect(miss.body.code).toBe('INVOICE_NOT_FOUND');
    }
    expect((await t.api(`/v1/invoices/${key}/status-proof`)).status).toBe(401);
  });

  it('evidence: presence (deposited), and absence of an id never deposited', async () => {
    const p = await t.api(`/v1/evidence/${evidenceId}/status-proof`, { key: k.court });
    expect(p.status, JSON.stringify(p.body)).toBe(200);
    const r = await verify(p.body);
    expect(r.verdict).toBe('valid');
    expect(r.status).toMatchObject({ present: true, domain: 'evidence', status: { sealed: false, withdrawn: false, erased: false } });
    const nobody = 'ev_' + 'ab'.repeat(16);
    // Over HTTP: a court gets the proof of absence of an id never deposited; a collector keeps its one 404.
    const got = await t.api(`/v1/evidence/${nobody}/status-proof`, { key: k.court });
    expect(got.status, JSON.stringify(got.body)).toBe(200);
    const absent = got.body as StatusProof;
    expect(absent.leaf).toBeNull();
    expect(absent.subject).toBe(nobody);
    const asCollector = await t.api(`/v1/evidence/${nobody}/status-proof`, { key: k.collector });
    expect(asCollector.status).toBe(404);
    expect(asCollector.body.code).toBe('EVIDENCE_NOT_FOUND');
    const a = await verify(absent);
    expect(a.verdict).toBe('valid');
    expect(a.status.present).toBe(false);
    expect(a.status.statement).toMatch(/no entry about this evidence among the first \d+ log entries/);
    // An absence proof cannot be turned into presence of the deposit's leaf.
    expect(await failedAt({ ...clone(absent), leaf: p.body.leaf })).toBe('state-key');
  });

  it('tianfu verify accepts a status proof (exit 0, the statement printed) and refuses a changed one (exit 1)', async () => {
    const good = path.join(tmp, 'proof.json');
    fs.writeFileSync(good, JSON.stringify(first));
    const ok = await run(process.execPath, [CLI, 'verify', good, '--rpc', t.ledger.chain.rpcUrl]);
    expect(ok.stdout).toMatch(/Tianfu status proof: VALID/);
    expect(ok.stdout).toContain(`invoice ${key}: status issued`);
    const bad = clone(first);
    bad.leaf!.lastIndex += 1;
    const badFile = path.join(tmp, 'bad.json');
    fs.writeFileSync(badFile, JSON.stringify(bad));
    const refused = await run(process.execPath, [CLI, 'verify', badFile, '--rpc', t.ledger.chain.rpcUrl, '--json']).catch((e: { code: number; stdout: string }) => e);
    expect((refused as { code: number }).code).toBe(1);
    expect(JSON.parse((refused as { stdout: string }).stdout).firstFailure.name).toBe('state-map');
  });
});
