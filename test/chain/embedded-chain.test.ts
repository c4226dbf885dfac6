import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { ClassicLevel } from 'classic-level';
import { JsonRpcProvider, Wallet, zeroPadValue } from 'ethers';
import { startEmbeddedChain, type EmbeddedChain, type EmbeddedChainOptions } from '../../node/chain/embedded/embedded-chain';
import type { Hex } from '../../node/protocol/bytes';

const KEY = `0x${'a1'.repeat(32)}` as Hex;
const OTHER_KEY = `0x${'b2'.repeat(32)}` as Hex;
const RECIPIENT = '0x000000000000000000000000000000000000dead';

/**
 * A hand-assembled storage contract (runtime 24 bytes): called with 32 bytes of calldata it stores
 * them in slot 0; called with none it returns slot 0.
 *   init:    PUSH1 0x18 DUP1 PUSH1 0x0b PUSH1 0 CODECOPY PUSH1 0 RETURN
 *   runtime: CALLDATASIZE ISZERO PUSH1 0x0c JUMPI PUSH1 0 CALLDATALOAD PUSH1 0 SSTORE STOP
 *            JUMPDEST PUSH1 0 SLOAD PUSH1 0 MSTORE PUSH1 0x20 PUSH1 0 RETURN
 */
const RUNTIME = '0x3615600c57600035600055005b60005460005260206000f3';
const INIT_CODE = '0x601880600b6000396000f3' + RUNTIME.slice(2);

const dirs: string[] = [];
const chains: EmbeddedChain[] = [];
const children: ChildProcess[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tianfu-chain-'));
  dirs.push(dir);
  return dir;
}

async function start(dataDir: string, extra: Partial<EmbeddedChainOptions> = {}): Promise<EmbeddedChain> {
  const chain = await startEmbeddedChain({ dataDir, port: 0, fundedKeys: [KEY], ...extra });
  chains.push(chain);
  return chain;
}

async function stop(chain: EmbeddedChain): Promise<void> {
  await chain.close();
  chains.splice(chains.indexOf(chain), 1);
}

function providerFor(rpcUrl: string, chainId = 31337): JsonRpcProvider {
  return new JsonRpcProvider(rpcUrl, chainId, { staticNetwork: true, batchMaxCount: 1, cacheTimeout: -1 });
}

