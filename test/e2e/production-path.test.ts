/**
 * The production path end to end (issue 3): a chain in its own process (node/chain/embedded standing
 * in for a `hardhat node` / consortium chain), the registry deployed there by `tianfu deploy` run as
 * a child process with the deployer key from the environment, the operator key held in an encrypted
 * JSON keystore (funded by the deployer, named with --operator), and the node started from
 * TIANFU_RPC_URL + TIANFU_REGISTRY + TIANFU_KEYSTORE(_PASSWORD). Records are anchored and proven
 * from what an auditor can read: the API's proofs and the chain through its own RPC connection.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { JsonRpcProvider, Wallet, parseEther } from 'ethers';
import { fromHex, verifyInclusion, verifyReceipt, verifyReceiptSigner, type Hex } from '../../node';
import { RegistryClient } from '../../node/chain/registry-client';
import { readAddressBook } from '../../node/chain/address-book';
import { EXACT_LOG_SIZES, startTestLedger, type TestLedger } from '../support/ledger';
import { issueRequest } from '../node/fixtures/invoices';
import { ROOT, freePort, kill, startChainProcess, type ChainProcess } from '../node/fixtures/processes';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-prod-'));
const deployer = Wallet.createRandom();
const operator = Wallet.createRandom();
const PASSWORD = 'correct horse battery staple';
let chain: ChainProcess;
let node: TestLedger;
let auditorProvider: JsonRpcProvider;

function tianfu(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, 'scripts', 'tianfu.js'), ...args], { cwd: dir, env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  chain = await startChainProcess({ dataDir: path.join(dir, 'chain'), port: await freePort(), fundedKeys: [deployer.privateKey] });
  auditorProvider = new JsonRpcProvider(chain.rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
});

afterAll(async () => {
  await node?.close();
  auditorProvider?.destroy();
  if (chain) await kill(chain, 'SIGTERM');
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('production path: external chain, tianfu deploy, keystore operator', () => {
  it('deploys with the CLI, runs the node from TIANFU_* settings, anchors and proves records', async () => {
    // The operator key lives only in an encrypted keystore; the deployer funds its address.
    const keystore = path.join(dir, 'operator.json');
    fs.writeFileSync(keystore, await operator.encrypt(PASSWORD), { mode: 0o600 });
    const funding = await deployer.connect(auditorProvider).sendTransaction({ to: operator.address, value: parseEther('10') });
    await funding.wait();

    const bookFile = path.join(dir, 'address-book.json');
    const deployed = await tianfu(['deploy', '--rpc', chain.rpcUrl, '--out', bookFile, '--operator', operator.address, '--json'], { TIANFU_DEPLOYER_KEY: deployer.privateKey });
    expect(deployed.code, deployed.stderr).toBe(0);
    const book = await readAddressBook(bookFile);
    expect(JSON.parse(deployed.stdout)).toMatchObject({ registry: book.registry, chainId: book.chainId });
    expect(book.logs[0]!.operator).toBe(operator.address.toLowerCase());

    node = await startTestLedger({
      TIANFU_RPC_URL: chain.rpcUrl,
      TIANFU_REGISTRY: book.registry,
      TIANFU_KEYSTORE: keystore,
      TIANFU_KEYSTORE_PASSWORD: PASSWORD,
      TIANFU_CHECKPOINT_INTERVAL_MS: '200',
      ...EXACT_LOG_SIZES,
    });
    const info = await node.api('/v1/log');
    expect(info.body).toMatchObject({ chainId: book.chainId, registry: book.registry, operator: operator.address.toLowerCase(), logId: book.logs[0]!.logId, treeSize: 0 });
    expect(node.ledger.chain.embedded).toBe(false);

    const acks = await Promise.all(Array.from({ length: 12 }, (_, i) => node.ledger.sequencer.submit(issueRequest(7_000 + i))));
    await node.waitAnchored(12);
    const cps = (await node.api('/v1/log/checkpoints')).body.checkpoints as { treeSize: number; rootHash: Hex; txHash: Hex }[];
    const top = cps.at(-1)!;
    expect(top.treeSize).toBe(12);

    // The auditor's view: its own registry client on its own connection, no trust in the node.
    const registry = RegistryClient.connect(book.registry as Hex, auditorProvider);
    const onChain = await registry.checkpoint(book.logs[0]!.logId as Hex, 12);
    expect(onChain?.rootHash).toBe(top.rootHash);
    const tx = await auditorProvider.getTransaction(top.txHash);
    expect(tx?.from).toBe(operator.address); // anchored by the keystore-held key
    for (const a of acks) {
      expect(verifyReceiptSigner(a.receipt, info.body.operator)).toBe(operator.address);
      const p = (await node.api(`/v1/log/proof/inclusion?index=${a.index}&treeSize=12`)).body as { proof: Hex[]; rootHash: Hex };
      expect(p.rootHash).toBe(onChain!.rootHash);
      expect(() => verifyInclusion(a.index, 12, fromHex(a.leafHash), p.proof.map((h) => fromHex(h)), fromHex(onChain!.rootHash))).not.toThrow();
      expect(await registry.verifyInclusion({ logId: book.logs[0]!.logId as Hex, treeSize: 12, leafIndex: a.index, leafHash: a.leafHash, proof: p.proof })).toBe(true);
    }
    // A receipt with any field changed is not the operator's.
    const r = acks[0]!.receipt;
    // (v2: the signature is the group checkpoint's, the proof ties index and leaf to it; `at` is the entry's, bound by its leaf hash.)
    expect(r.type).toBe('tianfu.receipt/v2');
    if (r.type !== 'tianfu.receipt/v2') throw new Error('v2 expected');
    for (const bad of [{ ...r, index: r.index + 1 }, { ...r, leafHash: acks[1]!.leafHash }, { ...r, checkpoint: { ...r.checkpoint, at: '2025-01-01T00:00:00.000Z' } }, { ...r, checkpoint: { ...r.checkpoint, treeSize: r.checkpoint.treeSize + 1 } }, { ...r, proof: r.proof.slice(1) }]) {
      expect(() => verifyReceipt(bad, operator.address)).toThrow();
    }
    expect(verifyReceipt(r, operator.address)).toBe(operator.address);
  });
});
