/**
 * `tianfu chain [--data-dir DIR] [--port N] (--operator ADDR… | --read-only) [--json]`: an EVM chain
 * in a process and a directory of its own, that whoever keeps the directory can serve again, the
 * operator for its ledger and a court or auditor for itself. It is the embedded chain
 * (node/chain/embedded: Hardhat's EVM made durable by a hash-checked block journal), without the node.
 *
 * A chain of its own (`<dir>/genesis.key` present or created): its genesis funds the key in
 * `<dir>/genesis.key`. That key holds nothing of the ledger's: it pays gas on this chain only, and the
 * chain never accepts a transaction it signs from a client. It is needed to rebuild the same genesis
 * block, so it travels with the directory. At start, each `--operator` with less than 1 ETH is sent
 * 1,000,000 ETH from it (a journaled transfer), so the operator can deploy the registry and anchor.
 *
 * A node's data directory (`<dir>/operator.key` and `<dir>/chain`, no genesis.key): the chain the node
 * embeds, served while the node is stopped. Its genesis funds the operator's key, so only the operator
 * can serve it; a court that must keep a ledger's chain needs the ledger to anchor on a chain of its
 * own from the start (README "A chain a court can keep").
 *
 * Transactions over JSON-RPC are accepted only when signed by an `--operator`; `--read-only` accepts
 * none. Runs until SIGTERM or SIGINT; its pid is in `<dir>/tianfu-chain.pid` meanwhile. Exit 2 when it cannot start (no such directory for --read-only,
 * a journal of another genesis, the port taken, the node running on the directory).
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { InvalidArgumentError, type Command } from 'commander';
import { JsonRpcProvider, Wallet, getAddress, isAddress } from 'ethers';
import { startEmbeddedChain, type EmbeddedChain } from '../../node/chain/embedded/embedded-chain';
import type { Hex } from '../../node/protocol/bytes';
import { UsageError, printJson } from './common';

interface ChainFlags {
  dataDir: string;
  port: number;
  chainId: number;
  operator?: string[];
  readOnly?: boolean;
  json?: boolean;
}

const ONE_ETH = 10n ** 18n;
const FUNDING = 10n ** 24n;
const KEY_RE = /^0x[0-9a-f]{64}$/;

const int = (name: string, min: number, max: number) => (v: string): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer ${min}..${max}`);
  return n;
};

function readKey(file: string): Hex {
  const key = fs.readFileSync(file, 'utf8').trim();
  if (!KEY_RE.test(key)) throw new UsageError(`${file} does not hold a 0x-hex private key`);
  return key as Hex;
}

/** The key the genesis funds, and what kind of directory this is. */
function fundedKey(dir: string, readOnly: boolean): { key: Hex; kind: 'own chain' | 'node data directory' } {
  const genesisFile = path.join(dir, 'genesis.key');
  if (fs.existsSync(genesisFile)) return { key: readKey(genesisFile), kind: 'own chain' };
  const operatorFile = path.join(dir, 'operator.key');
  if (fs.existsSync(operatorFile) && fs.existsSync(path.join(dir, 'chain'))) return { key: readKey(operatorFile), kind: 'node data directory' };
  if (fs.existsSync(path.join(dir, 'chain'))) {
    throw new UsageError(`${dir} holds a chain journal but neither genesis.key nor operator.key: its genesis block cannot be rebuilt without the key it funds`);
  }
  if (readOnly) throw new UsageError(`${dir} holds no chain: --read-only serves an existing one (a copy of a chain directory)`);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const key = ('0x' + randomBytes(32).toString('hex')) as Hex;
  const tmp = `${genesisFile}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  fs.writeSync(fd, key + '\n');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(tmp, genesisFile);
  return { key, kind: 'own chain' };
}

/** Sends FUNDING from the genesis key to every operator holding less than 1 ETH; returns who was funded. */
async function fundOperators(chain: EmbeddedChain, genesisKey: Hex, operators: string[]): Promise<string[]> {
  const provider = new JsonRpcProvider(chain.rpcUrl, chain.chainId, { staticNetwork: true });
  const funder = new Wallet(genesisKey);
  const funded: string[] = [];
  try {
    for (const to of operators) {
      if ((await provider.getBalance(to)) >= ONE_ETH) continue;
      const [nonce, fee] = await Promise.all([provider.getTransactionCount(funder.address, 'latest'), provider.getFeeData()]);
      const raw = await funder.signTransaction({
        type: 2,
        chainId: chain.chainId,
        nonce,
        to,
        value: FUNDING,
        gasLimit: 21_000n,
        maxFeePerGas: (fee.maxFeePerGas ?? fee.gasPrice ?? 10n ** 10n) * 2n,
        maxPriorityFeePerGas: fee.maxPriorityFeePerGas ?? 0n,
      });
      const hash = await chain.sendRawTransaction(raw as Hex);
      const receipt = await provider.waitForTransaction(hash, 1, 30_000);
      if (receipt?.status !== 1) throw new Error(`funding ${to} failed (tx ${hash})`);
      funded.push(to);
    }
  } finally {
    provider.destroy();
  }
  return funded;
}

async function runChain(flags: ChainFlags): Promise<void> {
  const operators = (flags.operator ?? []).map((a) => {
    if (!isAddress(a)) throw new UsageError(`--operator ${a} is not an address`);
    return getAddress(a);
  });
  if (flags.readOnly && operators.length > 0) throw new UsageError('give --operator or --read-only, not both');
  if (!flags.readOnly && operators.length === 0) {
    throw new UsageError('say who may send transactions: --operator ADDR (the ledger operator, and the deployer if another) or --read-only');
  }
  const dir = path.resolve(flags.dataDir);
  const { key, kind } = fundedKey(dir, flags.readOnly === true);
  let chain: EmbeddedChain;
  try {
    chain = await startEmbeddedChain({ dataDir: dir, port: flags.port, chainId: flags.chainId, fundedKeys: [key], senders: flags.readOnly ? [] : operators });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'LEVEL_DATABASE_NOT_OPEN' || e.code === 'LEVEL_LOCKED' || /lock/i.test(String(e.message))) {
      throw new UsageError(`the chain journal in ${dir} is in use (is the node or another tianfu chain running on it?): ${e.message}`);
    }
    if (e.code === 'EADDRINUSE' || /EADDRINUSE/.test(String(e.message))) throw new UsageError(`port ${flags.port} is taken: --port N (0 picks a free one)`);
    throw new UsageError(`cannot start the chain in ${dir}: ${e.message}`, e.code && /^[A-Z_]+$/.test(e.code) ? e.code : 'UNUSABLE_INPUT');
  }
  let funded: string[] = [];
  try {
    if (kind === 'own chain' && operators.length > 0) funded = await fundOperators(chain, key, operators);
  } catch (err) {
    await chain.close();
    throw err;
  }
  const blockNumber = chain.replayed.blocks + funded.length;
  const info = {
    rpcUrl: chain.rpcUrl,
    chainId: chain.chainId,
    genesisHash: chain.genesisHash,
    dataDir: dir,
    kind,
    replayed: chain.replayed,
    blockNumber,
    senders: flags.readOnly ? [] : operators,
    funded,
  };
  if (flags.json) printJson(info);
  else {
    process.stdout.write(
      `tianfu chain: serving JSON-RPC on ${chain.rpcUrl} (chain id ${chain.chainId}, genesis ${chain.genesisHash}), ${kind} ${dir}\n` +
        `  ${chain.replayed.blocks} blocks replayed from the journal in ${chain.replayed.ms} ms${funded.length ? `; funded ${funded.join(', ')}` : ''}\n` +
        `  transactions accepted from: ${flags.readOnly ? 'nobody (read-only)' : operators.join(', ')}\n`,
    );
  }
  // Its pid beside the journal, so whoever started it can stop it (`kill $(cat DIR/tianfu-chain.pid)`).
  const pidFile = path.join(dir, 'tianfu-chain.pid');
  fs.writeFileSync(pidFile, `${process.pid}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      void chain.close().then(() => {
        fs.rmSync(pidFile, { force: true });
        resolve();
      });
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

export function register(program: Command): void {
  program
    .command('chain')
    .description('serve a chain from its directory in its own process (a chain of its own, or a stopped node\'s embedded chain); transactions only from --operator, or none with --read-only')
    .option('--data-dir <dir>', 'the chain\'s directory (journal and genesis.key), or a node\'s data directory', './chain-data')
    .option('--port <n>', 'JSON-RPC port on 127.0.0.1 (0: a free one)', int('--port', 0, 65535), 8545)
    .option('--chain-id <n>', 'chain id (part of the genesis: the same on every start)', int('--chain-id', 1, 2 ** 31), 31337)
    .option('--operator <address...>', 'addresses whose signed transactions are accepted (funded with 1,000,000 ETH on a chain of its own)')
    .option('--read-only', 'accept no transactions (a court\'s or auditor\'s copy)')
    .option('--json', 'print what is served as JSON')
    .action(async (flags: ChainFlags) => {
      await runChain(flags);
    });
}
