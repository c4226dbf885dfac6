/**
 * node/verifier (the steps of verifyBundle) against a real node (embedded Hardhat chain, real LevelDB): a bundle broken
 * at exactly one step fails at that step and names it (issue 6, "Tests that must exist").
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Wallet, id } from 'ethers';
import { startTestLedger, type TestLedger } from '../support/ledger';
import { chainReaderFromProvider, connectChainReader, type RpcChainReader } from '../../node/chain/chain-reader';
import { startEmbeddedChain } from '../../node/chain/embedded/embedded-chain';
import { deployRegistry } from '../../node/chain/registry-client';
import {
  commitment,
  entryLeafHash,
  loadBundle,
  fromHex,
  rootFromInclusionProof,
  checkpointV2Message,
  recordDigest,
  subjectPseudonym,
  toHex,
  checkpointMessage,
  CHECKPOINT_ANCHORED_TOPIC,
  type Bundle,
  type ChainLog,
  type ChainReader,
  type Hex,
  type ReceiptV2,
} from '../../node/protocol';
import { Eip191Signer } from '../../node/crypto/eip191';
import { domainHistoryRules, verifyBundle, verifyBundleOffline, type VerificationReport, type VerifyOptions } from '../../node/verifier';
import { clone, depositEvidence, flipHex, issueInvoiceWithHistory, resignReceipt, tamperReceiptSignature, type DepositedFile } from './fixtures';
import { buildErasureRecord, custodyKind } from '../../node/evidence/model';

describe('verifyBundle: every step, on a real ledger', () => {
  let t: TestLedger;
  let reader: RpcChainReader;
  let tmp: string;
  let invoice: Bundle;
  let evidence: Bundle;
  let ev: DepositedFile;

  const verify = (b: Bundle, o: Partial<VerifyOptions> = {}): Promise<VerificationReport> => verifyBundle(b, { chain: reader, history: domainHistoryRules, ...o });
  const failsAt = async (b: Bundle, name: string, o: Partial<VerifyOptions> = {}): Promise<VerificationReport> => {
    const r = await verify(b, o);
    expect(r.verdict, JSON.stringify(r.firstFailure)).toBe('invalid');
    expect(r.firstFailure?.name, JSON.stringify(r.firstFailure)).toBe(name);
    expect(r.firstFailure?.status).toBe('failed');
    return r;
  };

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-verify-'));
    t = await startTestLedger();
    const key = await issueInvoiceWithHistory(t.ledger);
    ev = await depositEvidence(t.ledger, path.join(tmp, 'capture.bin'));
    await t.waitAnchored();
    invoice = await t.ledger.bundle('invoice', key);
    evidence = await t.ledger.bundle('evidence', ev.evidenceId, { file: ev.file });
    reader = await connectChainReader(t.ledger.chain.rpcUrl);
  });
  afterAll(async () => {
    reader?.close();
    await t?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('a real invoice bundle with its history is valid, every step ok, and the report says what, when, where and by whom', async () => {
    expect(invoice.items.map((i) => i.entry.kind)).toEqual(['invoice.issued', 'invoice.reimbursement-locked', 'invoice.reimbursement-closed']);
    const r = await verify(invoice);
    expect(r.verdict).toBe('valid');
    expect(r.accepted).toBe(true);
    expect(r.firstFailure).toBeNull();
    // No TSA on this node: item 6 is not provided, never passed.
    expect(r.steps.filter((s) => s.status !== 'ok').map((s) => [s.name, s.status])).toEqual([['tsa-token', 'skipped']]);
    expect(r.time).toMatchObject({ status: 'not-provided', tokens: [], agree: null });
    const perItem = ['canonical-bytes', 'record-digest', 'commitment', 'entry', 'leaf-hash', 'inclusion', 'receipt-signature', 'receipt-proof', 'receipt-consistency', 'receipt-fields'];
    for (let i = 0; i < 3; i++) expect(r.steps.filter((s) => s.item === i).map((s) => s.name)).toEqual(perItem);
    expect(r.steps.filter((s) => s.checkpoint !== undefined).map((s) => s.name)).toEqual(['chain-id', 'registry-code', 'anchor', 'operator', 'block', 'consistency', 'checkpoint-signature']);
    expect(r.steps.slice(-4).map((s) => s.name)).toEqual(['custody-order', 'custody-rules', 'checkpoint-signature', 'tsa-token']);
    // The registry's latest checkpoint extends (or is) the bundle's.
    expect(r.checkpoints[0]!.latest!.treeSize).toBeGreaterThanOrEqual(r.checkpoints[0]!.treeSize);
    expect(r.steps.some((s) => s.name.startsWith('file-'))).toBe(false);
    // The digest the verifier reports is the record's SHA-256, independently recomputed.
    expect(r.items[0]!.recordDigest).toBe(recordDigest(invoice.items[0]!.record));
    const cp = r.checkpoints[0]!;
    const block = await t.ledger.provider.getBlock(Number(cp.blockNumber));
    expect(cp.blockHash).toBe(block!.hash);
    expect(cp.blockTime).toBe(new Date(block!.timestamp * 1000).toISOString().replace('.000Z', 'Z'));
    // Acceptance precedes anchoring, to the second (block times are whole seconds).
    for (const it of r.items) expect(Math.floor(Date.parse(it.at) / 1000)).toBeLessThanOrEqual(block!.timestamp);
    expect(cp.operator).toBe(t.ledger.operator.address.toLowerCase());
    expect(cp.confirmations).toBeGreaterThanOrEqual(1);
    expect(r.proves.join('\n')).toContain(`no later than ${cp.blockTime}`);
    expect(r.limits.join('\n')).toMatch(/does not prove that their content is true/);
  });

  it('a reader over the node\'s own provider (what an API route would use) gives the same steps', async () => {
    const viaUrl = await verify(invoice, { now: () => new Date(0) });
    const viaProvider = await verifyBundle(invoice, { chain: chainReaderFromProvider(t.ledger.provider), history: domainHistoryRules, now: () => new Date(0) });
    expect(viaProvider.verdict).toBe('valid');
    expect(viaProvider.steps.map((s) => [s.name, s.status])).toEqual(viaUrl.steps.map((s) => [s.name, s.status]));
  });

  it('record changed → commitment', async () => {
    const b = clone(invoice);
    (b.items[0]!.record as { totalAmountFen: number }).totalAmountFen += 1;
    const r = await failsAt(b, 'commitment');
    expect(r.firstFailure).toMatchObject({ item: 0, expected: invoice.items[0]!.entry.commitment });
    expect(r.items[0]!.status).toBe('invalid');
    expect(r.items[1]!.status).toBe('verified');
  });

  it('salt changed → commitment', async () => {
    const b = clone(invoice);
    b.items[1]!.salt = flipHex(b.items[1]!.salt!);
    expect((await failsAt(b, 'commitment')).firstFailure?.item).toBe(1);
  });

  it('entry changed → leaf-hash (time), entry (subject), commitment (commitment)', async () => {
    const b = clone(invoice);
    b.items[2]!.entry.at = new Date(Date.parse(b.items[2]!.entry.at) + 1).toISOString();
    const r = await failsAt(b, 'leaf-hash');
    expect(r.firstFailure).toMatchObject({ item: 2, expected: invoice.items[2]!.receipt.leafHash, calculated: entryLeafHash(b.items[2]!.entry) });

    const s = clone(invoice);
    s.items[1]!.entry.subject = flipHex(s.items[1]!.entry.subject);
    expect((await failsAt(s, 'entry')).firstFailure?.detail).toMatch(/entry\.subject/);

    const c = clone(invoice);
    c.items[0]!.entry.commitment = flipHex(c.items[0]!.entry.commitment);
    await failsAt(c, 'commitment');
  });

  it("a pseudonymous subject: the bundle's link opens it; another salt or key, or the plain key as subject, fails the entry step", async () => {
    expect(invoice.subjectLink).toMatchObject({ scheme: 'tianfu/subject/v1' });
    const key = invoice.subjectLink!.key;
    expect(invoice.subject).toBe(subjectPseudonym(invoice.subjectLink!.salt, key));
    expect(invoice.items.every((it) => it.entry.subject === invoice.subject)).toBe(true);
    expect(invoice.items[1]!.record!.invoiceKey).toBe(key);
    expect((await verify(invoice)).bundle.subjectKey).toBe(key);

    const salt = clone(invoice);
    salt.subjectLink!.salt = flipHex(salt.subjectLink!.salt);
    expect((await failsAt(salt, 'entry')).firstFailure?.detail).toMatch(/subjectLink\.salt/);
    const other = clone(invoice);
    other.subjectLink!.key = flipHex(key);
    await failsAt(other, 'entry');
    // Dropping the link (claiming the entries name the plain key) fails too: the records name the key.
    const dropped = clone(invoice);
    delete dropped.subjectLink;
    expect((await failsAt(dropped, 'entry')).firstFailure?.detail).toMatch(/record\.invoiceKey/);
    const unknown = clone(invoice) as unknown as { subjectLink: { scheme: string } };
    unknown.subjectLink.scheme = 'tianfu/subject/v9';
    expect(() => loadBundle(unknown)).toThrow(/subjectLink\.scheme/);
  });

  it('leaf index changed → inclusion', async () => {
    const b = clone(invoice);
    b.items[1]!.index += 1;
    const r = await failsAt(b, 'inclusion');
    expect(r.firstFailure).toMatchObject({ item: 1, detail: expect.stringMatching(/leafIndex/) });
    // Changed consistently in the proof too, the proof no longer leads to the root.
    b.items[1]!.inclusion!.leafIndex += 1;
    expect((await failsAt(b, 'inclusion')).firstFailure?.detail).toMatch(/ROOT_MISMATCH|PROOF_SIZE|another root/);
  });

  it('proof element changed / truncated / extended → inclusion', async () => {
    expect(invoice.items[0]!.inclusion!.proof.length).toBeGreaterThan(0);
    const changed = clone(invoice);
    changed.items[0]!.inclusion!.proof[0] = flipHex(changed.items[0]!.inclusion!.proof[0]!);
    expect((await failsAt(changed, 'inclusion')).firstFailure?.detail).toMatch(/another root/);

    const truncated = clone(invoice);
    truncated.items[0]!.inclusion!.proof.pop();
    expect((await failsAt(truncated, 'inclusion')).firstFailure?.detail).toMatch(/PROOF_SIZE/);

    const extended = clone(invoice);
    extended.items[0]!.inclusion!.proof.push(('0x' + '00'.repeat(32)) as Hex);
    expect((await failsAt(extended, 'inclusion')).firstFailure?.detail).toMatch(/PROOF_SIZE/);
  });

  it('tree size changed → inclusion', async () => {
    const b = clone(invoice);
    b.items[0]!.inclusion!.treeSize -= 1;
    expect((await failsAt(b, 'inclusion')).firstFailure?.detail).toMatch(/treeSize/);
    // Changed in the proof and the anchor alike, a proof can still fold to the same root (for leaf 0
    // the RFC 9162 path does not depend on the size when the path length is equal): only the chain,
    // which has no checkpoint of that size with that root, catches it.
    const both = clone(invoice);
    for (const it of both.items) {
      it.inclusion!.treeSize += 1;
      it.anchor!.treeSize += 1;
    }
    const r = await verify(both);
    expect(r.verdict).toBe('invalid');
    // (The receipts' consistency proofs name the real anchored size, so they no longer fit either.)
    expect(['inclusion', 'receipt-consistency', 'anchor']).toContain(r.firstFailure?.name);
  });

  it('root changed → inclusion; a self-consistent forgery re-signed by the operator → anchor (only the chain catches it)', async () => {
    const b = clone(invoice);
    b.items[0]!.inclusion!.rootHash = flipHex(b.items[0]!.inclusion!.rootHash);
    await failsAt(b, 'inclusion');
    const a = clone(invoice);
    for (const it of a.items) it.anchor!.rootHash = flipHex(it.anchor!.rootHash);
    await failsAt(a, 'inclusion');

    // The operator itself rewrites the issue record: new record, commitment, entry, leaf, a proof to
    // the root that leaf implies, and a fresh receipt with its own key. Everything but the chain agrees.
    const f = clone(invoice);
    const it = f.items[0]!;
    (it.record as { totalAmountFen: number }).totalAmountFen -= 50000;
    it.entry.commitment = commitment(it.salt!, recordDigest(it.record));
    const leaf = entryLeafHash(it.entry);
    // Fold the (unchanged) sibling path as RFC 9162 §2.1.3.2 does for this index and size.
    const root = rootFromInclusionProof(it.index, it.inclusion!.treeSize, fromHex(leaf, 32), it.inclusion!.proof.map((h) => fromHex(h, 32)));
    it.inclusion!.rootHash = toHex(root);
    it.anchor!.rootHash = toHex(root);
    it.receipt = await resignReceipt({ ...it.receipt, leafHash: leaf }, t.ledger.operator, { refold: true });
    f.items = [it];
    const r = await verifyBundle(f, { chain: reader });
    expect(r.steps.filter((s) => s.item === 0).every((s) => s.status === 'ok')).toBe(true);
    expect(r.firstFailure).toMatchObject({ name: 'anchor', status: 'failed', expected: invoice.items[0]!.anchor!.rootHash, calculated: toHex(root) });
  });

  it('receipt signature changed → receipt-signature; signed by another key → receipt-signature naming the signer', async () => {
    const b = clone(invoice);
    b.items[1]!.receipt = tamperReceiptSignature(b.items[1]!.receipt);
    await failsAt(b, 'receipt-signature');

    const other = Wallet.createRandom();
    const o = clone(invoice);
    o.items[1]!.receipt = await resignReceipt(o.items[1]!.receipt, other);
    const r = await failsAt(o, 'receipt-signature');
    expect(r.firstFailure).toMatchObject({ expected: t.ledger.operator.address.toLowerCase(), calculated: other.address.toLowerCase() });
  });

  it('receipt fields changed → receipt-fields', async () => {
    const b = clone(invoice);
    // A genuine receipt of another item (correct signature) attached to this one.
    b.items[1]!.receipt = clone(invoice).items[2]!.receipt;
    b.items[1]!.receipt.leafHash = entryLeafHash(b.items[1]!.entry);
    const r = await verify(b);
    expect(r.verdict).toBe('invalid');
    expect(r.steps.find((s) => s.item === 1 && s.name === 'receipt-fields')?.status).toBe('failed');
  });

  it('registry address changed → registry-code', async () => {
    const b = clone(invoice);
    const fake = Wallet.createRandom().address.toLowerCase() as Hex;
    b.log.registry = fake;
    for (const it of b.items) it.anchor!.registry = fake;
    const r = await failsAt(b, 'registry-code');
    expect(r.firstFailure?.detail).toContain(fake);
    expect(r.steps.filter((s) => s.checkpoint !== undefined && s.status === 'skipped').map((s) => s.name)).toEqual(['anchor', 'operator', 'block', 'consistency']);
    // Only the anchors changed: the bundle contradicts itself.
    const half = clone(invoice);
    for (const it of half.items) it.anchor!.registry = fake;
    expect((await failsAt(half, 'registry-code')).firstFailure?.detail).toMatch(/another registry/);
  });

  it('anchor txHash pointing at another successful registry transaction of the same block → block', async () => {
    // Simulates a forger who names another registry call mined in the anchoring block: block, block
    // hash, target and status all match; only the logs tell the anchoring transaction apart.
    const withLogs = (edit: (logs: ChainLog[]) => ChainLog[]): ChainReader => ({
      ...reader,
      async transaction(txHash) {
        const tx = await reader.transaction!(txHash);
        return tx && { ...tx, logs: edit([...(tx.logs ?? [])]) };
      },
    });
    expect((await verify(invoice)).steps.find((s) => s.name === 'block')?.status).toBe('ok');
    expect((await reader.transaction!(invoice.items[0]!.anchor!.txHash))!.logs!.some((l) => l.topics[0] === CHECKPOINT_ANCHORED_TOPIC)).toBe(true);
    expect(CHECKPOINT_ANCHORED_TOPIC).toBe(id('CheckpointAnchored(bytes32,uint64,bytes32,uint64)'));
    const none = await failsAt(invoice, 'block', { chain: withLogs(() => []) });
    expect(none.firstFailure?.detail).toMatch(/did not emit CheckpointAnchored/);
    // The event of another checkpoint (its root changed) does not count either.
    const otherRoot = withLogs((logs) => logs.map((l) => (l.topics[0] === CHECKPOINT_ANCHORED_TOPIC ? { ...l, data: (l.data.slice(0, 66) + flipHex(('0x' + l.data.slice(66, 130)) as Hex).slice(2) + l.data.slice(130)) as Hex } : l)));
    await failsAt(invoice, 'block', { chain: otherRoot });
    // Nor one the registry did not emit.
    const elsewhere = withLogs((logs) => logs.map((l) => ({ ...l, address: Wallet.createRandom().address.toLowerCase() as Hex })));
    await failsAt(invoice, 'block', { chain: elsewhere });
    // A reader that gives no logs cannot check the event: the step says so instead of passing silently.
    const noLogs: ChainReader = {
      ...reader,
      async transaction(txHash) {
        const tx = await reader.transaction!(txHash);
        if (!tx) return null;
        const { logs: _logs, ...rest } = tx;
        return rest;
      },
    };
    const quiet = await verify(invoice, { chain: noLogs });
    expect(quiet.verdict).toBe('valid');
    expect(quiet.steps.find((s) => s.name === 'block')!.detail).toMatch(/CheckpointAnchored event was not checked/);
  });

  it('a bundle of many items does not hold the thread: verifyBundle yields between slices of items', async () => {
    // 600 copies of the invoice's items (pure-JS recovery: ~2 ms each): seconds of CPU in all. Each
    // copy's group checkpoint is re-signed for a later time, so that no two share a signature
    // (the verifier recovers a shared checkpoint's signer once).
    const big = clone(invoice);
    const signer = new Eip191Signer(t.ledger.operator.privateKey as Hex);
    big.items = Array.from({ length: 600 }, (_, i) => {
      const item = structuredClone(invoice.items[i % invoice.items.length]!);
      const r = item.receipt as ReceiptV2;
      const cp = { ...r.checkpoint, at: new Date(Date.parse(r.checkpoint.at) + i + 1).toISOString() };
      item.receipt = { ...r, checkpoint: { ...cp, signature: signer.sign(checkpointV2Message(cp)) } };
      return item;
    });
    await verify(invoice); // warm: the curve's first recovery builds its tables (hundreds of ms on a loaded machine), not a slice
    let maxGap = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 5);
    const t0 = performance.now();
    const r = await verify(big);
    const total = performance.now() - t0;
    clearInterval(timer);
    expect(r.steps.filter((s) => s.name === 'receipt-signature' && s.status === 'ok')).toHaveLength(600);
    // Relative, not absolute (a loaded machine stretches every gap alike): no stretch of holding the
    // thread is more than a third of the whole. A verifier that never yielded would hold it for all
    // of the items' seconds at once.
    expect(total).toBeGreaterThan(3 * maxGap);
  });

  it('an entry time after the block that anchored it (a forward-dated operator clock) → entry, per item', async () => {
    // The chain says the checkpoint was recorded an hour before the entries say they were accepted.
    const hourEarlier: ChainReader = {
      ...reader,
      async checkpoint(registry, logId, treeSize) {
        const c = await reader.checkpoint(registry, logId, treeSize);
        return c && { ...c, timestamp: c.timestamp - 3600n };
      },
      async getBlock(n) {
        const blk = await reader.getBlock(n);
        return blk && { ...blk, timestamp: blk.timestamp - 3600n };
      },
    };
    // The bundle's anchors say what the chain says (their timestamps are checked against it).
    const shifted = clone(invoice);
    for (const it of shifted.items) it.anchor!.timestamp = String(BigInt(it.anchor!.timestamp) - 3600n);
    const r = await verify(shifted, { chain: hourEarlier });
    expect(r.verdict).toBe('invalid');
    const late = r.steps.filter((s) => s.name === 'entry' && s.status === 'failed');
    expect(late.map((s) => s.item)).toEqual(invoice.items.map((_, i) => i));
    expect(late[0]!.detail).toMatch(/forward-dated/);
    expect(r.steps.find((s) => s.name === 'anchor')!.status).toBe('ok');
    expect(r.steps.find((s) => s.name === 'block')!.status).toBe('ok');
    // Within the allowed skew it is not.
    expect((await verify(shifted, { chain: hourEarlier, clockSkewMs: 2 * 3600_000 })).verdict).toBe('valid');
    // And the real chain's times bound every entry.
    expect((await verify(invoice)).steps.filter((s) => s.name === 'entry' && s.status === 'failed')).toEqual([]);
  });

  it('trusted registry and log (--registry, --log-id): a bundle anchored elsewhere fails; unpinned, the report says the registry is the bundle\'s claim', async () => {
    // A forger can deploy a registry of their own on the same chain and anchor any root in it; the
    // registry-code step only proves there is code. Pinning the ledger's registry closes that.
    const other = Wallet.createRandom().address.toLowerCase() as Hex;
    const r = await failsAt(invoice, 'registry-code', { trust: { registry: other } });
    expect(r.firstFailure).toMatchObject({ expected: other, calculated: invoice.log.registry.toLowerCase() });
    expect(r.firstFailure?.detail).toMatch(/trusted/);
    const wrongLog = await failsAt(invoice, 'anchor', { trust: { registry: invoice.log.registry, logId: `0x${'11'.repeat(32)}` as Hex } });
    expect(wrongLog.firstFailure?.detail).toMatch(/trusted/);
    const pinned = await verify(invoice, { trust: { registry: invoice.log.registry.toUpperCase().replace('0X', '0x') as Hex, logId: invoice.log.logId } });
    expect(pinned.verdict, JSON.stringify(pinned.firstFailure)).toBe('valid');
    expect(pinned.limits.join('\n')).not.toMatch(/bundle's own claim/);
    const unpinned = await verify(invoice);
    expect(unpinned.verdict).toBe('valid');
    expect(unpinned.limits.join('\n')).toMatch(/are the bundle's own claim/);
  });

  it('wrong chain: another chain id → chain-id', async () => {
    const b = clone(invoice);
    b.log.chainId = '1';
    for (const it of b.items) it.anchor!.chainId = '1';
    const r = await failsAt(b, 'chain-id');
    expect(r.firstFailure).toMatchObject({ expected: '1', calculated: '31337' });
  });

  it('wrong chain: a second embedded chain with the same id and the registry at the same address → anchor', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'chain2-'));
    const chain2 = await startEmbeddedChain({ dataDir: dir, port: 0, fundedKeys: [t.ledger.operator.privateKey as Hex] });
    const { JsonRpcProvider } = await import('ethers');
    const p2 = new JsonRpcProvider(chain2.rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
    let r2: RpcChainReader | undefined;
    try {
      const signer = new Wallet(t.ledger.operator.privateKey, p2);
      const { client } = await deployRegistry(signer);
      expect(client.address).toBe(invoice.log.registry.toLowerCase());
      await client.createLog(invoice.log.logId, signer.address);
      const size = invoice.items[0]!.anchor!.treeSize;
      await client.anchor({ logId: invoice.log.logId, treeSize: size, rootHash: ('0x' + '77'.repeat(32)) as Hex, consistencyProof: [] });
      r2 = await connectChainReader(chain2.rpcUrl);
      const r = await verifyBundle(invoice, { chain: r2 });
      expect(r.steps.find((s) => s.name === 'chain-id')?.status).toBe('ok');
      expect(r.steps.find((s) => s.name === 'registry-code')?.status).toBe('ok');
      expect(r.verdict).toBe('invalid');
      expect(r.firstFailure).toMatchObject({ name: 'anchor', expected: '0x' + '77'.repeat(32), calculated: invoice.items[0]!.anchor!.rootHash });
    } finally {
      r2?.close();
      p2.destroy();
      await chain2.close();
    }
  });

  it('checkpoint never anchored → anchor', async () => {
    // The lock and close were appended in one batch: the size between them was never anchored.
    const closeIdx = invoice.items[2]!.index;
    const anchored = new Set((await t.ledger.anchorer.checkpoints()).map((c) => c.treeSize));
    expect(anchored.has(closeIdx)).toBe(false);
    const b = clone(invoice);
    b.items = b.items.slice(0, 2);
    for (const it of b.items) {
      const proof = await t.ledger.log.inclusionProof(it.index, closeIdx);
      it.inclusion = proof;
      it.anchor = { ...it.anchor!, treeSize: closeIdx, rootHash: proof.rootHash };
      // Self-consistent: the receipt's tree and this one are one history (the log's own proof).
      const cs = (it.receipt as { checkpoint: { treeSize: number } }).checkpoint.treeSize;
      if (cs === closeIdx) delete it.receiptConsistency;
      else it.receiptConsistency = { from: Math.min(cs, closeIdx), to: Math.max(cs, closeIdx), proof: await t.ledger.log.consistencyProof(Math.min(cs, closeIdx), Math.max(cs, closeIdx)) };
    }
    const r = await failsAt(b, 'anchor');
    expect(r.firstFailure?.detail).toMatch(/never anchored/);
    expect(r.steps.filter((s) => s.item !== undefined).every((s) => s.status === 'ok')).toBe(true);
  });

  it('a real evidence bundle with the file is valid; the file changed by one byte → file-sha256 (and file-sm3)', async () => {
    const ok = await verify(evidence, { file: ev.file });
    expect(ok.verdict, JSON.stringify(ok.firstFailure)).toBe('valid');
    expect(ok.steps.filter((s) => s.name.startsWith('file-')).map((s) => [s.name, s.status])).toEqual([
      ['file-claim', 'ok'], ['file-sha256', 'ok'], ['file-sm3', 'ok'], ['file-size', 'ok'],
    ]);
    const bytes = Buffer.from(ev.bytes);
    bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0x01;
    const changed = { sha256: `0x${createHash('sha256').update(bytes).digest('hex')}` as Hex, sm3: `0x${createHash('sm3').update(bytes).digest('hex')}` as Hex, size: bytes.length };
    const r = await failsAt(evidence, 'file-sha256', { file: changed });
    expect(r.firstFailure).toMatchObject({ expected: ev.file.sha256, calculated: changed.sha256 });
    expect(r.steps.find((s) => s.name === 'file-sm3')).toMatchObject({ status: 'failed', expected: ev.file.sm3, calculated: changed.sm3 });
    // Without the file the content is not checked, and the report says so.
    const none = await verify(evidence);
    expect(none.verdict).toBe('valid');
    expect(none.steps.find((s) => s.name === 'file-sha256')).toMatchObject({ status: 'skipped', detail: expect.stringMatching(/no file given/) });
    // The bundle's own file claim must be the deposit record's.
    const claim = clone(evidence);
    claim.file = { ...claim.file!, sha256: changed.sha256 };
    await failsAt(claim, 'file-claim', { file: ev.file });
  });

  it('a forger who nulls the deposit record ("erased") cannot pass it off as erased, nor another file as valid → commitment', async () => {
    // Record and salt null is what an erased deposit looks like, and anyone can write null. Without the
    // erasure's own custody event in the bundle it is a record withheld; and a file given can never be
    // tied to a deposit whose record is gone.
    const forged = clone(evidence);
    forged.items[0]!.record = null;
    forged.items[0]!.salt = null;
    forged.file = null;
    const other = { sha256: `0x${'ab'.repeat(32)}` as Hex, sm3: `0x${'cd'.repeat(32)}` as Hex, size: 7 };
    const r = await failsAt(forged, 'commitment', { file: other });
    expect(r.firstFailure?.detail).toMatch(/no evidence\.custody\.erased event/);
    expect(r.accepted).toBe(false);
    expect(r.file?.status).toBe('failed');
    expect(r.steps.find((x) => x.name === 'file-sha256')?.status).toBe('failed');
    const none = await verify(forged);
    expect(none.verdict).toBe('invalid');
    expect(none.items[0]!.status).toBe('invalid');
  });

  it('records of any other kind cannot be "erased": a nulled invoice or custody record is invalid → commitment', async () => {
    const inv = clone(invoice);
    inv.items[1]!.record = null;
    inv.items[1]!.salt = null;
    const r = await failsAt(inv, 'commitment');
    expect(r.firstFailure?.detail).toMatch(/only an evidence deposit can be erased/);
    const ev = clone(evidence);
    ev.items[2]!.record = null;
    ev.items[2]!.salt = null;
    await failsAt(ev, 'commitment');
  });

  it('a custody event removed or reordered → custody-order / custody-rules', async () => {
    const noDeposit = clone(evidence);
    noDeposit.items.shift();
    expect((await failsAt(noDeposit, 'custody-order')).firstFailure?.detail).toMatch(/first item must be the evidence\.deposited/);

    const swapped = clone(evidence);
    [swapped.items[1], swapped.items[2]] = [swapped.items[2]!, swapped.items[1]!];
    expect((await failsAt(swapped, 'custody-order')).firstFailure?.detail).toMatch(/not in log order/);

    // The lock removed from lock → close: the history breaks the reimbursement rules.
    const noLock = clone(invoice);
    noLock.items.splice(1, 1);
    const r = await failsAt(noLock, 'custody-rules');
    expect(r.firstFailure?.detail).toMatch(/CLOSE_WITHOUT_LOCK/);

    const noIssue = clone(invoice);
    noIssue.items.shift();
    await failsAt(noIssue, 'custody-order');
  });

  it('an erased deposit is reported as erased, not as a failure of the others; it still proves what was logged and when', async () => {
    // The erasure as the node performs it (DELETE /v1/evidence/{id}/content): an evidence.custody.erased
    // event by an admin, then the deposit's record and salt shredded.
    const dep = await depositEvidence(t.ledger, path.join(tmp, 'erased.bin'), 100);
    const admin = { keyId: 'key-admin-verify', role: 'admin' as const };
    await t.ledger.sequencer.submit({ kind: custodyKind('erased'), subject: dep.evidenceId, actor: admin, record: buildErasureRecord(dep.evidenceId, 'court order 42', admin) as unknown as Record<string, unknown> });
    await t.ledger.sequencer.shredRecord(dep.indexes[0]!);
    await t.waitAnchored();
    const b = await t.ledger.bundle('evidence', dep.evidenceId);
    expect(b.items[0]!.record).toBeNull();
    const r = await verify(b);
    expect(r.verdict, JSON.stringify(r.firstFailure)).toBe('valid');
    expect(r.items.map((i) => i.status)).toEqual(['erased', 'verified', 'verified', 'verified']);
    expect(r.steps.filter((s) => s.item === 0 && s.status === 'skipped').map((s) => s.name)).toEqual(['canonical-bytes', 'record-digest', 'commitment', 'depositor-signature']);
    expect(r.steps.filter((s) => s.item === 0 && s.status === 'ok').map((s) => s.name)).toEqual(['entry', 'leaf-hash', 'inclusion', 'receipt-signature', 'receipt-proof', 'receipt-consistency', 'receipt-fields']);
    expect(r.proves.join('\n')).toMatch(/content erased; the entry proves a evidence\.deposited record/);
    // The file can no longer be tied to the log: given one, the verdict is invalid, never valid.
    const withFile = await verify(b, { file: dep.file });
    expect(withFile.verdict).toBe('invalid');
    expect(withFile.firstFailure?.name).toBe('file-sha256');
  });

  it('pending: a bundle made before its checkpoint is anchored is pending (receipt checked); too few confirmations is pending', async () => {
    const b = clone(invoice);
    b.items[2]!.inclusion = null;
    b.items[2]!.anchor = null;
    const r = await verify(b);
    expect(r.verdict).toBe('pending');
    expect(r.accepted).toBe(false);
    expect(r.firstFailure).toMatchObject({ name: 'inclusion', item: 2, status: 'pending' });
    expect(r.steps.find((s) => s.item === 2 && s.name === 'receipt-signature')?.status).toBe('ok');
    expect(r.items[2]!.status).toBe('pending');
    expect((await verify(b, { allowPending: true })).accepted).toBe(true);
    // A pending item whose receipt is forged is invalid, not pending.
    b.items[2]!.receipt = await resignReceipt(b.items[2]!.receipt, Wallet.createRandom());
    expect((await verify(b, { allowPending: true })).verdict).toBe('invalid');

    const deep = await verify(invoice, { confirmations: 1_000_000 });
    expect(deep.verdict).toBe('pending');
    expect(deep.firstFailure).toMatchObject({ name: 'block', status: 'pending', expected: '1000000' });
  });

  it('an all-pending bundle signed by a key of the forger\'s own is not accepted: the operator is read from the registry → operator', async () => {
    // No anchor, so no checkpoint step would ever compare the bundle's operator with the registry's.
    const forger = Wallet.createRandom();
    const b = clone(invoice);
    b.log.operator = forger.address.toLowerCase() as Hex;
    for (const it of b.items) {
      it.inclusion = null;
      it.anchor = null;
      it.receipt = await resignReceipt(it.receipt, forger);
    }
    const r = await verify(b, { allowPending: true });
    expect(r.verdict, JSON.stringify(r.firstFailure)).toBe('invalid');
    expect(r.accepted).toBe(false);
    expect(r.firstFailure).toMatchObject({ name: 'operator', status: 'failed', calculated: forger.address.toLowerCase() });
    // The genuine bundle made pending is still pending, its operator confirmed by the registry.
    const genuine = clone(invoice);
    for (const it of genuine.items) {
      it.inclusion = null;
      it.anchor = null;
    }
    const g = await verify(genuine, { allowPending: true });
    expect(g.verdict, JSON.stringify(g.firstFailure)).toBe('pending');
    expect(g.accepted).toBe(true);
    expect(g.steps.find((s) => s.name === 'operator')?.status).toBe('ok');
  });

  it('a signed deposit passes depositor-signature; a changed claim or a signature by another key fails it', async () => {
    const signer = Wallet.createRandom();
    const signed = await depositEvidence(t.ledger, path.join(tmp, 'signed.bin'), 1024, { signer });
    await t.waitAnchored(signed.indexes.at(-1)! + 1);
    const b = await t.ledger.bundle('evidence', signed.evidenceId, { file: signed.file });
    const ok = await verify(b, { file: signed.file });
    expect(ok.verdict, JSON.stringify(ok.firstFailure)).toBe('valid');
    expect(ok.steps.find((s) => s.name === 'depositor-signature')).toMatchObject({ status: 'ok', item: 0, expected: signer.address.toLowerCase(), calculated: signer.address.toLowerCase() });
    // The unsigned deposit of beforeAll: reported skipped, naming the API key that deposited it.
    const unsigned = await verify(evidence, { file: ev.file });
    expect(unsigned.steps.find((s) => s.name === 'depositor-signature')).toMatchObject({ status: 'skipped', detail: expect.stringContaining('key-collector-verify') });
    // Another key's signature over the same digest: the record names the address it does not recover to.
    const other = clone(b);
    const sig = (other.items[0]!.record as { collectorSignature: { digest: Hex; signature: Hex } }).collectorSignature;
    sig.signature = (await Wallet.createRandom().signMessage(fromHex(sig.digest))) as Hex;
    const r = await verify(other, { file: signed.file });
    // The record changed, so its commitment fails first; depositor-signature fails too, with both addresses.
    expect(r.steps.find((s) => s.name === 'depositor-signature')).toMatchObject({ status: 'failed', expected: signer.address.toLowerCase() });
    const claim = clone(b);
    (claim.items[0]!.record as { metadata: { title: string } }).metadata.title = 'another page';
    expect((await verify(claim)).steps.find((s) => s.name === 'depositor-signature')).toMatchObject({ status: 'failed', detail: expect.stringContaining('not SHA-256(JCS(metadata))') });
  });

  it('the signed checkpoint: another root or a signature by another key fails checkpoint-signature', async () => {
    const ok = await verify(invoice);
    expect(ok.steps.find((s) => s.name === 'checkpoint-signature')).toMatchObject({ status: 'ok', expected: t.ledger.operator.address.toLowerCase() });
    const root = clone(invoice);
    root.checkpoint!.rootHash = flipHex(root.checkpoint!.rootHash);
    await failsAt(root, 'checkpoint-signature');
    const forged = clone(invoice);
    const w = Wallet.createRandom();
    forged.checkpoint!.signature = (await w.signMessage(checkpointMessage(forged.checkpoint!))) as Hex;
    const r = await failsAt(forged, 'checkpoint-signature');
    expect(r.firstFailure).toMatchObject({ expected: t.ledger.operator.address.toLowerCase(), calculated: w.address.toLowerCase() });
  });

  it('consistency: a reader without latest() skips it; the registry\'s latest checkpoint is reported', async () => {
    const { latest: _latest, ...noLatest } = reader as ChainReader;
    const r = await verifyBundle(invoice, { chain: noLatest as ChainReader, history: domainHistoryRules });
    expect(r.steps.find((s) => s.name === 'consistency')).toMatchObject({ status: 'skipped' });
    const live = await verify(invoice);
    const head = await reader.latest!(invoice.log.registry, invoice.log.logId);
    expect(live.checkpoints[0]!.latest).toMatchObject({ treeSize: head!.treeSize, rootHash: head!.rootHash, blockNumber: head!.blockNumber.toString() });
  });

  it('offline verification checks everything but the chain and never says valid', () => {
    const r = verifyBundleOffline(invoice);
    expect(r.verdict).toBe('pending');
    expect(r.steps.filter((s) => s.status === 'failed')).toEqual([]);
    const bad = clone(invoice);
    bad.items[0]!.salt = flipHex(bad.items[0]!.salt!);
    expect(verifyBundleOffline(bad).firstFailure?.name).toBe('commitment');
  });

  it('loadBundle refuses unknown versions and malformed fields, naming the field', () => {
    expect(() => loadBundle({ ...invoice, format: 'tianfu.bundle/v2' })).toThrow(expect.objectContaining({ code: 'UNKNOWN_FORMAT', path: 'format' }));
    const { log: _log, ...noLog } = invoice;
    expect(() => loadBundle(noLog)).toThrow(expect.objectContaining({ code: 'MALFORMED', path: 'log' }));
    const b = clone(invoice);
    (b.items[1]!.receipt as { checkpoint: { signature: string } }).checkpoint.signature = '0x12';
    expect(() => loadBundle(b)).toThrow(expect.objectContaining({ code: 'MALFORMED', path: 'items[1].receipt.checkpoint.signature' }));
    const p = clone(invoice);
    (p.items[1]!.receipt as { proof: unknown }).proof = ['0x12'];
    expect(() => loadBundle(p)).toThrow(expect.objectContaining({ code: 'MALFORMED', path: 'items[1].receipt.proof[0]' }));
    const c = clone(invoice);
    (c.items[1]!.receipt as { checkpoint: { type: string } }).checkpoint.type = 'tianfu.checkpoint/v1';
    expect(() => loadBundle(c)).toThrow(expect.objectContaining({ code: 'UNKNOWN_FORMAT', path: 'items[1].receipt.checkpoint.type' }));
    const e = clone(invoice);
    (e.items[0]!.entry as { v: number }).v = 2;
    expect(() => loadBundle(e)).toThrow(expect.objectContaining({ code: 'UNKNOWN_FORMAT', path: 'items[0].entry' }));
    const s = clone(invoice);
    s.items[0]!.salt = null;
    expect(() => loadBundle(s)).toThrow(expect.objectContaining({ code: 'MALFORMED', path: 'items[0].salt' }));
    expect(() => loadBundle([])).toThrow(expect.objectContaining({ code: 'MALFORMED', path: '' }));
    expect(loadBundle(JSON.parse(JSON.stringify(invoice)))).toEqual(invoice);
  });
});
