/**
 * TIANFU_CONFIRMATIONS: a checkpoint counts as anchored only once its block is that deep. The chain
 * runs in another process with dev methods, so the test decides when blocks are mined (evm_mine).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { JsonRpcProvider, Wallet } from 'ethers';
import { deploy } from '../../scripts/deploy';
import { startTestLedger, type TestLedger } from '../support/ledger';
import { issueRequest } from './fixtures/invoices';
import { freePort, kill, rpc, startChainProcess, type ChainProcess } from './fixtures/processes';

const deployer = Wallet.createRandom();
const operator = Wallet.createRandom();
const chainDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-confchain-'));
let chain: ChainProcess;
let node: TestLedger;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  chain = await startChainProcess({ dataDir: chainDir, port: await freePort(), dev: true, fundedKeys: [deployer.privateKey, operator.privateKey] });
  const provider = new JsonRpcProvider(chain.rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
  const book = await deploy({ provider, signer: deployer.connect(provider), operator: operator.address });
  provider.destroy();
  // Two more blocks so the log's creation is itself below the confirmation depth.
  await rpc(chain.rpcUrl, 'evm_mine');
  await rpc(chain.rpcUrl, 'evm_mine');
  node = await startTestLedger({ TIANFU_RPC_URL: chain.rpcUrl, TIANFU_REGISTRY: book.registry, TIANFU_OPERATOR_KEY: operator.privateKey, TIANFU_CONFIRMATIONS: '3' });
});

afterAll(async () => {
  await node?.close();
  if (chain) await kill(chain, 'SIGTERM');
  fs.rmSync(chainDir, { recursive: true, force: true });
});

describe('confirmation depth', () => {
  it('records a checkpoint as anchored only once its block has the configured confirmations', async () => {
    await node.ledger.sequencer.submit(issueRequest(1));
    // The anchor transaction is mined (automine) and the registry has it at the head…
    const deadline = Date.now() + 20_000;
    while (Number((await node.ledger.registry.latest(node.ledger.logId)).treeSize) < 1) {
      if (Date.now() > deadline) throw new Error('anchor never mined');
      await sleep(50);
    }
    // …but with no further blocks it stays 1 confirmation deep: several anchorer ticks later, not anchored.
    await sleep(600);
    expect(node.ledger.anchorer.status().anchored).toBeNull();
    expect((await node.api('/v1/log')).body.anchored).toBeNull();
    await rpc(chain.rpcUrl, 'evm_mine');
    await sleep(400);
    expect(node.ledger.anchorer.status().anchored).toBeNull(); // 2 confirmations
    await rpc(chain.rpcUrl, 'evm_mine');
    await node.waitAnchored(1, 10_000); // 3 confirmations
    const rec = node.ledger.anchorer.status().anchored!;
    const tip = await node.ledger.provider.getBlockNumber();
    expect(tip - Number(rec.blockNumber) + 1).toBeGreaterThanOrEqual(3);
    expect(rec.rootHash).toBe(await node.ledger.log.root(1));
  });
});
