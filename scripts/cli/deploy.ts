/**
 * `tianfu deploy --rpc URL [--keystore F --password-env VAR] [--log-name NAME] [--operator ADDR]
 *  [--out FILE] [--json]`: deploys the AnchorRegistry, creates a log, writes the address book.
 * Key: an encrypted keystore (password from the named environment variable) or TIANFU_DEPLOYER_KEY.
 * Exit 2 for bad input, an unreadable key or an unreachable RPC endpoint.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { JsonRpcProvider, Network, isAddress } from 'ethers';
import { deploy, DEFAULT_LOG_NAME } from '../deploy';
import { loadSigner, SignerError } from '../../node/chain/signer';
import { writeAddressBook } from '../../node/chain/address-book';
import { probeChainId as probeRpcChainId } from '../../node/chain/chain-reader';
import { ChainReadError } from '../../node/protocol/chain';
import { UsageError, positiveInt, printJson } from './common';
import type { Hex } from '../../node/protocol';

interface DeployFlags {
  rpc?: string;
  keystore?: string;
  passwordEnv?: string;
  logName?: string;
  logId?: string;
  operator?: string;
  admin?: string;
  confirmations: number;
  out: string;
  force?: boolean;
  json?: boolean;
}

const RPC_TIMEOUT_MS = 10_000;

/** Asks the endpoint for its chain id with a timeout, so an unreachable RPC fails fast (exit 2). */
export async function probeChainId(rpcUrl: string): Promise<bigint> {
  try {
    return await probeRpcChainId(rpcUrl, RPC_TIMEOUT_MS);
  } catch (err) {
    if (err instanceof ChainReadError) throw new UsageError(err.message.replace(/^RPC URL/, '--rpc'));
    throw err;
  }
}

export async function runDeploy(flags: DeployFlags): Promise<void> {
  const rpc = flags.rpc ?? process.env.TIANFU_RPC_URL;
  if (!rpc) throw new UsageError('--rpc URL (or TIANFU_RPC_URL) is required');
  if (flags.operator !== undefined && !isAddress(flags.operator)) throw new UsageError(`--operator ${flags.operator} is not an address`);
  if (flags.admin !== undefined && !isAddress(flags.admin)) throw new UsageError(`--admin ${flags.admin} is not an address`);
  if (flags.logId !== undefined && !/^0x[0-9a-f]{64}$/.test(flags.logId)) throw new UsageError('--log-id must be lowercase 0x + 64 hex digits');
  if (flags.logName !== undefined && (flags.logName.length === 0 || flags.logName.length > 128)) throw new UsageError('--log-name must be 1..128 characters');
  if (flags.keystore !== undefined && flags.passwordEnv === undefined) throw new UsageError('--keystore needs --password-env VAR naming the variable that holds its password');
  const out = path.resolve(flags.out);
  if (existsSync(out) && !flags.force) throw new UsageError(`${out} exists; it may describe a live deployment. Use --force to overwrite or --out elsewhere`);

  let password: string | undefined;
  if (flags.passwordEnv !== undefined) {
    password = process.env[flags.passwordEnv];
    if (password === undefined) throw new UsageError(`environment variable ${flags.passwordEnv} (--password-env) is not set`);
  }

  const chainId = await probeChainId(rpc);
  // No response cache: ethers would otherwise answer the second transaction's nonce query from the
  // first one's (cacheTimeout 250 ms) and the node would refuse it as "nonce too low".
  const provider = new JsonRpcProvider(rpc, Network.from(chainId), { staticNetwork: true, cacheTimeout: -1 });
  try {
    let signer;
    try {
      signer = await loadSigner({ keystorePath: flags.keystore, password, role: 'deployer' }, provider);
    } catch (err) {
      if (err instanceof SignerError) throw new UsageError(err.message);
      throw err;
    }
    const book = await deploy({
      provider,
      signer,
      logName: flags.logName ?? (flags.logId === undefined ? DEFAULT_LOG_NAME : undefined),
      logId: flags.logId as Hex | undefined,
      operator: flags.operator,
      admin: flags.admin,
      confirmations: flags.confirmations,
    });
    await writeAddressBook(out, book);
    if (flags.json) {
      printJson({ ...book, out });
    } else {
      process.stdout.write(`AnchorRegistry deployed at ${book.registry} on chain ${book.chainId} (block ${book.deployBlock}, tx ${book.deployTx})\n`);
      for (const log of book.logs) process.stdout.write(`log ${log.name}: id ${log.logId}, operator ${log.operator} (tx ${log.createTx})\n`);
      if (book.logs.length === 0) process.stdout.write(`no log created: the admin ${book.admin} is not the deployer; it must call createLog\n`);
      process.stdout.write(`address book written to ${out}\n`);
    }
  } finally {
    provider.destroy();
  }
}

export function register(program: Command): void {
  program
    .command('deploy')
    .description('deploy the AnchorRegistry to an EVM chain, create a log, write the address book')
    .option('--rpc <url>', 'JSON-RPC endpoint (default: TIANFU_RPC_URL)')
    .option('--keystore <file>', 'encrypted JSON keystore of the deployer (default: key from TIANFU_DEPLOYER_KEY)')
    .option('--password-env <var>', 'environment variable holding the keystore password')
    .option('--log-name <name>', `name of the log to create (id = SHA-256("tianfu/log/v1" 0x00 name)); default ${DEFAULT_LOG_NAME}`)
    .option('--log-id <hex>', 'explicit 32-byte log id instead of one derived from the name')
    .option('--operator <address>', 'the log operator (default: the deployer)')
    .option('--admin <address>', 'the registry admin (default: the deployer)')
    .option('--confirmations <n>', 'confirmations to wait for per transaction', positiveInt(1000), 1)
    .option('--out <file>', 'address book to write', './data/address-book.json')
    .option('--force', 'overwrite an existing address book')
    .option('--json', 'print the address book as JSON')
    .action(async (flags: DeployFlags) => {
      await runDeploy(flags);
    });
}
