/**
 * Operator key rotation, end to end on a chain in another process: the registry's admin calls
 * setOperator(logId, B) and the node restarts with B's key on the same data. Afterwards
 * - bundles the node serves verify (every receipt in them is signed by B, the operator the registry
 *   names now), also for records accepted and anchored under A, also before B has anchored anything;
 * - a bundle saved before the rotation still verifies (its checkpoint's block names A);
 * - `tianfu audit` over a fresh export finds nothing (the receipts it gets are B's).
 * Before receipts were cached per operator, the node served A's cached receipts in bundles naming B.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { JsonRpcProvider, Wallet } from 'ethers';
import { verifyReceiptSigner, type Bundle, type Hex } from '../../node/protocol';
import { verifyBundle } from '../../node/verifier';
import { chainReaderFromProvider } from '../../node/chain/chain-reader';
import { RegistryClient } from '../../node/chain/registry-client';
import { ExportSource, exportLog, runAudit } from '../../node/audit';
import { deploy } from '../../scripts/deploy';
import { refreshBundle } from '../../scripts/cli/verify';
import { startTestLedger, type TestLedger } from '../support/ledger';
import { SELLER_TAX_ID, sampleInvoice } from '../invoice/fixtures';
import { freePort, kill, startChainProcess, type ChainProcess } from './fixtures/processes';

const admin = Wallet.createRandom();
const operatorA = Wallet.createRandom();
const operatorB = Wallet.createRandom();
const chainDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-rotation-chain-'));
const nodeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-rotation-node-'));
const exportDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-rotation-export-'));
let chain: ChainProcess;
let provider: JsonRpcProvider;
let registry: Hex;
let node: TestLedger;

const startNode = (key: string) =>
  startTestLedger({ TIANFU_RPC_URL: chain.rpcUrl, TIANFU_REGISTRY: registry, TIANFU_OPERATOR_KEY: key, TIANFU_MMD_MS: '2000' }, { dataDir: nodeDir });

async function issue(n: number, issuer: string): Promise<Hex> {
  const r = await node.api('/v1/invoices', { key: issuer, body: sampleInvoice({ invoiceNumber: '25510000000000000' + String(n).padStart(3, '0') }) });
  expect(r.status).toBe(201);
  return r.body.invoiceKey as Hex;
}

beforeAll(async () => {
  chain = await startChainProcess({ dataDir: chainDir, port: await freePort(), dev: true, fundedKeys: [admin.privateKey, operatorA.privateKey, operatorB.privateKey] });
  provider = new JsonRpcProvider(chain.rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
  registry = (await deploy({ provider, signer: admin.connect(provider), operator: operatorA.address })).registry.toLowerCase() as Hex;
  node = await startNode(operatorA.privateKey);
});

afterAll(async () => {
  await node?.close();
  provider?.destroy();
  if (chain) await kill(chain, 'SIGTERM');
  for (const d of [chainDir, nodeDir, exportDir]) fs.rmSync(d, { recursive: true, force: true });
});

describe('operator key rotation', () => {
  it('keeps every bundle verifiable and the audit clean across setOperator and a restart with the new key', async () => {
    const issuer = await node.createKey('issuer', SELLER_TAX_ID);
    const auditor = await node.createKey('auditor');
    const keys = [await issue(1, issuer), await issue(2, issuer), await issue(3, issuer)];
    await node.waitAnchored(3);
    const logId = node.ledger.logId;
    const trust = { registry, logId };
    const reader = chainReaderFromProvider(provider);
    const before = (await node.api(`/v1/invoices/${keys[0]}/bundle`, { key: auditor })).body as Bundle;
    expect(before.log.operator.toLowerCase()).toBe(operatorA.address.toLowerCase());
    expect((await verifyBundle(before, { chain: reader, trust })).verdict).toBe('valid');

    // One more record under A that A never anchors (its anchorer stopped, as in a chain outage), and
    // its pending bundle, kept by a client: A's receipt. (The documented procedure waits for
    // everything to be anchored; this is the case it would have prevented.)
    await node.ledger.anchorer.stop();
    const pendingKey = await issue(9, issuer);
    const pendingBundle = (await node.api(`/v1/invoices/${pendingKey}/bundle`, { key: auditor })).body as Bundle;
    expect(pendingBundle.items[0]!.anchor).toBeNull();
    expect(pendingBundle.log.operator.toLowerCase()).toBe(operatorA.address.toLowerCase());

    // Rotate: stop the node, the admin names B, the node comes back with B's key on the same data.
    await node.close({ keepData: true });
    await RegistryClient.connect(registry, admin.connect(provider)).setOperator(logId, operatorB.address);
    node = await startNode(operatorB.privateKey);
    // At once, before B has anchored anything: the bundle's checkpoint is A's, its receipts are B's,
    // and B is the operator the registry names now.
    const rightAfter = (await node.api(`/v1/invoices/${keys[0]}/bundle`, { key: auditor })).body as Bundle;
    expect(rightAfter.log.operator.toLowerCase()).toBe(operatorB.address.toLowerCase());
    const early = await verifyBundle(rightAfter, { chain: reader, trust });
    expect(early.steps.filter((s) => s.status === 'failed')).toEqual([]);
    expect(early.verdict).toBe('valid');
    expect(early.steps.find((s) => s.name === 'operator')!.detail).toMatch(/rotated since/);
    // Someone else's key is still refused, at the anchoring block and now.
    const forged = structuredClone(rightAfter);
    forged.log.operator = Wallet.createRandom().address.toLowerCase() as Hex;
    expect((await verifyBundle(forged, { chain: reader, trust })).steps.some((s) => s.name === 'operator' && s.status === 'failed')).toBe(true);
    keys.push(await issue(4, issuer), await issue(5, issuer));
    await node.waitAnchored(6);

    // The client's pending bundle, refreshed onto B's checkpoint: its receipt is A's, and A was the
    // operator when the entry was accepted (the registry at the last block before its time).
    const refreshed = await refreshBundle(pendingBundle, node.url, 10_000);
    expect(refreshed.refreshed).toBe(1);
    const late = await verifyBundle(refreshed.bundle, { chain: reader, trust });
    expect(late.steps.filter((s) => s.status === 'failed')).toEqual([]);
    expect(late.verdict).toBe('valid');
    expect(late.steps.find((s) => s.name === 'operator')!.detail).toMatch(/when the entries were accepted/);
    // A key that was never the operator is still refused on that path.
    const stranger = structuredClone(refreshed.bundle);
    stranger.log.operator = Wallet.createRandom().address.toLowerCase() as Hex;
    expect((await verifyBundle(stranger, { chain: reader, trust })).steps.find((s) => s.name === 'operator')!.status).toBe('failed');

    // A record accepted under A, served now: its receipt is B's, like the bundle's operator.
    const after = (await node.api(`/v1/invoices/${keys[0]}/bundle`, { key: auditor })).body as Bundle;
    expect(after.log.operator.toLowerCase()).toBe(operatorB.address.toLowerCase());
    for (const item of after.items) expect(verifyReceiptSigner(item.receipt, operatorB.address)).toBe(operatorB.address);
    const report = await verifyBundle(after, { chain: reader, trust });
    expect(report.steps.filter((s) => s.status === 'failed')).toEqual([]);
    expect(report.verdict).toBe('valid');
    // Records accepted under B verify too.
    expect((await verifyBundle((await node.api(`/v1/invoices/${keys[4]}/bundle`, { key: auditor })).body as Bundle, { chain: reader, trust })).verdict).toBe('valid');
    // The bundle saved before the rotation: its checkpoint's block names A, who signed it.
    expect((await verifyBundle(before, { chain: reader, trust })).verdict).toBe('valid');

    await exportLog({ api: node.url, out: exportDir, key: auditor });
    const { report: audit } = await runAudit({ source: new ExportSource(exportDir), provider, statePath: null, registry });
    expect(audit.violations).toEqual([]);
    expect(audit.operator).toBe(operatorB.address.toLowerCase());
  }, 120_000);
});
