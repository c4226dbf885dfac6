/**
 * The node against a chain in another process (the production code path: TIANFU_RPC_URL,
 * TIANFU_REGISTRY, an operator key from the environment), with the two failures a real chain has:
 * - a reorg: evm_snapshot / evm_revert drops a mined anchor; the anchorer notices and re-anchors;
 * - an outage: the chain process is killed; submissions keep being acknowledged, /readyz reports the
 *   lag once the maximum merge delay passes and /metrics counts RPC errors; when the chain is back on
 *   the same port, ONE anchor covers everything, with a consistency proof from the last checkpoint.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { JsonRpcProvider, Wallet } from 'ethers';
import { fromHex, verifyConsistency, type Hex } from '../../node';
import { deploy } from '../../scripts/deploy';
import { EXACT_LOG_SIZES, startTestLedger, type TestLedger } from '../support/ledger';
import { issueRequest } from './fixtures/invoices';
import { freePort, kill, rpc, startChainProcess, type ChainProcess } from './fixtures/processes';

const deployer = Wallet.createRandom();
const operator = Wallet.createRandom();
const chainDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-extchain-'));
let port: number;
let chain: ChainProcess;
let node: TestLedger;
let n = 0;

const startChain = (): Promise<ChainProcess> => startChainProcess({ dataDir: chainDir, port, dev: true, fundedKeys: [deployer.privateKey, operator.privateKey] });
const submit = (count: number) => Promise.all(Array.from({ length: count }, () => node.ledger.sequencer.submit(issueRequest(n++))));
async function until<T>(what: string, read: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x))} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  port = await freePort();
  chain = await startChain();
  const provider = new JsonRpcProvider(chain.rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
  const book = await deploy({ provider, signer: deployer.connect(provider), operator: operator.address });
  provider.destroy();
  node = await startTestLedger({ TIANFU_RPC_URL: chain.rpcUrl, TIANFU_REGISTRY: book.registry, TIANFU_OPERATOR_KEY: operator.privateKey, TIANFU_MMD_MS: '1000', ...EXACT_LOG_SIZES });
});

afterAll(async () => {
  await node?.close();
  if (chain) await kill(chain, 'SIGTERM');
  fs.rmSync(chainDir, { recursive: true, force: true });
});

describe('node on an external chain', () => {
  it('re-anchors a checkpoint that a reorg dropped', async () => {
    await submit(4);
    await node.waitAnchored(4);
    const snapshot = await rpc(chain.rpcUrl, 'evm_snapshot');
    await submit(3);
    await node.waitAnchored(7);
    const dropped = node.ledger.anchorer.status().anchored!;
    expect(dropped.treeSize).toBe(7);
    expect(await node.ledger.registry.checkpoint(node.ledger.logId, 7)).not.toBeNull();

    expect(await rpc(chain.rpcUrl, 'evm_revert', [snapshot])).toBe(true);
    expect(Number((await node.ledger.registry.latest(node.ledger.logId)).treeSize)).toBe(4);
    await until('reorg noticed', () => node.ledger.anchorer.metrics.reorgs, (r) => r >= 1);
    // Re-anchored: the chain has checkpoint 7 again, in a block that is canonical now.
    const cp = await until('checkpoint 7 back on chain', () => node.ledger.registry.checkpoint(node.ledger.logId, 7), (c) => c !== null);
    expect(cp!.rootHash).toBe(dropped.rootHash);
    const rec = await until('anchored 7 recorded', () => node.ledger.anchorer.status().anchored, (a) => (a?.treeSize ?? 0) >= 7);
    const block = await node.ledger.provider.getBlock(Number(rec!.blockNumber));
    expect(block?.hash?.toLowerCase()).toBe(rec!.blockHash);
    const metrics = (await node.api('/metrics')).body as string;
    expect(metrics).toMatch(/^tianfu_reorgs_total [1-9]/m);
  });

  it('reports the lag while the chain is down, then catches up with one anchor', async () => {
    const before = node.ledger.anchorer.status().anchored!.treeSize;
    expect(before).toBe(node.ledger.log.size);
    const eventsBefore = (await node.ledger.registry.queryAnchoredEvents(0, 'latest', node.ledger.logId)).length;
    expect(await kill(chain, 'SIGKILL')).toBe('SIGKILL');

    // The sequencer does not need the chain: records are still acknowledged.
    await submit(5);
    const size = node.ledger.log.size;
    const ready = await until('readyz reports the lag', () => node.api('/readyz'), (r) => r.status === 503, 20_000);
    expect(ready.body).toMatchObject({ status: 'not-ready', checkpointLag: 5, anchoredTreeSize: before, chainReachable: false });
    expect(ready.body.reasons.join(' ')).toMatch(/maximum merge delay of 1000 ms/);
    const metrics = (await node.api('/metrics')).body as string;
    expect(Number(/^tianfu_rpc_errors_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(metrics).toMatch(/^tianfu_mmd_exceeded 1$/m);
    expect(metrics).toMatch(/^tianfu_chain_reachable 0$/m);
    expect(metrics).toMatch(/^tianfu_checkpoint_lag_entries 5$/m);

    chain = await startChain();
    await node.waitAnchored(size, 45_000);
    const events = await node.ledger.registry.queryAnchoredEvents(0, 'latest', node.ledger.logId);
    expect(events).toHaveLength(eventsBefore + 1);
    const last = events.at(-1)!;
    expect(Number(last.previousTreeSize)).toBe(before);
    expect(Number(last.treeSize)).toBe(size);
    const oldRoot = (await node.ledger.registry.checkpoint(node.ledger.logId, before))!.rootHash;
    const proof = await node.ledger.log.consistencyProof(before, size);
    expect(() => verifyConsistency(before, size, proof.map((h) => fromHex(h)), fromHex(oldRoot), fromHex(last.rootHash as Hex))).not.toThrow();
    const after = await until('ready again', () => node.api('/readyz'), (r) => r.status === 200);
    expect(after.body).toMatchObject({ checkpointLag: 0, chainReachable: true, lastError: null });
  });
});