async function rpc(rpcUrl: string, body: unknown): Promise<unknown> {
  const res = await fetch(rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  return res.json();
}

/** Sends a transaction signed here and returns its receipt (automine: mined by the time the send returns). */
async function send(wallet: Wallet, tx: { to?: string; data?: string; value?: bigint }) {
  const sent = await wallet.sendTransaction(tx);
  const receipt = await wallet.provider!.getTransactionReceipt(sent.hash);
  expect(receipt?.status).toBe(1);
  return receipt!;
}

async function blockHashes(p: JsonRpcProvider): Promise<string[]> {
  const top = await p.getBlockNumber();
  const out: string[] = [];
  for (let n = 0; n <= top; n++) out.push((await p.getBlock(n))!.hash!);
  return out;
}

afterEach(async () => {
  for (const c of chains.splice(0)) await c.close();
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('embedded chain: durability across close and start', () => {
  it('comes back with the same chain id, blocks, balances, code and storage, and keeps mining after them', async () => {
    const dir = await tempDir();
    const chain = await start(dir);
    expect(chain.replayed.blocks).toBe(0);
    const p = providerFor(chain.rpcUrl);
    const wallet = new Wallet(KEY, p);

    const wallClock = Math.floor(Date.now() / 1000);
    const deployed = await send(wallet, { data: INIT_CODE });
    const contract = deployed.contractAddress!;
    // Block time is the wall clock (the genesis is fixed at 2025-01-01, the blocks are not).
    const minedAt = (await p.getBlock(1))!.timestamp;
    expect(minedAt).toBeGreaterThanOrEqual(wallClock);
    expect(minedAt).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    await send(wallet, { to: contract, data: zeroPadValue('0x07', 32) });
    await send(wallet, { to: RECIPIENT, value: 12345n });
    // A reverting transaction is mined (status 0) like on any node, and must replay the same way.
    const failing = await wallet.signTransaction({
      data: '0xfe', nonce: 3, chainId: 31337, gasLimit: 100_000n, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 1n, type: 2,
    });
    const failedHash = await p.send('eth_sendRawTransaction', [failing]);
    expect((await p.getTransactionReceipt(failedHash))?.status).toBe(0);
    const before = {
      hashes: await blockHashes(p),
      balance: await p.getBalance(wallet.address),
      dead: await p.getBalance(RECIPIENT),
      code: await p.getCode(contract),
      stored: await p.call({ to: contract }),
      nonce: await p.getTransactionCount(wallet.address),
    };
    expect(before.hashes).toHaveLength(5);
    expect(before.code).toBe(RUNTIME);
    expect(before.stored).toBe(zeroPadValue('0x07', 32));
    p.destroy();
    await stop(chain);

    const again = await start(dir);
    expect(again.chainId).toBe(31337);
    expect(again.genesisHash).toBe(chain.genesisHash);
    expect(again.replayed).toMatchObject({ blocks: 4, transactions: 4 });
    const q = providerFor(again.rpcUrl);
    expect((await q.getNetwork()).chainId).toBe(31337n);
    expect(await rpc(again.rpcUrl, { jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] })).toMatchObject({ result: '0x7a69' });
    expect(await blockHashes(q)).toEqual(before.hashes);
    expect(await q.getBalance(wallet.address)).toBe(before.balance);
    expect(await q.getBalance(RECIPIENT)).toBe(12345n);
    expect(await q.getCode(contract)).toBe(before.code);
    expect(await q.call({ to: contract })).toBe(before.stored);
    expect((await q.getTransactionReceipt(deployed.hash))?.blockHash).toBe(deployed.blockHash);
    expect((await q.getTransactionReceipt(failedHash))?.status).toBe(0);
    expect(await q.getTransactionCount(wallet.address)).toBe(before.nonce);

    // The restarted chain keeps going from the same state and journals the new block too.
    const later = await send(new Wallet(KEY, q), { to: contract, data: zeroPadValue('0x09', 32) });
    expect(later.blockNumber).toBe(5);
    expect(later.from.toLowerCase()).toBe(wallet.address.toLowerCase());
    q.destroy();
    await stop(again);
    const third = await start(dir);
    expect(third.replayed.blocks).toBe(5);
    const r = providerFor(third.rpcUrl);
    expect((await r.getBlock(5))!.hash).toBe(later.blockHash);
    expect(await r.call({ to: contract })).toBe(zeroPadValue('0x09', 32));
    r.destroy();
  });

  it('refuses to start on a tampered journal, and on a journal of another genesis', async () => {
    const dir = await tempDir();
    const chain = await start(dir);
    const p = providerFor(chain.rpcUrl);
    const wallet = new Wallet(KEY, p);
    await send(wallet, { to: RECIPIENT, value: 1n });
    await send(wallet, { to: RECIPIENT, value: 2n });
    p.destroy();
    await stop(chain);

    await expect(start(dir, { fundedKeys: [KEY, OTHER_KEY] })).rejects.toMatchObject({ code: 'GENESIS_MISMATCH' });
    await expect(start(dir, { chainId: 1337 })).rejects.toMatchObject({ code: 'GENESIS_MISMATCH' });

    // Back-date block 1 by a second: replay gives another block hash, which must be refused.
    const db = new ClassicLevel<string, string>(path.join(dir, 'chain'), { valueEncoding: 'utf8' });
    const key = `b/${'1'.padStart(16, '0')}`;
    const original = (await db.get(key))!;
    const block = JSON.parse(original) as { timestamp: number };
    await db.put(key, JSON.stringify({ ...block, timestamp: block.timestamp - 1 }));
    await db.close();
    await expect(start(dir)).rejects.toMatchObject({ code: 'JOURNAL_MISMATCH', message: expect.stringContaining('block 1') });

    // Restored, the same journal starts again: the refusal was about the tampering.
    const db2 = new ClassicLevel<string, string>(path.join(dir, 'chain'), { valueEncoding: 'utf8' });
    await db2.put(key, original);
    await db2.close();
    const restored = await start(dir);
    expect(restored.replayed.blocks).toBe(2);
  });
});

describe('embedded chain: JSON-RPC surface', () => {
  it('refuses a data dir another chain holds, and a port in use, saying which', async () => {
    const dir = await tempDir();
    const chain = await start(dir);
    await expect(start(dir)).rejects.toMatchObject({ code: 'JOURNAL_UNREADABLE', message: expect.stringContaining(path.join(dir, 'chain')) });
    const port = Number(new URL(chain.rpcUrl).port);
    await expect(start(await tempDir(), { port })).rejects.toMatchObject({ code: 'CONFIG', message: expect.stringContaining(`127.0.0.1:${port}`) });
    await expect(start(await tempDir(), { fundedKeys: ['0x1234' as Hex] })).rejects.toMatchObject({ code: 'CONFIG', message: expect.stringContaining('fundedKeys[0]') });
  });

  it('refuses node-side signing and state cheats from clients, and serves batches', async () => {
    const chain = await start(await tempDir());
    const from = new Wallet(KEY).address;
    const refused = (await rpc(chain.rpcUrl, {
      jsonrpc: '2.0',
      id: 7,
      method: 'eth_sendTransaction',
      params: [{ from, to: RECIPIENT, value: '0x1' }],
    })) as { id: number; error: { code: number; message: string } };
    expect(refused.id).toBe(7);
    expect(refused.error.code).toBe(-32601);
    expect(refused.error.message).toContain('eth_sendRawTransaction');
    for (const method of ['hardhat_setBalance', 'evm_mine', 'evm_revert', 'eth_sign', 'personal_sign']) {
      const res = (await rpc(chain.rpcUrl, { jsonrpc: '2.0', id: 1, method, params: [] })) as { error?: { code: number } };
      expect(res.error?.code, method).toBe(-32601);
    }
    // The funded accounts are not offered to clients.
    expect(await rpc(chain.rpcUrl, { jsonrpc: '2.0', id: 2, method: 'eth_accounts', params: [] })).toMatchObject({ result: [] });

    const raw = await new Wallet(KEY).signTransaction({
      to: RECIPIENT, value: 5n, nonce: 0, chainId: 31337, gasLimit: 21000n, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 1n, type: 2,
    });
    const batch = (await rpc(chain.rpcUrl, [
      { jsonrpc: '2.0', id: 'a', method: 'eth_sendRawTransaction', params: [raw] },
      { jsonrpc: '2.0', id: 'b', method: 'eth_blockNumber', params: [] },
      { jsonrpc: '2.0', id: 'c', method: 'eth_getBalance', params: [RECIPIENT, 'latest'] },
      { jsonrpc: '2.0', id: 'd', method: 'hardhat_mine', params: [] },
    ])) as { id: string; result?: string; error?: { code: number } }[];
    expect(batch.map((r) => r.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(batch[0]!.result).toMatch(/^0x[0-9a-f]{64}$/);
    expect(batch[1]!.result).toBe('0x1');
    expect(batch[2]!.result).toBe('0x5');
    expect(batch[3]!.error?.code).toBe(-32601);

    // Revert data reaches ethers as it does from `hardhat node` (how custom errors get decoded).
    // Runtime: PUSH1 0xaa PUSH1 0 MSTORE PUSH1 0x20 PUSH1 0 REVERT.
    const p = providerFor(chain.rpcUrl);
    const reverter = await send(new Wallet(KEY, p), { data: '0x600a80600b6000396000f3' + '60aa60005260206000fd' });
    await expect(p.call({ to: reverter.contractAddress! })).rejects.toMatchObject({ code: 'CALL_EXCEPTION', data: zeroPadValue('0xaa', 32) });
    p.destroy();
  });
});

describe('embedded chain: dev methods keep the journal right', () => {
  it('journals evm_mine, drops reverted blocks, journals node-signed transactions, and never goes back in time', async () => {
    const dir = await tempDir();
    const chain = await start(dir, { devMethods: true });
    const call = async (method: string, params: unknown[] = []) => {
      const res = (await rpc(chain.rpcUrl, { jsonrpc: '2.0', id: 1, method, params })) as { result?: unknown; error?: { message: string } };
      if (res.error !== undefined) throw new Error(`${method}: ${res.error.message}`);
      return res.result;
    };
    const from = new Wallet(KEY).address;
    await call('evm_mine'); // block 1, empty
    const snap = await call('evm_snapshot');
    await call('eth_sendTransaction', [{ from, to: RECIPIENT, value: '0x10' }]); // block 2, dropped below
    await call('evm_mine'); // block 3, dropped below
    expect(await call('evm_revert', [snap])).toBe(true);
    expect(await call('eth_blockNumber')).toBe('0x1');
    const signedByNode = (await call('eth_sendTransaction', [{ from, to: RECIPIENT, value: '0x20' }])) as string; // new block 2
    // A clock an hour ahead, then a restart whose wall clock is "behind" the last block.
    await call('evm_increaseTime', [3600]);
    await call('evm_mine'); // block 3
    const p = providerFor(chain.rpcUrl);
    const before = await blockHashes(p);
    const aheadTs = (await p.getBlock(3))!.timestamp;
    expect(aheadTs).toBeGreaterThan(Math.floor(Date.now() / 1000) + 3000);
    p.destroy();
    await stop(chain);

    const again = await start(dir);
    expect(again.replayed).toMatchObject({ blocks: 3, transactions: 1 });
    const q = providerFor(again.rpcUrl);
    expect(await blockHashes(q)).toEqual(before);
    expect((await q.getTransaction(signedByNode))?.blockNumber).toBe(2);
    expect(await q.getBalance(RECIPIENT)).toBe(0x20n);
    const next = await send(new Wallet(KEY, q), { to: RECIPIENT, value: 1n });
    expect((await q.getBlock(next.blockNumber))!.timestamp).toBeGreaterThanOrEqual(aheadTs);
    q.destroy();
  });
});

describe('embedded chain: kill -9', () => {
  // The same chain-in-a-child fixture as the node tests: <dataDir> <port> <dev> <keys>.
  const fixture = path.join(__dirname, '..', 'node', 'fixtures', 'chain-process.ts');

  async function spawnChain(dataDir: string): Promise<{ child: ChildProcess; rpcUrl: string; replayed: { blocks: number } }> {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, dataDir, '0', 'false', KEY], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    const lines = createInterface({ input: child.stdout! });
    for await (const line of lines) {
      const msg = JSON.parse(line) as { rpcUrl?: string; replayed?: { blocks: number }; error?: string };
      if (msg.error !== undefined) throw new Error(`chain child failed: ${msg.error}`);
      lines.close();
      return { child, rpcUrl: msg.rpcUrl!, replayed: msg.replayed! };
    }
    throw new Error(`chain child exited (${child.exitCode ?? child.signalCode}) before serving`);
  }

  async function killHard(child: ChildProcess): Promise<void> {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  it('keeps every acknowledged transaction after SIGKILL', async () => {
    const dir = await tempDir();
    const first = await spawnChain(dir);
    const p = providerFor(first.rpcUrl);
    const wallet = new Wallet(KEY, p);
    const deployed = await send(wallet, { data: INIT_CODE });
    const stored = await send(wallet, { to: deployed.contractAddress!, data: zeroPadValue('0x2a', 32) });
    const block = await p.getBlock(stored.blockNumber);
    p.destroy();
    // Killed right after the receipt came back: nothing gets a chance to flush.
    await killHard(first.child);
    expect(first.child.signalCode).toBe('SIGKILL');

    const second = await spawnChain(dir);
    expect(second.replayed.blocks).toBe(2);
    const q = providerFor(second.rpcUrl);
    const receipt = await q.getTransactionReceipt(stored.hash);
    expect(receipt?.blockHash).toBe(stored.blockHash);
    expect((await q.getBlock(stored.blockNumber))!.hash).toBe(block!.hash);
    expect(await q.call({ to: deployed.contractAddress! })).toBe(zeroPadValue('0x2a', 32));

    // SIGTERM closes cleanly and the third start still replays the same chain.
    const more = await send(new Wallet(KEY, q), { to: RECIPIENT, value: 3n });
    q.destroy();
    const exited = new Promise<number | null>((resolve) => second.child.once('exit', (code) => resolve(code)));
    second.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const third = await spawnChain(dir);
    expect(third.replayed.blocks).toBe(3);
    const r = providerFor(third.rpcUrl);
    expect((await r.getTransactionReceipt(more.hash))?.blockHash).toBe(more.blockHash);
    r.destroy();
    await killHard(third.child);
  });
});
