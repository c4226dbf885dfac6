/**
 * `tianfu chain` (issue 17, "a court cannot keep just the chain"): a chain served from a directory of
 * its own in its own process; transactions only from --operator (funded at start), none with
 * --read-only; a copy of the directory served elsewhere is the same chain (genesis, blocks, state);
 * a stopped node's data directory serves the node's embedded chain, registry included. Real processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonRpcProvider, Wallet } from 'ethers';
import { startTestLedger } from '../support/ledger';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'scripts', 'tianfu.ts');

interface Served {
  child: ChildProcess;
  info: { rpcUrl: string; chainId: number; genesisHash: string; kind: string; replayed: { blocks: number }; blockNumber: number; senders: string[]; funded: string[] };
}

const children: ChildProcess[] = [];

/** Starts `tianfu chain … --json --port 0`; resolves with what it printed once serving, or rejects with its exit and output. */
function serve(args: string[]): Promise<Served> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'chain', ...args, '--port', '0', '--json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      try {
        const info = JSON.parse(out) as Served['info'] & { verdict?: string };
        if (info.verdict === 'unusable') return;
        resolve({ child, info });
      } catch {
        // not complete yet
      }
    });
    child.once('exit', (code) => reject(Object.assign(new Error(`tianfu chain exited ${code}: ${out}${err}`), { code, out, err })));
  });
}

function stop(s: Served): Promise<void> {
  return new Promise((resolve) => {
    if (s.child.exitCode !== null) return resolve();
    s.child.once('exit', () => resolve());
    s.child.kill('SIGTERM');
  });
}

async function rpcError(p: JsonRpcProvider, raw: string): Promise<{ code?: number; message: string }> {
  try {
    await p.send('eth_sendRawTransaction', [raw]);
    return { message: 'accepted' };
  } catch (e) {
    const inner = (e as { error?: { code?: number; message: string } }).error;
    return inner ?? { message: (e as Error).message };
  }
}

describe('tianfu chain', () => {
  let tmp: string;
  const operator = new Wallet(Wallet.createRandom().privateKey);
  const stranger = new Wallet(Wallet.createRandom().privateKey);

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-chain-cli-'));
  });
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const transfer = async (p: JsonRpcProvider, from: Wallet, nonce: number, chainId: number) => {
    const fee = await p.getFeeData();
    return from.signTransaction({ type: 2, chainId, nonce, to: stranger.address, value: 1n, gasLimit: 21_000n, maxFeePerGas: fee.maxFeePerGas! * 2n, maxPriorityFeePerGas: 0n });
  };

  it('a chain of its own: the operator is funded and may send, nobody else; a copy of the directory, served read-only, is the same chain', async () => {
    const dir = path.join(tmp, 'own');
    const live = await serve(['--data-dir', dir, '--operator', operator.address]);
    expect(live.info).toMatchObject({ kind: 'own chain', senders: [operator.address], funded: [operator.address], blockNumber: 1 });
    expect((fs.statSync(path.join(dir, 'genesis.key')).mode & 0o777).toString(8)).toBe('600');
    const p = new JsonRpcProvider(live.info.rpcUrl, live.info.chainId, { staticNetwork: true });
    expect(await p.getBalance(operator.address)).toBe(10n ** 24n);
    // The operator's signed transaction is mined; a stranger's, and the genesis key's own, are refused.
    const ok = await p.send('eth_sendRawTransaction', [await transfer(p, operator.connect(p), 0, live.info.chainId)]);
    const mined = await p.waitForTransaction(ok);
    expect([mined?.status, mined?.blockNumber]).toEqual([1, 2]);
    const genesisKey = new Wallet(fs.readFileSync(path.join(dir, 'genesis.key'), 'utf8').trim());
    for (const w of [stranger, genesisKey]) {
      const refused = await rpcError(p, await transfer(p, w, 0, live.info.chainId));
      expect(refused.code).toBe(-32003);
      expect(refused.message).toMatch(new RegExp(`accepted only from ${operator.address.toLowerCase()}`));
    }
    const head = await p.getBlock(2);
    expect(Number(await p.send('eth_blockNumber', []))).toBe(2);
    p.destroy();
    await stop(live);

    // The court's copy: the directory as it is, served read-only on another port.
    const copy = path.join(tmp, 'court-copy');
    fs.cpSync(dir, copy, { recursive: true });
    const court = await serve(['--data-dir', copy, '--read-only']);
    expect(court.info).toMatchObject({ kind: 'own chain', genesisHash: live.info.genesisHash, senders: [], funded: [] });
    expect(court.info.replayed.blocks).toBe(head!.number);
    const q = new JsonRpcProvider(court.info.rpcUrl, court.info.chainId, { staticNetwork: true });
    expect((await q.getBlock(head!.number))!.hash).toBe(head!.hash);
    expect(await q.getBalance(stranger.address)).toBe(1n);
    const refused = await rpcError(q, await transfer(q, operator, 1, court.info.chainId));
    expect([refused.code, refused.message]).toEqual([-32003, 'this chain is served read-only: it accepts no transactions']);
    q.destroy();
    await stop(court);
  });

  it('a stopped node\'s data directory serves its embedded chain, the registry with the log in it', async () => {
    const t = await startTestLedger();
    const registry = t.ledger.chain.registry;
    await t.api('/v1/keys', { body: { role: 'court' }, key: t.adminKey });
    const dataDir = t.dataDir;
    await t.close({ keepData: true });
    try {
      const s = await serve(['--data-dir', dataDir, '--read-only']);
      expect(s.info.kind).toBe('node data directory');
      const p = new JsonRpcProvider(s.info.rpcUrl, s.info.chainId, { staticNetwork: true });
      expect((await p.getCode(registry)).length).toBeGreaterThan(2);
      p.destroy();
      await stop(s);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('unusable input is exit 2 with one line: no sender policy, --read-only on an empty directory, a journal without its key', async () => {
    const fail = async (args: string[]) => serve(args).then(() => expect.fail('it started'), (e: { code: number; out: string; err: string }) => e);
    const none = await fail(['--data-dir', path.join(tmp, 'x')]);
    expect(none.code).toBe(2);
    expect(JSON.parse(none.out).error.message).toMatch(/--operator ADDR .* or --read-only/);
    const empty = await fail(['--data-dir', path.join(tmp, 'empty'), '--read-only']);
    expect([empty.code, JSON.parse(empty.out).error.message]).toEqual([2, expect.stringMatching(/holds no chain/)]);
    const keyless = path.join(tmp, 'keyless');
    fs.cpSync(path.join(tmp, 'own'), keyless, { recursive: true });
    fs.rmSync(path.join(keyless, 'genesis.key'));
    const k = await fail(['--data-dir', keyless, '--read-only']);
    expect([k.code, JSON.parse(k.out).error.message]).toEqual([2, expect.stringMatching(/cannot be rebuilt without the key it funds/)]);
  });
});
