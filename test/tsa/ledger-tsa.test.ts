/**
 * The node's RFC 3161 client against a real TSA (openssl ts -reply behind a test HTTP handler): the
 * TSA is down while a checkpoint is anchored — anchoring goes on — and when it is back the token
 * arrives, the bundle route carries it and `tianfu verify --refresh` picks it up.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTimeEvidence, certificatesFromPem, domainHistoryRules, loadBundle, verifyBundle, type Bundle } from '../../node';
import { connectChainReader } from '../../node/chain/chain-reader';
import { refreshBundle } from '../../scripts/cli/verify';
import { startTestLedger, type TestLedger } from '../support/ledger';
import { makeTestPki, startTestTsa, type TestTsa } from '../support/openssl-tsa';
import { bytesOf, deposit, metadata } from '../api/evidence-support';

async function until<T>(what: string, f: () => Promise<T | null | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('RFC 3161 tokens over anchored checkpoints', () => {
  let tsa: TestTsa;
  let t: TestLedger;
  let collector: string;
  let court: string;
  let restartedDir: string | null = null;

  beforeAll(async () => {
    tsa = await startTestTsa();
    t = await startTestLedger({ TIANFU_TSA_URLS: tsa.url, TIANFU_TSA_RETRY_MS: '100' });
    collector = await t.createKey('collector');
    court = await t.createKey('court');
  });
  afterAll(async () => {
    await t?.close();
    await tsa?.close();
    if (restartedDir) fs.rmSync(restartedDir, { recursive: true, force: true });
    fs.rmSync(tsa.pki.dir, { recursive: true, force: true });
  });

  it('TSA down during anchoring: anchoring goes on; the token arrives when it is back; bundle and refresh pick it up', async () => {
    tsa.down();
    const r = await deposit(t, collector, metadata(), bytesOf(2048, 'tsa'));
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const id = r.body.evidenceId as string;
    await t.waitAnchored(r.body.index + 1);
    const size = t.ledger.anchorer.status().anchored!.treeSize;
    await until('the TSA to be asked and refuse', async () => tsa.refused >= 2);
    expect((await t.ledger.timestamper!.status()).pending.some((p) => p.treeSize === size && p.attempts >= 1 && /503/.test(p.lastError ?? ''))).toBe(true);

    // The bundle made now is anchored, carries the signed checkpoint, and has no token.
    const early = (await t.api(`/v1/evidence/${id}/bundle`, { key: court })).body as Bundle;
    expect(early.items[0]!.anchor?.treeSize).toBe(size);
    expect(early.checkpoint).toMatchObject({ treeSize: size, rootHash: early.items[0]!.anchor!.rootHash });
    expect(early.timestamps).toEqual([]);
    expect((await checkTimeEvidence(loadBundle(early))).status).toBe('not-provided');
    // Refresh while down: nothing new.
    expect((await refreshBundle(loadBundle(early), t.url, 5000)).refreshed).toBe(0);

    tsa.up();
    const tokens = await until('the token', async () => {
      const ts = await t.ledger.timestamper!.tokensFor(size);
      return ts.length > 0 ? ts : null;
    });
    expect(tokens[0]).toMatchObject({ treeSize: size, url: tsa.url });
    expect(tokens[0]!.tsa).toContain('Time-Stamping Unit');

    // The bundle route carries it now, and it verifies against the test CA.
    const later = loadBundle((await t.api(`/v1/evidence/${id}/bundle`, { key: court })).body);
    expect(later.timestamps!.map((x) => x.token)).toEqual([tokens[0]!.token]);
    const anchors = certificatesFromPem(tsa.pki.caPem);
    const ev = await checkTimeEvidence(later, { tsaTrustAnchors: anchors });
    expect(ev.steps.filter((s) => s.status !== 'ok')).toEqual([]);
    expect(ev.status).toBe('ok');

    // The whole verification (tianfu verify --tsa-ca, POST /v1/verify tsaCa, the page) checks it as steps of its own.
    const reader = await connectChainReader(t.ledger.chain.rpcUrl);
    try {
      const full = await verifyBundle(later, { chain: reader, history: domainHistoryRules, tsaTrustAnchors: anchors });
      expect(full.verdict, JSON.stringify(full.firstFailure)).toBe('valid');
      expect(full.steps.filter((s) => s.token === 0).map((s) => [s.name, s.status])).toEqual(['tsa-token', 'tsa-imprint', 'tsa-signature', 'tsa-certificate', 'tsa-ess-cert-id', 'tsa-chain', 'tsa-time'].map((n) => [n, 'ok']));
      const cp = full.checkpoints[0]!;
      expect(full.time).toMatchObject({ status: 'ok', checkpoint: size, chainNotAfter: cp.blockTime, agree: true, tokens: [{ token: 0, status: 'ok', genTime: tokens[0]!.genTime }] });
      // The token is asked for after anchoring: its time is not before the block's (to the second).
      expect(full.time!.gapMs!).toBeGreaterThanOrEqual(-1000);
      expect(full.proves.join('\n')).toMatch(/time-stamping authority .*Time-Stamping Unit/);
      // Without trust anchors: checked except for who the TSA is; the verdict stands, item 6 is not passed.
      const untrusted = await verifyBundle(later, { chain: reader, history: domainHistoryRules });
      expect(untrusted.steps.find((s) => s.name === 'tsa-chain')?.status).toBe('skipped');
      expect(untrusted.time!.status).toBe('skipped');
      expect(untrusted.limits.join('\n')).toMatch(/--tsa-ca/);
      // Trusting another TSA's root only: refused at tsa-chain, the bundle is invalid there.
      const rogue = await makeTestPki('Rogue');
      try {
        const refused = await verifyBundle(later, { chain: reader, history: domainHistoryRules, tsaTrustAnchors: certificatesFromPem(rogue.caPem) });
        expect(refused.verdict).toBe('invalid');
        expect(refused.firstFailure).toMatchObject({ name: 'tsa-chain', token: 0 });
      } finally {
        fs.rmSync(rogue.dir, { recursive: true, force: true });
      }
    } finally {
      reader.close();
    }

    // tianfu verify --refresh fills the early bundle with the same token.
    const refreshed = await refreshBundle(loadBundle(early), t.url, 5000);
    expect(refreshed.refreshed).toBe(1);
    expect(refreshed.note).toMatch(/1 RFC 3161 token added/);
    expect(refreshed.bundle.timestamps!.map((x) => x.token)).toEqual([tokens[0]!.token]);
    expect((await checkTimeEvidence(refreshed.bundle, { tsaTrustAnchors: anchors })).status).toBe('ok');
  });

  it('the wish survives a restart: a token wanted while the TSA is down is obtained after the node restarts', async () => {
    tsa.down();
    const r = await deposit(t, collector, metadata(), bytesOf(1024, 'tsa restart'));
    await t.waitAnchored(r.body.index + 1);
    const size = t.ledger.anchorer.status().anchored!.treeSize;
    await until('a refused request', async () => (await t.ledger.timestamper!.status()).pending.some((p) => p.treeSize === size && p.attempts >= 1));
    const dataDir = t.dataDir;
    await t.close({ keepData: true });
    tsa.up();
    t = await startTestLedger({ TIANFU_TSA_URLS: tsa.url, TIANFU_TSA_RETRY_MS: '100' }, { dataDir });
    const tokens = await until('the token after restart', async () => {
      const ts = await t.ledger.timestamper!.tokensFor(size);
      return ts.length > 0 ? ts : null;
    });
    expect(tokens).toHaveLength(1);
    restartedDir = dataDir;
  });

  it('refuses a bad TIANFU_TSA_URLS at start, naming the variable', async () => {
    await expect(startTestLedger({ TIANFU_TSA_URLS: 'ftp://tsa.example/' })).rejects.toThrow(/TIANFU_TSA_URLS/);
  });
});
